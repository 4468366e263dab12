"""Container layer: the coloured data blocks A1111 paints beside an embedding card's picture.

Pixels <-> bytes only (docs/formats.md#the-pixel-blocks). A payload is zlib-compressed, split
into low and high nibbles, laid out as two RGB blocks as tall as the picture, decorated in the
upper nibble and obfuscated in the lower nibble with an LCG keystream. Nothing here knows what
the payload means; the caller supplies the decoration shades.

Reading mirrors A1111's `extract_image_data_embed` so that a card A1111 accepts is read the
same way here, with two additions: the zlib output is capped (a tiny block can inflate to
gigabytes) and a stream that is cut short is reported instead of returned half-read.
"""

from __future__ import annotations

import zlib
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from ..errors import ContainerError

__all__ = [
    "DEFAULT_MAX_PAYLOAD",
    "block_size",
    "compose",
    "decode_blocks",
    "decoration",
    "encode_blocks",
    "find_blocks",
    "inflate",
    "keystream",
    "layout_blocks",
    "looks_like_zlib",
]

CHANNELS = 3
LCG_MODULUS = 2**32
LCG_MULTIPLIER = 1664525
LCG_INCREMENT = 1013904223
# Largest inflated payload accepted. A 75-vector SDXL embedding is about 4 MB of JSON.
DEFAULT_MAX_PAYLOAD = 64 * 1024 * 1024


@lru_cache(maxsize=4)
def _keystream_cached(n: int) -> np.ndarray:
    # LCG jump-ahead: states[k + m] = A_m * states[k] + C_m (mod 2^32), so the sequence can be
    # doubled with one vector operation per step instead of a Python loop over every element.
    states = np.empty(max(n, 1), dtype=np.uint64)
    states[0] = LCG_INCREMENT  # first state from seed 0
    filled = 1
    mul, inc = LCG_MULTIPLIER, LCG_INCREMENT  # the map for `filled` steps
    mask = np.uint64(LCG_MODULUS - 1)
    while filled < n:
        take = min(filled, n - filled)
        # uint64 products wrap mod 2^64, which keeps the low 32 bits exact.
        states[filled : filled + take] = (states[:take] * np.uint64(mul) + np.uint64(inc)) & mask
        filled += take
        mul, inc = (mul * mul) % LCG_MODULUS, (mul * inc + inc) % LCG_MODULUS
    out = (states[:n] % np.uint64(255)).astype(np.uint8)
    out.flags.writeable = False
    return out


def keystream(n: int) -> np.ndarray:
    """The first `n` LCG outputs (state mod 255) as uint8; A1111 restarts it for every block."""
    if n < 0:
        raise ValueError("keystream length must not be negative")
    return _keystream_cached(int(n))


def block_size(n: int, height: int) -> int:
    """Elements per block for an `n`-byte payload (docs/formats.md#the-pixel-blocks, step 3).

    Rounds up to a multiple of the height, then of three heights; an exact multiple still
    gains a whole extra step, as A1111 computes it.
    """
    if height <= 0:
        raise ContainerError(f"image height must be positive, got {height}")
    size = n + (height - n % height)
    return size + (height * CHANNELS - size % (height * CHANNELS))


def decoration(shape: tuple[int, int], shades: np.ndarray) -> np.ndarray:
    """Upper-nibble dot pattern A1111 draws over a block (docs/formats.md#the-pixel-blocks,
    step 4).

    Drawn with Pillow's ellipse routine, as A1111 does, so the dots land on the same pixels;
    the low nibble is zero, so the pattern never touches the data.
    """
    height, width = shape
    canvas = Image.new("RGB", (width, height))
    if len(shades):
        draw = ImageDraw.Draw(canvas)
        i = 0
        for x in range(-6, width, 8):
            for row, y in enumerate(range(-6, height, 8)):
                offset = 4 if row % 2 == 0 else 0
                shade = int(shades[i % len(shades)])
                i += 1
                draw.ellipse((x + offset, y, x + 6 + offset, y + 6), fill=(shade, shade, shade))
    return np.asarray(canvas, dtype=np.uint8) & 0xF0


def encode_blocks(
    payload: bytes, height: int, shades: np.ndarray | None = None, *, level: int = 9
) -> tuple[np.ndarray, np.ndarray]:
    """Compress `payload` and lay it out as the (low, high) RGB blocks, each height x w' x 3."""
    return layout_blocks(zlib.compress(payload, level), height, shades)


def layout_blocks(
    data: bytes, height: int, shades: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Lay out already-compressed bytes as the (low, high) blocks
    (docs/formats.md#the-pixel-blocks, steps 2-5)."""
    raw = np.frombuffer(data, dtype=np.uint8)
    size = block_size(raw.size, height)
    seq = np.zeros(0, dtype=np.uint8) if shades is None else np.asarray(shades, dtype=np.uint8)
    key = keystream(size).reshape(height, -1, CHANNELS) & 0x0F
    blocks = []
    for nibbles, seq_used in ((raw & 0x0F, seq), (raw >> 4, seq[::-1])):
        block = np.resize(nibbles, size).reshape(height, -1, CHANNELS)
        block = block ^ decoration(block.shape[:2], seq_used) ^ key
        blocks.append(block.astype(np.uint8))
    return blocks[0], blocks[1]


def compose(low: np.ndarray, picture: np.ndarray, high: np.ndarray) -> np.ndarray:
    """The card: low block, black column, picture, black column, high block
    (docs/formats.md#the-pixel-blocks, step 6)."""
    height = picture.shape[0]
    if low.shape[0] != height or high.shape[0] != height:
        raise ContainerError("data blocks and picture differ in height")
    w_low, w_pic, w_high = low.shape[1], picture.shape[1], high.shape[1]
    card = np.zeros((height, w_low + 1 + w_pic + 1 + w_high, CHANNELS), dtype=np.uint8)
    card[:, :w_low] = low
    card[:, w_low + 1 : w_low + 1 + w_pic] = picture[..., :CHANNELS]
    card[:, w_low + 2 + w_pic :] = high
    return card


def _crop_black(rgb: np.ndarray) -> np.ndarray:
    # A pixel counts only when all three channels are non-zero, exactly as A1111's crop_black.
    mask: np.ndarray = np.all(rgb > 0, axis=2)
    cols: np.ndarray = np.any(mask, axis=0)
    rows: np.ndarray = np.any(mask, axis=1)
    if not cols.any():
        return rgb[:0, :0]
    c0, c1 = int(cols.argmax()), len(cols) - int(cols[::-1].argmax())
    r0, r1 = int(rows.argmax()), len(rows) - int(rows[::-1].argmax())
    return rgb[r0:r1, c0:c1]


def find_blocks(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Low nibbles of the (low, high) blocks of a card, still obfuscated; None if it has none.

    A1111 takes everything left of the first all-zero-low-nibble column and right of the last
    one. When that gives blocks of different widths (a data column that happens to be all
    zero), pairs of such columns at mirrored positions are tried as well, since both blocks
    are always equally wide.
    """
    if rgb.ndim != 3 or rgb.shape[2] != CHANNELS:
        raise ContainerError(f"expected an RGB pixel array, got shape {rgb.shape}")
    nibbles = _crop_black(rgb) & 0x0F
    if nibbles.size == 0:
        return None
    zero_cols = np.flatnonzero(~nibbles.any(axis=(0, 2)))
    if zero_cols.size < 2:
        return None
    width = nibbles.shape[1]
    first, last = int(zero_cols[0]), int(zero_cols[-1])
    candidates = [(first, last)]
    if first != width - 1 - last:
        zero_set = set(zero_cols.tolist())
        candidates += [
            (c, width - 1 - c)
            for c in zero_cols.tolist()
            if c < width - 1 - c and (width - 1 - c) in zero_set
        ]
    for left_sep, right_sep in candidates:
        low, high = nibbles[:, :left_sep], nibbles[:, right_sep + 1 :]
        if low.shape == high.shape and low.size and looks_like_zlib(_head(low, high)):
            return low, high
    return nibbles[:, :first], nibbles[:, last + 1 :]


def _join(low: np.ndarray, high: np.ndarray) -> bytes:
    key = keystream(low.size).reshape(low.shape) & 0x0F
    return (((high ^ key) << 4) | (low ^ key)).astype(np.uint8).tobytes()


def _head(low: np.ndarray, high: np.ndarray) -> bytes:
    # The first two payload bytes sit in row 0, column 0, channels 0 and 1 of each block.
    if min(low.shape[:2]) == 0 or min(high.shape[:2]) == 0:
        return b""
    key = keystream(2) & 0x0F
    return bytes((((high[0, 0, :2] ^ key) << 4) | (low[0, 0, :2] ^ key)).tolist())


def looks_like_zlib(data: bytes) -> bool:
    """True when `data` starts with a valid zlib header (deflate, header checksum ok)."""
    if len(data) < 2:
        return False
    cmf, flg = data[0], data[1]
    return cmf & 0x0F == 8 and cmf >> 4 <= 7 and (cmf << 8 | flg) % 31 == 0


def decode_blocks(rgb: np.ndarray, *, strict: bool = False) -> bytes | None:
    """The compressed byte stream the blocks hold (with A1111's cyclic padding after it).

    None when the picture has no pair of separator columns. When it has, but the bytes do not
    start like a zlib stream, it is an ordinary picture (None) unless `strict`, where the
    caller expects a card and gets a ContainerError. Blocks of unequal width are damage.
    """
    found = find_blocks(rgb)
    if found is None:
        return None
    low, high = found
    if not looks_like_zlib(_head(low, high)):
        if strict:
            raise ContainerError(
                "TI pixel blocks: the blocks beside the picture do not start with a zlib "
                "stream (damaged card, or not a card)"
            )
        return None
    if low.shape != high.shape:
        raise ContainerError(
            f"TI pixel blocks are damaged: left block is {low.shape[1]} columns wide, "
            f"right block {high.shape[1]}"
        )
    return _join(low, high)


def inflate(data: bytes, max_size: int = DEFAULT_MAX_PAYLOAD, *, what: str = "payload") -> bytes:
    """zlib-decompress at most `max_size` bytes; trailing bytes after the stream are ignored.

    Raises ContainerError for a corrupt or truncated stream and for output beyond the cap.
    """
    engine = zlib.decompressobj()
    try:
        out = engine.decompress(data, max_size + 1)
    except zlib.error as exc:
        raise ContainerError(f"{what}: corrupt zlib stream ({exc})") from None
    if len(out) > max_size:
        raise ContainerError(
            f"{what}: inflates to more than {max_size} bytes; refusing (decompression bomb?)"
        )
    if not engine.eof:
        raise ContainerError(f"{what}: zlib stream is truncated ({len(data)} bytes read)")
    return out
