"""Container layer: set or remove EXIF text tags (Make, Model, ImageDescription,
UserComment, ...) keeping every other tag, and each edited tag, the way the file had it.

docs/formats.md#exif-carrier-tags: ComfyUI keeps its graphs in IFD0 `Make`/`Model` (and
counting down from there), Save-Image-Extended in `ImageDescription`, SaveImagePlus raw
JSON as an ASCII-type UserComment in IFD0. piexif (exif.set_user_comment) rebuilds a block
from its own tag table, which moves such a UserComment into the Exif IFD and cannot keep a
tag type it does not expect; this module instead copies every entry as it is (tag, type,
count, bytes) and lays the block out again, so only the edited values change, each in its
original IFD, type, character-code prefix and byte order.

Blocks whose values point elsewhere in ways that cannot be moved safely (strip or tile
offsets, SubIFDs, a camera's binary MakerNote) are refused with WriteError rather than
broken.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..errors import ContainerError, WriteError
from .exif import TAG_NAMES, strip_exif_header

__all__ = ["EXIF_KEYS", "exif_tag_changes", "set_tags"]

_POINTERS = {0x8769: "Exif", 0x8825: "GPS", 0xA005: "Interop"}
_UNMOVABLE = {0x0111: "StripOffsets", 0x0144: "TileOffsets", 0x014A: "SubIFDs"}
_THUMB, _THUMB_LEN = 0x0201, 0x0202
_MAKER_NOTE, _USER_COMMENT = 0x927C, 0x9286
_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}
_TAGS = {name: tag for tag, name in TAG_NAMES.items()}
# The Changes keys of the tags this module writes (every carrier tag exif.py reads, by its
# entry location).
EXIF_KEYS = frozenset(f"EXIF:{name}" for tag, name in TAG_NAMES.items() if tag != _MAKER_NOTE)


@dataclass
class _Ifd:
    entries: list[tuple[int, int, int, bytes]] = field(default_factory=list)  # tag, type, n, raw
    children: dict[int, _Ifd] = field(default_factory=dict)  # pointer tag -> IFD
    thumbnail: bytes | None = None
    next_ifd: _Ifd | None = None


def _parse(tiff: bytes) -> tuple[str, _Ifd]:
    if tiff[:2] == b"II":
        end = "<"
    elif tiff[:2] == b"MM":
        end = ">"
    else:
        raise ContainerError("EXIF block has no TIFF byte-order mark")
    magic, first = struct.unpack(end + "HI", tiff[2:8])
    if magic != 42:
        raise ContainerError("EXIF block has a bad TIFF magic number")
    seen: set[int] = set()

    def ifd(off: int, depth: int) -> _Ifd:
        if off in seen or off + 2 > len(tiff) or depth > 4:
            raise ContainerError(f"EXIF IFD at offset {off} is out of the block or repeated")
        seen.add(off)
        out = _Ifd()
        (count,) = struct.unpack(end + "H", tiff[off:off + 2])
        if off + 2 + 12 * count + 4 > len(tiff):
            raise ContainerError(f"EXIF IFD at offset {off} runs past the block")
        for i in range(count):
            e = off + 2 + 12 * i
            tag, typ, n = struct.unpack(end + "HHI", tiff[e:e + 8])
            size = _SIZES.get(typ, 1) * n
            if size <= 4:
                value = tiff[e + 8:e + 8 + size]
            else:
                (voff,) = struct.unpack(end + "I", tiff[e + 8:e + 12])
                if voff + size > len(tiff):
                    raise ContainerError(f"EXIF tag 0x{tag:04X} points past the block")
                value = tiff[voff:voff + size]
            if tag in _POINTERS:
                (child,) = struct.unpack(end + "I", tiff[e + 8:e + 12])
                out.children[tag] = ifd(child, depth + 1)
                continue
            if tag in _UNMOVABLE:
                raise WriteError(f"EXIF block holds {_UNMOVABLE[tag]}, whose data gendata "
                                 "cannot move; not rewritten")
            if tag == _MAKER_NOTE and not _is_text(value):
                raise WriteError("EXIF block holds a camera MakerNote, which may point into the "
                                 "block by offset; not rewritten")
            out.entries.append((tag, typ, n, value))
        thumb = {t: _uint(end, ty, v) for t, ty, _n, v in out.entries
                 if t in (_THUMB, _THUMB_LEN)}
        start, length = thumb.get(_THUMB), thumb.get(_THUMB_LEN)
        if start is not None and length:
            out.thumbnail = tiff[start:start + length]
            out.entries = [x for x in out.entries if x[0] != _THUMB]
        (nxt,) = struct.unpack(end + "I", tiff[off + 2 + 12 * count:off + 6 + 12 * count])
        if nxt and depth == 0:
            out.next_ifd = ifd(nxt, depth + 1)
        return out

    return end, ifd(first, 0)


def _uint(end: str, typ: int, value: bytes) -> int | None:
    """A SHORT or LONG tag value (the thumbnail's offset and length)."""
    if typ == 3 and len(value) >= 2:
        return int(struct.unpack(end + "H", value[:2])[0])
    if typ == 4 and len(value) >= 4:
        return int(struct.unpack(end + "I", value[:4])[0])
    return None


def _is_text(value: bytes) -> bool:
    try:
        value.rstrip(b"\0").decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _encode(tag: int, typ: int, old: bytes | None, text: str) -> tuple[int, bytes]:
    """(type, bytes) for `text` in tag `tag`, in the form `old` (its previous value) had."""
    if tag == _USER_COMMENT and typ == 7:
        from .exif import _utf16_order

        prefix = old[:8] if old is not None and len(old) >= 8 else b"UNICODE\0"
        if prefix == b"UNICODE\0":
            body = old[8:] if old is not None else b""
            order = _utf16_order(body) if len(body) >= 2 else "utf-16-be"
            return 7, prefix + text.encode(order)
        if prefix in (b"ASCII\0\0\0", b"\0" * 8):
            return 7, prefix + text.encode("utf-8")
        return 7, text.encode("utf-8")
    if TAG_NAMES.get(tag, "").startswith("XP"):
        return typ, text.encode("utf-16-le") + b"\0\0"
    return typ, text.encode("utf-8") + b"\0"


def _apply(root: _Ifd, name: str, text: str | None) -> None:
    tag = _TAGS.get(name)
    if tag is None or tag == _MAKER_NOTE:
        raise WriteError(f"EXIF tag {name!r} cannot be written")
    homes = [root, *root.children.values()]
    if root.children.get(0x8769) is not None:  # the Exif IFD's copy wins, as readers take it
        homes = [root.children[0x8769], root]
    for ifd in homes:
        for i, (t, typ, _n, value) in enumerate(ifd.entries):
            if t == tag:
                if text is None:
                    del ifd.entries[i]
                else:
                    new_type, data = _encode(tag, typ, value, text)
                    ifd.entries[i] = (tag, new_type, len(data) // _SIZES.get(new_type, 1), data)
                return
    if text is None:
        return
    if tag == _USER_COMMENT:
        home = root.children.setdefault(0x8769, _Ifd())
        typ, data = _encode(tag, 7, None, text)
    else:
        home = root
        typ, data = _encode(tag, 1 if name.startswith("XP") else 2, None, text)
    home.entries.append((tag, typ, len(data) // _SIZES.get(typ, 1), data))
    home.entries.sort(key=lambda x: x[0])


def _layout(end: str, root: _Ifd) -> bytes:
    """The TIFF block: header, then each IFD followed by the values it points to."""
    out = bytearray((b"II" if end == "<" else b"MM") + struct.pack(end + "HI", 42, 8))

    def write(ifd: _Ifd, at: int) -> None:
        items = list(ifd.entries)
        for ptag in _POINTERS:
            if ptag in ifd.children:
                items.append((ptag, 4, 1, b"\0\0\0\0"))
        if ifd.thumbnail is not None:
            items.append((_THUMB, 4, 1, b"\0\0\0\0"))
        items.sort(key=lambda x: x[0])
        table = at
        values_at = table + 2 + 12 * len(items) + 4
        out.extend(b"\0" * (values_at - len(out)))
        fixups: list[tuple[int, int]] = []  # (entry offset, pointer tag or thumbnail)
        struct.pack_into(end + "H", out, table, len(items))
        for i, (tag, typ, n, value) in enumerate(items):
            e = table + 2 + 12 * i
            struct.pack_into(end + "HHI", out, e, tag, typ, n)
            if tag in _POINTERS or tag == _THUMB:
                fixups.append((e + 8, tag))
            elif len(value) <= 4:
                out[e + 8:e + 12] = value.ljust(4, b"\0")
            else:
                if len(out) % 2:
                    out.append(0)
                struct.pack_into(end + "I", out, e + 8, len(out))
                out.extend(value)
        next_at = table + 2 + 12 * len(items)
        for e, tag in fixups:
            if len(out) % 2:
                out.append(0)
            if tag == _THUMB:
                struct.pack_into(end + "I", out, e, len(out))
                out.extend(ifd.thumbnail or b"")
            else:
                struct.pack_into(end + "I", out, e, len(out))
                write(ifd.children[tag], len(out))
        if ifd.next_ifd is not None:
            if len(out) % 2:
                out.append(0)
            struct.pack_into(end + "I", out, next_at, len(out))
            write(ifd.next_ifd, len(out))

    write(root, 8)
    return bytes(out)


def _empty(ifd: _Ifd | None) -> bool:
    return ifd is None or (not ifd.entries and ifd.thumbnail is None
                           and all(_empty(c) for c in ifd.children.values())
                           and _empty(ifd.next_ifd))


def set_tags(block: bytes | None, texts: Mapping[str, str | None]) -> bytes | None:
    """A TIFF block (no `Exif\\0\\0`) with each named tag ("Make", "UserComment", ...) set
    to its text or removed (None), every other entry copied as it was; None when nothing is
    left. Raises WriteError for a block that cannot be rewritten safely."""
    if block:
        try:
            end, root = _parse(strip_exif_header(block))
        except (ContainerError, struct.error) as exc:
            raise WriteError(f"existing EXIF block cannot be rewritten safely: {exc}") from None
    else:
        end, root = ">", _Ifd()
    for name, text in texts.items():
        _apply(root, name, text)
    for ptag in list(root.children):
        if _empty(root.children[ptag]):
            del root.children[ptag]
    if _empty(root):
        return None
    return _layout(end, root)


def exif_tag_changes(sets: Mapping[str, str], removes: frozenset[str]) -> dict[str, str | None]:
    """Tag name -> new text (None: remove) for the "EXIF:<name>" keys a container resolved
    from a Changes."""
    out: dict[str, str | None] = {k[5:]: None for k in removes if k in EXIF_KEYS}
    out.update({k[5:]: v for k, v in sets.items() if k in EXIF_KEYS})
    return out
