"""Container layer: PNG chunk stream reader and text-chunk writer (docs/formats.md#png-chunks).

Reading walks the chunk list and seeks over everything it does not need (IDAT above all),
so pixel data is never read. Writing streams every chunk it does not change through byte for
byte, verifying CRCs as it copies, and replaces the file atomically.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Callable, Mapping
from typing import BinaryIO

from ..errors import ContainerError, WriteError
from .png_text import MAX_TEXT_BYTES, MAX_TOTAL_TEXT, TextTooLarge, decode_text_chunk
from .png_text import latin1_or_utf8 as _latin1_or_utf8
from .png_text import text_limit as _text_limit
from .raw import Changes, RawEntry, RawMetadata

SIGNATURE = b"\x89PNG\r\n\x1a\n"
TEXT_TYPES = (b"tEXt", b"zTXt", b"iTXt")
# Entry locations of text stored under a keyword of the writer's choice (the contract's name).
TEXT_LOCATIONS = frozenset(t.decode("ascii") for t in TEXT_TYPES)
USER_COMMENT_LOCATION = "EXIF:UserComment"
_COPY_BLOCK = 1 << 20


def _name(f: BinaryIO) -> str:
    return str(getattr(f, "name", "<stream>"))


def _check_header(name: str, pos: int, length: int, ctype: bytes, size: int | None) -> int:
    """Distrust the declared length and type before anything is read or skipped; return the
    offset where the chunk ends."""
    if length > 0x7FFFFFFF:
        raise ContainerError(f"{name}: invalid chunk length {length} at offset {pos}")
    if not ctype.isalpha():  # bytes.isalpha: ASCII letters only, as the spec requires
        raise ContainerError(f"{name}: corrupt PNG: invalid chunk type {ctype!r} at offset {pos}")
    end = pos + 12 + length
    if size is not None and end > size:
        raise ContainerError(
            f"{name}: truncated PNG: chunk {ctype.decode('latin-1')} at offset {pos} "
            f"needs {length + 12} bytes, file ends at {size}")
    return end




_WANT = frozenset({b"IHDR", b"tRNS", b"tEXt", b"zTXt", b"iTXt", b"eXIf"})
# Binary metadata chunks listed (not read) so that `show --raw` shows they are there.
METADATA_CHUNKS = {b"caBX": "C2PA manifest", b"tIME": "modification time",
                   b"iCCP": "ICC profile", b"sRGB": "sRGB intent", b"pHYs": "pixel size"}


# How much of a PNG `read_raw` reads at once: IHDR, an ICC profile and an A1111 text chunk
# (one to three KiB) fit, so most files cost one read; chunks beyond it are reached with a
# positioned read of their 8-byte header (IDAT is never read) or of their body when wanted.
# Reading more costs about 0.2 us per KiB and gains nothing when IDAT comes next.
HEAD_BYTES = 8192
_UNPACK_HEAD = struct.Struct(">I4s").unpack_from
_UNPACK_CRC = struct.Struct(">I").unpack_from
IEND_CHUNK = b"\0\0\0\0IEND\xaeB`\x82"
ReadAt = Callable[[int, int], bytes]


def _positioned_reader(f: BinaryIO) -> ReadAt:
    """`read_at(offset, n)`: os.pread on a file descriptor (no seek, no buffer refill), else
    seek + read for other binary streams. A descriptor that cannot seek (a pipe) fails in
    os.pread as it would in seek, with the same OSError."""
    try:
        fd = f.fileno()
    except (AttributeError, OSError, ValueError):
        def read_at(offset: int, n: int) -> bytes:
            f.seek(offset)
            return f.read(n)

        return read_at
    return lambda offset, n: os.pread(fd, n, offset)


def read_raw(f: BinaryIO) -> RawMetadata:
    """Read every text chunk and eXIf of an open PNG (positioned at 0) without reading pixels.

    Walks the chunk list, checking every declared length and type before trusting it, from
    one buffer of the first `HEAD_BYTES` and without an object per skipped chunk; text after
    the image data is looked for at the file's end first (`_ends_after_idat`), so the
    dozens of IDAT chunks of a large image are not walked.
    """
    name = _name(f)
    head = f.read(HEAD_BYTES)
    size = os.fstat(f.fileno()).st_size if hasattr(f, "fileno") else None
    return read_head(name, head, size, _positioned_reader(f))


def read_fd(name: str, fd: int, size: int, head: bytes) -> RawMetadata:
    """`read_raw` of an open descriptor whose first bytes (`HEAD_BYTES` of them, or the whole
    file when shorter) `head` already holds: most PNGs then cost no other read than one
    positioned read of their last bytes."""
    return read_head(name, head, size, lambda offset, n: os.pread(fd, n, offset))


# The smallest IDAT chunk size the tail is trusted for. Encoders write 8 KiB (libpng) to
# 64 KiB (Pillow); with tiny chunks other chunks could line up with the arithmetic below by
# chance, and such files are cheap to walk anyway.
MIN_STRIDE = 1024


def _ends_after_idat(buf: bytes, pos: int, length: int, size: int, read_at: ReadAt
                     ) -> bool:
    """True when the image data that starts with the IDAT chunk at `pos` (`length` bytes)
    is followed by nothing but an IEND chunk at the end of the file: then no text comes
    after the image, and the IDAT chunks need not be walked to see so.

    IDAT chunks follow each other (the format requires it) and encoders write them in one
    size with a shorter last one, so where the last must start, and its length, follow
    from the first chunk and the file size. The tail is conclusive when the first chunk
    ends at IEND, or when the chunks are at least MIN_STRIDE long and an IDAT header of the
    computed length is where the last must start, and the file's last 12 bytes are an IEND
    chunk. Anything else (chunks after the image, chunks of other sizes, bytes after IEND, a
    cut file) is left to the walk. Not caught: a chunk put between IDAT chunks, which the
    format forbids, whose size happens to be a whole number of IDAT chunks."""
    stride = length + 12
    span = size - 24 - pos  # from the first IDAT's data to IEND: k full chunks, then the last
    last = pos + (span // stride) * stride
    rest = span % stride  # the last chunk's length
    if span < length or rest > length or (last != pos and length < MIN_STRIDE):
        return False

    def read(offset: int, n: int) -> bytes:
        return buf[offset:offset + n] if offset + n <= len(buf) else read_at(offset, n)

    if last == pos:
        return read(size - 12, 12) == IEND_CHUNK
    if size - last <= 1024:  # the last header and IEND in one read
        tail = read(last, size - last)
        return len(tail) == size - last and tail[-12:] == IEND_CHUNK and _UNPACK_HEAD(
            tail) == (rest, b"IDAT")
    header = read(last, 8)
    return (len(header) == 8 and _UNPACK_HEAD(header) == (rest, b"IDAT")
            and read(size - 12, 12) == IEND_CHUNK)


def read_head(name: str, buf: bytes, size: int | None, read_at: ReadAt) -> RawMetadata:
    """The chunk walk of `read_raw`, from the file's first bytes `buf` (`HEAD_BYTES`, or the
    whole file when shorter) and `read_at` for the rest."""
    from .exif import exif_entries  # local: exif pulls nothing heavy but keeps png standalone

    if buf[:8] != SIGNATURE:
        raise ContainerError(f"{name}: not a PNG file")
    have = len(buf)
    raw = RawMetadata(container="png")
    entries = raw.entries
    seen_idat = False
    total_text = 0
    first = True
    pos = 8
    while True:
        if pos + 8 <= have:
            length, ctype = _UNPACK_HEAD(buf, pos)
        else:
            head = buf[pos:pos + 8] if pos < have else b""
            if len(head) < 8:
                head += read_at(pos + len(head), 8 - len(head))
            if not head:
                raise ContainerError(f"{name}: truncated PNG: no IEND chunk (file ends at {pos})")
            if len(head) < 8:
                raise ContainerError(f"{name}: truncated PNG: partial chunk header at offset {pos}")
            length, ctype = _UNPACK_HEAD(head)
        end = _check_header(name, pos, length, ctype, size)
        if ctype in TEXT_TYPES and length > min(MAX_TEXT_BYTES, MAX_TOTAL_TEXT - total_text):
            raise ContainerError(f"{name}: {ctype.decode('latin-1')} chunk at offset {pos} "
                                 f"holds {length} bytes; {_text_limit(total_text)}")
        if ctype not in _WANT:
            if not first:  # skipped (IDAT above all): nothing to read
                if ctype == b"IDAT":
                    if not seen_idat and size is not None and _ends_after_idat(
                            buf, pos, length, size, read_at):
                        return raw
                    seen_idat = True
                elif ctype in METADATA_CHUNKS:
                    entries.append(RawEntry("png", ctype.decode("latin-1"),
                                            METADATA_CHUNKS[ctype], None, length, pos,
                                            seen_idat))
                pos = end
                if ctype == b"IEND":
                    return raw
                continue
            raise ContainerError(f"{name}: corrupt PNG: first chunk is not IHDR")
        if end <= have:
            data = buf[pos + 8:pos + 8 + length]
            crc = _UNPACK_CRC(buf, pos + 8 + length)[0]
        else:
            body = read_at(pos + 8, length + 4)
            if len(body) < length + 4:
                raise ContainerError(f"{name}: truncated PNG inside chunk "
                                     f"{ctype.decode('latin-1')} at offset {pos}")
            data = body[:length]
            crc = _UNPACK_CRC(body, length)[0]
        where = f"{name}: {ctype.decode('latin-1')} chunk at offset {pos}"
        if first and ctype != b"IHDR":
            raise ContainerError(f"{name}: corrupt PNG: first chunk is not IHDR")
        first = False
        if zlib.crc32(data, zlib.crc32(ctype)) != crc:
            kind = "ancillary" if ctype[0] & 0x20 else "critical"
            raw.warnings.append(f"{where}: bad CRC ({kind} chunk)")
        if ctype == b"IHDR":
            if length < 13:
                raise ContainerError(f"{where}: IHDR too short")
            raw.width, raw.height, _depth, color = struct.unpack(">IIBB", data[:10])
            raw.has_alpha = color in (4, 6)
        elif ctype == b"tRNS":
            raw.has_alpha = True
        elif ctype in TEXT_TYPES:
            left = MAX_TOTAL_TEXT - total_text
            try:
                key, text, warns = decode_text_chunk(ctype, data, where,
                                                     min(MAX_TEXT_BYTES, left))
            except TextTooLarge:
                if left >= MAX_TEXT_BYTES:
                    raise
                raise ContainerError(f"{where}: {_text_limit(total_text)}") from None
            total_text += max(length, len(text))
            raw.warnings.extend(warns)
            entries.append(RawEntry("png", ctype.decode("latin-1"), key, text, length, pos,
                                    seen_idat))
        elif ctype == b"eXIf":
            entries.append(RawEntry("png", "eXIf", "eXIf", None, length, pos, seen_idat, data))
            try:
                entries.extend(exif_entries(data, "png", pos))
            except ContainerError as exc:
                raw.warnings.append(f"{where}: {exc}")
        pos = end


def text_chunk(key: str, text: str) -> bytes:
    """Build a complete chunk (length, type, data, CRC) as Pillow/A1111 would: tEXt when the
    text is Latin-1, else uncompressed iTXt with empty language and translated keyword."""
    try:
        kb = key.encode("latin-1")
    except UnicodeEncodeError:
        raise WriteError(f"PNG keyword {key!r} is not Latin-1") from None
    if not 1 <= len(kb) <= 79 or b"\0" in kb:
        raise WriteError(f"invalid PNG keyword {key!r} (1-79 Latin-1 characters, no NUL)")
    latin = _latin1_bytes(text)
    if latin is not None:
        return make_chunk(b"tEXt", kb + b"\0" + latin)
    return make_chunk(b"iTXt", kb + b"\0\0\0\0\0" + text.encode("utf-8"))


def _latin1_bytes(text: str) -> bytes | None:
    """`text` as Latin-1 when a reader gets it back from tEXt/zTXt: not when it has no Latin-1
    form, nor when its Latin-1 bytes also read as UTF-8 ("ß\\x85" is the bytes of "߅"),
    which readers, this one included, try first because so many writers put UTF-8 there."""
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:
        return None
    return raw if _latin1_or_utf8(raw) == text.rstrip("\0") and not text.endswith("\0") else None


def _like(ctype: bytes, data: bytes, key: str, text: str) -> bytes:
    """The chunk replacing `data` (a text chunk of type `ctype`) by `text`, stored as the
    writer stored the old one where the text allows: an iTXt with a language, a
    translated keyword or compression, or holding XMP, stays such an iTXt; a zTXt stays
    compressed; a tEXt its writer filled with UTF-8 keeps UTF-8, and the NULs it put after
    the text. Anything else is chosen by `text_chunk`, as A1111 chooses."""
    body = data.partition(b"\0")[2]
    if ctype == b"iTXt" and len(body) >= 2:
        flag, method = body[0], body[1]
        lang, _, rest = body[2:].partition(b"\0")
        translated, _, _ = rest.partition(b"\0")
        if flag or lang or translated or key == "XML:com.adobe.xmp":
            payload = text.encode("utf-8")
            if flag:
                payload = zlib.compress(payload)
            return make_chunk(b"iTXt", key.encode("latin-1") + b"\0" + bytes([flag, method])
                              + lang + b"\0" + translated + b"\0" + payload)
    elif ctype == b"zTXt":
        latin = _latin1_bytes(text)
        if latin is None:
            return make_chunk(b"iTXt", key.encode("latin-1") + b"\0\x01\0\0\0"
                              + zlib.compress(text.encode("utf-8")))
        return make_chunk(b"zTXt", key.encode("latin-1") + b"\0\0" + zlib.compress(latin))
    elif ctype == b"tEXt":
        # NULs its writer put after the text (Tensor.Art) stay; the reader drops them
        nuls = b"\0" * (len(body) - len(body.rstrip(b"\0")))
        if not body.isascii() and not text.isascii():
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                return make_chunk(b"tEXt", key.encode("latin-1") + b"\0"
                                  + text.encode("utf-8") + nuls)
        if nuls:
            chunk = text_chunk(key, text)
            if chunk[4:8] == b"tEXt":
                return make_chunk(b"tEXt", chunk[8:-4] + nuls)
            return chunk
    return text_chunk(key, text)


def make_chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I4s", len(data), ctype) + data + struct.pack(
        ">I", zlib.crc32(data, zlib.crc32(ctype)))


def _chunk_key(ctype: bytes, f: BinaryIO, length: int) -> tuple[str, bytes]:
    data = f.read(length)
    return data.partition(b"\0")[0].decode("latin-1"), data


def holds(key: str) -> bool:
    """Any key: a text chunk takes any keyword (`text_chunk` refuses malformed ones), and
    "UserComment" is the eXIf chunk's UserComment."""
    return True


def _exif_blocks(src: str | os.PathLike[str]) -> list[tuple[int, bytes, bool]]:
    """(offset, data, holds a UserComment) of every eXIf chunk, read without touching pixels."""
    with open(src, "rb") as f:
        raw = read_raw(f)
    with_uc = {e.offset for e in raw.entries if e.location == USER_COMMENT_LOCATION}
    return [(e.offset, e.data, e.offset in with_uc) for e in raw.entries
            if e.location == "eXIf" and e.data is not None]


def rewrite(src: str | os.PathLike[str], dst: str | os.PathLike[str], changes: Changes
            ) -> list[str]:
    """Copy PNG `src` to `dst` (may be the same path) with `changes` applied to its text
    chunks and, for the key "UserComment", to its eXIf chunks.

    A set key replaces its first text chunk (the one every reader of gendata reads) in place
    when that chunk is before IDAT, else the new chunk goes just before the first IDAT and
    the old one is dropped; later chunks of the same keyword are kept as they are, and the
    returned list says so in a line starting with "warning:". A removed key loses every
    chunk of that keyword. Removing UserComment drops text chunks of that keyword too, as
    `strip` always has. Every eXIf chunk holding a UserComment is patched
    (exif.set_user_comment, every other tag kept) and dropped only when nothing else is left
    in it. Bytes after IEND are kept.
    """
    blocks: list[tuple[int, bytes, bool]] = []
    if "UserComment" in {*changes.set, *changes.mirror, *changes.remove}:
        blocks = _exif_blocks(src)
    holding = [b for b in blocks if b[2]]
    sets, removes = changes.resolve(holds, {"UserComment"} if holding else (), str(src))
    exif: dict[int, bytes | None] = {}
    new_exif: bytes | None = None
    if "UserComment" in sets or ("UserComment" in removes and holding):
        from .exif import editable, set_user_comment

        text = sets.pop("UserComment", None)
        usable = [b for b in blocks if editable(b[1])][:1]  # none holds one: the first sound
        for offset, data, _has in (holding or usable or blocks[:1]):
            exif[offset] = set_user_comment(data, text)
        if not blocks and text is not None:
            new_exif = set_user_comment(None, text)
    texts: dict[str, str | None] = dict.fromkeys(removes)
    texts.update(sets)
    return _stream(src, dst, texts, exif=exif, new_exif=new_exif)


def removals(raw: RawMetadata, changes: Changes) -> list[str]:
    """Text chunks by type, keyword and size, then "eXIf UserComment" when it goes."""
    has_uc = any(e.location == USER_COMMENT_LOCATION for e in raw.entries)
    _sets, removes = changes.resolve(holds, {"UserComment"} if has_uc else (), "PNG")
    out = [f"{e.location} {e.key} ({e.size} bytes)" for e in raw.entries
           if e.location in TEXT_LOCATIONS and e.key in removes]
    if has_uc and "UserComment" in removes:
        out.append("eXIf UserComment")
    return out


def _stream(src: str | os.PathLike[str], dst: str | os.PathLike[str],
            texts: Mapping[str, str | None], *, exif: Mapping[int, bytes | None],
            new_exif: bytes | None = None) -> list[str]:
    """Copy PNG `src` to `dst` changing only the named text and eXIf chunks.

    `texts` maps keyword -> new text (set the first chunk of that keyword) or None (remove
    every chunk of it). `exif` maps the offset of an eXIf chunk to its new data, or None to
    remove it; `new_exif` is an eXIf chunk to add before IDAT. Every other chunk is copied
    byte for byte with its CRC verified; a bad CRC on a critical chunk aborts the write, and
    whatever follows IEND is copied as it is. Returns what was removed or replaced.
    """
    from .atomic import atomic_output  # writing only: reads never load it

    pending = {k: v for k, v in texts.items() if v is not None}
    setting = set(pending)
    removing = set(texts)
    seen: dict[str, list[str]] = {}  # set keyword -> where its chunks were ("tEXt at 33")
    changes: list[str] = []
    with open(src, "rb") as f, atomic_output(dst, like=src) as out:
        name = _name(f)
        if f.read(8) != SIGNATURE:
            raise ContainerError(f"{name}: not a PNG file")
        size = os.fstat(f.fileno()).st_size
        out.write(SIGNATURE)
        pos = 8
        seen_idat = False
        while True:
            head = f.read(8)
            if len(head) < 8:
                raise ContainerError(f"{name}: truncated PNG at offset {pos}; not written")
            length, ctype = struct.unpack(">I4s", head)
            if length > 0x7FFFFFFF or pos + 12 + length > size:
                raise ContainerError(f"{name}: truncated or corrupt chunk at offset {pos}; "
                                     "not written")
            tname = ctype.decode("latin-1")
            if ctype == b"IDAT" and not seen_idat:
                seen_idat = True
                for key, text in pending.items():
                    out.write(text_chunk(key, text))
                    changes.append(f"set {key}")
                pending.clear()
                if new_exif is not None:
                    out.write(make_chunk(b"eXIf", new_exif))
                    changes.append("set eXIf")
            if ctype in TEXT_TYPES:
                key, data = _chunk_key(ctype, f, length)
                crc = f.read(4)
                where = seen.setdefault(key, []) if key in setting else None
                if where is not None:
                    where.append(f"{tname} at offset {pos}")
                if key in removing and (where is None or len(where) == 1):
                    if key in pending and not seen_idat:
                        out.write(_like(ctype, data, key, pending.pop(key)))
                        changes.append(f"replaced {tname} {key}")
                    else:
                        changes.append(f"removed {tname} {key} ({length} bytes)")
                else:
                    out.write(head + data + crc)
            elif ctype == b"eXIf" and pos in exif:
                f.seek(length + 4, 1)
                block = exif[pos]
                if block is not None:
                    out.write(make_chunk(b"eXIf", block))
                    changes.append("replaced eXIf")
                else:
                    changes.append(f"removed eXIf ({length} bytes)")
            else:
                _copy_chunk(f, out, head, name, pos)
            pos += 12 + length
            if ctype == b"IEND":
                break
        if pending:  # PNG without IDAT: not a valid image
            raise ContainerError(f"{name}: PNG has no IDAT chunk; not written")
        while block := f.read(_COPY_BLOCK):  # data after IEND stays
            out.write(block)
    for key, where in seen.items():
        if len(where) > 1:
            changes.append(
                f"warning: {len(where)} text chunks are named {key!r}; the first ({where[0]}) "
                f"was read and edited, the other {len(where) - 1} kept unchanged "
                f"({', '.join(where[1:])})")
    return changes


def _copy_chunk(f: BinaryIO, out: BinaryIO, head: bytes, name: str, pos: int) -> None:
    """Copy one chunk whose header `head` was just read, verifying its CRC on the way."""
    length, ctype = struct.unpack(">I4s", head)
    crc_value = zlib.crc32(ctype)
    out.write(head)
    left = length
    while left:
        block = f.read(min(left, _COPY_BLOCK))
        if not block:
            raise ContainerError(f"{name}: truncated PNG inside chunk at offset {pos}")
        crc_value = zlib.crc32(block, crc_value)
        out.write(block)
        left -= len(block)
    crc = f.read(4)
    if (len(crc) < 4 or struct.unpack(">I", crc)[0] != crc_value) and not ctype[0] & 0x20:
        raise ContainerError(f"{name}: bad CRC in critical chunk {ctype.decode('latin-1')} at "
                             f"offset {pos}; refusing to write")
    out.write(crc)
