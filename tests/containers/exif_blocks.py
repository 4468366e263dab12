"""Build EXIF (TIFF) blocks of any layout, and read them back with Pillow, independently of
gendata's own walker: camera-like blocks with tags piexif does not know, both byte orders,
GPS, a thumbnail IFD and maker notes."""

from __future__ import annotations

import io
import struct

from PIL import ExifTags, Image

SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 9: 4, 10: 8, 11: 4, 12: 8}
POINTER = {"Exif": 0x8769, "GPS": 0x8825}
Ifd = dict[int, tuple[int, bytes]]  # tag -> (type, value bytes in the block's byte order)


def build(ifds: dict[str, Ifd], order: str = "II") -> bytes:
    """A TIFF block with IFD0, optional Exif and GPS sub-IFDs and IFD1 (thumbnail), values
    laid out after each table. Sub-IFD pointers are filled in here."""
    end = "<" if order == "II" else ">"
    names = [n for n in ("IFD0", "Exif", "GPS", "IFD1") if n in ifds or n == "IFD0"]
    tables = {n: dict(ifds.get(n, {})) for n in names}
    for sub, tag in POINTER.items():
        if sub in tables:
            tables["IFD0"][tag] = (4, b"\0\0\0\0")

    def size(d: Ifd) -> int:
        data = sum(len(v) + (len(v) & 1) for _, v in d.values() if len(v) > 4)
        return 2 + 12 * len(d) + 4 + data

    offsets: dict[str, int] = {}
    at = 8
    for n in names:
        offsets[n] = at
        at += size(tables[n])
    out = bytearray((b"II*\0" if order == "II" else b"MM\0*") + struct.pack(end + "I", 8))
    for n in names:
        d = tables[n]
        start = offsets[n]
        data_at = start + 2 + 12 * len(d) + 4
        head = struct.pack(end + "H", len(d))
        data = b""
        for tag in sorted(d):
            typ, value = d[tag]
            if tag in POINTER.values():
                sub = next(s for s, t in POINTER.items() if t == tag)
                value = struct.pack(end + "I", offsets[sub])
            count = len(value) // SIZES[typ]
            if len(value) <= 4:
                head += struct.pack(end + "HHI", tag, typ, count) + value.ljust(4, b"\0")
            else:
                head += struct.pack(end + "HHII", tag, typ, count, data_at + len(data))
                data += value + (b"\0" if len(value) & 1 else b"")
        nxt = offsets["IFD1"] if n == "IFD0" and "IFD1" in offsets else 0
        out += head + struct.pack(end + "I", nxt) + data
    return bytes(out)


def camera_block(order: str = "II", *, user_comment: bytes | None = None) -> bytes:
    """What a camera (then an editor) leaves: Make/Model, a private PrintIM tag, exposure,
    a maker note, a Microsoft padding tag, GPS and a thumbnail IFD."""
    end = "<" if order == "II" else ">"
    exif: Ifd = {
        0x829A: (5, struct.pack(end + "II", 1, 250)),          # ExposureTime
        0x8827: (3, struct.pack(end + "H", 400)),              # ISO
        0x927C: (7, b"Nikon\0\2\0\0\0" + bytes(range(60))),    # MakerNote
        0xEA1C: (7, b"\x1c\xea" + bytes(98)),                  # Padding (Microsoft)
        0xA420: (2, b"unique-image-id-0123456789\0"),          # ImageUniqueID
    }
    if user_comment is not None:
        exif[0x9286] = (7, user_comment)
    return build({
        "IFD0": {0x010F: (2, b"Nikon\0"), 0x0110: (2, b"D750 camera model\0"),
                 0x0131: (2, b"GIMP 2.10\0"), 0xC4A5: (7, b"PrintIM\x000300" + bytes(30))},
        "Exif": exif,
        "GPS": {0x0000: (1, b"\2\3\0\0"), 0x0001: (2, b"N\0"),
                0x0002: (5, struct.pack(end + "6I", 52, 1, 31, 1, 0, 1))},
        "IFD1": {0x0103: (3, struct.pack(end + "H", 6)), 0x0128: (3, struct.pack(end + "H", 2))},
    }, order)


def pillow_tags(tiff: bytes) -> dict[str, dict[int, object]]:
    """Every tag of every IFD, decoded by Pillow; the byte order under "order"."""
    ex = Image.Exif()
    ex.load(b"Exif\0\0" + tiff)
    out: dict[str, dict[int, object]] = {"IFD0": {k: v for k, v in ex.items()
                                                  if k not in (0x8769, 0x8825)}}
    out["Exif"] = dict(ex.get_ifd(ExifTags.IFD.Exif))
    out["GPS"] = dict(ex.get_ifd(ExifTags.IFD.GPSInfo))
    out["IFD1"] = dict(ex.get_ifd(ExifTags.IFD.IFD1))
    out["order"] = {0: ex.endian}
    return out


def without_user_comment(tags: dict[str, dict[int, object]]) -> dict[str, dict[int, object]]:
    return {name: {k: v for k, v in d.items() if k != 0x9286} for name, d in tags.items()}


def jpeg_with(*app1: bytes, comment: bytes = b"") -> bytes:
    """A small real JPEG (Pillow) with the given APP1 payloads after SOI, and a COM."""
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 10, 10)).save(buf, "JPEG", quality=90)
    data = buf.getvalue()
    segs = b"".join(b"\xff\xe1" + struct.pack(">H", len(p) + 2) + p for p in app1)
    if comment:
        segs += b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment
    return data[:2] + segs + data[2:]
