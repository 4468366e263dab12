"""Service layer: which folders, files and globs an index was built from, so that
`gendata index` without paths updates them all, and which of them are gone.
"""

from __future__ import annotations

import fnmatch
import json
import os
import sqlite3
from pathlib import Path

from .schema import IndexDatabaseError, connect

__all__ = ["add_roots", "drop_roots", "glob_base", "load_roots", "matches_glob", "roots"]


def load_roots(conn: sqlite3.Connection) -> list[str]:
    row = conn.execute("SELECT value FROM gendata_meta WHERE key = 'roots'").fetchone()
    return json.loads(row[0]) if row else []


def add_roots(conn: sqlite3.Connection, inputs: list[str]) -> None:
    """Remember the folders, files and globs indexed, for `gendata index` without paths."""
    found = load_roots(conn)
    from ..remote import is_url

    for p in inputs:
        if p == "-":
            continue
        p = p if is_url(p) else os.path.abspath(p)
        if any(p == r or p.startswith(r.rstrip(os.sep) + os.sep) for r in found):
            continue
        found = [r for r in found if not r.startswith(p.rstrip(os.sep) + os.sep)] + [p]
    conn.execute("INSERT OR REPLACE INTO gendata_meta (key, value) VALUES ('roots', ?)",
                 (json.dumps(sorted(found), ensure_ascii=False),))


def roots(db: str | os.PathLike[str] | None = None) -> list[str]:
    """The folders, files and globs indexed into `db` so far (absolute), or [] when there
    is no index."""
    from . import default_db

    target = Path(db) if db is not None else default_db()
    try:
        conn = connect(target, create=False)
    except IndexDatabaseError:
        return []
    try:
        return load_roots(conn)
    finally:
        conn.close()


def drop_roots(conn: sqlite3.Connection, gone: list[str]) -> None:
    """Forget roots that no longer exist (their rows were removed with them)."""
    if not gone:
        return
    dropped = {os.path.abspath(p) for p in gone}
    found = [r for r in load_roots(conn) if r not in dropped]
    conn.execute("INSERT OR REPLACE INTO gendata_meta (key, value) VALUES ('roots', ?)",
                 (json.dumps(sorted(found), ensure_ascii=False),))


def glob_base(pattern: str) -> str:
    """The folder a glob's matches all lie under: its leading components without magic."""
    import glob

    parts = os.path.abspath(pattern).split(os.sep)
    base: list[str] = []
    for part in parts:
        if glob.has_magic(part):
            break
        base.append(part)
    return os.sep.join(base) or os.sep


def matches_glob(path: str, pattern: str, *, exact: bool = False) -> bool:
    """Whether `path` may have come from `pattern`. Loosely (`*` crossing folders too), for
    pruning rows of files that no longer exist; `exact`: as `glob` matches, a component at
    a time (`**` any number of folders, `*` not a name that starts with a dot)."""
    pattern = os.path.abspath(pattern)
    if not exact:
        return fnmatch.fnmatchcase(path, pattern)
    return _match_parts(path.split(os.sep), pattern.split(os.sep))


def _match_parts(names: list[str], parts: list[str]) -> bool:
    if not parts:
        return not names
    head, rest = parts[0], parts[1:]
    if head == "**":
        return any(_match_parts(names[i:], rest) for i in range(len(names) + 1)
                   if all(not n.startswith(".") for n in names[:i]))
    if not names:
        return False
    name = names[0]
    if name.startswith(".") and not head.startswith("."):
        return False
    return fnmatch.fnmatchcase(name, head) and _match_parts(names[1:], rest)
