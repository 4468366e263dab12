"""Service layer: reading one remote image's metadata from as few bytes as its container
allows (docs/scale.md#what-is-fetched).

Every object starts with two probes, fetched together with other objects' probes: its
first `HEAD` bytes and its last `TAIL` bytes (one range when the object is small). Then the
container's own parser (`gendata.containers`) reads the object through a `RangeFile`, which
fetches any other range it asks for. Before the parser runs, a short plan per container
keeps it from asking for image data:

- PNG: the chunks up to the first IDAT come from the head probe. Encoders write the image
  data as a run of IDAT chunks of one size with a shorter last one, so where the last one
  starts follows from the first and the object's size; once an IDAT header is found at that
  place (in the tail probe, or with one small request), the run before it is shown to the
  parser as one IDAT chunk and never fetched. What follows the image data (text written
  after it, then IEND) comes from the tail probe. When the run is not that regular, the
  parser walks the chunk headers one by one, as it does locally: slower, still exact.
- JPEG: the APP segments come from the head probe, the end-of-image check from the tail.
- WebP: the chunk headers are followed by their sizes; of the image bitstream only its size
  fields are fetched; EXIF and XMP (after the image) come from the tail probe.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Any

from ..api import Record, read_stream
from ..batch import attach_extras
from ..containers import detect
from ..containers.files import os_reason
from ..errors import GenDataError
from .rangefile import FetchStats, RangeFile
from .retry import RetryPolicy

__all__ = ["HEAD", "TAIL", "fetcher", "probes", "read_object"]

HEAD = 16 * 1024
TAIL = 8 * 1024
# Objects up to this size are fetched whole, in one request.
WHOLE_BELOW = HEAD + TAIL + 8 * 1024
# IDAT chunks shorter than this are walked rather than predicted (their headers come in a
# few readaheads anyway), as are files whose last IDAT needs more than `_MAX_PROBES`
# requests to find.
_MIN_STRIDE = 1024
_MAX_PROBES = 2
# Of a WebP image bitstream, the bytes kept: the frame header with the size fields.
_WEBP_KEEP = 32
# How much more of an animated WebP's end is looked at for the metadata after its frames.
_WEBP_WINDOWS = (64 * 1024, 256 * 1024)

_UNPACK_PNG = struct.Struct(">I4s").unpack


def probes(size: int) -> list[tuple[int, int]]:
    """The ranges fetched up front for an object of `size` bytes, as (start, end)."""
    if size <= WHOLE_BELOW:
        return [(0, size)] if size else []
    return [(0, HEAD), (size - TAIL, size)]


def fetcher(fs: Any, path: str, stats: FetchStats, policy: RetryPolicy
            ) -> Callable[[int, int], bytes]:
    """`fetch(start, end)`: one range request for `path`, retried on transient errors and
    counted in `stats`."""
    def on_retry(exc: BaseException) -> None:
        stats.retries += 1
        stats.requests += 1

    def fetch(start: int, end: int) -> bytes:
        data = policy.call(lambda: fs.cat_file(path, start=start, end=end), on_retry=on_retry)
        stats.requests += 1
        stats.bytes += len(data)
        return bytes(data)

    return fetch


def _png_plan(f: RangeFile) -> None:
    """Show the run of IDAT chunks as one chunk ending where the last one starts, when that
    place can be found (module docstring)."""
    pos, size = 8, f.size
    while True:
        header = f.pread(pos, 8)
        if len(header) < 8:
            return
        length, ctype = _UNPACK_PNG(header)
        if length > 0x7FFFFFFF or not ctype.isalpha() or ctype == b"IEND":
            return  # the parser reports it, or there is no image data
        if ctype == b"IDAT":
            break
        pos += 12 + length
    stride = length + 12
    if length < _MIN_STRIDE:
        return
    # the last IDAT header lies at pos + k * stride and leaves room for its CRC and IEND
    k = (size - 24 - pos) // stride
    remote = 0
    while k > 0:
        last = pos + k * stride
        if not f.holds(last, 8):
            if remote >= _MAX_PROBES:
                return
            remote += 1
        header = f.pread(last, 8, readahead=8)
        if len(header) == 8:
            n, ctype = _UNPACK_PNG(header)
            if ctype == b"IDAT" and n <= length:
                span = last - pos - 12
                if span <= 0x7FFFFFFF:
                    f.overlay(pos, struct.pack(">I4s", span, b"IDAT"))
                return
        k -= 1


def _webp_plan(f: RangeFile) -> None:
    """Follow the RIFF chunk headers; of a VP8/VP8L bitstream keep only its start; step over
    the frames of an animation to the metadata after them when the tail shows where they
    end (`_webp_tail`)."""
    head = f.pread(0, 12)
    if len(head) < 12:
        return
    end = min(f.size, 8 + int.from_bytes(head[4:8], "little"))
    pos, flags, previous = 12, 0, b""
    while pos + 8 <= end:
        if previous in (b"ANIM", b"ANMF") and not f.holds(pos, 8):
            after = _webp_tail(f, pos, end, flags)
            if after is not None and after > pos:
                f.overlay(pos, b"ANMF" + (after - pos - 8).to_bytes(4, "little"))
            return
        header = f.pread(pos, 8)
        if len(header) < 8:
            return
        fourcc, length = header[:4], int.from_bytes(header[4:], "little")
        if fourcc == b"VP8X":
            flags = f.pread(pos + 8, 1)[0] if length else 0
        if fourcc in (b"VP8 ", b"VP8L") and length > _WEBP_KEEP:
            f.fill(pos + 8 + _WEBP_KEEP, min(pos + 8 + length, f.size))
        previous = fourcc
        pos += 8 + length + (length & 1)


_WEBP_CHUNKS = frozenset({b"EXIF", b"XMP ", b"ANMF", b"ANIM", b"ALPH", b"ICCP", b"VP8 ",
                          b"VP8L", b"VP8X"})


def _webp_tail(f: RangeFile, pos: int, end: int, flags: int) -> int | None:
    """Where the chunks after an animation's frames start, found in the object's last
    bytes: the first offset from which known chunks follow each other exactly to the RIFF
    end, holding every metadata chunk the VP8X flags announce (EXIF 0x08, XMP 0x04). The
    tail probe is looked at first, then up to `_WEBP_WINDOWS` more of the end, one request
    each (ComfyUI keeps its workflow in an animation's EXIF); None when not found there: the
    frames are then walked."""
    want = ({b"EXIF"} if flags & 0x08 else set()) | ({b"XMP "} if flags & 0x04 else set())
    for window in (TAIL, *_WEBP_WINDOWS):
        start = max(pos, end - window)
        start += start & 1  # chunks start at even offsets
        if not f.holds(start, end - start):
            f.pread(start, end - start, readahead=0)
        found = _webp_chain(f.pread(start, end - start), want)
        if found is not None:
            return start + found
        if start == pos:
            break
    return None


def _webp_chain(tail: bytes, want: set[bytes]) -> int | None:
    starts = sorted(i for fourcc in _WEBP_CHUNKS for i in _find_all(tail, fourcc) if not i & 1)
    for j in starts:
        seen, k = set(), j
        while k + 8 <= len(tail):
            fourcc, length = tail[k:k + 4], int.from_bytes(tail[k + 4:k + 8], "little")
            if fourcc not in _WEBP_CHUNKS:
                break
            seen.add(fourcc)
            k += 8 + length + (length & 1)
        if k == len(tail) and want <= seen:
            return j
    return None


def _find_all(data: bytes, needle: bytes) -> list[int]:
    out, i = [], data.find(needle)
    while i >= 0:
        out.append(i)
        i = data.find(needle, i + 1)
    return out


def _plan(f: RangeFile) -> None:
    kind = detect(f.pread(0, 12))
    if kind == "png":
        _png_plan(f)
    elif kind == "webp":
        _webp_plan(f)


def read_object(url: str, size: int, fetch: Callable[[int, int], bytes],
                preloaded: Sequence[tuple[int, bytes]] = (), *,
                stats: FetchStats | None = None, stealth: bool | None = None) -> Record:
    """The Record of the object at `url` (`size` bytes), read through `fetch` with the
    probes already fetched in `preloaded` ((start, bytes) pairs). Never raises for a bad or
    unreachable object: it becomes a Record with `error` set, like a bad local file.

    `stealth`: True reads the whole object to look for stealth data in its pixels; None
    (auto) and False do not, since that would fetch every byte (docs/scale.md)."""
    f = RangeFile(url, size, fetch, stats)
    for start, data in preloaded:
        f.preload(start, data)
    try:
        _plan(f)
        f.seek(0)
        rec = read_stream(f, url, stealth=bool(stealth))  # type: ignore[arg-type]
    except GenDataError as exc:
        return Record(path=url, error=str(exc))
    except OSError as exc:
        return Record(path=url, error=f"{url}: {_reason(exc)}")
    except Exception as exc:  # a parser bug must not stop a run over a bucket
        return Record(path=url, error=f"{url}: unexpected {type(exc).__name__}: {exc}")
    attach_extras(rec)
    return rec


def _reason(exc: OSError) -> str:
    if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError)):
        return os_reason(exc)
    return str(exc) or type(exc).__name__
