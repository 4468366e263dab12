"""Service layer: searching the files a front end lists, in the index's language, with answers
that hold for the files as they are now.

The TUI lists files it has read itself; the index holds what they were when it was last
updated. A file whose size, modification time and inode are those of its index row is
answered by the index. Any other file (never indexed, changed since, or just edited) gets a
row made from the front end's own read in a small index in memory, and is answered there.
So the filter gives what `gendata search` would give right after `gendata index` of the
listed files, and never writes a row to the index (opening it may bring its schema up to
date, as any search does).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .build import RowWriter, row_from
from .query import compile_query, match_text, parse
from .results import open_index
from .schema import READER_VERSION, IndexDatabaseError, damaged, memory_index

if TYPE_CHECKING:
    from ..api import Record
    from ..containers.files import FileIdentity

__all__ = ["Listed", "LiveSearch"]

# (path as listed, what was read from it, its identity when read; None if it was not there)
Listed = tuple[str, "Record", "FileIdentity | None"]
_Stat = tuple[int, int, int]  # size, mtime_ns, inode: what an index row records of a file


class LiveSearch:
    """Answers queries over listed files from the index at `db` where it is current and from
    an index in memory where it is not. Thread-safe: a front end searches from a worker."""

    def __init__(self, db: str | os.PathLike[str]) -> None:
        self.db = Path(db)
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._indexed: dict[str, _Stat] = {}
        self._seen: tuple[Any, ...] | None = None  # what the database files were when read
        self._memory = memory_index()
        self._memory.create_function("gendata_match", 2, match_text, deterministic=True)
        self._in_memory: dict[str, tuple[int, _Stat | None]] = {}  # path -> (row id, stat)
        self._closed = False

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self._memory.close()

    def match(self, query: str, listed: Iterable[Listed]) -> set[str]:
        """The listed paths (as given) whose files match `query`. Raises QueryError for a
        query the language does not accept, IndexDatabaseError when the index cannot be
        read."""
        terms = parse(query)
        with self._lock:
            if self._closed:
                raise IndexDatabaseError(f"{self.db}: the search was closed")
            self._load_index()
            stale: dict[str, tuple[Record, _Stat | None]] = {}
            absolute: dict[str, str] = {}
            for path, record, identity in listed:
                full = os.path.abspath(path)
                absolute[path] = full
                stat = _stat_of(identity)
                if stat is None or self._indexed.get(full) != stat:
                    stale[full] = (record, stat)
            self._sync_memory(stale)
            where, params = compile_query(terms)
            from_index = self._paths(self._connection(), where, params)
            from_memory = self._paths(self._memory, where, params)
        return {path for path, full in absolute.items()
                if full in (from_memory if full in stale else from_index)}

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = open_index(self.db)
        return self._conn

    def _paths(self, conn: sqlite3.Connection, where: str, params: list[Any]) -> set[str]:
        try:
            return {p for (p,) in conn.execute(f"SELECT i.path FROM images i WHERE {where}",
                                               params)}
        except sqlite3.DatabaseError as exc:
            raise damaged(self.db, exc) from None

    def _load_index(self) -> None:
        """Read which files the index holds, and in which state, again when the database
        (or its write-ahead log) changed since the last read: an `index --watch` running
        beside the front end keeps its answers current."""
        seen = tuple(_file_state(self.db.with_name(self.db.name + suffix))
                     for suffix in ("", "-wal"))
        if seen == self._seen:
            return
        conn = self._connection()
        try:
            reader = conn.execute(
                "SELECT value FROM gendata_meta WHERE key = 'reader'").fetchone()
            if reader is None or reader[0] != str(READER_VERSION):
                self._indexed = {}  # rows of a reader that reads files otherwise: none hold
            else:
                self._indexed = {path: (size, mtime, inode) for path, size, mtime, inode in
                                 conn.execute("SELECT path, size, mtime_ns, inode FROM images")}
        except sqlite3.DatabaseError as exc:
            raise damaged(self.db, exc) from None
        self._seen = seen

    def _sync_memory(self, stale: dict[str, tuple[Record, _Stat | None]]) -> None:
        """Make the index in memory hold exactly the `stale` files, each as last read."""
        writer = RowWriter(self._memory)
        for path, (image_id, _) in list(self._in_memory.items()):
            if path not in stale:
                writer.delete(image_id)
                del self._in_memory[path]
        fresh = False
        for path, (record, stat) in stale.items():
            held = self._in_memory.get(path)
            if held is not None and held[1] == stat and stat is not None:
                continue
            if held is not None:
                writer.delete(held[0])
            obj = record.to_json()
            obj["path"] = path
            writer.put(row_from(obj, stat or (0, 0, 0), record.extras), None)
            fresh = True
            self._in_memory[path] = (-1, stat)
        try:
            writer.flush()
        except sqlite3.Error:  # start the index in memory afresh rather than trust it
            self._memory.close()
            self._memory = memory_index()
            self._memory.create_function("gendata_match", 2, match_text, deterministic=True)
            self._in_memory.clear()
            raise
        if fresh:  # the writer numbered the new rows
            for image_id, path in self._memory.execute("SELECT id, path FROM images"):
                self._in_memory[path] = (image_id, self._in_memory[path][1])


def _stat_of(identity: FileIdentity | None) -> _Stat | None:
    if identity is None:
        return None
    return (identity.size, identity.mtime_ns, identity.inode)


def _file_state(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)
