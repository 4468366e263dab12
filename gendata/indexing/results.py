"""Service layer: running a query over the index, and turning rows back into records.

A result is what the file held when it was indexed: `objects` gives the `show --json`
object of each match (docs/json.md), `search` the `Record` (its `raw` holds the text
entries, not their places in the file), `paths` just the paths. None of them imports the
model or the readers, so `gendata search --jsonl` starts as fast as `gendata show --json`.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..model_fields import SCALAR_FIELDS, DeferredParams
from .query import compile_query, match_text, order_by
from .schema import DATA_COLUMNS, connect, damaged

if TYPE_CHECKING:
    from ..api import Record

__all__ = ["count", "objects", "open_index", "paths", "rows", "search"]

_FETCH = 500
_SCALARS = [f for f in SCALAR_FIELDS if f != "generator"]


def open_index(db: str | os.PathLike[str] | None = None) -> sqlite3.Connection:
    """A connection to the index for searching (the `gendata_match` function registered)."""
    from . import default_db

    conn = connect(Path(db) if db is not None else default_db(), create=False)
    conn.create_function("gendata_match", 2, match_text, deterministic=True)
    return conn


@contextmanager
def _opened(db: Any) -> Iterator[sqlite3.Connection]:
    if isinstance(db, sqlite3.Connection):
        yield db
        return
    conn = open_index(db)
    try:
        yield conn
    finally:
        conn.close()


def rows(conn: sqlite3.Connection, query: str, columns: str, *, sort: str | None = None,
         limit: int | None = None) -> Iterator[tuple[Any, ...]]:
    """`SELECT columns FROM images i` for the matches of `query`, in `sort` order.
    Raises QueryError for a query the language does not accept."""
    where, params = compile_query(query)
    sql = f"SELECT {columns} FROM images i WHERE {where} {order_by(sort)}"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    try:
        yield from conn.execute(sql, params)
    except sqlite3.DatabaseError as exc:
        raise _database_error(conn, exc) from None


def _database_error(conn: sqlite3.Connection, exc: sqlite3.DatabaseError) -> Exception:
    path = conn.execute("PRAGMA database_list").fetchone()[2]
    return damaged(path, exc)


def paths(query: str = "", db: Any = None, *, sort: str | None = None,
          limit: int | None = None) -> Iterator[str]:
    """Paths of the indexed images that match `query`."""
    with _opened(db) as conn:
        for (path,) in rows(conn, query, "i.path", sort=sort, limit=limit):
            yield path


def count(query: str = "", db: Any = None) -> int:
    """How many indexed images match `query`."""
    with _opened(db) as conn:
        return next(rows(conn, query, "count(*)"))[0]


_OBJECT_COLUMNS = ", ".join(
    ["i.id", "i.path", "i.container", "i.[generator]", *(f"i.[{f}]" for f in _SCALARS),
     "i.big_ints", *(f"d.[{c}]" for c in DATA_COLUMNS)])


def _side_rows(conn: sqlite3.Connection, table: str, columns: str, ids: list[int]
               ) -> dict[int, list[tuple[Any, ...]]]:
    out: dict[int, list[tuple[Any, ...]]] = {}
    marks = ", ".join("?" * len(ids))
    for image_id, *values in conn.execute(
            f"SELECT image_id, {columns} FROM {table} WHERE image_id IN ({marks}) "
            "ORDER BY image_id, position", ids):
        out.setdefault(image_id, []).append(tuple(values))
    return out


def _load(text: str | None, empty: Any) -> Any:
    return json.loads(text) if text else empty


def _parts(conn: sqlite3.Connection, query: str, sort: str | None, limit: int | None,
           ids: Sequence[int] | None = None
           ) -> Iterator[tuple[dict[str, Any], dict[str, str], dict[str, Any], list[str]]]:
    """(fields as DeferredParams.json_fields gives them, raw texts, extras, warnings) of
    each match (of those among `ids`, the `images.id`s, when given)."""
    where, params = compile_query(query)
    if ids is not None:
        where += f" AND i.id IN ({', '.join('?' * len(ids))})"
        params.extend(ids)
    sql = (f"SELECT {_OBJECT_COLUMNS} FROM images i LEFT JOIN image_data d "
           f"ON d.image_id = i.id WHERE {where} {order_by(sort)}")
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    try:
        cursor = conn.execute(sql, params)
        while batch := cursor.fetchmany(_FETCH):
            ids = [r[0] for r in batch]
            loras = _side_rows(conn, "loras", "name, weight, unet_weight, hash, kind", ids)
            embeddings = _side_rows(conn, "embeddings", "name, hash", ids)
            for row in batch:
                yield _row_parts(row, loras.get(row[0], ()), embeddings.get(row[0], ()))
    except sqlite3.DatabaseError as exc:
        raise _database_error(conn, exc) from None


def _row_parts(row: tuple[Any, ...], loras: Any, embeddings: Any
               ) -> tuple[dict[str, Any], dict[str, str], dict[str, Any], list[str]]:
    n = len(_SCALARS)
    head = {"path": row[1], "container": row[2]}
    fields: dict[str, Any] = {"generator": row[3]}
    fields.update(zip(_SCALARS, row[4:4 + n], strict=True))
    big = row[4 + n]
    if big:
        fields.update((k, int(v)) for k, v in json.loads(big).items())
    samplers, extra, notes, extras, warnings, raw = row[5 + n:]
    fields["loras"] = [{"name": name, "weight": w, "unet_weight": uw, "hash": h, "kind": kind}
                       for name, w, uw, h, kind in loras]
    fields["embeddings"] = [{"name": name, "hash": h} for name, h in embeddings]
    fields["samplers"] = _load(samplers, [])
    fields["extra"] = _load(extra, {})
    fields["notes"] = _load(notes, [])
    fields.update(head)
    return fields, _load(raw, {}), _load(extras, {}), _load(warnings, [])


def objects(query: str = "", db: Any = None, *, sort: str | None = None,
            limit: int | None = None) -> Iterator[dict[str, Any]]:
    """The `show --json` object (docs/json.md) of each indexed image matching `query`, as
    the file was when it was indexed."""
    with _opened(db) as conn:
        for fields, raw, extras, warnings in _parts(conn, query, sort, limit):
            obj = {"path": fields.pop("path"), "container": fields.pop("container")}
            obj.update(fields)
            obj["raw"] = raw
            obj.update(extras)
            obj["warnings"] = warnings
            obj["error"] = None
            yield obj


class IndexedParams(DeferredParams):
    """Parameters as the index holds them; made into a GenParams on first use."""

    __slots__ = ("fields",)

    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields = fields

    def json_fields(self) -> dict[str, Any]:
        return dict(self.fields)

    def build(self) -> Any:
        from ..model import GenParams

        return GenParams.model_validate(self.fields)


def search(query: str = "", db: Any = None, *, sort: str | None = None,
           limit: int | None = None, ids: Sequence[int] | None = None) -> Iterator[Record]:
    """Records of the indexed images matching `query` (docs/index.md), by path unless
    `sort` says `FIELD[:desc]`. Each is the file as it was indexed: `gendata.read(rec.path)`
    reads it again. `db` is the index file (default: `gendata.indexing.default_db()`) or an
    open connection; `ids` keeps only those rows (`images.id`). Raises QueryError for a
    query the language does not accept and IndexDatabaseError when there is no usable
    index."""
    from ..api import Record
    from ..containers.raw import RawEntry, RawMetadata

    with _opened(db) as conn:
        for fields, raw, extras, warnings in _parts(conn, query, sort, limit, ids):
            path, container = fields.pop("path"), fields.pop("container")
            kind = container or ""
            entries = [RawEntry(kind, "index", key, text, len(text.encode("utf-8")))
                       for key, text in raw.items()]
            meta = RawMetadata(kind, entries, warnings=warnings)
            yield Record(path=path, container=container, params=IndexedParams(fields),
                         raw=meta, extras=extras)
