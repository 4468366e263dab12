"""Container layer: set or remove text tags of an EXIF block in place, keeping its layout.

Generators read their own EXIF back in their own way: Fooocus looks for UserComment in IFD0
as an ASCII string, SwarmUI writes it as UTF-16LE, NovelAI as UTF-8 behind an `ASCII` prefix
(docs/formats.md#exif-usercomment). Rebuilding the block (piexif) would move the tag to the
Exif IFD as UTF-16BE and lay every other value out anew. Here a tag that is already there
is rewritten where it is, in the type, prefix, byte order and padding it had; nothing else in
the block moves, so maker notes and thumbnails keep their offsets. A value that grows past
its room goes to the end of the block, and the room it leaves is cleared. Setting a value
back gives the original block again.

Tags that are not there yet are added by piexif (`exif.set_user_comment` for UserComment),
as gendata always has.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import ContainerError, WriteError
from .exif import _PREFIXES, EXIF_IFD, TAG_NAMES, USER_COMMENT, _utf16_order, strip_exif_header

__all__ = ["WRITABLE", "set_tags"]

# The text tags a dialect may write, by the key RawMetadata gives them (exif.TAG_NAMES).
WRITABLE = frozenset({"UserComment", "ImageDescription", "Make", "Model", "Software", "Artist",
                      "DocumentName", "XPComment", "XPTitle", "XPSubject"})
_BY_NAME = {name: tag for tag, name in TAG_NAMES.items()}
_GPS_IFD = 0x8825
_INTEROP_IFD = 0xA005
_SIZE = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8}


@dataclass
class _Entry:
    ifd: str
    at: int  # offset of the 12-byte entry
    table: int  # offset of its IFD's entry count
    tag: int
    type: int
    count: int
    value_at: int | None  # offset of an out-of-line value, None when inline

    @property
    def size(self) -> int:
        return _SIZE.get(self.type, 1) * self.count


class _Block:
    def __init__(self, block: bytes) -> None:
        self.data = bytearray(strip_exif_header(block))
        if self.data[:2] == b"II":
            self.end = "<"
        elif self.data[:2] == b"MM":
            self.end = ">"
        else:
            raise ContainerError("EXIF block has no TIFF byte-order mark")
        self.entries: list[_Entry] = []
        self.used: list[tuple[int, int]] = [(0, 8)]
        (ifd0,) = struct.unpack(self.end + "I", self.data[4:8])
        todo = [("IFD0", ifd0)]
        seen: set[int] = set()
        while todo:
            name, off = todo.pop(0)
            if off in seen or off < 8 or off + 2 > len(self.data):
                continue
            seen.add(off)
            (count,) = struct.unpack(self.end + "H", self.data[off:off + 2])
            if off + 2 + 12 * count + 4 > len(self.data):
                raise ContainerError(f"EXIF {name} at offset {off} runs past the block")
            self.used.append((off, off + 2 + 12 * count + 4))
            for i in range(count):
                at = off + 2 + 12 * i
                tag, typ, n = struct.unpack(self.end + "HHI", self.data[at:at + 8])
                size = _SIZE.get(typ, 1) * n
                value_at = None
                if size > 4:
                    (value_at,) = struct.unpack(self.end + "I", self.data[at + 8:at + 12])
                    self.used.append((value_at, value_at + size))
                self.entries.append(_Entry(name, at, off, tag, typ, n, value_at))
                pointer = {EXIF_IFD: "Exif", _GPS_IFD: "GPS", _INTEROP_IFD: "Interop"}.get(tag)
                if pointer:
                    (sub,) = struct.unpack(self.end + "I", self.data[at + 8:at + 12])
                    todo.append((pointer, sub))
            if name == "IFD0":
                (nxt,) = struct.unpack(self.end + "I",
                                       self.data[off + 2 + 12 * count:off + 6 + 12 * count])
                if nxt:
                    todo.append(("IFD1", nxt))
        self._thumbnail()

    def _thumbnail(self) -> None:
        values = {e.tag: e for e in self.entries if e.ifd == "IFD1"}
        if 0x0201 in values and 0x0202 in values:
            start = self._int(values[0x0201])
            self.used.append((start, start + self._int(values[0x0202])))

    def _int(self, e: _Entry) -> int:
        fmt = {3: "H", 4: "I"}.get(e.type, "I")
        return struct.unpack(self.end + fmt, self.data[e.at + 8:e.at + 8 + struct.calcsize(fmt)])[0]

    def find(self, tag: int) -> _Entry | None:
        """The entry a reader takes: the Exif IFD's over a stray one in IFD0 (exif.read_tags)."""
        found = [e for e in self.entries if e.tag == tag and e.ifd in ("IFD0", "Exif")]
        exif = [e for e in found if e.ifd == "Exif"]
        return next(iter(exif or found), None)

    def value(self, e: _Entry) -> bytes:
        if e.value_at is None:
            return bytes(self.data[e.at + 8:e.at + 8 + e.size])
        return bytes(self.data[e.value_at:e.value_at + e.size])

    def room(self, e: _Entry) -> int:
        """Bytes free from the value's start: its own, then cleared bytes up to the next
        thing in the block."""
        start = e.value_at
        assert start is not None
        end = start + e.size
        limit = min([a for a, _ in self.used if a >= end] + [len(self.data)])
        while end < limit and self.data[end] == 0:
            end += 1
        return end - start

    def put(self, e: _Entry, value: bytes) -> None:
        old_at, old_size = e.value_at, e.size
        count = len(value) // _SIZE.get(e.type, 1)
        if len(value) <= 4:
            self.data[e.at + 8:e.at + 12] = value.ljust(4, b"\0")
            new_at = None
        elif old_at is not None and old_at + old_size >= len(self.data) - 1:
            # the last value of the block: the block ends where it ends
            tail = bytes(self.data[old_at + old_size:])
            self.data[old_at:] = value + tail
            new_at = old_at
        elif old_at is not None and len(value) <= self.room(e):
            self.data[old_at:old_at + len(value)] = value
            new_at = old_at
        else:
            if len(self.data) & 1:
                self.data.append(0)
            new_at = len(self.data)
            self.data += value
        at_end = old_at is not None and new_at == old_at and old_at + len(value) >= len(
            self.data) - 1
        if old_at is not None and new_at != old_at:
            self.data[old_at:old_at + old_size] = bytes(old_size)
        elif old_at is not None and len(value) < old_size and not at_end:
            self.data[old_at + len(value):old_at + old_size] = bytes(old_size - len(value))
        if new_at is not None:
            self.data[e.at + 8:e.at + 12] = struct.pack(self.end + "I", new_at)
        self.data[e.at + 4:e.at + 8] = struct.pack(self.end + "I", count)
        if len(self.data) > 0xFFFFFFFF:
            raise WriteError("EXIF block too large")

    def drop(self, e: _Entry) -> None:
        """Take the entry out of its IFD: the entries after it move up, the table's count
        and next-IFD pointer follow, its value is cleared. Nothing else moves."""
        if e.value_at is not None:
            self.data[e.value_at:e.value_at + e.size] = bytes(e.size)
        (count,) = struct.unpack(self.end + "H", self.data[e.table:e.table + 2])
        table_end = e.table + 2 + 12 * count + 4
        self.data[e.at:table_end] = self.data[e.at + 12:table_end] + bytes(12)
        self.data[e.table:e.table + 2] = struct.pack(self.end + "H", count - 1)


def _encode(old: bytes, typ: int, tag: int, text: str) -> bytes:
    """`text` stored as `old` was: ASCII type as UTF-8 with its terminator, XP tags as
    UTF-16LE, UserComment with its prefix, byte order, BOM and trailing NULs."""
    if typ == 1 and TAG_NAMES.get(tag, "").startswith("XP"):
        return text.encode("utf-16-le") + b"\0\0"
    if typ == 2:
        return text.encode("utf-8") + (b"\0" if old.endswith(b"\0") or not old else b"")
    prefix = old[:8] if old[:8] in _PREFIXES else b""
    body = old[len(prefix):]
    kind = _PREFIXES.get(prefix)
    utf16 = kind == "unicode" or (kind == "undefined" and len(body) >= 2 and 0 in body[:2])
    if utf16:
        order = _utf16_order(body) if body else "utf-16-be"
        bom = body[:2] if body[:2] in (b"\xfe\xff", b"\xff\xfe") else b""
        nuls = 0
        while len(body) >= 2 * (nuls + 1) and body[len(body) - 2 * (nuls + 1):][:2] == b"\0\0":
            nuls += 1
        return prefix + bom + text.encode(order) + b"\0\0" * nuls
    nuls = len(body) - len(body.rstrip(b"\0"))
    if kind == "jis":
        try:
            return prefix + text.encode("shift_jis") + b"\0" * nuls
        except UnicodeEncodeError:
            raise WriteError("UserComment is JIS-encoded and cannot hold this text") from None
    return prefix + text.encode("utf-8") + b"\0" * nuls


def set_tags(block: bytes | None, tags: Mapping[str, str | None]) -> bytes | None:
    """The TIFF block (no `Exif\\0\\0`) with each named tag set to its text, or removed
    when the text is None (see the module docstring). None when nothing is left in it."""
    from .exif import set_user_comment

    unknown = set(tags) - WRITABLE
    if unknown:
        raise WriteError(f"EXIF tag(s) gendata does not write: {', '.join(sorted(unknown))}")
    pending = dict(tags)
    if block:
        b = _Block(block)
        for name in list(pending):
            e = b.find(_BY_NAME[name])
            if e is None:
                continue
            text = pending.pop(name)
            if text is None:
                while e is not None:
                    b.drop(e)
                    b = _Block(bytes(b.data))
                    e = b.find(_BY_NAME[name])
            else:
                b.put(e, _encode(b.value(e), e.type, e.tag, text))
        block = bytes(b.data)
    for name, text in pending.items():
        if name == "UserComment":
            block = set_user_comment(block, text)
        elif text is not None:
            block = _add(block, _BY_NAME[name], text)
    if block is not None and _empty(block):
        return None
    return block


def _add(block: bytes | None, tag: int, text: str) -> bytes:
    """A new IFD0 text tag, laid out by piexif (the block is rebuilt, as for UserComment)."""
    import piexif

    try:
        data = piexif.load(block) if block else {"0th": {}, "Exif": {}, "GPS": {}, "1st": {},
                                                    "thumbnail": None}
    except Exception as exc:
        raise WriteError(f"existing EXIF block cannot be rewritten safely: {exc}") from None
    data.setdefault("0th", {}).pop(USER_COMMENT, None)
    if TAG_NAMES[tag].startswith("XP"):
        data["0th"][tag] = text.encode("utf-16-le") + b"\0\0"
    else:
        data["0th"][tag] = text.encode("utf-8")
    try:
        return strip_exif_header(piexif.dump(data))
    except Exception as exc:
        raise WriteError(f"cannot rebuild the EXIF block: {exc}") from None


def _empty(block: bytes) -> bool:
    """Whether only pointers to empty IFDs are left."""
    try:
        entries = _Block(block).entries
    except ContainerError:
        return False
    return all(e.tag in (EXIF_IFD, _GPS_IFD, _INTEROP_IFD) for e in entries)
