"""Editing the EXIF UserComment changes that tag only: every other tag (known to any library
or not), its value, the byte order and every offset stay valid (issue 11, data loss)."""

from __future__ import annotations

import io
import struct
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import gendata
from gendata.containers import tiff
from gendata.containers.exif import (
    decode_user_comment,
    encode_user_comment,
    exif_entries,
    set_user_comment,
)

from ..helpers import build_png, build_tiff, jpeg_scan_data, tiny_png_chunks
from .exif_blocks import build, camera_block, jpeg_with, pillow_tags, without_user_comment

TEXT = "a cat, 城\nNegative prompt: dog\nSteps: 20, Sampler: Euler a, Seed: 1"
EXIF_ID = b"Exif\0\0"


def _user_comment(block: bytes) -> str | None:
    return next((e.text for e in exif_entries(block, "jpeg") if e.key == "UserComment"), None)


def _changed_ranges(old: bytes, new: bytes) -> list[tuple[int, int]]:
    """Byte ranges of `old` that differ in `new` (compared over the old length)."""
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(old):
        if old[i] != new[i]:
            j = i
            while j < len(old) and old[j] != new[j]:
                j += 1
            out.append((i, j))
            i = j
        else:
            i += 1
    return out


@pytest.mark.parametrize("order", ["II", "MM"])
@pytest.mark.parametrize("old", [b"UNICODE\0" + "old prompt, much longer than the new one "
                                  "or not".encode("utf-16-be"), b"ASCII\0\0\0x"])
def test_set_keeps_every_other_tag_and_the_byte_order(order: str, old: bytes) -> None:
    block = camera_block(order, user_comment=old)
    new = set_user_comment(block, TEXT)
    assert new is not None
    assert without_user_comment(pillow_tags(new)) == without_user_comment(pillow_tags(block))
    assert new[:2] == order.encode()
    assert _user_comment(new) == TEXT
    # patched, not rebuilt: of the old bytes only the UserComment entry and old value changed
    uc = next(t for i in tiff.parse(block).ifds for t in i.tags if t.tag == 0x9286)
    allowed = [(uc.at + 4, uc.at + 12), (uc.value_at, uc.value_at + len(old))]
    for start, end in _changed_ranges(block, new[:len(block)]):
        assert any(a <= start and end <= b for a, b in allowed), (start, end)


@pytest.mark.parametrize("order", ["II", "MM"])
def test_a_block_without_user_comment_gains_one(order: str) -> None:
    block = camera_block(order)
    new = set_user_comment(block, TEXT)
    assert new is not None and new[:2] == order.encode()
    assert without_user_comment(pillow_tags(new)) == pillow_tags(block)
    assert _user_comment(new) == TEXT
    assert pillow_tags(new)["Exif"][0x9286].startswith(b"UNICODE\0")


@pytest.mark.parametrize("order", ["II", "MM"])
def test_a_block_without_exif_ifd_gains_one(order: str) -> None:
    block = build({"IFD0": {0x010F: (2, b"Canon\0"), 0xC4A5: (7, b"PrintIM\0" + bytes(20))}},
                  order)
    new = set_user_comment(block, TEXT)
    assert new is not None
    tags = pillow_tags(new)
    assert tags["IFD0"] == pillow_tags(block)["IFD0"]
    assert _user_comment(new) == TEXT
    assert new.startswith(block[:4])


@pytest.mark.parametrize("order", ["II", "MM"])
def test_remove_leaves_no_trace_of_the_text(order: str) -> None:
    old = encode_user_comment("secret prompt that must go")
    block = camera_block(order, user_comment=old)
    new = set_user_comment(block, None)
    assert new is not None
    assert old[8:] not in new
    assert without_user_comment(pillow_tags(block)) == pillow_tags(new)
    assert _user_comment(new) is None


def test_removing_the_last_tag_drops_the_block() -> None:
    block = build({"IFD0": {}, "Exif": {0x9286: (7, encode_user_comment("only this"))}}, "II")
    assert set_user_comment(block, None) is None


def test_an_exif_header_in_front_is_kept() -> None:
    block = EXIF_ID + camera_block("II", user_comment=encode_user_comment("x"))
    new = set_user_comment(block, TEXT)
    assert new is not None and new.startswith(EXIF_ID + b"II")


@pytest.mark.parametrize("order", ["MM", "II"])
def test_every_user_comment_gets_the_text_and_ascii_stays_ascii(order: str) -> None:
    """Fooocus: an ASCII UserComment in IFD0; with another in the Exif IFD both change."""
    block = build_tiff({0x9286: (2, b"Steps: 1, Sampler: x, Seed: 2\0")},
                       {0x9286: (7, encode_user_comment("Steps: 1, Sampler: x, Seed: 2"))},
                       order=order)
    new = set_user_comment(block, "Steps: 3, Sampler: y, Seed: 4")
    assert new is not None
    found = {(t.ifd, t.type) for i in tiff.parse(new).ifds for t in i.tags if t.tag == 0x9286}
    assert found == {("IFD0", 2), ("Exif", 7)}
    texts = [decode_user_comment(new[t.value_at:t.value_at + t.nbytes]) if t.type == 7 else
             new[t.value_at:t.value_at + t.nbytes].rstrip(b"\0").decode()
             for i in tiff.parse(new).ifds for t in i.tags if t.tag == 0x9286]
    assert texts == ["Steps: 3, Sampler: y, Seed: 4"] * 2


def _hostile_block() -> bytes:
    """A UserComment entry declaring 2^32-1 values, the rest a valid small block."""
    block = bytearray(build({"IFD0": {0x010F: (2, b"cam\0")},
                             "Exif": {0x9286: (7, encode_user_comment("x" * 8))}}, "MM"))
    uc = next(t for i in tiff.parse(bytes(block)).ifds for t in i.tags if t.tag == 0x9286)
    struct.pack_into(">I", block, uc.at + 4, 0xFFFFFFFF)
    return bytes(block)


def test_a_huge_declared_count_costs_nothing() -> None:
    block = _hostile_block()
    tracemalloc.start()
    try:
        entries = exif_entries(block, "jpeg")
        new = set_user_comment(block, TEXT)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "UserComment" not in {e.key for e in entries}  # not in the block: skipped
    assert peak < 1 << 20
    assert new is not None and _user_comment(new) == TEXT


def test_set_on_a_700_byte_hostile_jpeg(tmp_path: Path) -> None:
    p = tmp_path / "hostile.jpg"
    p.write_bytes(jpeg_with(EXIF_ID + _hostile_block()))
    assert p.stat().st_size < 1000
    start = time.perf_counter()
    tracemalloc.start()
    try:
        gendata.write_text(p, "a\nSteps: 2, Sampler: Euler, Seed: 3")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 5
    assert peak < 8 << 20
    assert gendata.read(p).params.seed == 3


def test_jpeg_keeps_a_second_exif_segment_and_the_rest(tmp_path: Path) -> None:
    first = EXIF_ID + camera_block("II", user_comment=encode_user_comment("old"))
    second = EXIF_ID + build({"IFD0": {0x0131: (2, b"second block\0")}}, "MM")
    p = tmp_path / "two.jpg"
    p.write_bytes(jpeg_with(first, second, comment=b"a comment"))
    before = p.read_bytes()
    gendata.write_text(p, TEXT)
    after = p.read_bytes()
    seg2 = b"\xff\xe1" + struct.pack(">H", len(second) + 2) + second
    assert seg2 in after
    assert b"\xff\xfe\x00\x0ba comment" in after
    assert jpeg_scan_data(after) == jpeg_scan_data(before)
    with Image.open(p) as im:
        block = im.info["exif"][6:]
    assert block[:2] == b"II"
    assert without_user_comment(pillow_tags(block)) == without_user_comment(
        pillow_tags(first[6:]))
    assert gendata.read(p).params.prompt == TEXT.split("\n")[0]


def test_webp_exif_keeps_its_tags_and_byte_order(tmp_path: Path) -> None:
    block = camera_block("II", user_comment=encode_user_comment("old\nSteps: 1, Seed: 2"))
    p = tmp_path / "a.webp"
    Image.new("RGB", (16, 16), (1, 2, 3)).save(p, "WEBP", lossless=True, exif=EXIF_ID + block)
    gendata.write_text(p, TEXT)
    with Image.open(p) as im:
        new = im.info["exif"]
    new = new[6:] if new.startswith(EXIF_ID) else new
    assert new[:2] == b"II"
    assert without_user_comment(pillow_tags(new)) == without_user_comment(pillow_tags(block))
    assert gendata.read(p).params.seed == 1


def test_png_exif_keeps_its_tags(tmp_path: Path) -> None:
    block = camera_block("II", user_comment=encode_user_comment(TEXT))
    chunks = tiny_png_chunks()
    chunks.insert(1, (b"tEXt", b"parameters\0" + TEXT.encode("latin-1", "replace")))
    chunks.insert(1, (b"eXIf", block))
    p = tmp_path / "a.png"
    p.write_bytes(build_png(chunks))
    # the two copies agree only once both hold the same text
    gendata.write_text(p, TEXT)
    rec = gendata.read(p)
    gendata.write(p, gendata.update(rec.params, {"seed": 77}))
    rec = gendata.read(p)
    assert rec.params.seed == 77
    assert rec.raw.text("parameters") == rec.raw.text("UserComment")
    eXIf = next(e.data for e in rec.raw.entries if e.location == "eXIf")
    assert eXIf[:2] == b"II"
    assert without_user_comment(pillow_tags(eXIf)) == without_user_comment(pillow_tags(block))


_TAG = st.integers(min_value=0x0100, max_value=0xFFFF).filter(
    lambda t: t not in (0x8769, 0x8825, 0xA005, 0x9286, 0x014A))


@settings(max_examples=60, deadline=None)
@given(order=st.sampled_from(["II", "MM"]),
       ifd0=st.dictionaries(_TAG, st.binary(min_size=1, max_size=40), max_size=6),
       exif=st.dictionaries(_TAG, st.binary(min_size=1, max_size=40), max_size=6),
       text=st.text(max_size=60) | st.none())
def test_any_block_keeps_its_other_tags(order: str, ifd0: dict[int, bytes],
                                         exif: dict[int, bytes], text: str | None) -> None:
    block = build({"IFD0": {k: (7, v) for k, v in ifd0.items()},
                   "Exif": {**{k: (7, v) for k, v in exif.items()},
                            0x9286: (7, encode_user_comment("old"))}}, order)
    new = set_user_comment(block, text)
    if new is None:
        assert not ifd0 and not exif and text is None
        return
    assert without_user_comment(pillow_tags(new)) == without_user_comment(pillow_tags(block))
    assert _user_comment(new) == (text.rstrip("\0") if text is not None else None)


def test_pillow_can_still_decode_the_edited_jpeg(tmp_path: Path) -> None:
    p = tmp_path / "c.jpg"
    p.write_bytes(jpeg_with(EXIF_ID + camera_block("II")))
    gendata.write_text(p, TEXT)
    with Image.open(io.BytesIO(p.read_bytes())) as im:
        im.load()
        assert im.getexif()[0x010F] == "Nikon"


def test_a_damaged_first_exif_segment_is_skipped_for_a_sound_one(tmp_path: Path) -> None:
    damaged = EXIF_ID + b"XX\0*garbage that is no TIFF"
    sound = EXIF_ID + camera_block("MM")
    p = tmp_path / "d.jpg"
    p.write_bytes(jpeg_with(damaged, sound))
    gendata.write_text(p, TEXT)
    after = p.read_bytes()
    assert b"\xff\xe1" + struct.pack(">H", len(damaged) + 2) + damaged in after
    assert gendata.read(p).params.seed == 1
