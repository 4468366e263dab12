"""Container layer: set or remove the text tags of an EXIF block, each in the encoding it
already has.

Generators read their own EXIF back in their own way: Fooocus looks for UserComment in IFD0
as an ASCII string, SwarmUI writes it as UTF-16LE, NovelAI as UTF-8 behind an `ASCII` prefix
and repeats its prompt in ImageDescription, ComfyUI keeps graphs in Make and Model
(docs/formats.md#exif-usercomment). A tag that is already there keeps its IFD, type, prefix,
byte order, BOM and trailing NULs, so the generator still reads it and setting a value back
gives the original block; every other byte keeps its place (tiff.Editor). A tag that is not
there is added: UserComment as A1111 writes it (exif.set_user_comment), the others as UTF-8
ASCII strings in IFD0.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

from ..errors import ContainerError, WriteError
from .exif import (
    _PREFIXES,
    TAG_NAMES,
    USER_COMMENT,
    _utf16_order,
    editable,
    strip_exif_header,
    tag_names,
)

__all__ = ["WRITABLE", "set_tags", "tag_plan"]

# The text tags a dialect may write, by the key RawMetadata gives them (exif.TAG_NAMES).
WRITABLE = frozenset({"UserComment", "ImageDescription", "Make", "Model", "Software", "Artist",
                      "DocumentName", "XPComment", "XPTitle", "XPSubject"})
_BY_NAME = {name: tag for tag, name in TAG_NAMES.items()}


def _encode(old: bytes, typ: int, tag: int, text: str) -> bytes:
    """`text` stored as `old` was (see the module docstring)."""
    if typ == 1 and TAG_NAMES.get(tag, "").startswith("XP"):
        return text.encode("utf-16-le") + b"\0\0"
    if typ == 2:
        return text.encode("utf-8") + (b"\0" if old.endswith(b"\0") or not old else b"")
    prefix = old[:8] if old[:8] in _PREFIXES else b""
    body = old[len(prefix):]
    kind = _PREFIXES.get(prefix)
    if kind == "unicode" or (kind == "undefined" and len(body) >= 2 and 0 in body[:2]):
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


def _fresh(name: str, text: str) -> tuple[int, bytes]:
    """(type, value) of a tag written anew: UserComment as A1111 writes it, XP tags as
    UTF-16LE bytes, the others as UTF-8 ASCII strings."""
    from .exif import encode_user_comment

    if name == "UserComment":
        return 7, encode_user_comment(text)
    if name.startswith("XP"):
        return 1, text.encode("utf-16-le") + b"\0\0"
    return 2, text.encode("utf-8") + b"\0"


def set_tags(block: bytes | None, tags: Mapping[str, str | None]) -> bytes | None:
    """The block (an `Exif\\0\\0` header in front kept) with each named tag set to its text,
    or removed when the text is None; None when nothing is left in it."""
    from . import tiff
    from .exif import set_user_comment

    unknown = set(tags) - WRITABLE
    if unknown:
        raise WriteError(f"EXIF tag(s) gendata does not write: {', '.join(sorted(unknown))}")
    header = b"Exif\0\0" if block and block.startswith(b"Exif\0\0") else b""
    data = strip_exif_header(block) if block else tiff.minimal()
    removed_only = all(text is None for text in tags.values())
    for name, text in tags.items():
        code = _BY_NAME[name]
        try:
            parsed = tiff.parse(data)
        except ContainerError as exc:
            raise WriteError(f"existing EXIF block cannot be rewritten safely: {exc}") from None
        found = [(ifd, t) for ifd in parsed.ifds if ifd.name in ("IFD0", "Exif")
                 for t in ifd.tags if t.tag == code]
        if not found:
            if text is None:
                continue
            if code == USER_COMMENT:
                out = set_user_comment(data, text)
                assert out is not None  # setting never empties a block
                data = out
                continue
            editor = tiff.Editor(parsed)
            editor.add(parsed.ifd("IFD0"), "IFD0", code, *_fresh(name, text))
            data = editor.result()
            continue
        editor = tiff.Editor(parsed)
        if text is None:
            for ifd, t in sorted(found, key=lambda pair: -pair[1].at):
                editor.remove(ifd, t)
        else:
            for _ifd, t in found:
                if t.type in (1, 2, 7) and t.in_bounds(len(data)):
                    old = data[t.value_at:t.value_at + (t.nbytes or 0)]
                    editor.set_value(t, t.type, _encode(old, t.type, code, text))
                else:  # a value the block does not hold (a lying count): written anew
                    editor.set_value(t, *_fresh(name, text))
        data = editor.result()
    if removed_only:
        try:
            if not tiff.has_content(tiff.parse(data)):
                return None
        except (ContainerError, struct.error):
            pass
    return header + data


def tag_plan(blocks: list[tuple[int, bytes]], sets: dict[str, str], removes: frozenset[str]
             ) -> dict[int, dict[str, str | None]]:
    """Block position -> the tags to set (text) or remove (None) in it: each tag in every
    block that holds it, so no reader finds a stale copy; a tag no block holds goes to the
    first block that can be patched (the caller adds a block when there is none)."""
    names = {pos: tag_names([block]) for pos, block in blocks}
    plan: dict[int, dict[str, str | None]] = {}
    wanted: dict[str, str | None] = {**dict.fromkeys(removes), **sets}
    usable = [pos for pos, block in blocks if editable(block)][:1] or [
        pos for pos, _ in blocks][:1]
    for key, text in wanted.items():
        holders = [pos for pos, _ in blocks if key in names[pos]]
        for pos in holders or (usable if text is not None else []):
            plan.setdefault(pos, {})[key] = text
    return plan
