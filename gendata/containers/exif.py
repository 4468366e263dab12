"""Container layer: EXIF (TIFF) blocks — reading the tags generators use, and setting
UserComment without disturbing the rest (docs/formats.md#exif-carrier-tags,
docs/formats.md#exif-usercomment).

Reading walks IFD0 and the Exif IFD, checks every offset and count against the block before
slicing and never raises on a malformed tag (it skips it); only the carrier tags are
decoded. Writing patches the UserComment into the block with `tiff.Editor`, so every other
tag, known or not, keeps its bytes, its byte order and valid offsets.
"""

from __future__ import annotations

import re
import struct
from functools import cache

from ..errors import ContainerError, WriteError
from .raw import RawEntry

USER_COMMENT = 0x9286
EXIF_IFD = 0x8769
# Bytes per value of each TIFF type (13: IFD offset); a type not here is skipped.
TYPE_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4}
MAX_IFD_ENTRIES = 4096
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
_PREFIXES = {
    b"ASCII\0\0\0": "ascii",
    b"UNICODE\0": "unicode",
    b"JIS\0\0\0\0\0": "jis",
    b"\0\0\0\0\0\0\0\0": "undefined",
}
__all__ = ["MAX_IFD_ENTRIES", "TAG_NAMES", "TYPE_SIZE", "USER_COMMENT",
           "decode_user_comment", "editable", "encode_user_comment", "exif_entries",
           "has_user_comment", "read_tags", "set_user_comment",
           "strip_exif_header", "tag_names"]


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
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _controls(text: str) -> int:
    return len(_CONTROL.findall(text))


def _utf16_text(body: bytes) -> str | None:
    """`body` as UTF-16: big-endian, as EXIF writers (piexif, so A1111) write after the
    UNICODE prefix, unless a BOM or clearly more NULs in odd places say little-endian. The
    NUL-position guess alone misreads short text ("Ā" is 01 00 in big-endian)."""
    even, odd = body[0::2].count(0), body[1::2].count(0)
    little = body.startswith(b"\xff\xfe") or (
        not body.startswith(b"\xfe\xff") and odd >= 2 * even + 2)
    first = "utf-16-le" if little else "utf-16-be"
    for enc in (first, "utf-16-be" if little else "utf-16-le"):
        try:
            return body.decode(enc).lstrip("\ufeff").rstrip("\0")
        except UnicodeDecodeError:
            continue
    return None


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
            text = _utf16_text(body)
            if text is not None:
                return text
        try:
            text = body.decode("utf-8").rstrip("\0")
        except UnicodeDecodeError:
            text = None
        # UTF-8 after the UNICODE prefix is a known writer quirk, but text with no NUL bytes
        # is also what UTF-16 of Cyrillic, Greek or CJK looks like ("абв" is 04 30 04 31 04
        # 32): UTF-8 that decodes to control characters was UTF-16 after all.
        if text is not None and (prefix != "unicode" or not _controls(text)):
            return text
        utf16 = _utf16_text(body) if len(body) % 2 == 0 else None
        if utf16 is not None:
            return utf16
        return text if text is not None else body.decode(order, errors="replace").rstrip("\0")
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

    Bounded as tiff.parse is (entry counts cut to the block, a value sliced only when all of
    it is inside the block), but written out for the two IFDs a read needs and without an
    object per entry: a camera's block has a hundred entries, and this runs for every JPEG.
    Raises ContainerError only when the TIFF header itself is unusable.
    """
    data = strip_exif_header(block)
    if len(data) < 8:
        raise ContainerError("EXIF block too short")
    if data[:2] == b"II":
        end = "<"
    elif data[:2] == b"MM":
        end = ">"
    else:
        raise ContainerError("EXIF block has no TIFF byte-order mark")
    (magic, ifd0) = struct.unpack(end + "HI", data[2:8])
    if magic != 42:
        raise ContainerError("EXIF block has a bad TIFF magic number")
    size = len(data)
    entry = struct.Struct(end + "HHII").unpack_from
    found: dict[int, tuple[str, int, bytes]] = {}
    todo: list[tuple[str, int]] = [("IFD0", ifd0)]
    visited: set[int] = set()
    while todo:
        ifd_name, off = todo.pop(0)
        if off in visited or off < 8 or off + 2 > size:
            continue
        visited.add(off)
        (count,) = struct.unpack_from(end + "H", data, off)
        count = min(count, MAX_IFD_ENTRIES, (size - off - 2) // 12)
        for i in range(count):
            tag, typ, n, raw_value = entry(data, off + 2 + 12 * i)
            if tag == EXIF_IFD and ifd_name == "IFD0":
                todo.append(("Exif", raw_value))
                continue
            unit = TYPE_SIZE.get(typ)
            if tag not in TAG_NAMES or unit is None:
                continue
            nbytes = unit * n  # checked against the block before anything is sliced
            if nbytes <= 4:
                at = off + 2 + 12 * i + 8
            elif raw_value + nbytes > size:
                continue
            else:
                at = raw_value
            # The Exif IFD's UserComment wins over a stray one in IFD0 (Fooocus puts it there).
            if tag not in found or ifd_name == "Exif":
                found[tag] = (ifd_name, typ, data[at:at + nbytes])
    return found


def editable(block: bytes) -> bool:
    """Whether `set_user_comment` can patch this block (its TIFF header is sound)."""
    from . import tiff

    try:
        tiff.parse(strip_exif_header(block))
    except ContainerError:
        return False
    return True


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
    """The EXIF block with its UserComment set to `text`, or removed when `text` is None;
    None when nothing would be left of it.

    Every other byte keeps its place (tiff.Editor): unknown tags, maker notes, thumbnails,
    the byte order and an `Exif\0\0` header in front all stay as they were. Every
    UserComment the block holds (the Exif IFD's, and a stray one in IFD0) gets the same
    text, so no reader finds a stale one; a block without one gains it in the Exif IFD, which
    is created when missing. A UserComment stored as ASCII (type 2, as Fooocus writes it)
    stays ASCII, UTF-8 encoded; any other is written as A1111 does.
    """
    from . import tiff  # the editor: only writes need it

    header = b"Exif\0\0" if block and block.startswith(b"Exif\0\0") else b""
    data = strip_exif_header(block) if block else tiff.minimal()
    try:
        parsed = tiff.parse(data)
    except ContainerError as exc:
        raise WriteError(f"existing EXIF block cannot be rewritten safely: {exc}") from None
    editor = tiff.Editor(parsed)
    found = [(ifd, t) for ifd in parsed.ifds if ifd.name in ("IFD0", "Exif")
             for t in ifd.tags if t.tag == USER_COMMENT]
    if text is None:
        for ifd, t in sorted(found, key=lambda pair: -pair[1].at):
            editor.remove(ifd, t)
    elif found:
        for _ifd, t in found:
            if t.type == 2:
                editor.set_value(t, 2, text.encode("utf-8") + b"\0")
            else:
                editor.set_value(t, 7, encode_user_comment(text))
    else:
        editor.add(parsed.ifd("Exif"), "Exif", USER_COMMENT, 7, encode_user_comment(text))
    out = editor.result()
    if text is None and not tiff.has_content(tiff.parse(out)):
        return None
    return header + out


