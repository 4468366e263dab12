"""The pixel-block container (docs/formats.md#the-pixel-blocks): keystream, sizing, layout and
decoding."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst

from gendata.containers import ti_blocks as tb
from gendata.errors import ContainerError

# A1111's own reference values for its LCG (image_embedding.py self-test).
A1111_FIRST_100 = [
    253, 242, 127, 44, 157, 27, 239, 133, 38, 79, 167, 4, 177, 95, 130, 79, 78, 14, 52, 215,
    220, 194, 126, 28, 240, 179, 160, 153, 149, 50, 105, 14, 21, 218, 199, 18, 54, 198, 193, 38,
    128, 19, 53, 195, 124, 75, 205, 12, 6, 145, 0, 28, 30, 148, 8, 45, 218, 171, 55, 249, 97,
    166, 12, 35, 0, 41, 221, 122, 215, 170, 31, 113, 186, 97, 119, 31, 23, 185, 66, 140, 30, 41,
    37, 63, 137, 109, 216, 55, 159, 145, 82, 204, 86, 73, 222, 44, 198, 118, 240, 97,
]  # fmt: skip


def _lcg_reference(n: int) -> list[int]:
    state, out = 0, []
    for _ in range(n):
        state = (1664525 * state + 1013904223) % 2**32
        out.append(state % 255)
    return out


def test_keystream_matches_a1111_reference_values() -> None:
    stream = tb.keystream(100 + 100_000)
    assert stream[:100].tolist() == A1111_FIRST_100
    assert int(stream[100:].astype(np.int64).sum()) == 12731374


@pytest.mark.parametrize("n", [0, 1, 2, 3, 5, 1000, 4097])
def test_keystream_jump_ahead_equals_plain_loop(n: int) -> None:
    assert tb.keystream(n).tolist() == _lcg_reference(n)


@pytest.mark.parametrize(
    ("n", "h", "expected"),
    [
        (7, 4, 12),  # 7 -> 8 (next multiple of 4) -> 12 (next multiple of 12)
        (8, 4, 24),  # 8 is a multiple of 4: a whole extra 4 -> 12, then a whole extra 12
        (10, 4, 24),  # 10 -> 12, already a multiple of 12 -> 24
        (13, 4, 24),  # 13 -> 16 -> 24
        (58135, 512, 59904),  # the Forge test card: 39 columns of 512 rows x 3 channels
    ],
)
def test_block_size_rounds_like_a1111(n: int, h: int, expected: int) -> None:
    assert tb.block_size(n, h) == expected


def test_encode_lays_out_nibbles_cyclically_with_obfuscated_low_nibbles() -> None:
    payload = b"hello embedding card" * 3
    low, high = tb.encode_blocks(payload, 16)
    data = np.frombuffer(zlib.compress(payload, 9), np.uint8)
    size = tb.block_size(data.size, 16)
    assert low.shape == high.shape == (16, size // 48, 3)
    key = tb.keystream(size) & 0x0F
    assert ((low.reshape(-1) & 0x0F) ^ key).tolist() == np.resize(data & 0x0F, size).tolist()
    assert ((high.reshape(-1) & 0x0F) ^ key).tolist() == np.resize(data >> 4, size).tolist()
    # Without shades the decoration is blank: upper nibbles stay zero.
    assert not (low & 0xF0).any() and not (high & 0xF0).any()


def test_decoration_touches_only_upper_nibbles_and_mirrors_shades() -> None:
    shades = np.arange(0, 256, 7, dtype=np.uint8)
    low, high = tb.encode_blocks(b"x" * 500, 40, shades)
    plain_low, plain_high = tb.encode_blocks(b"x" * 500, 40)
    assert ((low & 0x0F) == (plain_low & 0x0F)).all()
    assert ((high & 0x0F) == (plain_high & 0x0F)).all()
    assert (low & 0xF0).any()
    assert (low & 0xF0).tolist() == tb.decoration(low.shape[:2], shades).tolist()
    assert (high & 0xF0).tolist() == tb.decoration(high.shape[:2], shades[::-1]).tolist()


def _card(payload: bytes, picture: np.ndarray, shades: np.ndarray | None = None) -> np.ndarray:
    low, high = tb.encode_blocks(payload, picture.shape[0], shades)
    return tb.compose(low, picture, high)


def _inflate(card: np.ndarray) -> bytes:
    data = tb.decode_blocks(card, strict=True)
    assert data is not None
    return tb.inflate(data)


@settings(max_examples=40, deadline=None)
@given(
    payload=hst.binary(min_size=0, max_size=3000),
    height=hst.integers(min_value=8, max_value=80),
    width=hst.integers(min_value=1, max_value=30),
)
def test_round_trip_any_payload(payload: bytes, height: int, width: int) -> None:
    rng = np.random.default_rng(len(payload) * 131 + height)
    picture = rng.integers(1, 256, size=(height, width, 3), dtype=np.uint8)
    assert _inflate(_card(payload, picture, np.array([200, 17], np.uint8))) == payload


def test_picture_with_black_columns_and_borders_still_decodes() -> None:
    picture = np.full((64, 50, 3), 255, np.uint8)
    picture[:, 10:14] = 0  # black stripes inside the picture are all-zero-nibble columns too
    picture[:, 30] = 16  # low nibble zero, not black
    payload = b'{"a": 1}' * 200
    card = _card(payload, picture)
    assert _inflate(card) == payload
    framed = np.zeros((64 + 10, card.shape[1] + 12, 3), np.uint8)  # black frame, cropped away
    framed[5:-5, 6:-6] = card
    assert _inflate(framed) == payload


def test_mirrored_separator_pair_is_found_when_a_data_column_is_zero() -> None:
    payload = bytes(range(256)) * 4
    picture = np.full((32, 20, 3), 200, np.uint8)
    card = _card(payload, picture)
    w = (card.shape[1] - 22) // 2
    # Force the low nibbles of one column of the right block to zero: A1111's "last zero
    # column" would land inside the data; the mirrored-pair search still finds the layout.
    broken = card.copy()
    broken[:, -3] &= 0xF0
    broken[:, -3] |= 0x10  # keep pixels non-black so cropping does not change
    low, high = tb.find_blocks(broken)
    assert low.shape == high.shape == (32, w, 3)


def test_ordinary_pictures_have_no_blocks() -> None:
    rng = np.random.default_rng(1)
    photo = rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8)
    assert tb.decode_blocks(photo) is None
    assert tb.decode_blocks(np.zeros((10, 10, 3), np.uint8)) is None
    striped = np.full((20, 30, 3), 255, np.uint8)
    striped[:, 5] = 0
    striped[:, 20] = 0
    assert tb.decode_blocks(striped) is None  # two zero columns but no zlib stream
    with pytest.raises(ContainerError, match="do not start with a zlib stream"):
        tb.decode_blocks(striped, strict=True)


def test_unequal_blocks_are_damage() -> None:
    payload = np.random.default_rng(5).integers(0, 256, 2000, dtype=np.uint8).tobytes()
    card = _card(payload, np.full((16, 10, 3), 99, np.uint8))
    w = (card.shape[1] - 12) // 2
    assert w > 2
    cut = card[:, : card.shape[1] - 1]  # the right block loses its last column
    with pytest.raises(ContainerError, match="damaged"):
        tb.decode_blocks(cut)


def test_inflate_caps_output_and_reports_truncation_and_corruption() -> None:
    bomb = zlib.compress(b"\0" * 2_000_000, 9)
    with pytest.raises(ContainerError, match="more than 1000000 bytes"):
        tb.inflate(bomb, 1_000_000)
    assert tb.inflate(bomb, 2_000_000) == b"\0" * 2_000_000
    good = zlib.compress(b"some json text" * 100, 9)
    with pytest.raises(ContainerError, match="truncated"):
        tb.inflate(good[: len(good) // 2])
    with pytest.raises(ContainerError, match="corrupt"):
        tb.inflate(good[:2] + bytes(b ^ 0x5A for b in good[2:]))
    assert tb.inflate(good + b"trailing padding") == b"some json text" * 100


def test_looks_like_zlib() -> None:
    assert tb.looks_like_zlib(zlib.compress(b"x", 9))
    assert tb.looks_like_zlib(zlib.compress(b"x", 1))
    assert not tb.looks_like_zlib(b"\x78\x00")
    assert not tb.looks_like_zlib(b"x")
