"""Service layer: which objects a URL names, listed page by page, and how a large prefix is
cut into shards that workers list on their own (docs/scale.md#listing-and-shards).

The rule follows gendata.walk's for folders: an object named explicitly is always taken; a
prefix gives its objects whose name has an image extension (`all_files`: every object),
hidden names (a part starting with ".") skipped, direct children only unless `recursive`;
a glob (`*`, `?`, `[...]`, `**`) gives its matches, each taken by the same rule. Objects come
in key order, a page at a time, so no listing is ever held whole in memory.
"""

from __future__ import annotations

import glob
import hashlib
import os
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..walk import IMAGE_SUFFIXES

__all__ = ["Missing", "ObjectRef", "Shard", "iter_objects", "iter_pages", "plan_shards"]

PAGE = 1000  # objects a listing request returns (S3's most), and a part's rows by default


@dataclass(frozen=True)
class ObjectRef:
    """One object to read: its path in the filesystem, its size (None: ask) and, when the
    listing gives it, when it was last modified (ns since the epoch)."""

    path: str
    size: int | None
    mtime_ns: int | None = None


@dataclass(frozen=True)
class Missing:
    """A name that lists as nothing; reading it gives an error row with `reason`."""

    path: str
    reason: str


@dataclass(frozen=True)
class Shard:
    """A part of the input a task lists and reads by itself: the objects under `path`
    (all of them when `deep`, else only its direct children). `key` names its part files."""

    path: str
    deep: bool
    key: str = field(default="")

    def __post_init__(self) -> None:
        if not self.key:
            digest = hashlib.sha1(f"{self.path}\0{self.deep}".encode()).hexdigest()[:12]
            object.__setattr__(self, "key", digest)


def _wanted(name: str, all_files: bool) -> bool:
    return all_files or os.path.splitext(name)[1].lower() in IMAGE_SUFFIXES


def _hidden(path: str, root: str) -> bool:
    rel = path[len(root):].lstrip("/") if path.startswith(root) else posixpath.basename(path)
    return any(part.startswith(".") for part in rel.split("/"))


def _is_s3(fs: Any) -> bool:
    protocol = fs.protocol
    names = (protocol,) if isinstance(protocol, str) else tuple(protocol)
    return "s3" in names and hasattr(fs, "call_s3")


def _mtime_ns(info: dict[str, Any]) -> int | None:
    value = (info.get("LastModified") or info.get("mtime") or info.get("last_modified")
             or info.get("updated") or info.get("created"))
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return int(value * 1e9)
    if isinstance(value, str):
        from datetime import datetime

        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    timestamp = getattr(value, "timestamp", None)
    return int(timestamp() * 1e9) if timestamp is not None else None


Listed = tuple[str, int, "int | None"]


def _s3_pages(fs: Any, path: str, deep: bool, page: int) -> Iterator[list[Listed]]:
    """ListObjectsV2 page by page (s3fs itself lists a prefix whole)."""
    bucket, _, prefix = path.strip("/").partition("/")
    if prefix:
        prefix += "/"
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": page}
        if not deep:
            kwargs["Delimiter"] = "/"
        if token:
            kwargs["ContinuationToken"] = token
        resp = fs.call_s3("list_objects_v2", **kwargs)
        items = [(f"{bucket}/{o['Key']}", int(o["Size"]), _mtime_ns(o))
                 for o in resp.get("Contents", ()) if not o["Key"].endswith("/")]
        if items:
            yield items
        if not resp.get("IsTruncated"):
            return
        token = resp.get("NextContinuationToken")


def _generic_pages(fs: Any, path: str, deep: bool, page: int) -> Iterator[list[Listed]]:
    if deep:
        found = fs.find(path, detail=True)
        entries = sorted((p, int(i.get("size") or 0), _mtime_ns(i)) for p, i in found.items()
                         if i.get("type") != "directory")
    else:
        entries = sorted((i["name"], int(i.get("size") or 0), _mtime_ns(i))
                         for i in fs.ls(path, detail=True) if i.get("type") == "file")
    for i in range(0, len(entries), page):
        yield entries[i:i + page]


def iter_pages(fs: Any, shard: Shard, *, all_files: bool = False, page: int = PAGE
               ) -> Iterator[list[ObjectRef | Missing]]:
    """The shard's objects by the module's rule, in key order, `page` at most at a time.
    Pages are cut the same way every time the same objects are listed, which `--resume`
    relies on."""
    root = shard.path.rstrip("/")
    lister = _s3_pages if _is_s3(fs) else _generic_pages
    batch: list[ObjectRef | Missing] = []
    for items in lister(fs, root, shard.deep, page):
        for p, size, mtime in items:
            if not _hidden(p, root) and _wanted(p, all_files):
                batch.append(ObjectRef(p, size, mtime))
                if len(batch) == page:
                    yield batch
                    batch = []
    if batch:
        yield batch


def iter_objects(fs: Any, path: str, *, recursive: bool, all_files: bool = False,
                 page: int = PAGE) -> Iterator[list[ObjectRef | Missing]]:
    """What one input URL names, as pages of objects (and Missing for a name that names
    nothing)."""
    if glob.has_magic(path):
        matches = fs.glob(path, detail=True)
        if not matches:
            yield [Missing(path, "no objects match this pattern")]
            return
        files: list[ObjectRef | Missing] = [
            ObjectRef(p, int(i.get("size") or 0), _mtime_ns(i))
            for p, i in sorted(matches.items()) if i.get("type") != "directory"]
        for i in range(0, len(files), page):
            yield list(files[i:i + page])
        for p, i in sorted(matches.items()):
            if i.get("type") == "directory":
                yield from iter_pages(fs, Shard(p, recursive), all_files=all_files, page=page)
        return
    try:
        info = fs.info(path)
    except FileNotFoundError:
        yield [Missing(path, "no such object or prefix")]
        return
    if info.get("type") == "directory":
        yield from iter_pages(fs, Shard(path, recursive), all_files=all_files, page=page)
    else:
        yield [ObjectRef(path, int(info.get("size") or 0), _mtime_ns(info))]


def plan_shards(fs: Any, path: str, *, target: int = 64, depth: int = 3) -> list[Shard]:
    """Cut a prefix listed recursively into shards that tasks list on their own: its
    sub-prefixes, opened breadth first until there are `target` of them or `depth` levels;
    the objects met directly in an opened level form a shard of their own (listed without
    descending). The same prefixes give the same shards whatever the cluster's size, so
    `--resume` finds the parts of an earlier run."""
    shards: list[Shard] = []
    level = [path.rstrip("/")]
    for _ in range(depth):
        below: list[str] = []
        for prefix in level:
            entries = fs.ls(prefix, detail=True)
            if any(e.get("type") == "file" for e in entries):
                shards.append(Shard(prefix, False))
            below += sorted(e["name"].rstrip("/") for e in entries
                            if e.get("type") == "directory"
                            and not posixpath.basename(e["name"].rstrip("/")).startswith("."))
        level = below
        if not level or len(shards) + len(level) >= target:
            break
    shards += [Shard(p, True) for p in level]
    return shards
