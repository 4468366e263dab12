"""Container layer: JPEG marker segments — EXIF (APP1), XMP (APP1) and COM, read and rewritten
without touching the entropy-coded image data (docs/formats.md#jpeg-segments)."""

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

EXIF_ID = b"Exif\0\0"
XMP_ID = b"http://ns.adobe.com/xap/1.0/\0"
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_STANDALONE = {0x01, *range(0xD0, 0xD8)}


def _segments(f: BinaryIO, name: str, size: int) -> Iterator[tuple[int, int, bytes]]:
    """Yield (marker, offset, payload) for every segment up to SOS; the stream stays at SOS."""
    pos = 2
    while True:
        head = f.read(2)
        if len(head) < 2:
            raise ContainerError(f"{name}: truncated JPEG: no image data (file ends at {pos})")
        if head[0] != 0xFF:
            raise ContainerError(f"{name}: corrupt JPEG: expected a marker at offset {pos}")
        marker = head[1]
        while marker == 0xFF:  # fill bytes
            b = f.read(1)
            if not b:
                raise ContainerError(f"{name}: truncated JPEG at offset {pos}")
            pos += 1
            marker = b[0]
        if marker in _STANDALONE:
            pos += 2
            continue
        if marker == 0xD9:
            raise ContainerError(f"{name}: JPEG ends before its image data")
        lb = f.read(2)
        if len(lb) < 2:
            raise ContainerError(f"{name}: truncated JPEG segment at offset {pos}")
        (length,) = struct.unpack(">H", lb)
        if length < 2 or pos + 2 + length > size:
            raise ContainerError(f"{name}: truncated JPEG: segment FF{marker:02X} at offset {pos} "
                                 f"declares {length} bytes, file ends at {size}")
        payload = f.read(length - 2)
        yield marker, pos, payload
        if marker == 0xDA:
            return
        pos += 2 + length


def read_raw(f: BinaryIO) -> RawMetadata:
    name = str(getattr(f, "name", "<stream>"))
    if f.read(2) != b"\xff\xd8":
        raise ContainerError(f"{name}: not a JPEG file")
    size = f.seek(0, os.SEEK_END)  # any seekable stream, not only a descriptor
    f.seek(2)
    raw = RawMetadata(container="jpeg", lossless=False)
    for marker, pos, payload in _segments(f, name, size):
        if marker == 0xE1 and payload.startswith(EXIF_ID):
            try:
                raw.entries.extend(exif_entries(payload[6:], "jpeg", pos))
            except ContainerError as exc:
                raw.warnings.append(f"{name}: EXIF at offset {pos}: {exc}")
        elif marker == 0xE1 and payload.startswith(XMP_ID):
            xmp = payload[len(XMP_ID):].decode("utf-8", errors="replace")
            raw.entries.append(RawEntry("jpeg", "XMP", "XMP", xmp, len(payload), pos))
        elif marker == 0xFE:
            text = payload.rstrip(b"\0")
            try:
                comment = text.decode("utf-8")
            except UnicodeDecodeError:
                comment = text.decode("latin-1")
            raw.entries.append(RawEntry("jpeg", "COM", "Comment", comment, len(payload), pos))
        elif marker in _SOF and len(payload) >= 5:
            raw.height, raw.width = struct.unpack(">HH", payload[1:5])
    _check_end(f, name, size)
    return raw


def _check_end(f: BinaryIO, name: str, size: int) -> None:
    """A JPEG cut short loses its end-of-image marker; look for it near the end (some writers
    pad after it) without reading the scan data."""
    tail = min(size, 1 << 16)
    # The marker is nearly always in the last bytes: look there first, from the end (a
    # forward search wades through the scan data's many 0xFF bytes), then in all of `tail`.
    near = min(tail, 4096)
    f.seek(size - near)
    if f.read(near).rfind(b"\xff\xd9") >= 0:
        return
    if near < tail:
        f.seek(size - tail)
        if f.read(tail).rfind(b"\xff\xd9") >= 0:
            return
    raise ContainerError(f"{name}: truncated JPEG: no end-of-image marker")


# The contract's name for entries stored under a key of the writer's choice: JPEG has none.
TEXT_LOCATIONS: frozenset[str] = frozenset()


def holds(key: str) -> bool:
    """The EXIF text tags (exif_tags.WRITABLE) are written; COM and XMP are read, never
    changed."""
    return key in WRITABLE


def removals(raw: RawMetadata, changes: Changes) -> list[str]:
    tags = {e.key: e for e in raw.entries if e.location.startswith("EXIF:")}
    _sets, removes = changes.resolve(holds, tags.keys(), "JPEG")
    return [f"EXIF {k} ({tags[k].size} bytes)" for k in tags if k in removes]


def _segment(payload: bytes) -> bytes:
    if len(payload) + 2 > 0xFFFF:
        raise WriteError(f"EXIF block of {len(payload)} bytes does not fit in a JPEG APP1 "
                         "segment (65533 bytes at most)")
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def rewrite(src: str | os.PathLike[str], dst: str | os.PathLike[str], changes: Changes
            ) -> list[str]:
    """Copy JPEG `src` to `dst` with `changes` applied to the EXIF text tags.

    Only the EXIF segments that change are rewritten, each patched in place of itself
    (exif_tags.set_tags: every other tag, the byte order and each tag's own encoding kept);
    every other byte of the file, other EXIF segments, fill bytes, image data and anything
    after it, is copied as it was. Every EXIF segment holding a tag gets its new text, so no
    reader finds a stale copy (exif_tags.tag_plan); a file without EXIF gains a segment after SOI
    (and after a JFIF APP0).
    """
    from .atomic import atomic_output  # writing only: reads never load it
    from .splice import splice

    name = str(src)
    with open(src, "rb") as f:
        if f.read(2) != b"\xff\xd8":
            raise ContainerError(f"{name}: not a JPEG file")
        size = os.fstat(f.fileno()).st_size
        segs = list(_segments(f, name, size))
        exif = [(pos, payload) for marker, pos, payload in segs
                if marker == 0xE1 and payload.startswith(EXIF_ID)]
        blocks = [(pos, p[len(EXIF_ID):]) for pos, p in exif]
        present = tag_names([b for _, b in blocks])
        sets, removes = changes.resolve(holds, present, name)
        edits: list[Edit] = []
        done: list[str] = []
        plan = tag_plan(blocks, sets, removes & present)
        for pos, payload in exif:
            if pos in plan:
                block = set_tags(payload[len(EXIF_ID):], plan[pos])
                new = b"" if block is None else _segment(EXIF_ID + block)
                edits.append((pos, pos + 4 + len(payload), new))
                done.append(("replaced" if new else "removed") + f" EXIF at offset {pos}")
        if sets and not exif:
            block = set_tags(None, sets)
            assert block is not None  # setting never empties a block
            first = segs[0] if segs else None
            at = first[1] + 4 + len(first[2]) if first and first[0] == 0xE0 else 2
            edits.append((at, at, _segment(EXIF_ID + block)))
            done.append("added EXIF")
        if not edits and same_file(f, dst):
            return done
        with atomic_output(dst, like=src) as out:
            splice(f, out, edits, size)
    return done

