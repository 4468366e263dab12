"""Service layer: keeping the index current while files appear, change and vanish.

watchfiles reports changes in batches (it waits until the file system has been quiet for a
moment, so a file still being written is read once it is complete). Each batch goes through
the same `Indexer` as `gendata index`: a path that exists is indexed (a folder walked), one
that is gone is removed with everything under it.
"""

from __future__ import annotations

import glob
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from ..batch import IMAGE_SUFFIXES
from .build import Indexer, IndexSummary, index, roots
from .roots import glob_base, matches_glob
from .schema import connect, damaged

__all__ = ["apply_changes", "watch"]


def _wanted(path: str) -> bool:
    return os.path.isdir(path) or os.path.splitext(path)[1].lower() in IMAGE_SUFFIXES


def _inside(path: str, folders: list[str], globs: list[str]) -> bool:
    """Whether `path` is one of the roots' files: under a folder root, or named by a glob
    root or under a folder it names, as `gendata index GLOB` walks them (the glob's base
    folder is watched, with files the glob does not name)."""
    if any(path == f or path.startswith(f.rstrip(os.sep) + os.sep) for f in folders):
        return True
    for g in globs:
        base, at = glob_base(g), path
        while at.startswith(base.rstrip(os.sep) + os.sep):
            if matches_glob(at, g, exact=True):
                return True
            at = os.path.dirname(at)
    return False


def apply_changes(conn: sqlite3.Connection, changed: Iterable[str], *,
                  jobs: int | None = None, stealth: bool | None = None,
                  folders: list[str] | None = None, globs: list[str] | None = None
                  ) -> IndexSummary:
    """Bring the rows of `changed` paths up to date: index those that exist, remove those
    (and what was under them) that do not. With `folders`/`globs` (the roots watched),
    only paths of those roots count."""
    indexer = Indexer(conn, jobs=jobs, stealth=stealth)
    present: list[str] = []
    for path in sorted(set(changed)):
        if folders is not None and not _inside(path, folders, globs or []):
            continue
        if os.path.exists(path):
            if _wanted(path):
                present.append(path)
        else:
            indexer.remove(path)
    if present:
        indexer.update(present, prune=True)
    return indexer.summary


def watch(paths: Iterable[str | os.PathLike[str]], db: str | os.PathLike[str] | None = None, *,
          jobs: int | None = None, stealth: bool | None = None, initial: bool = True,
          on_change: Callable[[IndexSummary], None] | None = None,
          stop_event: threading.Event | None = None, debounce_ms: int = 400) -> None:
    """Index `paths` (unless `initial` is False), then apply every change under them until
    `stop_event` is set or Ctrl-C. `on_change` gets the summary of each batch of changes."""
    from watchfiles import watch as watch_files

    from . import default_db

    target = Path(db) if db is not None else default_db()
    inputs = [os.fspath(p) for p in paths] or roots(target)
    if initial:
        index(inputs, target, jobs=jobs, stealth=stealth)
    folders = [os.path.abspath(p) for p in inputs if os.path.exists(p)]
    globs = [os.path.abspath(p) for p in inputs
             if not os.path.lexists(p) and glob.has_magic(p)]
    watched = sorted({*folders, *(b for b in map(glob_base, globs) if os.path.isdir(b))})
    if not watched:
        from ..errors import UsageError

        raise UsageError("nothing to watch: name folders that exist")
    conn = connect(target, create=True)
    try:
        for changes in watch_files(*watched, stop_event=stop_event, debounce=debounce_ms,
                                   raise_interrupt=False, recursive=True):
            summary = apply_changes(conn, (path for _, path in changes), jobs=jobs,
                                    stealth=stealth, folders=folders, globs=globs)
            if on_change is not None and (summary.scanned or summary.removed):
                on_change(summary)
    except sqlite3.DatabaseError as exc:
        raise damaged(target, exc) from None
    finally:
        conn.close()
