"""Service layer: Records of URLs for the commands that read a few images (`show`, `diff`):
one object, or the objects a prefix or glob names, read as export reads them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..api import Record
from .listing import iter_objects
from .retry import RetryPolicy
from .tasks import JobSpec, read_page
from .urls import filesystem

__all__ = ["iter_url_records", "read_url"]


def read_url(url: str, storage_options: Mapping[str, Any] | None = None, *,
             stealth: bool | None = None) -> Record:
    """The Record of the object at `url` (an error Record when it cannot be read)."""
    from ..errors import GenDataError

    try:
        fs, path = filesystem(url, storage_options)
    except GenDataError as exc:
        return Record(path=url, error=str(exc))
    from .listing import ObjectRef

    return read_page(JobSpec(stealth=stealth, concurrency=1), fs, [ObjectRef(path, None)])[0]


def iter_url_records(urls: Iterable[str], storage_options: Mapping[str, Any] | None = None,
                     *, recursive: bool = False, stealth: bool | None = None,
                     retry: RetryPolicy | None = None) -> Iterator[Record]:
    """Records of every object the URLs name (objects, prefixes, globs), in order, a page
    of objects in flight at a time."""
    spec = JobSpec(stealth=stealth, retry=retry or RetryPolicy())
    for url in urls:
        fs, path = filesystem(url, storage_options)
        for page in iter_objects(fs, path, recursive=recursive):
            yield from read_page(spec, fs, page)
