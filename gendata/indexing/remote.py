"""Service layer: indexing images in object storage (`gendata index s3://bucket/prefix/`).

An object is unchanged while its size and last-modified time are (object stores have no
inode; the column holds 0). Objects are listed a page at a time and the new or changed ones
of a page read together, by range requests (gendata.remote); rows of objects gone from a
prefix that was listed are deleted, as for a walked folder.
"""

from __future__ import annotations

import glob
from collections.abc import Iterable, Mapping
from typing import Any

from ..remote.listing import Missing, ObjectRef, iter_objects
from ..remote.tasks import JobSpec, read_page
from ..remote.urls import filesystem, url_of
from .build import BATCH, Indexer, RowWriter, row_from

__all__ = ["update_urls"]


def update_urls(indexer: Indexer, urls: Iterable[str],
                storage_options: Mapping[str, Any] | None = None) -> None:
    """Bring the index's rows of the objects `urls` name (objects, prefixes listed
    recursively, globs) up to date; counts go to `indexer.summary`."""
    summary = indexer.summary
    writer = RowWriter(indexer.db)
    spec = JobSpec(stealth=indexer.stealth)
    for url in urls:
        fs, path = filesystem(url, storage_options)
        walked = not glob.has_magic(path) and bool(fs.isdir(path))
        known = indexer._known_under(url.rstrip("/")) if walked else {}
        for page in iter_objects(fs, path, recursive=True):
            todo: list[tuple[ObjectRef, int | None, tuple[int, int, int]]] = []
            for ref in page:
                if isinstance(ref, Missing):
                    summary.missing.append((url_of(fs, ref.path), ref.reason))
                    continue
                name = url_of(fs, ref.path)
                summary.scanned += 1
                old = known.pop(name, None) if walked else indexer._lookup(name)
                ident = (ref.size or 0, ref.mtime_ns or 0, 0)
                if old is not None and tuple(old[1:]) == ident:
                    summary.unchanged += 1
                    continue
                todo.append((ref, old[0] if old is not None else None, ident))
            records = read_page(spec, fs, [ref for ref, _, _ in todo]) if todo else []
            for (_ref, old_id, ident), rec in zip(todo, records, strict=True):
                row = row_from(rec.to_json(), ident, rec.extras)
                writer.put(row, old_id)
                if old_id is None:
                    summary.added += 1
                else:
                    summary.updated += 1
                if rec.error:
                    summary.add_failure(rec.path, rec.error)
                if len(writer) >= BATCH:
                    writer.flush()
                    indexer._tick()
            if indexer._stopping():
                writer.flush()
                return
        for image_id, *_ in known.values():
            writer.delete(image_id)
            summary.removed += 1
    writer.flush()
    indexer._tick()
