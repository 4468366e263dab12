"""Container layer: WebP RIFF chunks — EXIF and XMP read, EXIF rewritten with the VP8X flags
kept right, image chunks copied byte for byte (docs/formats.md#webp-chunks)."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

from ..errors import ContainerError, WriteError
from .exif import exif_entries, tag_names
from .exif_tags import WRITABLE, set_tags, tag_plan
from .files import same_file
from .raw import Changes, RawEntry, RawMetadata

if TYPE_CHECKING:
    from .splice import Edit

_EXIF_FLAG = 0x08
_ALPHA_FLAG = 0x10
_ANIM_FLAG = 0x02


def _chunks(f: BinaryIO, name: str, size: int, *,
            want: set[bytes]) -> Iterator[tuple[bytes, int, int, bytes | None]]:
    """Yield (fourcc, offset, size, data-or-None) for the chunks of a RIFF/WEBP file."""
    head = f.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        raise ContainerError(f"{name}: not a WebP file")
    (riff_size,) = struct.unpack("<I", head[4:8])
    end = min(size, 8 + riff_size)
    pos = 12
    while pos + 8 <= end:
        f.seek(pos)
        hdr = f.read(8)
        fourcc, length = hdr[:4], struct.unpack("<I", hdr[4:])[0]
        if pos + 8 + length > size:
            raise ContainerError(f"{name}: truncated WebP: chunk {fourcc!r} at offset {pos} "
                                 f"declares {length} bytes, file ends at {size}")
        data = f.read(length) if fourcc in want else None
        yield fourcc, pos, length, data
        pos += 8 + length + (length & 1)
    if pos < end - 1:
        raise ContainerError(f"{name}: truncated WebP chunk at offset {pos}")


def _dimensions(fourcc: bytes, data: bytes) -> tuple[int, int, bool] | None:
    if fourcc == b"VP8X" and len(data) >= 10:
        w = int.from_bytes(data[4:7], "little") + 1
        h = int.from_bytes(data[7:10], "little") + 1
        return w, h, bool(data[0] & _ALPHA_FLAG)
    if fourcc == b"VP8L" and len(data) >= 5 and data[0] == 0x2F:
        bits = int.from_bytes(data[1:5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool((bits >> 28) & 1)
    if fourcc == b"VP8 " and len(data) >= 10 and data[3:6] == b"\x9d\x01\x2a":
        w, h = struct.unpack("<HH", data[6:10])
        return w & 0x3FFF, h & 0x3FFF, False
    return None


def read_raw(f: BinaryIO) -> RawMetadata:
    name = str(getattr(f, "name", "<stream>"))
    size = f.seek(0, os.SEEK_END)  # any seekable stream, not only a descriptor
    f.seek(0)
    raw = RawMetadata(container="webp", lossless=False)
    first = True
    want = {b"VP8X", b"VP8L", b"EXIF", b"XMP "}
    for fourcc, pos, _length, data in _chunks(f, name, size, want=want | {b"VP8 "}):
        if fourcc == b"VP8L":
            raw.lossless = True
        if data is None:
            continue
        if first or (fourcc in (b"VP8L", b"VP8 ") and raw.width is None):
            dims = _dimensions(fourcc, data)
            if dims:
                raw.width, raw.height, alpha = dims
                raw.has_alpha = raw.has_alpha or alpha
        first = False
        if fourcc == b"EXIF":
            try:
                raw.entries.extend(exif_entries(data, "webp", pos))
            except ContainerError as exc:
                raw.warnings.append(f"{name}: EXIF chunk at offset {pos}: {exc}")
        elif fourcc == b"XMP ":
            raw.entries.append(RawEntry("webp", "XMP", "XMP",
                                        data.decode("utf-8", errors="replace"), len(data), pos))
    return raw


def _chunk(fourcc: bytes, data: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(data)) + data + (b"\0" if len(data) & 1 else b"")


# The contract's name for entries stored under a key of the writer's choice: WebP has none.
TEXT_LOCATIONS: frozenset[str] = frozenset()


def holds(key: str) -> bool:
    """The EXIF text tags (exif_tags.WRITABLE) are written; XMP is read, never changed."""
    return key in WRITABLE


def removals(raw: RawMetadata, changes: Changes) -> list[str]:
    tags = {e.key: e for e in raw.entries if e.location.startswith("EXIF:")}
    _sets, removes = changes.resolve(holds, tags.keys(), "WebP")
    return [f"EXIF {k} ({tags[k].size} bytes)" for k in tags if k in removes]


def rewrite(src: str | os.PathLike[str], dst: str | os.PathLike[str], changes: Changes
            ) -> list[str]:
    """Copy WebP `src` to `dst` with `changes` applied to the EXIF text tags.

    Only what changes is rewritten: the EXIF chunks (patched, every other tag, the byte
    order and each tag's own encoding kept; every chunk holding a tag gets its new text,
    exif_tags.tag_plan), the VP8X flag byte and
    the RIFF size. Every other byte, image chunks, unknown chunks and data after the RIFF
    end, is copied as it was. A simple (VP8/VP8L-only) file gains a VP8X header, which EXIF
    requires. With nothing to change, `dst` is a plain copy.
    """
    from .atomic import atomic_output  # writing only: reads never load it
    from .splice import splice

    name = str(src)
    with open(src, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        chunks = [(c, p, n) for c, p, n, _ in _chunks(f, name, size, want=set())]

        def read_chunk(pos: int, length: int) -> bytes:
            f.seek(pos + 8)
            return f.read(length)

        exif = [(p, n, read_chunk(p, n)) for c, p, n in chunks if c == b"EXIF"]
        present = tag_names([x[2] for x in exif])
        sets, removes = changes.resolve(holds, present, name)
        edits: list[Edit] = []
        done: list[str] = []
        if sets or removes & present:
            edits, done = _exif_edits(f, name, size, chunks, exif, sets, removes & present)
        if not edits and same_file(f, dst):
            return done
        with atomic_output(dst, like=src) as out:
            splice(f, out, edits, size)
    return done


def _exif_edits(f: BinaryIO, name: str, size: int, chunks: list[tuple[bytes, int, int]],
                exif: list[tuple[int, int, bytes]], sets: dict[str, str],
                removes: frozenset[str]) -> tuple[list[Edit], list[str]]:
    """The byte edits that set and remove the tags."""
    edits: list[Edit] = []
    done: list[str] = []
    delta = 0
    left = len(exif)  # EXIF chunks the file will still have
    plan = tag_plan([(pos, data) for pos, _n, data in exif], sets, removes)
    for pos, length, data in exif:
        if pos not in plan:
            continue
        block = set_tags(data, plan[pos])
        old = 8 + length + (length & 1)
        new = b"" if block is None else _chunk(b"EXIF", block)
        left -= block is None
        edits.append((pos, pos + old, new))
        delta += len(new) - old
        done.append(("replaced" if new else "removed") + f" EXIF at offset {pos}")
    if not exif and sets:
        block = set_tags(None, sets)
        assert block is not None  # setting never empties a block
        new = _chunk(b"EXIF", block)
        xmp = next((p for c, p, _n in chunks if c == b"XMP "), None)
        if xmp is not None:
            at = xmp
        else:
            last = chunks[-1] if chunks else None
            at = last[1] + 8 + last[2] + (last[2] & 1) if last else 12
            if at > size:  # a last odd-sized chunk without its pad byte
                new = bytes(at - size) + new
                at = size
        edits.append((at, at, new))
        delta += len(new)
        left = 1
        done.append("added EXIF")
    vp8x = next(((p, n) for c, p, n in chunks if c == b"VP8X"), None)
    if vp8x is not None and vp8x[1] >= 1:
        f.seek(vp8x[0] + 8)
        flags = f.read(1)[0]
        flags = flags | _EXIF_FLAG if left else flags & ~_EXIF_FLAG & 0xFF
        edits.append((vp8x[0] + 8, vp8x[0] + 9, bytes([flags])))
    elif left:
        image = next(((c, p, n) for c, p, n in chunks if c in (b"VP8 ", b"VP8L")), None)
        dims = None
        if image is not None:
            f.seek(image[1] + 8)
            dims = _dimensions(image[0], f.read(image[2]))
        if dims is None:
            raise WriteError(f"{name}: cannot find the WebP image size to add a VP8X header")
        w, h, alpha = dims
        header = bytearray(10)
        header[0] = (_ALPHA_FLAG if alpha else 0) | _EXIF_FLAG
        header[4:7] = (w - 1).to_bytes(3, "little")
        header[7:10] = (h - 1).to_bytes(3, "little")
        edits.append((12, 12, _chunk(b"VP8X", bytes(header))))
        delta += 18
    f.seek(4)
    (riff_size,) = struct.unpack("<I", f.read(4))
    if riff_size + delta > 0xFFFFFFFF - 8:
        raise WriteError(f"{name}: WebP would exceed the RIFF size limit")
    edits.append((4, 8, struct.pack("<I", riff_size + delta)))
    return edits, done
