"""Service layer: a SQLite index of many images' generation data, and search over it.

`index(paths)` builds or updates the index, `search(query)` yields the Records that match a
query (docs/index.md), `watch(paths)` keeps the index current as files change. Each is
imported on first call: `gendata search` must start as fast as `gendata show`, so this
package imports nothing heavy.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..api import Record
    from .build import IndexSummary

__all__ = ["default_db", "errors", "forget", "index", "search", "user_db", "watch"]

ENV_VAR = "GENDATA_INDEX"
DB_NAME = "index.sqlite"


def default_db() -> Path:
    """Where the index lives unless told: $GENDATA_INDEX, else `index.sqlite` in the user's
    data folder (platformdirs: ~/.local/share/gendata on Linux, ~/Library/Application
    Support/gendata on macOS, %LOCALAPPDATA%\\gendata on Windows)."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    return user_db()


def user_db() -> Path:
    """The index in the user's data folder, where it is without $GENDATA_INDEX."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("gendata", appauthor=False)) / DB_NAME


def index(paths: Any, db: Any = None, **options: Any) -> IndexSummary:
    """Build or update the index: `gendata.indexing.build.index`."""
    from .build import index as run

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    return run(paths, db, **options)


def forget(paths: Any, db: Any = None) -> IndexSummary:
    """Stop indexing folders, files or globs indexed before: `gendata.indexing.build.forget`."""
    from .build import forget as run

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    return run(paths, db)


def search(query: str = "", db: Any = None, **options: Any) -> Iterator[Record]:
    """Records of the indexed images that match `query`: `gendata.indexing.results.search`."""
    from .results import search as run

    return run(query, db, **options)


def watch(paths: Any, db: Any = None, **options: Any) -> None:
    """Index `paths`, then keep the index current until stopped:
    `gendata.indexing.watcher.watch`."""
    from .watcher import watch as run

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    run(paths, db, **options)


def errors(db: Any = None) -> list[tuple[str, str]]:
    """(path, error) of the files the index holds with an error."""
    from .build import errors as run

    return run(db)
