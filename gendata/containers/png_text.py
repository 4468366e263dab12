"""Container layer: PNG text chunks (tEXt, zTXt, iTXt) decoded within the caps
(docs/formats.md#png-chunks, docs/guide.md#limits).

A zTXt chunk of a few KiB can inflate to gigabytes, so compressed text is inflated only up to
the cap it is given and refused past it, having cost no more than the cap; `png.read_raw`
gives each chunk what is left of the file's budget.
"""

from __future__ import annotations

import zlib

from ..errors import ContainerError

__all__ = ["MAX_TEXT_BYTES", "MAX_TOTAL_TEXT", "TextTooLarge", "decode_text_chunk", "inflate",
           "latin1_or_utf8", "text_limit"]

# Caps on text read from one chunk and from one file, counted in bytes as they are after
# inflating: large ComfyUI workflows are a few MiB. Inflating stops at the cap; it never runs
# past it.
MAX_TEXT_BYTES = 32 * 1024 * 1024
MAX_TOTAL_TEXT = 64 * 1024 * 1024


class TextTooLarge(ContainerError):
    """Compressed text that inflates past the cap it was given."""


def inflate(data: bytes, where: str, limit: int = MAX_TEXT_BYTES) -> bytes:
    """Inflate at most `limit` bytes; a stream that holds more is refused, having cost no
    more than `limit` bytes of memory and the time to inflate them."""
    d = zlib.decompressobj()
    try:
        out = d.decompress(data, limit + 1)
    except zlib.error as exc:
        raise ContainerError(f"{where}: corrupt compressed text: {exc}") from None
    if len(out) > limit or d.unconsumed_tail:
        raise TextTooLarge(
            f"{where}: compressed text inflates past {mib(limit)} "
            f"(decompression bomb?); refusing to read it")
    return out


def mib(n: int) -> str:
    return f"{n / (1024 * 1024):.3g} MiB" if n % (1024 * 1024) else f"{n // (1024 * 1024)} MiB"


def latin1_or_utf8(raw: bytes) -> str:
    """tEXt is Latin-1 by spec, but many writers put UTF-8 there
    (docs/formats.md#text-encodings-in-the-wild)."""
    raw = raw.rstrip(b"\0")
    if raw.isascii():
        return raw.decode("ascii")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def decode_text_chunk(ctype: bytes, data: bytes, where: str, limit: int = MAX_TEXT_BYTES
                      ) -> tuple[str, str, list[str]]:
    """Return (keyword, text, warnings) for a tEXt/zTXt/iTXt payload; compressed text is
    inflated to at most `limit` bytes."""
    warnings: list[str] = []
    key_raw, sep, rest = data.partition(b"\0")
    key = key_raw.decode("latin-1")
    if not sep:
        return key, "", [f"{where}: text chunk without a NUL separator"]
    if ctype == b"tEXt":
        return key, latin1_or_utf8(rest), warnings
    if ctype == b"zTXt":
        if not rest:
            raise ContainerError(f"{where}: zTXt chunk has no compression method")
        return key, latin1_or_utf8(inflate(rest[1:], where, limit)), warnings
    # iTXt: flag, method, language\0, translated keyword\0, text
    if len(rest) < 2:
        raise ContainerError(f"{where}: iTXt chunk too short")
    flag = rest[0]
    parts = rest[2:].split(b"\0", 2)
    if len(parts) < 3:
        raise ContainerError(f"{where}: iTXt chunk is missing its language/keyword fields")
    body = parts[2]
    if flag:
        body = inflate(body, where, limit)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("utf-8", errors="replace")
        warnings.append(f"{where}: iTXt text is not valid UTF-8; undecodable bytes replaced")
    return key, text.rstrip("\0"), warnings


def text_limit(total: int) -> str:
    """Why a text chunk is refused, given the text already read from the file."""
    if total:
        return (f"the file's text would pass {mib(MAX_TOTAL_TEXT)} "
                f"({mib(total)} read before it; decompression bomb?), refusing to read it")
    return f"more than the {mib(MAX_TEXT_BYTES)} a text chunk may hold, refusing to read it"
