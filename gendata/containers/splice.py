"""Container layer: copy a file with a few byte ranges replaced, every other byte as it was.

The JPEG and WebP writers say what changes (this segment becomes these bytes, insert those
bytes here) and this copies the rest, however it is laid out: fill bytes, padding, trailing
data after the image and segments the writer does not know all come through untouched.
"""

from __future__ import annotations

from typing import BinaryIO

from ..errors import ContainerError

__all__ = ["Edit", "splice"]

_BLOCK = 1 << 20

# (start, end, replacement): bytes [start, end) of the source become `replacement`;
# start == end inserts.
Edit = tuple[int, int, bytes]


def splice(src: BinaryIO, out: BinaryIO, edits: list[Edit], size: int) -> None:
    """Write `src` (`size` bytes) to `out` with `edits` applied; edits must not overlap."""
    pos = 0
    for start, end, data in sorted(edits, key=lambda e: (e[0], e[1])):
        if start < pos or end < start or end > size:
            raise ContainerError(f"overlapping or out-of-range edit {start}..{end}")
        _copy(src, out, pos, start)
        out.write(data)
        pos = end
    _copy(src, out, pos, size)


def _copy(src: BinaryIO, out: BinaryIO, start: int, end: int) -> None:
    src.seek(start)
    left = end - start
    while left > 0:
        block = src.read(min(left, _BLOCK))
        if not block:
            raise ContainerError(f"file ended at {end - left} while copying (changed meanwhile?)")
        out.write(block)
        left -= len(block)
