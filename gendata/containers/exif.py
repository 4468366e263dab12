"""Container layer: EXIF (TIFF) blocks — reading the tags generators use, and setting
UserComment without disturbing the rest (docs/formats.md#exif-carrier-tags,
docs/formats.md#exif-usercomment).

Reading is a small TIFF walker of our own: it looks only at IFD0 and the Exif IFD, checks
every offset against the block, and never raises on a malformed tag (it skips it). Writing
goes through piexif, which rebuilds the block from its parsed tags.
"""

from __future__ import annotations

import re
import struct
from functools import cache

from ..errors import ContainerError, WriteError
from .raw import RawEntry

USER_COMMENT = 0x9286
EXIF_IFD = 0x8769
# IFD0 / Exif IFD tags that generators use as carriers.
TAG_NAMES = {
    0x010D: "DocumentName",
    0x010E: "ImageDescription",
    0x010F: "Make",
    0x0110: "Model",
    0x0131: "Software",
    0x013B: "Artist",
    0x9286: "UserComment",
    0x927C: "MakerNote",
    0x9C9C: "XPComment",
    0x9C9B: "XPTitle",
    0x9C9F: "XPSubject",
}
_TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}
_PREFIXES = {
    b"ASCII\0\0\0": "ascii",
    b"UNICODE\0": "unicode",
    b"JIS\0\0\0\0\0": "jis",
    b"\0\0\0\0\0\0\0\0": "undefined",
}
MAX_IFD_ENTRIES = 4096


def strip_exif_header(block: bytes) -> bytes:
    """JPEG APP1 and some WebP writers put `Exif\\0\\0` before the TIFF header."""
    return block[6:] if block.startswith(b"Exif\0\0") else block


def _utf16_order(body: bytes) -> str:
    """Guess UTF-16 byte order from where the NULs of mostly-ASCII text fall."""
    if body.startswith(b"\xfe\xff"):
        return "utf-16-be"
    if body.startswith(b"\xff\xfe"):
        return "utf-16-le"
    even = body[0::2].count(0)
    odd = body[1::2].count(0)
    return "utf-16-be" if even >= odd else "utf-16-le"


_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


@cache
def _swapped_bmp() -> re.Pattern[str]:
    """Characters whose low byte is 0 (what a swapped ASCII letter becomes): U+0100, U+0200
    ... (compiled on first use: ~0.6 ms that a start-up reading only ASCII text skips)."""
    return re.compile("[" + "".join(chr(h << 8) for h in range(1, 256)) + "]")


def _unswap(text: str) -> str:
    """Repair UTF-16 text that was decoded with the wrong byte order somewhere upstream
    (e.g. 'M' read as U+4D00, then stored as UTF-8 — seen in Civitai test images)."""
    if len(text) < 4 or text.isascii():
        return text
    swapped = len(_swapped_bmp().findall(text)) + sum(
        1 for c in _ASTRAL.findall(text) if not ord(c) & 0xFF)
    if swapped * 2 < len(text):
        return text
    try:
        return text.encode("utf-16-be").decode("utf-16-le")
    except UnicodeError:
        return text


def decode_user_comment(value: bytes) -> str:
    """Decode a UserComment value, whatever prefix, byte order and encoding it was written with.

    Endianness is decided from the data, never from the TIFF byte order (SwarmUI writes LE,
    A1111 and Civitai BE inside either kind of TIFF). Trailing NULs are stripped.
    """
    return _unswap(_decode_user_comment(value))


def _decode_user_comment(value: bytes) -> str:
    prefix = _PREFIXES.get(value[:8])
    body = value[8:] if prefix else value
    if prefix == "unicode" or (prefix == "undefined" and len(body) >= 2 and 0 in body[:2]):
        if body.startswith(b"\xef\xbb\xbf"):
            body = body[3:]
        order = _utf16_order(body)
        if len(body) % 2 == 0 and (body[0::2].count(0) + body[1::2].count(0)) * 4 >= len(body):
            try:
                text = body.decode(order)
                return text.lstrip("\ufeff").rstrip("\0")
            except UnicodeDecodeError:
                pass
        try:
            return body.decode("utf-8").rstrip("\0")
        except UnicodeDecodeError:
            return body.decode(order, errors="replace").rstrip("\0")
    if prefix == "jis":
        try:
            return body.decode("shift_jis").rstrip("\0")
        except UnicodeDecodeError:
            pass
    try:
        return body.decode("utf-8").rstrip("\0")
    except UnicodeDecodeError:
        return body.decode("latin-1").rstrip("\0")


def encode_user_comment(text: str) -> bytes:
    """As A1111 (via piexif) writes it: `UNICODE\\0` + UTF-16BE, what every reader expects."""
    return b"UNICODE\0" + text.encode("utf-16-be")


def _decode_ascii(value: bytes) -> str:
    value = value.rstrip(b"\0")
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def read_tags(block: bytes) -> dict[int, tuple[str, int, bytes]]:
    """Return {tag: (ifd, type, raw value bytes)} for the carrier tags of IFD0 and the Exif IFD.

    Raises ContainerError only when the TIFF header itself is unusable.
    """
    tiff = strip_exif_header(block)
    if len(tiff) < 8:
        raise ContainerError("EXIF block too short")
    if tiff[:2] == b"II":
        end = "<"
    elif tiff[:2] == b"MM":
        end = ">"
    else:
        raise ContainerError("EXIF block has no TIFF byte-order mark")
    (magic, ifd0) = struct.unpack(end + "HI", tiff[2:8])
    if magic != 42:
        raise ContainerError("EXIF block has a bad TIFF magic number")
    found: dict[int, tuple[str, int, bytes]] = {}
    todo: list[tuple[str, int]] = [("IFD0", ifd0)]
    visited: set[int] = set()
    while todo:
        ifd_name, off = todo.pop(0)
        if off in visited or off + 2 > len(tiff):
            continue
        visited.add(off)
        (count,) = struct.unpack(end + "H", tiff[off:off + 2])
        count = min(count, MAX_IFD_ENTRIES, (len(tiff) - off - 2) // 12)
        for i in range(count):
            e = off + 2 + 12 * i
            tag, typ, n = struct.unpack(end + "HHI", tiff[e:e + 8])
            if tag == EXIF_IFD and ifd_name == "IFD0":
                (sub,) = struct.unpack(end + "I", tiff[e + 8:e + 12])
                todo.append(("Exif", sub))
                continue
            if tag not in TAG_NAMES or typ not in _TYPE_SIZE:
                continue
            nbytes = _TYPE_SIZE[typ] * n
            if nbytes <= 4:
                value = tiff[e + 8:e + 8 + nbytes]
            else:
                (voff,) = struct.unpack(end + "I", tiff[e + 8:e + 12])
                if voff + nbytes > len(tiff):
                    continue
                value = tiff[voff:voff + nbytes]
            # The Exif IFD's UserComment wins over a stray one in IFD0 (Fooocus puts it there).
            if tag not in found or ifd_name == "Exif":
                found[tag] = (ifd_name, typ, value)
    return found


def has_user_comment(block: bytes) -> bool:
    """Whether an EXIF block holds a UserComment; one too damaged to walk holds none."""
    try:
        return USER_COMMENT in read_tags(block)
    except (ContainerError, struct.error):
        return False


def tag_names(blocks: list[bytes]) -> set[str]:
    """The carrier tags (TAG_NAMES) some block of `blocks` holds; damaged blocks hold none."""
    names: set[str] = set()
    for block in blocks:
        try:
            names.update(TAG_NAMES[t] for t in read_tags(block))
        except (ContainerError, struct.error):
            continue
    return names


def exif_entries(block: bytes, container: str, offset: int = 0) -> list[RawEntry]:
    """RawEntry per carrier tag, text decoded (UserComment by its prefix, XP* as UTF-16LE)."""
    out: list[RawEntry] = []
    for tag, (_ifd, typ, value) in read_tags(block).items():
        name = TAG_NAMES[tag]
        text: str | None
        if tag == USER_COMMENT:
            text = decode_user_comment(value) if typ != 2 else _decode_ascii(value)
        elif name.startswith("XP"):
            text = value.decode("utf-16-le", errors="replace").rstrip("\0")
        elif tag == 0x927C:
            text = _decode_ascii(value) if value[:1] in (b"{", b"[") else None
        else:
            text = _decode_ascii(value)
        out.append(RawEntry(container, f"EXIF:{name}", name, text, len(value), offset,
                            data=value if text is None else None))
    return out


def set_user_comment(block: bytes | None, text: str | None) -> bytes | None:
    """Return a TIFF block (no `Exif\\0\\0`) with UserComment set to `text`, or removed when
    `text` is None; other tags are kept. None when nothing would be left."""
    import piexif

    if block:
        try:
            data = piexif.load(strip_exif_header(block))
        except Exception as exc:
            raise WriteError(f"existing EXIF block cannot be rewritten safely: {exc}") from None
    else:
        data = {"0th": {}, "Exif": {}, "GPS": {}, "1st": {}, "thumbnail": None}
    data.get("0th", {}).pop(USER_COMMENT, None)
    exif_ifd = data.setdefault("Exif", {})
    if text is None:
        exif_ifd.pop(USER_COMMENT, None)
    else:
        exif_ifd[USER_COMMENT] = encode_user_comment(text)
    if not any(data.get(k) for k in ("0th", "Exif", "GPS", "1st", "Interop")) and not data.get(
            "thumbnail"):
        return None
    try:
        out = piexif.dump(data)
    except Exception as exc:
        raise WriteError(f"cannot rebuild the EXIF block: {exc}") from None
    return strip_exif_header(out)
