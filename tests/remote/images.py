"""Real test images of about 400 KiB, made fast: a few pixel payloads encoded once by Pillow,
then the generation text spliced in the way front ends place it (PNG text before the image
data or after it, IDAT chunks of 64 KiB or 8 KiB; EXIF UserComment in JPEG and WebP)."""

from __future__ import annotations

import io
import struct
import zlib
from functools import lru_cache

import numpy as np
from PIL import Image

from gendata.containers.png import text_chunk


def infotext(i: int) -> tuple[str, int]:
    """The A1111 text of image `i`, and its seed (some past 2^32, one past 2^63)."""
    seed = [i * 7919 + 11, 2 ** 33 + i, 2 ** 64 - 1 - i][i % 3]
    text = (f"a red fox number {i}, snow, <lora:fox_v{i % 4}:0.{i % 9 + 1}>\n"
            f"Negative prompt: blurry {i}\n"
            f"Steps: {10 + i % 30}, Sampler: Euler a, CFG scale: {5 + i % 5}.5, Seed: {seed}, "
            f"Size: 512x768, Model hash: {i:010x}, Model: model_{i % 7}, Custom {i % 3}: yes")
    return text, seed


@lru_cache(maxsize=8)
def _noise(kind: str, variant: int) -> bytes:
    rng = np.random.default_rng(variant)
    if kind == "png":
        im = Image.fromarray(rng.integers(0, 256, (360, 370, 3), dtype=np.uint8))
        buf = io.BytesIO()
        im.save(buf, "PNG", compress_level=1)
    elif kind == "jpeg":
        im = Image.fromarray(rng.integers(0, 256, (560, 600, 3), dtype=np.uint8))
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=95)
    else:
        im = Image.fromarray(rng.integers(0, 256, (600, 680, 3), dtype=np.uint8))
        buf = io.BytesIO()
        im.save(buf, "WEBP", quality=95)
    return buf.getvalue()


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    out, pos = [], 8
    while pos < len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        out.append((ctype, data[pos + 8:pos + 8 + length]))
        pos += 12 + length
    return out


def _chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(
        ">I", zlib.crc32(body, zlib.crc32(ctype)))


def png(text: str, *, variant: int = 0, after_idat: bool = False, idat_size: int | None = None,
        workflow_bytes: int = 0) -> bytes:
    """A PNG with `text` as its `parameters` chunk, before the image data or after it;
    `idat_size` re-cuts the image data (libpng writes 8 KiB chunks); `workflow_bytes` adds a
    ComfyUI-sized `workflow` text chunk."""
    chunks = _chunks(_noise("png", variant))
    head = [c for c in chunks if c[0] not in (b"IDAT", b"IEND")]
    data = b"".join(body for ctype, body in chunks if ctype == b"IDAT")
    size = idat_size or 65536
    idats = b"".join(_chunk(b"IDAT", data[i:i + size]) for i in range(0, len(data), size))
    texts = text_chunk("parameters", text)
    if workflow_bytes:
        texts += text_chunk("workflow", '{"nodes": "' + "x" * workflow_bytes + '"}')
    out = b"\x89PNG\r\n\x1a\n" + b"".join(_chunk(t, b) for t, b in head)
    if after_idat:
        out += idats + texts
    else:
        out += texts + idats
    return out + _chunk(b"IEND", b"")


def exif_image(kind: str, text: str, tmp: str, *, variant: int = 0) -> bytes:
    """A JPEG or WebP with `text` in its EXIF UserComment, written by gendata itself."""
    import os

    from gendata.api import write_text

    path = os.path.join(tmp, f"base-{variant}.{'jpg' if kind == 'jpeg' else 'webp'}")
    with open(path, "wb") as f:
        f.write(_noise(kind, variant))
    write_text(path, text)
    with open(path, "rb") as f:
        return f.read()
