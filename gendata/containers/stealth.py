"""Stealth pnginfo: text hidden in the least significant bits of the pixels
(docs/formats.md#stealth-pnginfo).

Bits are visited column-major (down the first column, then the next) and assembled
MSB-first. Alpha mode takes one bit per pixel from the alpha channel; RGB mode three bits
per pixel in R, G, B order. Payload: a 15-byte signature (`stealth_pnginfo`,
`stealth_pngcomp`, `stealth_rgbinfo`, `stealth_rgbcomp`), a 32-bit big-endian length *in
bits*, then UTF-8 text (gzip-compressed for the `…comp` signatures).

Only lossless images can carry it (PNG, lossless WebP), and reading it means decoding
pixels, so callers ask for it explicitly or when the text chunks were empty. This module
never knows what the text means; a dialect does.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
import zlib
from typing import Any, BinaryIO

import numpy as np
from PIL import Image

from ..errors import ContainerError, UsageError, WriteError
from . import pixels
from .files import open_regular, os_reason
from .raw import Changes, RawEntry, RawMetadata

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "SIGNATURES",
    "embed_stealth",
    "entry_key",
    "holds",
    "raw_entry",
    "read_raw",
    "read_stealth",
    "rewrite",
    "rewrite_payload",
    "write_stealth",
]

SIGNATURES = ("stealth_pnginfo", "stealth_pngcomp", "stealth_rgbinfo", "stealth_rgbcomp")
_SIG_BITS = 15 * 8
_LEN_BITS = 32
_HEAD_BITS = _SIG_BITS + _LEN_BITS
# Text larger than this is not generation data; also caps what a gzip payload may inflate to.
MAX_PAYLOAD_BYTES = 16 * 1024 * 1024
# Most pixels of a PNG whose payload is read: its image data is inflated once, a block at a
# time, keeping only the columns the payload fills. Other images are decoded whole, so they
# get pixels.MAX_DECODE_PIXELS.
MAX_PIXELS = 20000 * 20000

ImageSource = str | os.PathLike[str] | BinaryIO | Image.Image


def _channels(im: Image.Image) -> tuple[np.ndarray | None, np.ndarray]:
    """(alpha plane, RGB planes), both column-major flattened views of the pixels."""
    if im.mode not in ("RGB", "RGBA"):
        has_alpha = "A" in im.getbands() or "transparency" in im.info
        im = im.convert("RGBA" if has_alpha else "RGB")
    arr = np.asarray(im)
    cols = arr.transpose(1, 0, 2)  # (W, H, C): x outer, y inner
    alpha = cols[:, :, 3].reshape(-1) if arr.shape[2] == 4 else None
    rgb = cols[:, :, :3].reshape(-1)
    return alpha, rgb


def _bytes(bits: np.ndarray) -> bytes:
    return np.packbits(bits & 1).tobytes()


def _header(stream: np.ndarray, mode: str) -> tuple[str, int] | None:
    """(signature, payload length in bits) when the stream starts with a signature of
    `mode` ("png": alpha, "rgb"); None otherwise."""
    if stream.size < _HEAD_BITS:
        return None
    sig = _bytes(stream[:_SIG_BITS]).decode("latin-1")
    if sig not in SIGNATURES or sig[8:11] != mode:
        return None
    (nbits,) = struct.unpack(">I", _bytes(stream[_SIG_BITS:_HEAD_BITS]))
    return sig, nbits


def _check_length(sig: str, nbits: int, available: int, name: str) -> None:
    """Distrust the declared length before reading any more pixels for it."""
    if nbits % 8 or nbits > available or nbits // 8 > MAX_PAYLOAD_BYTES:
        raise ContainerError(
            f"{name}: {sig} payload claims {nbits} bits; the image holds {available} "
            f"(limit {MAX_PAYLOAD_BYTES * 8})"
        )


def _payload(stream: np.ndarray, sig: str, nbits: int, name: str) -> tuple[str, str]:
    data = _bytes(stream[_HEAD_BITS:_HEAD_BITS + nbits])
    if sig.endswith("comp"):
        try:
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            data = d.decompress(data, MAX_PAYLOAD_BYTES)
            if not d.eof and not d.unconsumed_tail:
                raise ContainerError(f"{name}: {sig} payload is a truncated gzip stream")
            if d.unconsumed_tail:
                raise ContainerError(
                    f"{name}: {sig} payload inflates beyond {MAX_PAYLOAD_BYTES} bytes"
                )
        except zlib.error as exc:
            raise ContainerError(f"{name}: {sig} payload is not valid gzip data ({exc})") from None
    return sig, data.decode("utf-8", errors="replace").rstrip("\x00")


def _find(im: Image.Image, width: int, height: int, name: str
          ) -> tuple[str, str, int] | None:
    """(mode, signature, bits) of a payload starting in `im`, the top rows (or all) of a
    `width` x `height` image; the length is checked against the whole image."""
    alpha, rgb = _channels(im)
    for mode, stream, per_pixel in (("png", alpha, 1), ("rgb", rgb, 3)):
        head = None if stream is None else _header(stream, mode)
        if head:
            sig, nbits = head
            _check_length(sig, nbits, width * height * per_pixel - _HEAD_BITS, name)
            return mode, sig, nbits
    return None


def _read(im: Image.Image, name: str) -> tuple[str, str] | None:
    """The payload of a decoded image (the whole of it)."""
    found = _find(im, im.width, im.height, name)
    if found is None:
        return None
    mode, sig, nbits = found
    alpha, rgb = _channels(im)
    stream = alpha if mode == "png" else rgb
    assert stream is not None
    return _payload(stream, sig, nbits, name)


def _columns(mode: str, nbits: int, height: int) -> int:
    """How many columns (from the left) hold the signature, the length and `nbits`."""
    per_column = height * (1 if mode == "png" else 3)
    return -(-(_HEAD_BITS + nbits) // per_column)


def read_stealth(source: ImageSource) -> tuple[str, str] | None:
    """(signature, text) of a stealth payload in alpha or RGB LSBs, or None when there is none.

    Raises ContainerError when the pixels cannot be decoded, the image is too large to
    decode, or a valid signature is followed by a broken payload (bad length, corrupt gzip).
    Only the pixels that can hold a payload are decoded: of a PNG, the first rows until a
    signature is found, then only the columns the payload fills; other images are decoded
    whole when their header says they are within pixels.MAX_DECODE_PIXELS.
    """
    if isinstance(source, Image.Image):
        return _read(source, "<image>")
    if isinstance(source, (str, os.PathLike)):
        name = str(source)
        try:
            f = open_regular(source)
        except OSError as exc:
            raise ContainerError(f"{name}: {os_reason(exc)}") from None
        with f:
            return _read_file(f, name)
    return _read_file(source, str(getattr(source, "name", "<stream>")))


def _read_file(f: BinaryIO, name: str) -> tuple[str, str] | None:
    f.seek(0)
    if f.read(8) == b"\x89PNG\r\n\x1a\n":
        layout = pixels.png_layout(f, name)
        if not layout.interlaced:
            return _read_png(f, layout, name)
    f.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's notes on odd tags, printed otherwise
            im = Image.open(f)
            pixels.check_size(im.width, im.height, pixels.MAX_DECODE_PIXELS,
                              f"{name}: stealth data")
            im.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ContainerError(f"{name}: cannot decode pixels for stealth data: {exc}") from None
    return _read(im, name)


def _read_png(f: BinaryIO, layout: pixels.PngLayout, name: str) -> tuple[str, str] | None:
    width, height = layout.width, layout.height
    rows = min(height, _HEAD_BITS)  # the head is in column 0 unless the image is shorter
    pixels.check_size(width, rows, pixels.MAX_DECODE_PIXELS, f"{name}: stealth data")
    region = pixels.png_region(f, layout, width, rows, name)
    found = _find(region, width, height, name)
    if found is None:
        return None
    mode, sig, nbits = found
    if rows < height:  # the payload runs down whole columns: inflate it all, keep those
        cols = _columns(mode, nbits, height)
        pixels.check_size(width, height, MAX_PIXELS, f"{name}: stealth payload")
        pixels.check_size(cols, height, pixels.MAX_DECODE_PIXELS, f"{name}: stealth payload")
        region = pixels.png_region(f, layout, cols, height, name)
    alpha, rgb = _channels(region)
    stream = alpha if mode == "png" else rgb
    assert stream is not None
    return _payload(stream, sig, nbits, name)


def entry_key(text: str) -> str:
    """The key a stealth payload is filed under in RawMetadata.

    A1111/Forge/SwarmUI store exactly their `parameters` text, and NovelAI a JSON object of
    its chunks (its dialect recognises that by content), so every payload reads as
    `parameters`; the entry's location ("stealth:<signature>") says where it came from.
    """
    return "parameters"


def raw_entry(container: str, found: tuple[str, str]) -> RawEntry:
    """The RawEntry a payload found by `read_stealth` is filed as, in a `container` file."""
    sig, text = found
    return RawEntry(container, f"stealth:{sig}", entry_key(text), text, len(text.encode()))


def read_raw(f: BinaryIO) -> RawMetadata:
    """The stealth payload of an open image as RawMetadata: one entry, or none.

    Unlike the containers' `read_raw` this decodes pixels, so nothing calls it unasked.
    """
    from . import detect

    head = f.read(12)
    f.seek(0)
    raw = RawMetadata(container=detect(head) or "png")
    found = read_stealth(f)
    if found:
        raw.entries.append(raw_entry(raw.container, found))
    return raw


def holds(key: str) -> bool:
    """The one key a payload is filed under (`entry_key`)."""
    return key == "parameters"


def rewrite(src: str | os.PathLike[str], dst: str | os.PathLike[str], changes: Changes, *,
            mode: str = "alpha", compressed: bool = True) -> list[str]:
    """Re-encode the pixels of PNG `src` into `dst` with a stealth copy of the text set
    under "parameters"; every other chunk is kept (see `write_stealth`).

    A payload cannot be taken out again without a second re-encode, so removing is refused.
    """
    sets, removes = changes.resolve(holds, (), str(src))
    if removes:
        raise UsageError(f"{src}: stealth data cannot be removed, only overwritten")
    if "parameters" not in sets:
        return []
    _write(src, dst, sets["parameters"], mode=mode, compressed=compressed)
    return ["wrote stealth copy"]


def _payload_bits(text: str, sig: str) -> np.ndarray:
    data = text.encode("utf-8")
    if sig.endswith("comp"):
        buf = io.BytesIO()
        import gzip

        with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
            gz.write(data)
        data = buf.getvalue()
    blob = sig.encode("ascii") + struct.pack(">I", len(data) * 8) + data
    return np.unpackbits(np.frombuffer(blob, dtype=np.uint8))


def embed_stealth(
    image: Image.Image, text: str, mode: str = "alpha", compressed: bool = True
) -> Image.Image:
    """A new image carrying `text` as stealth pnginfo (the input is not modified).

    Alpha mode (what Forge and NovelAI write): RGBA output, alpha 255 everywhere except the
    payload pixels, which get 254|bit. RGB mode: only the LSBs of the pixels needed change.
    Raises UsageError when the image is too small for the payload.
    """
    if mode not in ("alpha", "rgb"):
        raise UsageError(f"stealth mode must be 'alpha' or 'rgb', got {mode!r}")
    sig = f"stealth_{'png' if mode == 'alpha' else 'rgb'}{'comp' if compressed else 'info'}"
    bits = _payload_bits(text, sig)
    if mode == "alpha":
        im = image.convert("RGBA")
        arr = np.array(im)
        cols = arr.transpose(1, 0, 2)  # view: writes go to arr
        flat_alpha = np.full(arr.shape[1] * arr.shape[0], 255, dtype=np.uint8)
        if bits.size > flat_alpha.size:
            raise UsageError(
                f"image of {im.width}x{im.height} pixels is too small for a stealth payload of "
                f"{bits.size} bits"
            )
        flat_alpha[: bits.size] = 254 | bits
        cols[:, :, 3] = flat_alpha.reshape(cols.shape[0], cols.shape[1])
        return Image.fromarray(arr, "RGBA")
    im = image if image.mode in ("RGB", "RGBA") else image.convert("RGB")
    arr = np.array(im)
    cols = arr.transpose(1, 0, 2)
    rgb = cols[:, :, :3].reshape(-1).copy()
    if bits.size > rgb.size:
        raise UsageError(
            f"image of {im.width}x{im.height} pixels is too small for a stealth payload of "
            f"{bits.size} bits"
        )
    rgb[: bits.size] = (rgb[: bits.size] & 0xFE) | bits
    cols[:, :, :3] = rgb.reshape(cols.shape[0], cols.shape[1], 3)
    return Image.fromarray(arr, im.mode)


# --- writing into an existing PNG --------------------------------------------------------

_PIXEL_CHUNKS = {b"IHDR", b"PLTE", b"tRNS", b"sBIT", b"bKGD", b"hIST", b"IDAT"}


def _chunks(data: bytes, name: str) -> list[tuple[bytes, bytes]]:
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ContainerError(f"{name}: not a PNG file")
    out: list[tuple[bytes, bytes]] = []
    pos = 8
    while pos + 8 <= len(data):
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 12 + length
        if end > len(data):
            raise ContainerError(f"{name}: truncated PNG chunk at offset {pos}")
        out.append((ctype, data[pos:end]))
        pos = end
        if ctype == b"IEND":
            break
    return out


def write_stealth(
    path: str | os.PathLike[str], text: str, *, mode: str = "alpha", compressed: bool = True
) -> None:
    """Re-encode the pixels of PNG `path` with a stealth copy of `text`, keeping every
    other chunk (text, eXIf, colour profile) byte for byte and in place.

    Only the pixel-format chunks (IHDR, PLTE, tRNS, sBIT, bKGD, hIST) and IDAT are replaced,
    since the image becomes 8-bit RGBA. Other containers raise UsageError: JPEG and lossy WebP
    would destroy the bits.
    """
    _write(path, path, text, mode=mode, compressed=compressed)


def _write(src: str | os.PathLike[str], dst: str | os.PathLike[str], text: str, *,
           mode: str, compressed: bool) -> None:
    original, im, name = _load_png(src)
    stego = embed_stealth(im, text, mode=mode, compressed=compressed)
    _splice(original, stego, name, src, dst)


def _load_png(src: str | os.PathLike[str]) -> tuple[bytes, Image.Image, str]:
    name = str(src)
    try:
        with open(src, "rb") as f:
            original = f.read()
    except OSError as exc:
        raise WriteError(f"{name}: {os_reason(exc)}") from None
    if original[:8] != b"\x89PNG\r\n\x1a\n":
        raise UsageError(f"{name}: stealth data can only be written into PNG files")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(original))
        # Re-encoding holds the picture a few times over: refuse, from the header, what
        # would not fit (docs/guide.md#limits).
        pixels.check_size(im.width, im.height, pixels.MAX_DECODE_PIXELS,
                          f"{name}: stealth data")
        im.load()
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ContainerError(f"{name}: cannot decode pixels: {exc}") from None
    return original, im, name


def _splice(original: bytes, stego: Image.Image, name: str, src: str | os.PathLike[str],
            dst: str | os.PathLike[str]) -> None:
    """Write `original` with its pixels replaced by `stego`'s, every other chunk kept."""
    from .atomic import write_atomic

    buf = io.BytesIO()
    stego.save(buf, format="PNG", optimize=False)
    fresh = _chunks(buf.getvalue(), "<encoded>")
    new_ihdr = [c for t, c in fresh if t == b"IHDR"]
    new_idat = [c for t, c in fresh if t == b"IDAT"]
    out: list[bytes] = [b"\x89PNG\r\n\x1a\n"]
    placed = False
    for ctype, chunk in _chunks(original, name):
        if ctype == b"IHDR":
            out.extend(new_ihdr)
        elif ctype == b"IDAT":
            if not placed:
                out.extend(new_idat)
                placed = True
        elif ctype not in _PIXEL_CHUNKS:
            out.append(chunk)
    blob = b"".join(out)

    def produce(f: BinaryIO) -> None:
        f.write(blob)

    write_atomic(dst, produce, like=src)


def rewrite_payload(src: str | os.PathLike[str], dst: str | os.PathLike[str], text: str,
                    signature: str) -> list[str]:
    """Replace the stealth payload of PNG `src` by `text`, written to `dst` in the same
    `signature` (so the same mode and compression), changing only the bits that carry a
    payload: where the old one was longer, its left-over bits are cleared (alpha back to
    255, colour LSBs to 0), so no part of the old text stays readable. Every other pixel
    value and every other chunk is kept (the pixel data is re-encoded: it must be, to
    change bits in it).
    """
    if signature not in SIGNATURES:
        raise UsageError(f"{src}: unknown stealth signature {signature!r}")
    original, im, name = _load_png(src)
    if im.width * im.height > MAX_PIXELS:
        raise UsageError(f"{name}: {im.width}x{im.height} is too large to rewrite stealth data in")
    mode = "alpha" if signature[8:11] == "png" else "rgb"
    if mode == "alpha" and im.mode != "RGBA":
        im = im.convert("RGBA")
    elif mode == "rgb" and im.mode not in ("RGB", "RGBA"):
        im = im.convert("RGB")
    arr = np.array(im)
    cols = arr.transpose(1, 0, 2)  # view: writes go to arr
    if mode == "alpha":
        plane = cols[:, :, 3].reshape(-1).copy()
    else:
        plane = cols[:, :, :3].reshape(-1).copy()
    old_bits = _payload_span(plane, signature)
    bits = _payload_bits(text, signature)
    if bits.size > plane.size:
        raise UsageError(f"{name}: image of {im.width}x{im.height} pixels is too small for a "
                         f"stealth payload of {bits.size} bits")
    if mode == "alpha":
        plane[: bits.size] = 254 | bits
        plane[bits.size:old_bits] = 255
        cols[:, :, 3] = plane.reshape(cols.shape[0], cols.shape[1])
    else:
        plane[: bits.size] = (plane[: bits.size] & 0xFE) | bits
        plane[bits.size:old_bits] &= 0xFE
        cols[:, :, :3] = plane.reshape(cols.shape[0], cols.shape[1], 3)
    _splice(original, Image.fromarray(arr, im.mode), name, src, dst)
    return [f"rewrote {signature} payload"]


def _payload_span(plane: np.ndarray, signature: str) -> int:
    """How many bits of `plane` the present payload (signature, length, data) takes; 0 when
    there is none."""
    head = _SIG_BITS + _LEN_BITS
    if plane.size < head or _bytes(plane[:_SIG_BITS]).decode("latin-1") != signature:
        return 0
    (nbits,) = struct.unpack(">I", _bytes(plane[_SIG_BITS:head]))
    return min(plane.size, head + nbits)


def describe(found: Any) -> str:
    """One line for `show --raw`: which signature, how many characters."""
    if not found:
        return "no stealth data"
    sig, text = found
    return f"{sig}: {len(text)} characters"
