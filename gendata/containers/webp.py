"""Container layer: WebP RIFF chunks — EXIF and XMP read, EXIF rewritten with the VP8X flags
kept right, image chunks copied byte for byte (docs/formats.md#webp-chunks)."""

from __future__ import annotations

import os
import shutil
import struct
from collections.abc import Iterator
from typing import BinaryIO

from ..errors import ContainerError, WriteError
from .atomic import atomic_output
from .exif import exif_entries, has_user_comment, set_user_comment, strip_exif_header
from .raw import Changes, RawEntry, RawMetadata

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
    size = os.fstat(f.fileno()).st_size
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
    """Only the EXIF UserComment is written; XMP is read, never changed."""
    return key == "UserComment"


def removals(raw: RawMetadata, changes: Changes) -> list[str]:
    uc = next((e for e in raw.entries if e.key == "UserComment"), None)
    _sets, removes = changes.resolve(holds, () if uc is None else {"UserComment"}, "WebP")
    return [f"EXIF UserComment ({uc.size} bytes)"] if uc and "UserComment" in removes else []


def rewrite(src: str | os.PathLike[str], dst: str | os.PathLike[str], changes: Changes
            ) -> list[str]:
    """Copy WebP `src` to `dst` with `changes` applied to the EXIF UserComment.

    A simple (VP8/VP8L-only) file gains a VP8X header, which EXIF requires; the image
    chunks themselves are copied unchanged. With nothing to change, `dst` is a plain copy.
    """
    name = str(src)
    with open(src, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        chunks = [(c, p, n) for c, p, n, _ in _chunks(f, name, size, want=set())]
        f.seek(0)

        def read_chunk(pos: int, length: int) -> bytes:
            f.seek(pos + 8)
            return f.read(length)

        blocks = [strip_exif_header(read_chunk(p, n)) for c, p, n in chunks if c == b"EXIF"]
        exif_old = blocks[0] if blocks else None
        present = {"UserComment"} if any(map(has_user_comment, blocks)) else ()
        sets, removes = changes.resolve(holds, present, name)
        if "UserComment" in sets:
            block = set_user_comment(exif_old, sets["UserComment"])
        elif "UserComment" in removes and present:
            block = set_user_comment(exif_old, None)
        else:
            if os.path.realpath(src) != os.path.realpath(dst):
                f.seek(0)
                with atomic_output(dst, like=src) as out:
                    shutil.copyfileobj(f, out, 1 << 20)
            return []
        vp8x = next(((p, n) for c, p, n in chunks if c == b"VP8X"), None)
        if vp8x is not None:
            header = bytearray(read_chunk(*vp8x))
        else:
            image = next(((c, p, n) for c, p, n in chunks if c in (b"VP8 ", b"VP8L")), None)
            dims = _dimensions(image[0], read_chunk(image[1], image[2])) if image else None
            if dims is None:
                raise WriteError(f"{name}: cannot find the WebP image size to add a VP8X header")
            w, h, alpha = dims
            header = bytearray(10)
            header[0] = _ALPHA_FLAG if alpha else 0
            header[4:7] = (w - 1).to_bytes(3, "little")
            header[7:10] = (h - 1).to_bytes(3, "little")
        if block is None:
            header[0] &= ~_EXIF_FLAG & 0xFF
        else:
            header[0] |= _EXIF_FLAG
        parts: list[bytes | tuple[int, int]] = [_chunk(b"VP8X", bytes(header))]
        done: list[str] = []
        placed = False
        xmp_at = None
        for c, p, n in chunks:
            if c == b"VP8X":
                continue
            if c == b"EXIF":
                if block is not None and not placed:
                    parts.append(_chunk(b"EXIF", block))
                    done.append("replaced EXIF")
                    placed = True
                else:
                    done.append("removed EXIF")
                continue
            if c == b"XMP " and xmp_at is None:
                xmp_at = len(parts)
            parts.append((p, 8 + n + (n & 1)))
        if block is not None and not placed:
            new = _chunk(b"EXIF", block)
            if xmp_at is None:
                parts.append(new)
            else:
                parts.insert(xmp_at, new)
            done.append("added EXIF")
        total = 4 + sum(len(x) if isinstance(x, bytes) else x[1] for x in parts)
        if total > 0xFFFFFFF0:
            raise WriteError(f"{name}: WebP would exceed the RIFF size limit")
        with atomic_output(dst, like=src) as out:
            out.write(b"RIFF" + struct.pack("<I", total) + b"WEBP")
            for part in parts:
                if isinstance(part, bytes):
                    out.write(part)
                else:
                    f.seek(part[0])
                    left = part[1]
                    while left:
                        chunk = f.read(min(left, 1 << 20))
                        if not chunk:
                            raise ContainerError(f"{name}: truncated WebP while copying")
                        out.write(chunk)
                        left -= len(chunk)
    return done
