"""Memory is bounded by the caps in docs/guide.md#limits, whatever a file declares: text is
inflated only up to its cap, and pixels are decoded only after the header's size is checked,
and then only those a reader needs. Python-level allocations (bytes, str, numpy arrays) are
measured with tracemalloc."""

from __future__ import annotations

import io
import re
import time
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from gendata import api
from gendata.containers import open_raw, png, stealth
from gendata.errors import ContainerError
from gendata.ti import read_card
from gendata.tui import thumbs

from . import builders

MiB = 1 << 20


def peak(call: Callable[[], Any]) -> tuple[Any, int, float]:
    """(result or raised exception, peak traced bytes, seconds) of `call()`."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        result: Any = call()
    except Exception as exc:  # the caller asserts on it
        result = exc
    took = time.perf_counter() - start
    _size, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, top, took


def test_many_ztxt_stop_at_the_file_cap(tmp_path: Path) -> None:
    """3.5 MB of zTXt that inflate to 3.5 GB: reading stops at 64 MiB of text."""
    path = builders.ztxt_many(tmp_path)
    result, top, took = peak(lambda: open_raw(path))
    assert isinstance(result, ContainerError)
    assert "would pass 64 MiB" in str(result)
    assert top < 3 * png.MAX_TOTAL_TEXT and took < 10


def test_one_chunk_bomb_stops_at_the_chunk_cap(tmp_path: Path) -> None:
    path = builders.itxt_one_gib(tmp_path)
    result, top, _ = peak(lambda: open_raw(path))
    assert isinstance(result, ContainerError) and "inflates past 32 MiB" in str(result)
    assert top < 2 * png.MAX_TEXT_BYTES + 8 * MiB


def test_text_chunk_longer_than_the_cap_is_not_read(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(png, "MAX_TEXT_BYTES", 1000)
    path = tmp_path / "long.png"
    path.write_bytes(builders.png(builders.text("parameters", "x" * 2000)))
    with pytest.raises(ContainerError, match="holds 2011 bytes; more than the"):
        open_raw(path)


def test_text_under_the_caps_is_read(tmp_path: Path) -> None:
    """Big but legal: 20 MiB of workflow in one chunk, 40 MiB of text in all."""
    plain = b"[" + b"1," * (10 * MiB - 1) + b"1]"
    big = zlib.compress(plain, 9)
    path = tmp_path / "big.png"
    path.write_bytes(builders.png(builders.ztxt("workflow", big), builders.ztxt("other", big)))
    raw = open_raw(path)
    assert [len(e.text or "") for e in raw.entries] == [len(plain), len(plain)]


def test_stealth_scan_of_a_huge_image_reads_a_few_rows(tmp_path: Path) -> None:
    """13000 x 13000 RGBA and no text: the scan decodes the 152 rows its signature needs."""
    path = builders.huge_rgba(tmp_path)
    result, top, took = peak(lambda: stealth.read_stealth(path))
    assert result is None
    assert top < 48 * MiB and took < 10
    rec = api.read(path)
    assert rec.raw is not None and not rec.warnings


def test_stealth_payload_past_the_pixel_cap_is_refused(tmp_path: Path) -> None:
    path = builders.huge_rgba_stealth(tmp_path)
    result, top, _ = peak(lambda: stealth.read_stealth(path))
    assert isinstance(result, ContainerError) and "pixels gendata decodes" in str(result)
    assert top < 48 * MiB
    rec = api.read(path)  # a warning, not a failure
    assert rec.error is None and any("stealth payload" in w for w in rec.warnings)


@pytest.mark.parametrize("build", [builders.huge_webp, builders.lying_header])
def test_lying_sizes_are_refused_before_decoding(tmp_path: Path,
                                                 build: Callable[[Path], Path]) -> None:
    path = build(tmp_path)
    result, top, took = peak(lambda: stealth.read_stealth(path))
    assert isinstance(result, ContainerError)
    assert top < 16 * MiB and took < 5


def test_stealth_in_a_tall_png_reads_only_the_columns_it_fills(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    base = Image.fromarray(rng.integers(0, 256, (3000, 400, 4), dtype=np.uint8), "RGBA")
    text = "a cat\nSteps: 20, Seed: 1, " + "x" * 3000
    for mode in ("alpha", "rgb"):
        path = tmp_path / f"{mode}.png"
        stealth.embed_stealth(base, text, mode=mode, compressed=False).save(path)
        with Image.open(path) as im:
            im.load()
            assert stealth.read_stealth(im) == stealth.read_stealth(path)
        assert stealth.read_stealth(path)[1] == text


def test_ti_info_reads_pixels_without_pillows_text_limits(tmp_path: Path) -> None:
    """A PNG with a 2 MiB workflow chunk (over Pillow's 1 MiB text limit) is not a card, and
    says so rather than failing in Pillow."""
    wf = zlib.compress(b'{"nodes": [' + b"0," * MiB + b"0]}", 9)
    path = tmp_path / "comfy.png"
    path.write_bytes(builders.png(builders.ztxt("workflow", wf)))
    assert read_card(path) is None


def test_previews_refuse_huge_images(tmp_path: Path) -> None:
    path = builders.huge_rgba(tmp_path)
    result, top, took = peak(lambda: thumbs.render(str(path), 20, 10))
    assert "no preview" in str(result) and took < 5 and top < 16 * MiB
    with pytest.raises(ContainerError, match="pixels gendata decodes"):
        thumbs.downscaled(str(path))
    small = tmp_path / "small.png"
    Image.new("RGB", (40, 20), (255, 0, 0)).save(small)
    assert "no preview" not in str(thumbs.render(str(small), 20, 10))
    assert thumbs.downscaled(str(small)).size == (40, 20)


def test_big_text_is_drawn_cut_short(tmp_path: Path) -> None:
    """`show` draws the first 100,000 characters of a 3 MB prompt and says so."""
    from click.testing import CliRunner

    from gendata.cli import main

    path = tmp_path / "long.png"
    path.write_bytes(builders.png(builders.ztxt("parameters", zlib.compress(
        ("word " * 600_000 + "\nSteps: 20, Seed: 1").encode(), 9))))
    start = time.perf_counter()
    out = CliRunner().invoke(main, ["show", str(path)]).output
    assert time.perf_counter() - start < 10
    assert re.search(r"… 2,899,999 more characters \(--json shows all\)",
                     re.sub(r"[\s│]+", " ", out))
    assert len(out) < 200_000
    buf = io.StringIO(CliRunner().invoke(main, ["show", "--json", str(path)]).output)
    assert len(buf.getvalue()) > 3_000_000
