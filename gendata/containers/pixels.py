"""Container layer: decoding pixels within a budget, for the readers that must look at them
(stealth data, embedding-card blocks, previews).

A file's header says how large its picture is, and a hostile file can say anything: 13000 x
13000 RGBA is 676 MB decoded from a PNG of 700 KB. So the size is checked against a cap
before any pixel is decoded (docs/guide.md#limits), and a PNG can give just a corner of
itself: `png_region` inflates only the image data that holds the rows asked for and keeps
only the columns asked for, so a reader that needs the first column of a huge image never
holds the rest.
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
from PIL import Image

from ..errors import ContainerError
from .files import open_regular, os_reason

__all__ = [
    "MAX_DECODE_PIXELS",
    "PngLayout",
    "check_size",
    "decode_all",
    "open_image",
    "png_layout",
    "png_region",
]

# Most pixels any reader decodes in full: 64 million is 256 MB as RGBA, and 8000 x 8000
# covers every generated and upscaled image we know of.
MAX_DECODE_PIXELS = 64_000_000
_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}  # PNG colour type -> samples per pixel
_BLOCK = 1 << 20


def check_size(width: int, height: int, limit: int, what: str) -> None:
    """Refuse (ContainerError) a picture of more than `limit` pixels, from its header alone."""
    if width * height > limit:
        raise ContainerError(f"{what}: {width}x{height} is more than the {limit} pixels "
                             "gendata decodes")


@contextmanager
def open_image(path: str, what: str | None = None) -> Iterator[Image.Image]:
    """Pillow's lazy view of the image at `path` (only its header read), opened through
    `open_regular` so a FIFO or device is refused, and closed on leaving.

    Pillow's warnings while reading the header are silenced: its decompression-bomb warning
    only repeats, less clearly, the cap callers apply with `check_size` before decoding, and
    its notes on odd tags would be printed in the middle of our output.
    """
    what = what or path
    try:
        f = open_regular(path)
    except OSError as exc:
        raise ContainerError(f"{what}: {os_reason(exc)}") from None
    with f:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # odd-file notes Pillow would print
                im = Image.open(f)
        except Image.DecompressionBombError as exc:
            raise ContainerError(f"{what}: refusing a huge image ({exc})") from None
        except (OSError, ValueError, SyntaxError) as exc:
            raise ContainerError(f"{what}: not an image Pillow can read ({exc})") from None
        try:
            yield im
        finally:
            im.close()


@dataclass(frozen=True, slots=True)
class PngLayout:
    """What `png_region` needs from a PNG's header chunks."""

    width: int
    height: int
    depth: int
    color: int
    interlaced: bool
    palette: bytes | None
    transparency: bytes | None
    idat: int  # offset of the first IDAT chunk

    @property
    def bits_per_pixel(self) -> int:
        return self.depth * _CHANNELS[self.color]


def png_layout(f: BinaryIO, what: str) -> PngLayout:
    """The header of the PNG open as `f` (any position), read up to its first IDAT."""
    f.seek(0)
    if f.read(8) != _SIGNATURE:
        raise ContainerError(f"{what}: not a PNG file")
    head: tuple[int, ...] | None = None
    palette = transparency = None
    pos = 8
    while True:
        hdr = f.read(8)
        if len(hdr) < 8:
            raise ContainerError(f"{what}: PNG has no image data")
        length, ctype = struct.unpack(">I4s", hdr)
        if ctype == b"IDAT":
            break
        if ctype in (b"IHDR", b"PLTE", b"tRNS") and length <= 1024:
            data = f.read(length)
            if ctype == b"IHDR" and length >= 13:
                head = struct.unpack(">IIBBBBB", data[:13])
            elif ctype == b"PLTE":
                palette = data
            elif ctype == b"tRNS":
                transparency = data
            f.seek(4, 1)
        else:
            f.seek(length + 4, 1)
        pos += 12 + length
    if head is None or head[3] not in _CHANNELS or head[2] not in (1, 2, 4, 8, 16):
        raise ContainerError(f"{what}: PNG header is missing or invalid")
    width, height, depth, color, _comp, _filter, interlace = head
    if not width or not height:
        raise ContainerError(f"{what}: PNG is {width}x{height}")
    return PngLayout(width, height, depth, color, bool(interlace), palette, transparency, pos)


def _idat_blocks(f: BinaryIO, start: int) -> Iterator[bytes]:
    """The compressed image data, a block at a time, from the IDAT chunks at `start` on."""
    f.seek(start)
    while True:
        hdr = f.read(8)
        if len(hdr) < 8:
            return
        length, ctype = struct.unpack(">I4s", hdr)
        if ctype != b"IDAT":
            return
        while length:
            block = f.read(min(length, _BLOCK))
            if not block:
                return
            length -= len(block)
            yield block
        f.seek(4, 1)


def png_region(f: BinaryIO, layout: PngLayout, cols: int, rows: int, what: str
               ) -> Image.Image:
    """The top-left `cols` x `rows` pixels of a non-interlaced PNG, as Pillow decodes them.

    Only the image data up to the last row asked for is inflated, and of each row only the
    bytes of the first `cols` pixels are kept: PNG's filters look only left and up
    (docs/formats.md#png-text-chunks cites the chunk layout; the filters are the PNG spec's),
    so the kept bytes form a valid image of their own, which Pillow then decodes with the
    original palette and transparency. Memory is that of the region, whatever the image.
    """
    if layout.interlaced:
        raise ValueError("png_region needs a non-interlaced PNG")
    cols, rows = min(cols, layout.width), min(rows, layout.height)
    bpp = layout.bits_per_pixel
    stride = 1 + (layout.width * bpp + 7) // 8
    keep = 1 + (cols * bpp + 7) // 8
    out = bytearray()
    row = pos = 0  # rows done; offset inside the current row
    d = zlib.decompressobj()
    try:
        for compressed in _idat_blocks(f, layout.idat):
            data = compressed
            while data and row < rows:
                block = d.decompress(data, _BLOCK)
                data = d.unconsumed_tail
                row, pos = _take_rows(block, out, row, pos, rows, stride, keep)
            if row >= rows or d.eof:
                break
        if row < rows:  # output the last block's input left pending
            row, pos = _take_rows(d.flush(), out, row, pos, rows, stride, keep)
    except zlib.error as exc:
        raise ContainerError(f"{what}: corrupt image data ({exc})") from None
    if row < rows:
        raise ContainerError(f"{what}: image data ends after {row} of {rows} rows")
    return _decode_png(layout, cols, rows, out, what)


def decode_all(path: str, limit: int, what: str | None = None) -> Image.Image:
    """Every pixel of the image at `path`, decoded once its header says it has at most
    `limit` pixels (ContainerError otherwise, or when it cannot be decoded).

    A non-interlaced PNG goes through `png_region`, so its text chunks are never parsed
    (Pillow refuses a whole image over one large workflow chunk); anything else through
    Pillow.
    """
    what = what or path
    try:
        f = open_regular(path)
    except OSError as exc:
        raise ContainerError(f"{what}: {os_reason(exc)}") from None
    with f:
        if f.read(8) == _SIGNATURE:
            layout = png_layout(f, what)
            if not layout.interlaced:
                check_size(layout.width, layout.height, limit, what)
                return png_region(f, layout, layout.width, layout.height, what)
    with open_image(path, what) as im:
        check_size(im.width, im.height, limit, what)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                im.load()
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
            raise ContainerError(f"{what}: cannot decode pixels ({exc})") from None
        return im.copy()


def _take_rows(block: bytes, out: bytearray, row: int, pos: int, rows: int, stride: int,
               keep: int) -> tuple[int, int]:
    """Append the first `keep` bytes of each row in `block` to `out`; rows of `stride` bytes
    may span blocks, `pos` is where the current one stands. Returns the new (row, pos)."""
    n = len(block)
    i = 0
    view = memoryview(block)
    while i < n and row < rows:
        if pos == 0 and n - i >= stride:
            k = min((n - i) // stride, rows - row)
            rows_view = np.frombuffer(block, np.uint8, k * stride, i).reshape(k, stride)
            out += rows_view[:, :keep].tobytes()
            i += k * stride
            row += k
            continue
        if pos < keep:
            take = min(keep - pos, n - i)
            out += view[i:i + take]
        else:
            take = min(stride - pos, n - i)
        i += take
        pos += take
        if pos == stride:
            row += 1
            pos = 0
    return row, pos


def _decode_png(layout: PngLayout, cols: int, rows: int, scanlines: bytearray, what: str
                ) -> Image.Image:
    def chunk(ctype: bytes, data: bytes) -> bytes:
        return struct.pack(">I4s", len(data), ctype) + data + struct.pack(
            ">I", zlib.crc32(data, zlib.crc32(ctype)))

    header = struct.pack(">IIBBBBB", cols, rows, layout.depth, layout.color, 0, 0, 0)
    parts = [_SIGNATURE, chunk(b"IHDR", header)]
    if layout.palette is not None:
        parts.append(chunk(b"PLTE", layout.palette))
    if layout.transparency is not None:
        parts.append(chunk(b"tRNS", layout.transparency))
    idat = zlib.compress(scanlines, 1)
    del scanlines[:]  # the caller's buffer: free it before Pillow decodes
    parts += [chunk(b"IDAT", idat), chunk(b"IEND", b"")]
    try:
        im = Image.open(io.BytesIO(b"".join(parts)))
        im.load()
    except (OSError, ValueError, SyntaxError) as exc:
        raise ContainerError(f"{what}: cannot decode pixels ({exc})") from None
    return im
