"""Stealth pnginfo (docs/formats.md#stealth-pnginfo): all four signatures, the write path,
hostile payloads."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gendata import api
from gendata.containers import stealth
from gendata.errors import ContainerError, UsageError
from gendata.model import GenParams

TEXT = "a cat, テスト\nNegative prompt: dog\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 5, " \
       "Size: 64x48"


def noise(w: int = 64, h: int = 48, mode: str = "RGB", seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 256, size=(h, w, len(mode)), dtype=np.uint8)
    return Image.fromarray(arr, mode)


@pytest.mark.parametrize("mode", ["alpha", "rgb"])
@pytest.mark.parametrize("compressed", [True, False])
def test_round_trip_every_signature(mode: str, compressed: bool) -> None:
    out = stealth.embed_stealth(noise(), TEXT, mode=mode, compressed=compressed)
    sig = f"stealth_{'png' if mode == 'alpha' else 'rgb'}{'comp' if compressed else 'info'}"
    assert stealth.read_stealth(out) == (sig, TEXT)


def test_alpha_writer_layout() -> None:
    """Alpha 255 everywhere but the payload pixels, which are 254|bit, in column-major order."""
    out = np.asarray(stealth.embed_stealth(noise(), "x", compressed=False))
    alpha_cols = out[:, :, 3].T.reshape(-1)
    bits = np.unpackbits(np.frombuffer(b"stealth_pnginfo" + struct.pack(">I", 8) + b"x",
                                       dtype=np.uint8))
    assert (alpha_cols[: bits.size] == (254 | bits)).all()
    assert (alpha_cols[bits.size:] == 255).all()


def test_independent_decoder_agrees() -> None:
    """Decode the RGB stream with a plain loop, not gendata's numpy path."""
    im = stealth.embed_stealth(noise(20, 30), "hello", mode="rgb", compressed=True)
    px = im.load()
    bits = [px[x, y][c] & 1 for x in range(im.width) for y in range(im.height) for c in range(3)]
    data = bytes(int("".join(map(str, bits[i:i + 8])), 2) for i in range(0, len(bits) - 7, 8))
    assert data[:15] == b"stealth_rgbcomp"
    (n,) = struct.unpack(">I", data[15:19])
    assert gzip.decompress(data[19:19 + n // 8]).decode() == "hello"


def test_plain_images_have_none() -> None:
    assert stealth.read_stealth(noise(mode="RGBA")) is None
    assert stealth.read_stealth(Image.new("RGB", (3, 3))) is None


def test_lying_length_is_an_error_not_a_huge_read() -> None:
    im = stealth.embed_stealth(noise(), "abc", compressed=False)
    arr = np.array(im)
    cols = arr.transpose(1, 0, 2)
    flat = cols[:, :, 3].reshape(-1).copy()
    bits = np.unpackbits(np.frombuffer(struct.pack(">I", 0xFFFFFFF8), dtype=np.uint8))
    flat[120:152] = 254 | bits
    cols[:, :, 3] = flat.reshape(cols.shape[0], cols.shape[1])
    with pytest.raises(ContainerError, match="claims"):
        stealth.read_stealth(Image.fromarray(arr, "RGBA"))


def test_corrupt_gzip_is_an_error() -> None:
    im = stealth.embed_stealth(noise(), "abcdefgh" * 4, compressed=True)
    arr = np.array(im)
    cols = arr.transpose(1, 0, 2)
    flat = cols[:, :, 3].reshape(-1).copy()
    flat[152 + 40:152 + 200] ^= 1  # flip bits inside the gzip stream
    cols[:, :, 3] = flat.reshape(cols.shape[0], cols.shape[1])
    with pytest.raises(ContainerError, match="gzip"):
        stealth.read_stealth(Image.fromarray(arr, "RGBA"))


def test_too_small_image() -> None:
    with pytest.raises(UsageError, match="too small"):
        stealth.embed_stealth(Image.new("RGB", (4, 4)), TEXT)


def test_write_then_strip_reads_back_same_params(tmp_path: Path) -> None:
    path = tmp_path / "img.png"
    noise(64, 48).save(path)
    params = GenParams(prompt="a cat, テスト", negative_prompt="dog", steps=20, sampler="Euler a",
                       cfg_scale=7.0, seed=5, width=64, height=48)
    api.write(path, params, stealth=True)
    before = api.read(path).params
    removed = api.strip(path)
    assert removed
    raw = api.read_raw(path)
    assert not [e for e in raw.entries if e.text]
    after = api.read(path)
    assert after.params is not None
    for field in ("prompt", "negative_prompt", "steps", "sampler", "cfg_scale", "seed",
                  "width", "height"):
        assert getattr(after.params, field) == getattr(before, field) == getattr(params, field)
    assert any(e.location == "stealth:stealth_pngcomp" for e in after.raw.entries)


def test_write_stealth_keeps_other_chunks(tmp_path: Path) -> None:
    from PIL import PngImagePlugin

    path = tmp_path / "img.png"
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "keep me")
    noise(40, 40).save(path, pnginfo=info)
    stealth.write_stealth(path, "hidden")
    with Image.open(path) as im:
        assert im.info["Comment"] == "keep me"
        assert im.mode == "RGBA"
    assert stealth.read_stealth(path) == ("stealth_pngcomp", "hidden")


def test_write_stealth_refuses_jpeg(tmp_path: Path) -> None:
    path = tmp_path / "img.jpg"
    noise().save(path)
    with pytest.raises(UsageError):
        stealth.write_stealth(path, "x")


def test_lossless_webp_carries_stealth(tmp_path: Path) -> None:
    path = tmp_path / "img.webp"
    stealth.embed_stealth(noise(), TEXT).save(path, lossless=True)
    assert stealth.read_stealth(path) == ("stealth_pngcomp", TEXT)
    rec = api.read(path, stealth=True)
    assert rec.params is not None and rec.params.seed == 5
