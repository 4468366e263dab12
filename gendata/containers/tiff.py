"""Container layer: the TIFF structure inside an EXIF block — a walk bounded by the block's
size, and an editor that changes one tag and leaves every other byte where it was
(docs/formats.md#exif-usercomment). exif.py reads the tags it needs with a leaner walk of
its own, and imports this module only to write.

Reading trusts nothing: every IFD offset, entry count and value count is checked against
the bytes actually present before anything is sliced, so a 700-byte block that declares a
value of 2^32-1 items costs nothing. An IFD visited twice, one past the block or one too
long is skipped or cut short, never followed into a loop.

Writing patches the block instead of rebuilding it. Rebuilding from parsed tags (what piexif
does) loses the tags the parser does not know, changes the byte order and breaks maker notes
that hold offsets of their own. Here a tag's value is written over its old value when it
fits, else appended at the end of the block; an IFD that gains an entry is copied to the end
with it and its pointer updated; a removed entry's table is closed up in place. Old values
are overwritten with zeros (a stripped prompt must not stay in the file), unless some other
structure of the block shares their bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import NamedTuple

from ..errors import ContainerError, WriteError
from .exif import MAX_IFD_ENTRIES, TYPE_SIZE

__all__ = ["MAX_IFD_ENTRIES", "POINTERS", "TYPE_SIZE", "Editor", "Ifd", "Tag", "Tiff", "parse"]

MAX_IFDS = 16
# Tags whose value is the offset of a sub-IFD, by the IFD they may appear in.
POINTERS = {0x8769: "Exif", 0x8825: "GPS", 0xA005: "Interop"}
_PARENTS = {"IFD0": (0x8769, 0x8825), "Exif": (0xA005,)}


class Tag(NamedTuple):
    """One IFD entry: where its 12 bytes are and where its value is (a tuple: blocks of
    cameras hold a hundred of them, and reading builds one per entry)."""

    ifd: str
    tag: int
    type: int
    items: int  # the entry's count: values of its type
    at: int  # offset of the 12-byte entry
    value_at: int  # offset of the value (at + 8 when it fits in the entry)
    nbytes: int | None  # size of the value; None for a type this walker does not know

    @property
    def inline(self) -> bool:
        return self.nbytes is not None and self.nbytes <= 4

    def in_bounds(self, size: int) -> bool:
        return self.nbytes is not None and self.value_at + self.nbytes <= size


@dataclass(slots=True)
class Ifd:
    name: str
    offset: int
    declared: int  # entries the IFD says it has
    tags: list[Tag]
    pointer: Tag | None  # the entry that points here (None for IFD0 and IFD1)

    @property
    def complete(self) -> bool:
        return len(self.tags) == self.declared

    def find(self, tag: int) -> Tag | None:
        return next((t for t in self.tags if t.tag == tag), None)


@dataclass(slots=True)
class Tiff:
    data: bytes
    order: str  # struct byte order: "<" (II) or ">" (MM)
    ifds: list[Ifd]

    def ifd(self, name: str) -> Ifd | None:
        return next((i for i in self.ifds if i.name == name), None)


def parse(data: bytes) -> Tiff:
    """The IFDs of a TIFF block (no `Exif\\0\\0` header). ContainerError only when the header
    itself is unusable; damaged IFDs and entries are skipped or cut short."""
    if len(data) < 8:
        raise ContainerError("EXIF block too short")
    if data[:2] == b"II":
        order = "<"
    elif data[:2] == b"MM":
        order = ">"
    else:
        raise ContainerError("EXIF block has no TIFF byte-order mark")
    magic, ifd0 = struct.unpack(order + "HI", data[2:8])
    if magic != 42:
        raise ContainerError("EXIF block has a bad TIFF magic number")
    size = len(data)
    entry = struct.Struct(order + "HHII").unpack_from
    u16 = struct.Struct(order + "H").unpack_from
    u32 = struct.Struct(order + "I").unpack_from
    tiff = Tiff(data, order, [])
    todo: list[tuple[str, int, Tag | None]] = [("IFD0", ifd0, None)]
    visited: set[int] = set()
    while todo and len(tiff.ifds) < MAX_IFDS:
        name, off, pointer = todo.pop(0)
        if off in visited or off < 8 or off + 2 > size:
            continue
        visited.add(off)
        (declared,) = u16(data, off)
        n = min(declared, MAX_IFD_ENTRIES, (size - off - 2) // 12)
        tags: list[Tag] = []
        for i in range(n):
            at = off + 2 + 12 * i
            tag, typ, count, raw_value = entry(data, at)
            unit = TYPE_SIZE.get(typ)
            nbytes = None if unit is None else unit * count
            value_at = at + 8 if nbytes is not None and nbytes <= 4 else raw_value
            t = Tag(name, tag, typ, count, at, value_at, nbytes)
            tags.append(t)
            if tag in _PARENTS.get(name, ()) and typ in (4, 13) and count >= 1:
                todo.append((POINTERS[tag], raw_value, t))
        tiff.ifds.append(Ifd(name, off, declared, tags, pointer))
        end = off + 2 + 12 * declared
        if name == "IFD0" and n == declared and end + 4 <= size:
            (nxt,) = u32(data, end)
            if nxt:
                todo.append(("IFD1", nxt, None))
    return tiff


class Editor:
    """Changes to one TIFF block, made on a copy of its bytes (`result`)."""

    def __init__(self, tiff: Tiff) -> None:
        self.tiff = tiff
        self.buf = bytearray(tiff.data)
        self.order = tiff.order
        self._used = self._structure()

    def _structure(self) -> list[tuple[int, int, int]]:
        """(start, end, owner) of the bytes the block's structure uses: IFD tables (owner -1)
        and out-of-line values (owner: the offset of their entry)."""
        out: list[tuple[int, int, int]] = [(0, 8, -1)]
        size = len(self.tiff.data)
        for ifd in self.tiff.ifds:
            out.append((ifd.offset, ifd.offset + 2 + 12 * ifd.declared + 4, -1))
            for t in ifd.tags:
                if not t.inline and t.in_bounds(size) and t.nbytes:
                    out.append((t.value_at, t.value_at + t.nbytes, t.at))
        return out

    def _shared(self, start: int, end: int, own: Tag) -> bool:
        """Whether bytes [start, end) hold anything besides `own`'s value."""
        return any(s < end and start < e for s, e, owner in self._used if owner != own.at)

    def _pack_entry(self, at: int, tag: int, typ: int, count: int, value: bytes) -> None:
        struct.pack_into(self.order + "HHI", self.buf, at, tag, typ, count)
        self.buf[at + 8:at + 12] = value

    def _append(self, data: bytes) -> int:
        if len(self.buf) & 1:
            self.buf.append(0)
        off = len(self.buf)
        if off + len(data) > 0xFFFFFFFF:
            raise WriteError("EXIF block would grow past 4 GiB")
        self.buf += data
        return off

    def _clear(self, t: Tag) -> bool:
        """Zero `t`'s out-of-line value; False when it is not ours alone to clear."""
        if t.inline or not t.in_bounds(len(self.tiff.data)) or not t.nbytes:
            return False
        end = t.value_at + t.nbytes
        if self._shared(t.value_at, end, t):
            return False
        self.buf[t.value_at:end] = bytes(t.nbytes)
        return True

    def set_value(self, t: Tag, typ: int, value: bytes) -> None:
        """Give the existing entry `t` a new type and value."""
        count = len(value) // TYPE_SIZE[typ]
        free = self._clear(t)
        if len(value) <= 4:
            self._pack_entry(t.at, t.tag, typ, count, value.ljust(4, b"\0"))
            return
        if free and t.nbytes is not None and len(value) <= t.nbytes:
            off = t.value_at
            self.buf[off:off + len(value)] = value
        else:
            off = self._append(value)
        self._pack_entry(t.at, t.tag, typ, count, struct.pack(self.order + "I", off))

    def remove(self, ifd: Ifd, t: Tag) -> None:
        """Take entry `t` out of `ifd`, closing up the table where it stands."""
        self._need_complete(ifd)
        self._clear(t)
        n = ifd.declared
        start = ifd.offset + 2
        index = (t.at - start) // 12
        table_end = start + 12 * n + 4  # entries and next-IFD pointer
        self.buf[t.at:table_end - 12] = self.buf[t.at + 12:table_end]
        self.buf[table_end - 12:table_end] = bytes(12)
        struct.pack_into(self.order + "H", self.buf, ifd.offset, n - 1)
        del ifd.tags[index]
        ifd.declared = n - 1
        # entries after it moved up by 12 bytes
        ifd.tags[index:] = [_moved(x, -12) for x in ifd.tags[index:]]

    def add(self, ifd: Ifd | None, name: str, tag: int, typ: int, value: bytes) -> None:
        """Add entry `tag` to the IFD `name`: the table is copied to the end of the block
        with it; a missing sub-IFD is created and pointed to from its parent."""
        if ifd is None:
            self._create(name, tag, typ, value)
            return
        self._need_complete(ifd)
        start = ifd.offset + 2
        entries = [bytes(self.buf[start + 12 * i:start + 12 * i + 12]) for i in range(ifd.declared)]
        nxt = bytes(self.buf[start + 12 * ifd.declared:start + 12 * ifd.declared + 4])
        off = self._new_table(entries, nxt, tag, typ, value)
        self._repoint(ifd, off)

    def _new_table(self, entries: list[bytes], nxt: bytes, tag: int, typ: int,
                   value: bytes) -> int:
        tags = [struct.unpack(self.order + "H", e[:2])[0] for e in entries]
        index = next((i for i, other in enumerate(tags) if other > tag), len(entries))
        entries.insert(index, bytes(12))
        table = struct.pack(self.order + "H", len(entries)) + b"".join(entries) + nxt
        off = self._append(table)
        at = off + 2 + 12 * index
        count = len(value) // TYPE_SIZE[typ]
        if len(value) <= 4:
            self._pack_entry(at, tag, typ, count, value.ljust(4, b"\0"))
        else:
            voff = self._append(value)
            self._pack_entry(at, tag, typ, count, struct.pack(self.order + "I", voff))
        return off

    def _repoint(self, ifd: Ifd, off: int) -> None:
        if ifd.name == "IFD0":
            struct.pack_into(self.order + "I", self.buf, 4, off)
        elif ifd.pointer is not None:
            struct.pack_into(self.order + "I", self.buf, ifd.pointer.at + 8, off)
        else:
            raise WriteError(f"EXIF {ifd.name} cannot be moved; not rewritten")

    def _create(self, name: str, tag: int, typ: int, value: bytes) -> None:
        parent_name = next((p for p, kids in _PARENTS.items()
                            for k in kids if POINTERS[k] == name), None)
        parent = self.tiff.ifd(parent_name) if parent_name else None
        if parent is None:
            raise WriteError(f"EXIF block has no {parent_name or 'parent'} IFD to hold "
                             f"{name}; not rewritten")
        off = self._new_table([], b"\0\0\0\0", tag, typ, value)
        pointer = next(k for k in _PARENTS[parent.name] if POINTERS[k] == name)
        self.add(parent, parent.name, pointer, 4, struct.pack(self.order + "I", off))

    @staticmethod
    def _need_complete(ifd: Ifd) -> None:
        if not ifd.complete:
            raise WriteError(f"EXIF {ifd.name} at offset {ifd.offset} is cut short; "
                             "not rewritten")

    def result(self) -> bytes:
        return bytes(self.buf)


def _moved(t: Tag, delta: int) -> Tag:
    return Tag(t.ifd, t.tag, t.type, t.items, t.at + delta,
               t.value_at + delta if t.inline else t.value_at, t.nbytes)


def has_content(tiff: Tiff) -> bool:
    """Whether a block holds anything but empty IFDs and the pointers between them."""
    return any(t.tag not in POINTERS for ifd in tiff.ifds for t in ifd.tags) or any(
        ifd.name == "IFD1" for ifd in tiff.ifds)


def minimal(order: str = ">") -> bytes:
    """An empty TIFF block (IFD0 with no entries), as a start for a new EXIF block."""
    mark = b"MM" if order == ">" else b"II"
    return mark + struct.pack(order + "HI", 42, 8) + struct.pack(order + "HI", 0, 0)
