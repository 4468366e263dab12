"""EXIF UserComment decoding across every writer's variant (docs/formats.md#exif-usercomment)."""

from __future__ import annotations

import piexif
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gendata.containers.exif import (
    decode_user_comment,
    encode_user_comment,
    exif_entries,
    set_user_comment,
)

from ..helpers import build_tiff

TEXT = "a cat, テスト\nSteps: 20, Sampler: Euler a, Seed: 1"


@pytest.mark.parametrize("value", [
    b"UNICODE\0" + TEXT.encode("utf-16-be"),            # A1111 / piexif
    b"UNICODE\0" + TEXT.encode("utf-16-le"),            # SwarmUI
    b"UNICODE\0" + b"\xff\xfe" + TEXT.encode("utf-16-le"),  # with BOM
    b"UNICODE\0" + TEXT.encode("utf-8"),                # some tools put UTF-8 there
    b"ASCII\0\0\0" + TEXT.encode("utf-8"),              # NovelAI WebP
    b"\0" * 8 + TEXT.encode("utf-16-be"),               # undefined prefix
    b"\0" * 8 + TEXT.encode("utf-8"),
    TEXT.encode("utf-8"),                               # no prefix at all
    b"UNICODE\0" + TEXT.encode("utf-16-be") + b"\0\0",  # trailing NUL
])
def test_user_comment_variants_decode(value: bytes) -> None:
    assert decode_user_comment(value) == TEXT


def test_byte_swapped_mojibake_is_repaired() -> None:
    swapped = TEXT.encode("utf-16-le").decode("utf-16-be")
    assert decode_user_comment(b"\0" * 8 + swapped.encode("utf-8")) == TEXT


def test_encode_is_what_a1111_writes() -> None:
    assert encode_user_comment("ab") == b"UNICODE\0\0a\0b"


@pytest.mark.parametrize("order", ["MM", "II"])
def test_user_comment_in_ifd0_is_found(order: str) -> None:
    """Fooocus: tag 0x9286 in IFD0 as a NUL-terminated ASCII string."""
    block = build_tiff({0x9286: (2, b"Steps: 1, Sampler: x, Seed: 2\0")}, order=order)
    (entry,) = [e for e in exif_entries(block, "jpeg") if e.key == "UserComment"]
    assert entry.text == "Steps: 1, Sampler: x, Seed: 2"


@pytest.mark.parametrize("order", ["MM", "II"])
def test_exif_ifd_wins_over_ifd0(order: str) -> None:
    block = build_tiff({0x9286: (2, b"stray\0")}, {0x9286: (7, encode_user_comment("right"))},
                       order=order)
    (entry,) = [e for e in exif_entries(block, "jpeg") if e.key == "UserComment"]
    assert entry.text == "right"


def test_set_user_comment_keeps_other_tags() -> None:
    block = piexif.dump({"0th": {piexif.ImageIFD.Software: b"paint", piexif.ImageIFD.Make: b"cam"},
                         "Exif": {piexif.ExifIFD.UserComment: b"ASCII\0\0\0old"}})
    new = set_user_comment(block[6:], TEXT)
    texts = {e.key: e.text for e in exif_entries(new, "jpeg")}
    assert texts == {"Software": "paint", "Make": "cam", "UserComment": TEXT}
    removed = set_user_comment(new, None)
    assert "UserComment" not in {e.key for e in exif_entries(removed, "jpeg")}


def test_garbage_exif_is_reported_not_raised() -> None:
    from gendata.errors import ContainerError

    with pytest.raises(ContainerError):
        exif_entries(b"XX\0\0garbage", "jpeg")
    # offsets pointing outside the block are skipped, not trusted
    block = bytearray(piexif.dump({"0th": {piexif.ImageIFD.Software: b"a long software name"}}))
    block[6 + 8 + 2 + 8:6 + 8 + 2 + 12] = b"\xff\xff\xff\x00"
    assert exif_entries(bytes(block[6:]), "jpeg") == []


def _unswap_reference(text: str) -> str:
    """The rule _unswap implements, written out character by character."""
    if len(text) < 4:
        return text
    swapped = sum(1 for c in text if ord(c) > 0xFF and not ord(c) & 0xFF)
    if swapped * 2 < len(text):
        return text
    try:
        return text.encode("utf-16-be").decode("utf-16-le")
    except UnicodeError:
        return text


@given(st.text(alphabet=st.sampled_from(
    [chr(c) for c in (0x41, 0x61, 0x20, 0xE9, 0x100, 0x4D00, 0x6100, 0x2000, 0xD800, 0xFF00,
                      0x732B, 0x10000, 0x10100, 0x10101)]), max_size=12))
def test_unswap_matches_its_rule(text: str) -> None:
    from gendata.containers.exif import _unswap

    assert _unswap(text) == _unswap_reference(text)


@pytest.mark.parametrize("text", ["абв", "Ā", "ąčę, Steps: 20", "猫の城", "hello 猫", "😀 x",
                                  "Ελληνικά", "plain, Steps: 20"])
def test_user_comment_round_trips_any_script(text: str) -> None:
    """UTF-16 of Cyrillic, Greek or Latin Extended has no NUL bytes; it must not be taken for
    UTF-8, nor a lone U+0100 for little-endian U+0001."""
    from gendata.containers.exif import decode_user_comment, encode_user_comment

    assert decode_user_comment(encode_user_comment(text)) == text
