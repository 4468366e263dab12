"""PNG reading looks for text after the image data at the file's end before walking IDATs.

The tail is trusted only when it is conclusive; every other layout must read exactly as the
chunk-by-chunk walk reads it, which these tests check by reading each file both ways.
"""

from __future__ import annotations

import io
import os
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from gendata.containers import open_raw, png
from gendata.errors import ContainerError

from ..helpers import build_png, png_chunks


def _pillow_png(size: tuple[int, int] = (300, 300), text: str = "a cat\nSteps: 20") -> bytes:
    """A noisy picture as A1111 saves it: Pillow's encoder, 64 KiB IDAT chunks."""
    rng = random.Random(size[0])
    noise = bytes(rng.getrandbits(8) for _ in range(size[0] * size[1] * 3))
    im = Image.frombytes("RGB", size, noise)
    info = PngInfo()
    info.add_text("parameters", text)
    buf = io.BytesIO()
    im.save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def _read_both(data: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple:
    """(what open_raw gives, what the walk alone gives): entries and warnings, or the error."""
    p = tmp_path / "x.png"
    p.write_bytes(data)

    def read() -> object:
        try:
            raw = open_raw(p)
        except ContainerError as exc:
            return str(exc)
        return raw.entries, raw.warnings, raw.width, raw.height

    fast = read()
    with monkeypatch.context() as m:
        m.setattr(png, "_ends_after_idat", lambda *a: False)
        walked = read()
    return fast, walked


class _Counting:
    """A read_at that records where it read."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.reads: list[tuple[int, int]] = []

    def __call__(self, offset: int, n: int) -> bytes:
        self.reads.append((offset, n))
        return self.data[offset:offset + n]


def test_pillow_file_reads_head_and_tail_only() -> None:
    data = _pillow_png((600, 600))
    idats = [c for c in png_chunks(data) if c[0] == b"IDAT"]
    assert len(idats) > 10  # what the walk would have stepped through
    reader = _Counting(data)
    raw = png.read_head("x.png", data[:png.HEAD_BYTES], len(data), reader)
    assert raw.text("parameters") == "a cat\nSteps: 20"
    assert len(reader.reads) <= 2
    assert all(offset > len(data) - 70_000 for offset, _ in reader.reads)


def test_pillow_file_reads_as_the_walk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for size in ((1, 1), (64, 64), (300, 300), (700, 500)):
        fast, walked = _read_both(_pillow_png(size), tmp_path, monkeypatch)
        assert fast == walked and not isinstance(fast, str)


def _insert_before_iend(data: bytes, *chunks: tuple[bytes, bytes]) -> bytes:
    parts = [(t, d) for t, d, _ in png_chunks(data)]
    return build_png(parts[:-1] + list(chunks) + parts[-1:])


@pytest.mark.parametrize("late", [
    [(b"tEXt", b"parameters\0after the image")],
    [(b"tIME", b"\x07\xe8\x01\x01\x00\x00\x00")],
    [(b"iTXt", "comment\0\0\0\0\0ユニコード".encode())],
    [(b"tEXt", b"a\0" + b"x" * 65524)],  # a text chunk exactly one IDAT stride long
])
def test_chunks_after_the_image_are_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          late: list[tuple[bytes, bytes]]) -> None:
    data = _insert_before_iend(_pillow_png(), *late)
    fast, walked = _read_both(data, tmp_path, monkeypatch)
    assert fast == walked
    entries = fast[0]
    assert entries[-1].after_idat and entries[-1].location == late[-1][0].decode()


def test_text_between_idat_chunks_is_found(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    parts = [(t, d) for t, d, _ in png_chunks(_pillow_png((300, 300)))]
    first = next(i for i, (t, _) in enumerate(parts) if t == b"IDAT")
    parts.insert(first + 1, (b"tEXt", b"sneaky\0between"))
    fast, walked = _read_both(build_png(parts), tmp_path, monkeypatch)
    assert fast == walked and fast[0][-1].key == "sneaky"


@pytest.mark.parametrize("damage", ["trailing", "cut", "cut_iend", "bad_iend", "iend_crc"])
def test_damaged_tails_read_as_the_walk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        damage: str) -> None:
    data = _pillow_png()
    data = {"trailing": data + b"\0" * 100, "cut": data[:-5000], "cut_iend": data[:-6],
            "bad_iend": data[:-12] + b"\0\0\0\0IEND\0\0\0\0",
            "iend_crc": data[:-1] + b"\0"}[damage]
    fast, walked = _read_both(data, tmp_path, monkeypatch)
    assert fast == walked


def _chunk_layouts(between: bool) -> st.SearchStrategy[bytes]:
    """PNGs with runs of IDAT chunks of equal or mixed sizes (small, and as large as
    encoders write them), text before and after them (`between`: also between them),
    trailing bytes and cuts."""
    text = st.tuples(st.just(b"tEXt"), st.binary(max_size=40).map(lambda b: b"k\0" + b))

    @st.composite
    def layout(draw: st.DrawFn) -> bytes:
        chunks = [(b"IHDR", bytes(13)), *draw(st.lists(text, max_size=2))]
        size = draw(st.one_of(st.integers(0, 300), st.integers(png.MIN_STRIDE - 12, 3000)))
        n = draw(st.integers(1, 6))
        same = draw(st.booleans())
        for i in range(n):
            length = size if same and i < n - 1 else draw(st.integers(0, size))
            chunks.append((b"IDAT", bytes([i]) * length))
            if between and i < n - 1 and draw(st.integers(0, 3)) == 0:
                chunks.append(draw(text))
        chunks += [*draw(st.lists(text, max_size=2)), (b"IEND", b"")]
        data = build_png(chunks) + draw(st.sampled_from([b"", b"", b"junk"]))
        cut = draw(st.integers(0, 3))
        return data[:len(data) - cut * 7] if cut else data

    return layout()


def _check_layout(data: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        fast, walked = _read_both(data, Path(tmp), mp)
    assert fast == walked


@settings(max_examples=400, deadline=None)
@given(_chunk_layouts(between=False))
def test_any_layout_reads_as_the_walk(data: bytes) -> None:
    _check_layout(data)


@settings(max_examples=300, deadline=None)
@given(_chunk_layouts(between=True).filter(lambda d: b"IDAT" in d))
def test_text_between_small_idat_chunks_reads_as_the_walk(data: bytes) -> None:
    """Text between IDAT chunks breaks the format; with chunks smaller than MIN_STRIDE, or
    whose sizes do not line up, it is still found."""
    _check_layout(data)


def test_open_raw_reads_big_text_beyond_the_head(tmp_path: Path) -> None:
    text = "long prompt " * 2000 + "\nSteps: 20"
    p = tmp_path / "big.png"
    p.write_bytes(_pillow_png((64, 64), text))
    assert os.path.getsize(p) > png.HEAD_BYTES
    assert open_raw(p).text("parameters") == text
