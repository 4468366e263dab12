"""Service layer: building and updating the index from folders of images.

An update costs what changed, not what is there: every file is stat'ed, and only those whose
size, modification time or inode differ from the row are read again, on every core
(`batch.map_files`). Rows are turned into column values inside the workers, as `export`
turns records into text there, so this process only writes. Rows go in in batches, each its
own transaction (WAL mode): an interrupted run leaves a consistent index that holds what was
done, and a search can run while an index is being built. Rows of files that vanished from a
folder that was walked are deleted at the end of the walk.
"""

from __future__ import annotations

import contextlib
import glob
import os
import sqlite3
import stat as statmod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, Any

from ..batch import expand_paths, map_files
from ..errors import UsageError
from .roots import add_roots, drop_roots, glob_base, load_roots, matches_glob, roots
from .rows import COLUMNS, NEGATIVE_AT, PROMPT_AT, row_for, row_from
from .schema import (
    DATA_COLUMNS,
    connect,
    damaged,
    remove_database,
)

__all__ = ["IndexSummary", "Indexer", "RowWriter", "errors", "forget", "index", "insert_rows",
           "roots",
           "row_for", "row_from"]

# Rows written per transaction.
BATCH = 500


@dataclass
class IndexSummary:
    """How an index run went. `failed` lists the first `MAX_LISTED` files recorded with an
    error this run, as (path, error); `failed_count` counts them all. `missing` lists the
    inputs that named nothing to index (a missing file, a glob without matches, a folder
    that cannot be opened); `gone` those that no longer exist, whose rows were removed."""

    MAX_LISTED = 1000

    scanned: int = 0     # files looked at
    unchanged: int = 0   # not read again
    added: int = 0
    updated: int = 0
    removed: int = 0
    failed_count: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    missing: list[tuple[str, str]] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)  # inputs that no longer exist
    interrupted: bool = False

    @property
    def read(self) -> int:
        """Files read this run (new and changed)."""
        return self.added + self.updated

    @property
    def count(self) -> int:
        return self.scanned

    def add_failure(self, path: str, reason: str) -> None:
        self.failed_count += 1
        if len(self.failed) < self.MAX_LISTED:
            self.failed.append((path, reason))


# --- writing (this process) ----------------------------------------------------------------

class RowWriter:
    """Collects rows and writes them a batch per transaction. New rows get their ids when
    they are written, after the highest id in the table then, so two runs writing the same
    index cannot collide."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        cols = ["id", "path", "size", "mtime_ns", "inode", "container", "error", "big_ints",
                *COLUMNS]
        marks = ", ".join("?" * len(cols))
        names = ", ".join(f"[{c}]" for c in cols)
        self.insert_sql = f"INSERT INTO images ({names}) VALUES ({marks})"
        self.update_sql = ("UPDATE images SET " + ", ".join(f"[{c}] = ?" for c in cols[1:])
                           + " WHERE id = ?")
        self.data_sql = (f"INSERT INTO image_data (image_id, {', '.join(DATA_COLUMNS)}) "
                         f"VALUES ({', '.join('?' * (len(DATA_COLUMNS) + 1))})")
        self.rows: list[tuple[int | None, tuple[Any, ...]]] = []
        self.deletes: list[tuple[int]] = []

    def __len__(self) -> int:
        return len(self.rows) + len(self.deletes)

    def put(self, row: tuple[Any, ...], old_id: int | None) -> None:
        """Write `row` (from `row_for`) as a new row, or over the row `old_id`."""
        self.rows.append((old_id, row))

    def delete(self, image_id: int) -> None:
        self.deletes.append((image_id,))

    def flush(self) -> None:
        if not len(self):
            return
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            next_id = (db.execute("SELECT max(id) FROM images").fetchone()[0] or 0) + 1
            inserts: list[Any] = []
            updates: list[Any] = []
            data: list[Any] = []
            loras: list[tuple[Any, ...]] = []
            embeddings: list[tuple[Any, ...]] = []
            cjk: list[Any] = []
            texts: list[tuple[Any, ...]] = []
            gone = list(self.deletes)
            for old_id, row in self.rows:
                path, size, mtime_ns, inode, values, data_row, lora_rows, emb_rows, cjk_row, _ = row
                if old_id is None:
                    image_id, next_id = next_id, next_id + 1
                    inserts.append((image_id, path, size, mtime_ns, inode, *values))
                else:
                    image_id = old_id
                    updates.append((path, size, mtime_ns, inode, *values, image_id))
                    gone.append((image_id,))
                data.append((image_id, *data_row))
                texts.append((image_id, values[PROMPT_AT], values[NEGATIVE_AT]))
                loras.extend((image_id, i, *lo) for i, lo in enumerate(lora_rows))
                embeddings.extend((image_id, i, *e) for i, e in enumerate(emb_rows))
                if cjk_row is not None:
                    cjk.append((image_id, *cjk_row))
            # images_fts forgets the old text before the rows change (it reads nothing
            # itself: external content), and learns the new text after.
            db.executemany("INSERT INTO images_fts (images_fts, rowid, prompt, "
                           "negative_prompt) SELECT 'delete', id, prompt, negative_prompt "
                           "FROM images WHERE id = ?", gone)
            for table, key in (("image_data", "image_id"), ("loras", "image_id"),
                               ("embeddings", "image_id"), ("images_cjk", "rowid")):
                db.executemany(f"DELETE FROM {table} WHERE {key} = ?", gone)
            db.executemany("DELETE FROM images WHERE id = ?", self.deletes)
            db.executemany(self.update_sql, updates)
            db.executemany(self.insert_sql, inserts)
            db.executemany("INSERT INTO images_fts (rowid, prompt, negative_prompt) "
                           "VALUES (?, ?, ?)", texts)
            db.executemany(self.data_sql, data)
            db.executemany("INSERT INTO loras VALUES (?, ?, ?, ?, ?, ?, ?)", loras)
            db.executemany("INSERT INTO embeddings VALUES (?, ?, ?, ?)", embeddings)
            db.executemany("INSERT INTO images_cjk (rowid, prompt, negative_prompt) "
                           "VALUES (?, ?, ?)", cjk)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self.rows = []
        self.deletes = []


def insert_rows(db: sqlite3.Connection, rows: Iterable[tuple[Any, ...]]) -> None:
    """Write rows made by `row_from` as new images, a batch per transaction (for rows that
    come from somewhere other than files on disk: imports, tests, benchmarks)."""
    writer = RowWriter(db)
    for row in rows:
        writer.put(row, None)
        if len(writer) >= BATCH:
            writer.flush()
    writer.flush()


def _folder_range(folder: str) -> tuple[str, str]:
    """Bounds of the paths under `folder` in SQLite's binary order: `folder/` up to
    `folder0` ('0' follows '/')."""
    prefix = folder.rstrip(os.sep) + os.sep
    return prefix, prefix[:-1] + chr(ord(os.sep) + 1)


class Indexer:
    """Brings rows of an open index up to date with files on disk; used by `index` and
    `watch`."""

    def __init__(self, db: sqlite3.Connection, *, jobs: int | None = None,
                 stealth: bool | None = None,
                 progress: Callable[[IndexSummary], None] | None = None,
                 should_stop: Callable[[], bool] | None = None) -> None:
        self.db = db
        self.jobs = jobs
        self.stealth = stealth
        self.progress = progress
        self.should_stop = should_stop
        self.summary = IndexSummary()

    def _stopping(self) -> bool:
        if self.should_stop is not None and self.should_stop():
            self.summary.interrupted = True
        return self.summary.interrupted

    def _tick(self) -> None:
        if self.progress is not None:
            self.progress(self.summary)

    def _known_under(self, folder: str) -> dict[str, tuple[int, Any, Any, Any]]:
        lo, hi = _folder_range(folder)
        rows = self.db.execute("SELECT path, id, size, mtime_ns, inode FROM images "
                               "WHERE path >= ? AND path < ?", (lo, hi))
        return {r[0]: r[1:] for r in rows}

    def _lookup(self, path: str) -> tuple[int, Any, Any, Any] | None:
        row = self.db.execute("SELECT id, size, mtime_ns, inode FROM images WHERE path = ?",
                              (path,)).fetchone()
        return tuple(row) if row else None

    def update(self, paths: Iterable[str], *, stdin: IO[str] | None = None,
               null: bool = False, prune: bool = True) -> IndexSummary:
        """Index `paths` (files, folders walked recursively, globs, `-` for `stdin`).
        `prune`: delete the rows of files gone from the folders walked and of the files a
        glob matched that are gone; a file or folder named that no longer exists has its
        rows removed (and is listed in `gone`), or is `missing` when it had none."""
        paths = self._without_gone(list(paths))
        globs = [p for p in paths if p != "-" and not os.path.lexists(p)
                 and glob.has_magic(p)]
        known: dict[str, tuple[int, Any, Any, Any]] = {}
        folders = [os.path.abspath(p) for p in paths if p != "-" and os.path.isdir(p)]
        for folder in folders:
            known.update(self._known_under(folder))
        loaded = tuple(_folder_range(f)[0] for f in folders)
        writer = RowWriter(self.db)
        ids: dict[str, int | None] = {}   # path -> its row's id, for the files to read
        seen: set[str] = set()
        summary = self.summary

        def to_read() -> Iterator[str]:
            for p in expand_paths(paths, recursive=True, stdin=stdin, null=null):
                if self._stopping():
                    return
                reason = getattr(p, "reason", None)
                if reason is not None:  # a glob with no match, a folder we may not open
                    summary.missing.append((str(p), reason))
                    continue
                path = os.path.abspath(p)
                if path in seen:  # named twice (overlapping folders, a file and its folder)
                    continue
                seen.add(path)
                summary.scanned += 1
                if summary.scanned % 256 == 0:
                    self._tick()
                old = (known.pop(path, None) if path.startswith(loaded)
                       else self._lookup(path))
                if old is None and path.startswith(loaded):
                    # new, found by the walk: the worker's stat is the one stored
                    ids[path] = None
                    yield path
                    continue
                try:
                    st = os.stat(path)
                except OSError as exc:
                    ids[path] = None
                    if old is not None:
                        writer.delete(old[0])
                        summary.removed += 1
                    else:
                        summary.missing.append((path, exc.strerror or str(exc)))
                    continue
                if old is not None and statmod.S_ISREG(st.st_mode) and tuple(old[1:]) == (
                        st.st_size, st.st_mtime_ns, st.st_ino):
                    summary.unchanged += 1
                    continue
                ids[path] = old[0] if old is not None else None
                yield path

        results = map_files(partial(row_for, stealth=self.stealth), to_read(), jobs=self.jobs,
                            ordered=False)  # row ids follow arrival; order is not needed
        try:
            for row in results:
                old_id = ids.get(row[0])
                if len(row) == 1:  # vanished between the walk and the read
                    if old_id is not None:
                        writer.delete(old_id)
                        summary.removed += 1
                    continue
                writer.put(row, old_id)
                if old_id is None:
                    summary.added += 1
                else:
                    summary.updated += 1
                if row[-1]:
                    summary.add_failure(row[0], row[-1])
                if len(writer) >= BATCH:
                    writer.flush()
                    self._tick()
                if self._stopping():
                    break
        finally:
            results.close()
        if prune and not summary.interrupted:
            gone = [row[0] for row in known.values()]
            for pattern in globs:
                gone += [row[0] for path, row in self._known_under(glob_base(pattern)).items()
                         if path not in seen and matches_glob(path, pattern)
                         and not os.path.lexists(path)]
            for image_id in dict.fromkeys(gone):
                writer.delete(image_id)
                summary.removed += 1
                if len(writer) >= BATCH:
                    writer.flush()
        writer.flush()
        self._tick()
        return summary

    def _without_gone(self, paths: list[str]) -> list[str]:
        """`paths` less the files and folders named that are not there: their rows are
        removed now (`gone`), or, when the index held none, they are `missing` (a glob is
        kept to be expanded, unless rows sit at its very path: a folder named `a [1]`)."""
        kept = []
        for p in paths:
            if p == "-" or os.path.lexists(p):
                kept.append(p)
            elif self.remove(p):
                self.summary.gone.append(os.path.abspath(p))
            elif glob.has_magic(p):
                kept.append(p)
            else:
                self.summary.missing.append((p, "No such file or directory"))
        return kept

    def remove(self, path: str) -> int:
        """Delete the row of `path` and the rows under it if it was a folder; the count."""
        path = os.path.abspath(path)
        lo, hi = _folder_range(path)
        ids = [r[0] for r in self.db.execute(
            "SELECT id FROM images WHERE path = ? OR (path >= ? AND path < ?)", (path, lo, hi))]
        writer = RowWriter(self.db)
        for image_id in ids:
            writer.delete(image_id)
        writer.flush()
        self.summary.removed += len(ids)
        return len(ids)


def index(paths: Iterable[str | os.PathLike[str]], db: str | os.PathLike[str] | None = None, *,
          rebuild: bool = False, jobs: int | None = None, stealth: bool | None = None,
          stdin: IO[str] | None = None, null: bool = False,
          progress: Callable[[IndexSummary], None] | None = None,
          should_stop: Callable[[], bool] | None = None,
          storage_options: dict[str, Any] | None = None) -> IndexSummary:
    """Build or update the index at `db` (default: `default_db()`) from `paths`.

    Folders are walked recursively. New and changed files are read on `jobs` processes
    (None: every core); unchanged ones (same size, mtime and inode) are not; rows of files
    gone from a walked folder are removed. `rebuild` deletes the index first. Files that
    cannot be read get a row with `error` set (see `errors()`). `progress` is called with
    the running summary now and then; `should_stop` is polled, and a run it stops leaves
    what was written committed. URLs (`s3://bucket/prefix/`, docs/scale.md) are indexed
    from object storage, with `storage_options` for their filesystem.
    """
    from . import default_db

    target = Path(db) if db is not None else default_db()
    inputs = [os.fspath(p) for p in paths]
    remembered = not inputs
    if remembered:
        inputs = roots(target)
        if not inputs:
            raise UsageError(f"nothing is indexed in {target} yet: name the folders to index")
    if rebuild:
        remove_database(target)
    conn = connect(target, create=True)
    try:
        indexer = Indexer(conn, jobs=jobs, stealth=stealth, progress=progress,
                          should_stop=should_stop)
        from ..remote import is_url

        urls = [p for p in inputs if is_url(p)]
        local = [p for p in inputs if not is_url(p)]
        summary = indexer.summary
        if local:
            summary = indexer.update(local, stdin=stdin, null=null)
        if urls and not summary.interrupted:
            from .remote import update_urls

            update_urls(indexer, urls, storage_options)
        if not summary.interrupted:
            if remembered:
                # A root that is not there now (a drive not mounted, a folder renamed, a
                # glob left empty) keeps its place: its files left the index and come back
                # with it. `forget` drops a root for good.
                absent = [p for p, _ in summary.missing if not os.path.lexists(p)]
                summary.gone += [os.path.abspath(p) for p in absent]
                summary.missing = [m for m in summary.missing if m[0] not in absent]
            else:
                # A PATH named that is gone is forgotten (a root glob that names nothing
                # now too); one that named nothing is not remembered (a typo would fail
                # every later run).
                was = set(load_roots(conn))
                empty = [p for p, _ in summary.missing
                         if os.path.abspath(p) in was and not os.path.lexists(p)]
                summary.gone += [os.path.abspath(p) for p in empty]
                summary.missing = [m for m in summary.missing if m[0] not in empty]
                left = set(summary.gone) | {os.path.abspath(p) for p, _ in summary.missing}
                drop_roots(conn, summary.gone)
                add_roots(conn, [p for p in inputs if os.path.abspath(p) not in left])
        return summary
    except sqlite3.DatabaseError as exc:
        raise damaged(target, exc) from None
    finally:
        _close(conn)


def forget(paths: Iterable[str | os.PathLike[str]], db: str | os.PathLike[str] | None = None
           ) -> IndexSummary:
    """Stop indexing `paths`, roots indexed before (folders, files, globs): their files
    leave the index (those another root still covers come back with it) and `gendata index`
    without paths no longer visits them. A path that is not a root is `missing`, untouched."""
    from . import default_db

    target = Path(db) if db is not None else default_db()
    conn = connect(target, create=False)
    try:
        indexer = Indexer(conn)
        known = set(load_roots(conn))
        dropped = []
        for p in (os.fspath(p) for p in paths):
            full = os.path.abspath(p)
            if full not in known:
                indexer.summary.missing.append((p, "not a folder, file or glob indexed as a "
                                                   "root (`gendata index` names them)"))
                continue
            dropped.append(full)
            indexer.remove(full)
            if glob.has_magic(full):  # its files, and the files of folders it named
                writer = RowWriter(conn)
                for path, row in indexer._known_under(glob_base(full)).items():
                    if matches_glob(path, full):
                        writer.delete(row[0])
                        indexer.summary.removed += 1
                writer.flush()
        drop_roots(conn, dropped)
        return indexer.summary
    except sqlite3.DatabaseError as exc:
        raise damaged(target, exc) from None
    finally:
        _close(conn)


def _close(conn: sqlite3.Connection) -> None:
    with contextlib.suppress(sqlite3.Error):
        conn.execute("PRAGMA optimize")
    conn.close()


def errors(db: str | os.PathLike[str] | None = None) -> list[tuple[str, str]]:
    """(path, error) of every file the index holds with an error, by path."""
    from . import default_db

    target = Path(db) if db is not None else default_db()
    conn = connect(target, create=False)
    try:
        return [tuple(r) for r in conn.execute(
            "SELECT path, error FROM images WHERE error IS NOT NULL ORDER BY path")]
    except sqlite3.DatabaseError as exc:
        raise damaged(target, exc) from None
    finally:
        conn.close()
