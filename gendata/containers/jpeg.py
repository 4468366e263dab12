"""Container layer: JPEG marker segments — EXIF (APP1), XMP (APP1) and COM, read and rewritten
without touching the entropy-coded image data (docs/formats.md#jpeg-segments)."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from typing import BinaryIO

from ..errors import ContainerError, WriteError
from .atomic import atomic_output
from .exif import exif_entries, has_user_comment, set_user_comment
from .raw import Changes, RawEntry, RawMetadata

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
    size = os.fstat(f.fileno()).st_size
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
    """Only the EXIF UserComment is written; COM and XMP are read, never changed."""
    return key == "UserComment"


def removals(raw: RawMetadata, changes: Changes) -> list[str]:
    uc = next((e for e in raw.entries if e.key == "UserComment"), None)
    _sets, removes = changes.resolve(holds, () if uc is None else {"UserComment"}, "JPEG")
    return [f"EXIF UserComment ({uc.size} bytes)"] if uc and "UserComment" in removes else []


def rewrite(src: str | os.PathLike[str], dst: str | os.PathLike[str], changes: Changes
            ) -> list[str]:
    """Copy JPEG `src` to `dst` with `changes` applied to the EXIF UserComment.

    Segments other than the EXIF APP1 and all image data are copied byte for byte; with
    nothing to change, so is the EXIF segment. A new EXIF segment goes where the old one
    was, or after SOI/APP0 (JFIF) when there was none.
    """
    with open(src, "rb") as f, atomic_output(dst, like=src) as out:
        name = str(src)
        if f.read(2) != b"\xff\xd8":
            raise ContainerError(f"{name}: not a JPEG file")
        size = os.fstat(f.fileno()).st_size
        segs = list(_segments(f, name, size))
        body_start = f.tell()
        blocks = [p[6:] for m, _, p in segs if m == 0xE1 and p.startswith(EXIF_ID)]
        exif_old = blocks[0] if blocks else None
        present = {"UserComment"} if any(map(has_user_comment, blocks)) else ()
        sets, removes = changes.resolve(holds, present, name)
        if "UserComment" in sets:
            new_block = set_user_comment(exif_old, sets["UserComment"])
        elif "UserComment" in removes and present:
            new_block = set_user_comment(exif_old, None)
        else:  # nothing to change: EXIF segments are copied like the others
            exif_old = new_block = None
        seg_bytes = None
        if new_block is not None:
            payload = EXIF_ID + new_block
            if len(payload) + 2 > 0xFFFF:
                raise WriteError(f"{name}: EXIF block of {len(payload)} bytes does not fit in a "
                                 "JPEG APP1 segment (65533 bytes at most)")
            seg_bytes = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
        out.write(b"\xff\xd8")
        placed = False
        done: list[str] = []
        for i, (marker, _pos, payload) in enumerate(segs):
            is_exif = marker == 0xE1 and payload.startswith(EXIF_ID) and exif_old is not None
            if is_exif:
                if seg_bytes is not None and not placed:
                    out.write(seg_bytes)
                    done.append("replaced EXIF")
                else:
                    done.append("removed EXIF")
                placed = True
                continue
            if seg_bytes is not None and not placed and not (marker == 0xE0 and i == 0):
                out.write(seg_bytes)
                done.append("added EXIF")
                placed = True
            out.write(b"\xff" + bytes([marker]) + struct.pack(">H", len(payload) + 2) + payload)
        f.seek(body_start)
        while block := f.read(1 << 20):
            out.write(block)
    return done
