"""Web service: the gallery's read-only view of the index — pages, facets, counts, records.

The database is opened with SQLite's `mode=ro`, so nothing the gallery does can change it
(not even a migration: an index made by another version is refused with the advice to run
`gendata index`, which brings it forward). Pages are cut by keyset (`path > last path`, not
OFFSET), so page 1,000 of a library costs what page 1 does; what a page costs is what the
query costs, the same as `gendata search -n 60`. The count and the facets of a query scan all
its matches, so they are kept per query until the index changes (a commit moves the
database's or its WAL's size or time).
"""

from __future__ import annotations

import contextlib
import os
import queue
import sqlite3
import threading
import urllib.parse
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..indexing.query import compile_query, match_text
from ..indexing.schema import APPLICATION_ID, SCHEMA_VERSION, IndexDatabaseError, scalar_columns

if TYPE_CHECKING:
    from ..api import Record

__all__ = ["FACETS", "SORTS", "Cell", "Library", "Page"]

# Orders a gallery page can take: name -> (key columns, direction). Each key ends in a
# column that is unique, so a row's key says exactly where the next page starts; `path`
# has its own index (UNIQUE), so paging by path reads only the rows it shows.
SORTS: dict[str, tuple[tuple[str, ...], str]] = {
    "path": (("path",), "ASC"),
    "path:desc": (("path",), "DESC"),
    "mtime:desc": (("mtime_ns", "id"), "DESC"),
    "mtime": (("mtime_ns", "id"), "ASC"),
}
DEFAULT_SORT = "path"

# Facet name (a query field) -> the SQL that counts its values among the matches; `{where}`
# is the query's condition on `images i`.
FACETS: dict[str, str] = {
    "generator": "SELECT i.generator, count(*) AS n FROM images i WHERE {where} "
                 "GROUP BY 1 ORDER BY n DESC, 1 LIMIT ?",
    "model": "SELECT i.model, count(*) AS n FROM images i WHERE {where} "
             "GROUP BY 1 ORDER BY n DESC, 1 LIMIT ?",
    "sampler": "SELECT i.sampler, count(*) AS n FROM images i WHERE {where} "
               "GROUP BY 1 ORDER BY n DESC, 1 LIMIT ?",
    "lora": "SELECT l.name, count(DISTINCT l.image_id) AS n FROM loras l "
            "JOIN images i ON i.id = l.image_id WHERE {where} "
            "GROUP BY 1 ORDER BY n DESC, 1 LIMIT ?",
}
FACET_VALUES = 12  # values listed under each facet, the most used first
_CACHED_QUERIES = 64


@dataclass(frozen=True)
class Cell:
    """One image of a grid page: what its tile needs."""

    id: int
    path: str
    name: str
    width: int | None
    height: int | None
    prompt: str


@dataclass(frozen=True)
class Page:
    """A page of matches, and the ids that start the pages around it (None at either end)."""

    cells: list[Cell]
    next_start: int | None
    prev_before: int | None


_CELL_COLUMNS = "i.id, i.path, i.width, i.height, substr(i.prompt, 1, 300)"


def _cell(row: tuple[Any, ...]) -> Cell:
    return Cell(id=row[0], path=row[1], name=os.path.basename(row[1]), width=row[2],
                height=row[3], prompt=row[4] or "")


def _ro_uri(path: Path) -> str:
    return "file:" + urllib.parse.quote(str(path.resolve())) + "?mode=ro"


class Library:
    """The index at `db`, opened read-only, shared by the threads that answer requests.

    Raises IndexDatabaseError when there is no index there, or one gendata cannot read as
    it is (foreign, damaged, another schema version)."""

    def __init__(self, db: str | os.PathLike[str]) -> None:
        self.path = Path(db)
        self._pool: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._watch: sqlite3.Connection | None = None
        self._watch_lock = threading.Lock()
        # SQLite lets go of the GIL while it works: the scans of one query run on every core
        self._workers = ThreadPoolExecutor(max_workers=min(len(FACETS) + 1, os.cpu_count() or 1),
                                           thread_name_prefix="gendata-web")
        with self.connection() as conn:
            self._check(conn)

    # --- connections -----------------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        if not self.path.is_file():
            raise IndexDatabaseError(f"no index at {self.path}: build one with "
                                     "`gendata index PATH`")
        conn = None
        try:
            conn = sqlite3.connect(_ro_uri(self.path), uri=True, check_same_thread=False,
                                   timeout=30.0, isolation_level=None)
            conn.execute("PRAGMA query_only=1")
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA cache_size=-65536")
            conn.execute("PRAGMA mmap_size=1073741824")
            conn.execute("PRAGMA temp_store=MEMORY")
        except sqlite3.DatabaseError as exc:
            if conn is not None:
                conn.close()
            if not isinstance(exc, sqlite3.OperationalError):  # not a database at all
                raise IndexDatabaseError(f"{self.path} is not a gendata index ({exc})"
                                         ) from None
            raise IndexDatabaseError(f"{self.path}: cannot open the index: {exc}") from None
        conn.create_function("gendata_match", 2, match_text, deterministic=True)
        with self._lock:
            self._all.append(conn)
        return conn

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """A connection of the pool, for one request's queries."""
        try:
            conn = self._pool.get_nowait()
        except queue.Empty:
            conn = self._open()
        try:
            yield conn
        except sqlite3.DatabaseError as exc:
            raise IndexDatabaseError(f"{self.path}: {exc}") from None
        finally:
            self._pool.put(conn)

    def close(self) -> None:
        self._workers.shutdown(wait=True)
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()

    def _check(self, conn: sqlite3.Connection) -> None:
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            columns = {row[1] for row in conn.execute("PRAGMA table_info(images)")}
        except sqlite3.DatabaseError as exc:
            raise IndexDatabaseError(f"{self.path} is not a gendata index ({exc})") from None
        if app_id != APPLICATION_ID:
            raise IndexDatabaseError(f"{self.path} is not a gendata index (another program's "
                                     "file or database)")
        if version != SCHEMA_VERSION or not set(scalar_columns()) <= columns:
            raise IndexDatabaseError(
                f"{self.path}: the index has schema version {version} and this gendata "
                f"reads version {SCHEMA_VERSION}; the gallery opens it read-only, so run "
                "`gendata index` (or upgrade gendata) first")

    # --- caching per query -----------------------------------------------------------------

    def _state(self) -> int:
        """A number that changes whenever anything commits to the index: SQLite's
        `data_version`, read on one connection kept for that."""
        with self._watch_lock:
            if self._watch is None:
                self._watch = self._open()
            return int(self._watch.execute("PRAGMA data_version").fetchone()[0])

    def _cached(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        key = (*key, self._state())  # an entry of an older index is never found again
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        value = compute()
        with self._lock:
            self._cache[key] = value
            while len(self._cache) > _CACHED_QUERIES:
                self._cache.popitem(last=False)
        return value

    # --- queries ---------------------------------------------------------------------------

    def summary(self, query: str) -> tuple[int, dict[str, list[tuple[str | None, int]]]]:
        """How many images match, and for each facet its most used values among the matches
        with their counts (None: images without that field). Each of these scans every
        match, so they run side by side, one connection each, and are kept until the index
        changes. Raises QueryError."""
        where, params = compile_query(query)

        def run(sql: str, args: list[Any]) -> list[tuple[Any, ...]]:
            with self.connection() as conn:
                return conn.execute(sql, args).fetchall()

        def compute() -> tuple[int, dict[str, list[tuple[str | None, int]]]]:
            total = self._workers.submit(run, f"SELECT count(*) FROM images i WHERE {where}",
                                         params)
            facets = {name: self._workers.submit(run, sql.format(where=where),
                                                 [*params, FACET_VALUES])
                      for name, sql in FACETS.items()}
            return (int(total.result()[0][0]),
                    {name: [(v, n) for v, n in f.result()] for name, f in facets.items()})
        return self._cached(("summary", query), compute)

    def warm(self) -> None:
        """Count and facet the whole library in the background, so that the first page
        anyone opens is as quick as the next."""
        def run() -> None:
            with contextlib.suppress(Exception):  # a failure shows on the page that needs it
                self.summary("")
        threading.Thread(target=run, name="gendata-web-warm", daemon=True).start()

    def _seek(self, conn: sqlite3.Connection, query: str, sort: str, anchor: int | None, *,
              forward: bool, inclusive: bool, limit: int) -> list[tuple[Any, ...]] | None:
        """Matches from image `anchor` on (the top without one), going `forward` in `sort`
        order or back against it, as cell rows; None when `anchor` is not in the index.
        A keyset seek: the key of `anchor` bounds the rows, no row before it is counted."""
        keys, direction = SORTS[sort]
        ascending = (direction == "ASC") == forward
        where, params = compile_query(query)
        sql = f"SELECT {_CELL_COLUMNS} FROM images i WHERE {where}"
        args = list(params)
        if anchor is not None:
            ref = conn.execute(f"SELECT {', '.join(f'[{k}]' for k in keys)} FROM images "
                               "WHERE id = ?", (anchor,)).fetchone()
            if ref is None:
                return None
            op = (">" if ascending else "<") + ("=" if inclusive else "")
            sql += (f" AND ({', '.join(f'i.[{k}]' for k in keys)}) {op} "
                    f"({', '.join('?' * len(keys))})")
            args += list(ref)
        order = "ASC" if ascending else "DESC"
        sql += " ORDER BY " + ", ".join(f"i.[{k}] {order}" for k in keys) + " LIMIT ?"
        args.append(limit)
        return conn.execute(sql, args).fetchall()

    def page(self, query: str, *, sort: str = DEFAULT_SORT, start: int | None = None,
             before: int | None = None, size: int = 60) -> Page:
        """The `size` matches from image `start` on, or the `size` just before image
        `before`, in `sort` order. An id no longer in the index, or fewer than `size`
        matches before `before`, give the first page. Raises QueryError."""
        compile_query(query)  # a bad query is refused before any row is read
        with self.connection() as conn:
            if before is not None:
                rows = self._seek(conn, query, sort, before, forward=False, inclusive=False,
                                  limit=size + 1)
                if rows is not None and len(rows) > size:
                    cells = [_cell(r) for r in reversed(rows[:size])]
                    return Page(cells, next_start=before, prev_before=cells[0].id)
                start = None
            rows = self._seek(conn, query, sort, start, forward=True, inclusive=True,
                              limit=size + 1)
            if rows is None:
                start = None
                rows = self._seek(conn, query, sort, None, forward=True, inclusive=True,
                                  limit=size + 1) or []
        cells = [_cell(r) for r in rows[:size]]
        return Page(cells, next_start=rows[size][0] if len(rows) > size else None,
                    prev_before=cells[0].id if start is not None and cells else None)

    def neighbour(self, query: str, sort: str, image_id: int, *, forward: bool) -> int | None:
        """The match just after (or before) image `image_id` in `sort` order."""
        with self.connection() as conn:
            rows = self._seek(conn, query, sort, image_id, forward=forward, inclusive=False,
                              limit=1)
        return int(rows[0][0]) if rows else None

    def file(self, image_id: int) -> str | None:
        """The path of image `image_id`, or None: the only way the gallery learns a path,
        so it serves nothing the index does not name."""
        with self.connection() as conn:
            row = conn.execute("SELECT path FROM images WHERE id = ? AND error IS NULL",
                               (image_id,)).fetchone()
        return None if row is None else str(row[0])

    def record(self, image_id: int) -> Record | None:
        """The image as it was indexed, or None."""
        from ..indexing.results import search

        with self.connection() as conn:
            return next(search("", conn, ids=[image_id]), None)
