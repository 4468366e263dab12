"""Test helpers that build and take apart real image files."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from PIL import Image

from gendata.containers.png import SIGNATURE, make_chunk


def png_chunks(data: bytes) -> list[tuple[bytes, bytes, bytes]]:
    """(type, data, crc) of every chunk, parsed independently of gendata's reader."""
    assert data[:8] == SIGNATURE
    out = []
    pos = 8
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        out.append((data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n],
                    data[pos + 8 + n:pos + 12 + n]))
        pos += 12 + n
    return out


def crc_ok(chunk: tuple[bytes, bytes, bytes]) -> bool:
    t, d, c = chunk
    return struct.unpack(">I", c)[0] == zlib.crc32(d, zlib.crc32(t))


def build_png(chunks: list[tuple[bytes, bytes]]) -> bytes:
    return SIGNATURE + b"".join(make_chunk(t, d) for t, d in chunks)


def tiny_png_chunks(size: tuple[int, int] = (8, 8)) -> list[tuple[bytes, bytes]]:
    buf = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(buf, "PNG")
    return [(t, d) for t, d, _ in png_chunks(buf.getvalue())]


def pixels(path: Path | str) -> bytes:
    with Image.open(path) as im:
        return im.convert("RGBA").tobytes()


def jpeg_scan_data(data: bytes) -> bytes:
    """Everything from the SOS marker on: the entropy-coded image data."""
    pos = 2
    while True:
        marker = data[pos + 1]
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        if marker == 0xDA:
            return data[pos:]
        pos += 2 + length


def webp_image_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """RIFF chunks other than VP8X/EXIF/XMP (the image itself), in order."""
    out = []
    pos = 12
    while pos + 8 <= len(data):
        fourcc = data[pos:pos + 4]
        (n,) = struct.unpack("<I", data[pos + 4:pos + 8])
        if fourcc not in (b"VP8X", b"EXIF", b"XMP "):
            out.append((fourcc, data[pos + 8:pos + 8 + n]))
        pos += 8 + n + (n & 1)
    return out


def build_tiff(ifd0: dict[int, tuple[int, bytes]], exif: dict[int, tuple[int, bytes]] | None = None,
               order: str = "MM") -> bytes:
    """A TIFF/EXIF block from {tag: (type, value bytes)}; for layouts piexif refuses to write
    (a UserComment in IFD0, as Fooocus writes it)."""
    end = ">" if order == "MM" else "<"
    ifd0 = dict(ifd0)
    if exif:
        ifd0[0x8769] = (4, b"\0\0\0\0")  # patched below

    def ifd_size(d: dict) -> int:
        return 2 + 12 * len(d) + 4

    def data_size(d: dict) -> int:
        return sum(len(v) + (len(v) & 1) for _, v in d.values() if len(v) > 4)

    off0 = 8
    exif_off = off0 + ifd_size(ifd0) + data_size(ifd0)

    def build(d: dict, start: int) -> bytes:
        head = struct.pack(end + "H", len(d))
        data = b""
        data_at = start + ifd_size(d)
        for tag in sorted(d):
            typ, value = d[tag]
            if tag == 0x8769:
                value = struct.pack(end + "I", exif_off)
            size = {1: 1, 2: 1, 3: 2, 4: 4, 7: 1}[typ]
            count = len(value) // size
            if len(value) <= 4:
                head += struct.pack(end + "HHI", tag, typ, count) + value.ljust(4, b"\0")
            else:
                head += struct.pack(end + "HHII", tag, typ, count, data_at + len(data))
                data += value + (b"\0" if len(value) & 1 else b"")
        return head + b"\0\0\0\0" + data

    block = (b"MM\0*" if order == "MM" else b"II*\0") + struct.pack(end + "I", off0)
    block += build(ifd0, off0)
    if exif:
        block += build(exif, exif_off)
    return block
