"""Service layer: a read-only file over an object of known size, fetched by byte range on
demand — what the container parsers read a remote image through.

`gendata.containers` reads any binary stream (`read_raw(f)`), so a remote image is parsed by
the very code that parses local files. Only the ranges the parser touches are fetched: the
probes fetched up front (`preload`), then any other range the parser asks for, with a little
readahead. `overlay` shows chosen bytes in place of the object's (a PNG's run of image data
chunks seen as one, docs/scale.md#what-is-fetched) and `fill` shows zeros for a range
whose content the parser reads but does not use (a WebP bitstream after its size fields),
so neither is fetched.
"""

from __future__ import annotations

import bisect
import io
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["FetchStats", "RangeFile"]

Fetch = Callable[[int, int], bytes]

# What a read of a range not yet held fetches at the least: the headers of the next few
# chunks come with the first, and a byte costs far less than a request.
READAHEAD = 4096


@dataclass
class FetchStats:
    """Requests made and bytes received for one or many objects."""

    requests: int = 0
    bytes: int = 0
    retries: int = 0

    def add(self, other: FetchStats) -> None:
        self.requests += other.requests
        self.bytes += other.bytes
        self.retries += other.retries


class RangeFile:
    """A seekable binary file of `size` bytes whose content comes from `fetch(start, end)`.

    Deliberately not an io.RawIOBase: it has no `fileno`, so readers that stat a descriptor
    take the path for other streams. Fetched ranges are kept (few per object) and counted in
    `stats`.
    """

    def __init__(self, name: str, size: int, fetch: Fetch, stats: FetchStats | None = None
                 ) -> None:
        self.name = name
        self.size = size
        self._fetch = fetch
        self.stats = stats if stats is not None else FetchStats()
        self._starts: list[int] = []  # sorted, non-overlapping held ranges
        self._data: list[bytes] = []
        self._overlays: dict[int, bytes] = {}
        self._fills: list[tuple[int, int]] = []
        self._pos = 0
        self.closed = False

    # --- what is held -------------------------------------------------------------------

    def preload(self, start: int, data: bytes) -> None:
        """Hold `data`, the object's bytes from `start` (fetched elsewhere, e.g. together
        with other objects' probes)."""
        if not data:
            return
        end = start + len(data)
        i = bisect.bisect_left(self._starts, start)
        # merge with every held range that touches [start, end)
        if i > 0 and self._starts[i - 1] + len(self._data[i - 1]) >= start:
            i -= 1
        j = i
        new_start, new_end = start, end
        pieces: list[tuple[int, bytes]] = []
        while j < len(self._starts) and self._starts[j] <= end:
            s, d = self._starts[j], self._data[j]
            pieces.append((s, d))
            new_start = min(new_start, s)
            new_end = max(new_end, s + len(d))
            j += 1
        if pieces:
            buf = bytearray(new_end - new_start)
            for s, d in pieces:
                buf[s - new_start:s - new_start + len(d)] = d
            buf[start - new_start:end - new_start] = data
            data = bytes(buf)
        self._starts[i:j] = [new_start]
        self._data[i:j] = [data]

    def holds(self, start: int, n: int) -> bool:
        """Whether [start, start + n) can be read without a request."""
        return not self._gaps(start, min(start + n, self.size))

    def overlay(self, start: int, data: bytes) -> None:
        self._overlays[start] = data

    def fill(self, start: int, end: int) -> None:
        if end > start:
            self._fills.append((start, end))

    def _gaps(self, start: int, end: int) -> list[tuple[int, int]]:
        """The parts of [start, end) neither held nor filled."""
        covered = [(s, s + len(d)) for s, d in zip(self._starts, self._data, strict=True)]
        covered += self._fills
        covered += [(s, s + len(d)) for s, d in self._overlays.items()]
        covered.sort()
        gaps = []
        pos = start
        for s, e in covered:
            if e <= pos:
                continue
            if s >= end:
                break
            if s > pos:
                gaps.append((pos, s))
            pos = max(pos, e)
            if pos >= end:
                break
        if pos < end:
            gaps.append((pos, end))
        return gaps

    # --- reading ------------------------------------------------------------------------

    def pread(self, start: int, n: int, *, readahead: int = READAHEAD) -> bytes:
        """`n` bytes from `start` (fewer at the end of the object), fetching what is not
        held; a fetch reaches at least `readahead` bytes."""
        end = min(start + max(n, 0), self.size)
        if start >= end:
            return b""
        for gap_start, gap_end in self._gaps(start, end):
            fetch_end = min(self.size, max(gap_end, gap_start + readahead))
            # do not fetch again what is held just after the gap
            nxt = bisect.bisect_right(self._starts, gap_start)
            if nxt < len(self._starts):
                fetch_end = max(gap_end, min(fetch_end, self._starts[nxt]))
            data = self._fetch(gap_start, fetch_end)
            if len(data) < gap_end - gap_start:
                raise OSError(f"{self.name}: object ended at {gap_start + len(data)} while "
                              f"reading bytes {gap_start}-{gap_end} (it changed while read?)")
            self.preload(gap_start, data)
        buf = bytearray(end - start)
        for s, e in self._fills:
            lo, hi = max(s, start), min(e, end)
            if lo < hi:
                buf[lo - start:hi - start] = bytes(hi - lo)
        for s, d in zip(self._starts, self._data, strict=True):
            lo, hi = max(s, start), min(s + len(d), end)
            if lo < hi:
                buf[lo - start:hi - start] = d[lo - s:hi - s]
        for s, d in self._overlays.items():
            lo, hi = max(s, start), min(s + len(d), end)
            if lo < hi:
                buf[lo - start:hi - start] = d[lo - s:hi - s]
        return bytes(buf)

    def read(self, n: int = -1) -> bytes:
        if self.closed:
            raise ValueError("I/O operation on closed file")
        if n is None or n < 0:
            n = self.size - self._pos
        data = self.pread(self._pos, n)
        self._pos += len(data)
        return data

    def readinto(self, b: bytearray | memoryview) -> int:
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self.size + offset
        else:
            raise ValueError(f"invalid whence {whence}")
        if pos < 0:
            raise OSError(22, "Invalid argument: negative seek position")
        self._pos = pos
        return pos

    def tell(self) -> int:
        return self._pos

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True

    def __enter__(self) -> RangeFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
