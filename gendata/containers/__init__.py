"""Container layer: detect the container by magic bytes and dispatch to its module.

Never by file extension: `.jpg` files that are really PNGs are common
(docs/formats.md#detecting-the-container).

Every module named in CONTAINERS keeps one contract, so reading and writing look the same
from above and a new container needs nothing but its module and a line here:

- `read_raw(f) -> RawMetadata`: the metadata of an open file, pixels unread;
- `rewrite(src, dst, changes: Changes) -> list[str]`: copy `src` to `dst` (may be the same
  path) with `changes` applied, everything else byte for byte, atomically; returns what
  changed, in words;
- `holds(key) -> bool`: whether it can store an entry under `key`;
- `removals(raw, changes) -> list[str]`: what `rewrite` would take out of that file, one
  line per entry (what `strip --dry-run` lists);
- `TEXT_LOCATIONS`: the entry locations that hold text under a key of the writer's choice
  (PNG text chunks); empty where only fixed tags exist.
"""

from __future__ import annotations

import importlib
import io
import os
import stat
import struct
from collections.abc import Collection
from types import ModuleType
from typing import BinaryIO

from ..errors import ContainerError, UnsupportedFormat
from .files import _OPEN_FLAGS, NotRegularFile, file_kind, read_error, read_head
from .raw import Changes, RawEntry, RawMetadata

__all__ = [
    "CONTAINERS",
    "Changes",
    "RawEntry",
    "RawMetadata",
    "container_of",
    "detect",
    "free_text",
    "keyed_texts",
    "module",
    "open_raw",
    "read_raw",
    "removals",
    "write_raw",
]

# Every container gendata reads and writes, by the name `detect` gives; the module of the
# same name under gendata.containers implements the contract above.
CONTAINERS: tuple[str, ...] = ("png", "jpeg", "webp")

_modules: dict[str, ModuleType] = {}
# What reading a damaged file can raise from struct/int parsing, reported as corruption.
_CORRUPT = (struct.error, ValueError, IndexError, OverflowError)


def detect(head: bytes) -> str | None:
    """Container name from the first 12 bytes, or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def module(kind: str) -> ModuleType:
    """The module of container `kind`, imported on first use (a JPEG never loads png.py)."""
    mod = _modules.get(kind)
    if mod is None:
        if kind not in CONTAINERS:
            raise UnsupportedFormat(f"no container named {kind!r}")
        mod = _modules[kind] = importlib.import_module(f"{__name__}.{kind}")
    return mod


def _kind(head: bytes, name: object) -> str:
    kind = detect(head)
    if kind is None:
        if not head:
            raise UnsupportedFormat(f"{name}: empty file")
        raise UnsupportedFormat(f"{name}: not a PNG, JPEG or WebP image")
    return kind


def read_raw(f: BinaryIO) -> RawMetadata:
    """Raw metadata of an open binary file (any supported container), pixels unread."""
    head = f.read(12)
    f.seek(0)
    name = getattr(f, "name", "<stream>")
    kind = _kind(head, name)
    try:
        return module(kind).read_raw(f)
    except _CORRUPT as exc:
        raise ContainerError(f"{name}: corrupt {kind.upper()}: {exc}") from None


# What `open_raw` reads first, in one positioned read: a PNG's header chunks and text
# (png.HEAD_BYTES).
_HEAD_BYTES = 8192


def open_raw(path: str | os.PathLike[str]) -> RawMetadata:
    """`read_raw` of the file at `path`; a FIFO, socket or device is refused unread (as
    files.open_regular refuses it). A PNG is read from one positioned read of its first
    bytes and one of its last: the read path of `export` runs this for every file."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                if stat.S_ISDIR(st.st_mode):
                    raise IsADirectoryError(21, "Is a directory", path)
                raise NotRegularFile(f"is {file_kind(st.st_mode)}, not a file")
            head = os.pread(fd, _HEAD_BYTES, 0)
            name = os.fspath(path)
            kind = _kind(head[:12], name)
            if kind == "png":
                try:
                    return module(kind).read_fd(name, fd, st.st_size, head)
                except _CORRUPT as exc:
                    raise ContainerError(f"{name}: corrupt PNG: {exc}") from None
            raw = io.FileIO(fd, "rb", closefd=False)
            raw.name = name
            with io.BufferedReader(raw) as f:
                return read_raw(f)
        finally:
            os.close(fd)
    except OSError as exc:
        raise read_error(path, exc) from None


def container_of(path: str | os.PathLike[str]) -> str:
    """The container of the file at `path`, from its magic bytes."""
    return _kind(read_head(path), path)


def write_raw(src: str | os.PathLike[str], dst: str | os.PathLike[str], changes: Changes
              ) -> list[str]:
    """Apply `changes` to `src`, written to `dst` (may be `src`), by the container's module.

    Dispatches by magic bytes exactly as `read_raw` does. Returns what changed, in words.
    """
    kind = container_of(src)
    try:
        return module(kind).rewrite(src, dst, changes)
    except _CORRUPT as exc:
        raise ContainerError(f"{src}: corrupt {kind.upper()}: {exc}") from None
    except OSError as exc:  # opening `src`; failures while writing are WriteError already
        raise read_error(src, exc) from None


def removals(raw: RawMetadata, changes: Changes) -> list[str]:
    """What `write_raw` would remove from the file `raw` was read from, one line each."""
    return module(raw.container).removals(raw, changes)


def free_text(kind: str) -> bool:
    """Whether container `kind` stores text under keys of the writer's choice."""
    return bool(module(kind).TEXT_LOCATIONS)


def keyed_texts(raw: RawMetadata, keys: Collection[str]) -> dict[str, str]:
    """Key -> text of the entries under `keys` stored under their own key (PNG text
    chunks, not EXIF tags, XMP or pixels): what can be copied word for word into another
    container with `free_text`. The last of repeated keys wins."""
    where = module(raw.container).TEXT_LOCATIONS
    return {e.key: e.text for e in raw.entries
            if e.location in where and e.key in keys and e.text is not None}
