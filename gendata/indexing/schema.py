"""Service layer: the index database — its tables, its version and migrations, and opening it.

The index is a plain SQLite file meant to be opened by other tools too (sqlite3, datasette,
pandas), so its layout is documented (docs/index.md) and conservative: one `images` row per
file with every GenParams scalar field as a typed column, `loras` and `embeddings` tables,
and an FTS5 table `images_fts` over the prompts in the layout sqlite-utils gives
(external content over `images`), which datasette's search box uses as is. gendata keeps it
in step itself, in the transaction that writes the rows, as sqlite-utils' `populate_fts`
does: an insert trigger on an FTS5 table costs four times the explicit insert.

The file says what it is: `PRAGMA application_id` marks it as a gendata index, so that a
foreign database is never changed or deleted, and `PRAGMA user_version` is the schema
version that `MIGRATIONS` brings forward. The typed columns follow the model
(model_fields.SCALAR_FIELDS): when a field is added there, opening the index for writing adds
its column and marks every file to be read again.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from ..errors import GenDataError
from ..model_fields import GENPARAMS, SCALAR_FIELDS
from .text import FTS_TOKENIZE

__all__ = [
    "APPLICATION_ID",
    "COLUMN_TYPES",
    "MIGRATIONS",
    "READER_VERSION",
    "SCHEMA_VERSION",
    "IndexDatabaseError",
    "connect",
    "memory_index",
    "remove_database",
    "scalar_columns",
]

APPLICATION_ID = 0x67644958  # "gdIX"
SCHEMA_VERSION = 2
# What reading a file gives: raised when the same file reads differently (a parser fix), so
# that the next `gendata index` reads every file again instead of keeping the old rows of
# unchanged files. 2: an out-of-range A1111 value no longer hides the other typed keys.
READER_VERSION = 2

_SQL_TYPES = {str: "TEXT", int: "INTEGER", float: "REAL"}
# The long texts go last in a row, so that a scan over the short columns stays in one page.
_LAST = ("prompt", "negative_prompt")


class IndexDatabaseError(GenDataError):
    """The index database cannot be used: missing, damaged, foreign, or from a newer gendata."""


def scalar_columns() -> list[str]:
    """The GenParams scalar fields in the order of the `images` columns."""
    return [f for f in SCALAR_FIELDS if f not in _LAST] + [f for f in _LAST
                                                           if f in SCALAR_FIELDS]


COLUMN_TYPES: dict[str, str] = {f: _SQL_TYPES[GENPARAMS[f].type] for f in SCALAR_FIELDS}

# JSON columns of `image_data`: what a Record holds beyond the typed fields, so that a search
# result prints the same `show --json` object as the file.
DATA_COLUMNS = ("samplers", "extra", "notes", "extras", "warnings", "raw")


def run_script(db: sqlite3.Connection, script: str) -> None:
    """Run a script of SQL statements inside the caller's transaction (`executescript`
    would commit it first)."""
    statement = ""
    for piece in script.split(";"):
        statement += piece + ";"
        if sqlite3.complete_statement(statement):
            if statement.strip(" \n;"):
                db.execute(statement)
            statement = ""


def _create_v1(db: sqlite3.Connection) -> None:
    typed = ",\n    ".join(f"[{f}] {COLUMN_TYPES[f]}" for f in scalar_columns())
    run_script(db, f"""
CREATE TABLE images (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    size INTEGER,
    mtime_ns INTEGER,
    inode INTEGER,
    container TEXT,
    error TEXT,
    big_ints TEXT,
    {typed}
);
CREATE TABLE image_data (
    image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
    {", ".join(f"[{c}] TEXT" for c in DATA_COLUMNS)}
);
CREATE TABLE loras (
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    weight REAL,
    unet_weight REAL,
    hash TEXT,
    kind TEXT,
    PRIMARY KEY (image_id, position)
);
CREATE TABLE embeddings (
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    hash TEXT,
    PRIMARY KEY (image_id, position)
);
CREATE INDEX images_seed ON images(seed);
CREATE VIRTUAL TABLE [images_fts] USING FTS5 (
    [prompt], [negative_prompt],
    tokenize='{FTS_TOKENIZE}',
    content=[images]
);
CREATE VIRTUAL TABLE images_cjk USING FTS5 (
    prompt, negative_prompt,
    tokenize='{FTS_TOKENIZE}'
);
CREATE TABLE gendata_meta (key TEXT PRIMARY KEY, value TEXT);
""")


def _add_time_order(db: sqlite3.Connection) -> None:
    """Version 2: an index on the file time, so that "newest first" pages (the gallery's
    menu, `--sort mtime:desc`) are found without sorting every match (38 ms a page at
    100,000 images before, under 1 ms after)."""
    db.execute("CREATE INDEX images_mtime ON images(mtime_ns, id)")


# MIGRATIONS[n] brings a database at schema version n - 1 to version n (version 0: empty).
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _create_v1,
                                                                2: _add_time_order}

_SQLITE_MAGIC = b"SQLite format 3\0"


def _header(path: Path) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(100)
    except FileNotFoundError:
        return b""
    except OSError as exc:
        raise IndexDatabaseError(f"{path}: cannot read the index: {exc.strerror or exc}"
                                 ) from None


def _ownership(path: Path) -> str:
    """'new' (absent or empty), 'ours' (marked as a gendata index) or 'foreign'."""
    head = _header(path)
    if not head:
        return "new"
    if not head.startswith(_SQLITE_MAGIC) or len(head) < 72:
        return "foreign"
    app_id = int.from_bytes(head[68:72], "big")
    if app_id == APPLICATION_ID:
        return "ours"
    if app_id != 0:
        return "foreign"
    try:  # an unmarked database is ours to fill only while it holds nothing
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as probe:
            empty = probe.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
        probe.close()
    except sqlite3.DatabaseError:
        return "foreign"
    return "new" if empty else "foreign"


def _foreign(path: Path) -> IndexDatabaseError:
    return IndexDatabaseError(f"{path} is not a gendata index (another program's file or "
                              "database); gendata leaves it alone: choose another --db")


def damaged(path: Path | str, exc: BaseException) -> IndexDatabaseError:
    """The error for an index SQLite cannot use: damaged (`database disk image is
    malformed`), or busy, full or read-only (an OperationalError, said as it is)."""
    if isinstance(exc, sqlite3.OperationalError):
        return IndexDatabaseError(f"{path}: {exc}")
    return IndexDatabaseError(f"{path}: the index is damaged ({exc}); "
                              "`gendata index --rebuild` makes it again")


def remove_database(path: Path | str) -> None:
    """Delete an index (and its WAL files) so that it can be built again. Refuses anything
    that is not marked as a gendata index."""
    path = Path(path)
    if _ownership(path) == "foreign":
        raise _foreign(path)
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.unlink(f"{path}{suffix}")
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise IndexDatabaseError(f"{path}{suffix}: cannot remove: {exc.strerror or exc}"
                                     ) from None


def connect(path: Path | str, *, create: bool) -> sqlite3.Connection:
    """Open the index at `path`, brought to the current schema.

    `create=False` (searching) refuses a missing file instead of making an empty index.
    Either may write: migrations, and the columns of model fields added since the index
    was made. Raises IndexDatabaseError for a foreign, damaged or newer database.
    """
    path = Path(path)
    state = _ownership(path)
    if state == "foreign":
        raise _foreign(path)
    if state == "new" and not create:
        raise IndexDatabaseError(f"no index at {path}: build one with `gendata index PATH`")
    if state == "new":
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise IndexDatabaseError(f"{path.parent}: cannot create the index folder: "
                                     f"{exc.strerror or exc}") from None
    try:
        db = sqlite3.connect(path, timeout=30.0, isolation_level=None,
                             check_same_thread=False)
    except sqlite3.Error as exc:
        raise IndexDatabaseError(f"{path}: cannot open the index: {exc}") from None
    try:
        _configure(db)
        _migrate(db, path)
        _sync_fields(db)
        if create:
            _sync_reader(db)
    except sqlite3.DatabaseError as exc:
        db.close()
        raise damaged(path, exc) from None
    except BaseException:
        db.close()
        raise
    return db


def memory_index() -> sqlite3.Connection:
    """An empty index in memory, of the current schema: what a front end searches for the
    files it lists that the index on disk does not hold as they are now."""
    db = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    _migrate(db, Path(":memory:"))
    return db


def _configure(db: sqlite3.Connection) -> None:
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA busy_timeout=30000")
    db.execute("PRAGMA cache_size=-65536")  # 64 MiB
    db.execute("PRAGMA mmap_size=1073741824")
    db.execute("PRAGMA temp_store=MEMORY")


def _migrate(db: sqlite3.Connection, path: Path) -> None:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version == SCHEMA_VERSION:
        return
    if version > SCHEMA_VERSION:
        raise IndexDatabaseError(f"{path}: the index has schema version {version}, newer "
                                 f"than this gendata's {SCHEMA_VERSION}: upgrade gendata, or "
                                 "`gendata index --rebuild` to make it again")
    db.execute("BEGIN IMMEDIATE")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]  # another process may
        while version < SCHEMA_VERSION:                              # have done it meanwhile
            version += 1
            MIGRATIONS[version](db)
            db.execute(f"PRAGMA user_version={version}")
        db.execute(f"PRAGMA application_id={APPLICATION_ID}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _sync_reader(db: sqlite3.Connection) -> None:
    """Mark every row to be read again when the index was built by an older reader, which
    read files differently (READER_VERSION); an index without the mark is from reader 1."""
    row = db.execute("SELECT value FROM gendata_meta WHERE key = 'reader'").fetchone()
    if row is not None and _version(row[0]) >= READER_VERSION:
        return  # this reader's rows, or a newer one's (an older gendata leaves them be)
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute("UPDATE images SET size = NULL")
        db.execute("INSERT OR REPLACE INTO gendata_meta (key, value) VALUES ('reader', ?)",
                   (str(READER_VERSION),))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _version(text: object) -> int:
    try:
        return int(str(text))
    except ValueError:
        return 0


def _sync_fields(db: sqlite3.Connection) -> None:
    """Add a column for each model field the index does not have yet; the files are then
    read again by the next `index` (their stored size is cleared)."""
    have = {row[1] for row in db.execute("PRAGMA table_info(images)")}
    missing = [f for f in scalar_columns() if f not in have]
    if not missing:
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        for f in missing:
            db.execute(f"ALTER TABLE images ADD COLUMN [{f}] {COLUMN_TYPES[f]}")
        db.execute("UPDATE images SET size = NULL")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
