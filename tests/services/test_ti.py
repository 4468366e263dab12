"""The ti service: real A1111 card, round trips, stripped chunks, damage and hostile input."""

from __future__ import annotations

import base64
import csv
import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from gendata import ti
from gendata.containers import safetensors as st
from gendata.containers import ti_blocks as tb
from gendata.errors import ContainerError, ParseError, UsageError, ValidationError, WriteError

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"


@pytest.fixture(scope="module")
def forge_card() -> Path:
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.is_file():
        pytest.skip("shared corpus not available")
    with manifest.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if row["repo"].endswith("stable-diffusion-webui-forge") and row["path"].endswith(
                "test_embedding.png"
            ):
                return CORPUS / row["path"]
    pytest.skip("test_embedding.png not in the corpus manifest")


def _files(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*")}


def _cover(path: Path, size: tuple[int, int] = (48, 64), mode: str = "RGB") -> Path:
    rng = np.random.default_rng(size[0] * 7 + size[1])
    pixels = rng.integers(30, 256, size=(size[1], size[0], len(mode)), dtype=np.uint8)
    Image.fromarray(pixels, mode=mode).save(path)
    return path


def _emb_file(path: Path, tensors: dict[str, np.ndarray], **meta: str) -> Path:
    path.write_bytes(st.dumps(tensors, meta or None))
    return path


def _craft_card(
    path: Path,
    *,
    text: bytes | None,
    blocks: bytes | None,
    height: int = 64,
    compressed: bool = False,
) -> Path:
    """A card with arbitrary JSON in the text chunk and/or the pixel blocks."""
    picture = np.full((height, 40, 3), 180, np.uint8)
    if blocks is None:
        pixels = picture
    else:
        data = blocks if compressed else zlib.compress(blocks, 9)
        low, high = tb.layout_blocks(data, height)
        pixels = tb.compose(low, picture, high)
    info = PngImagePlugin.PngInfo()
    if text is not None:
        info.add_text(ti.TEXT_KEY, base64.b64encode(text).decode("ascii"))
    Image.fromarray(pixels).save(path, pnginfo=info)
    return path


def _strip_text(card: Path, out: Path) -> Path:
    with Image.open(card) as im:
        im.save(out)  # Pillow writes no text chunks unless asked: pixels only
    return out


def _a1111_json(tensor: list, name: str = "x") -> bytes:
    data = {
        "string_to_token": {"*": 265},
        "string_to_param": {"*": {"TORCHTENSOR": tensor}},
        "name": name,
        "step": 5,
        "sd_checkpoint": None,
        "sd_checkpoint_name": None,
    }
    return json.dumps(data).encode()


# --------------------------------------------------------------------------- real card


def test_real_card_decodes_by_both_routes_to_the_same_embedding(forge_card: Path) -> None:
    card = ti.read_card(forge_card, pixels="always")
    assert card is not None and card.text is not None and card.pixels is not None
    assert card.text.differences(card.pixels) == []
    for emb in (card.text, card.pixels):
        assert emb.name == "rick"
        assert emb.step == 60
        assert emb.arrays["*"].shape == (8, 768)
        assert emb.arrays["*"].dtype == np.float32
    assert np.array_equal(card.text.arrays["*"], card.pixels.arrays["*"])
    info = card.info()
    assert (info.token, info.vectors, info.width, info.family) == ("rick", 8, 768, "SD1")
    assert info.agree is True and info.warnings == ()


def test_real_card_extracts_identically_from_either_copy(forge_card: Path, tmp_path: Path) -> None:
    by_text = ti.extract(forge_card, tmp_path / "t.safetensors", source="text")
    by_pixels = ti.extract(forge_card, tmp_path / "p.safetensors", source="pixels")
    assert by_text.card.source == "text" and by_pixels.card.source == "pixels"
    assert by_text.output.read_bytes() == by_pixels.output.read_bytes()
    tensors, meta = st.load(by_text.output)
    assert list(tensors) == ["emb_params"] and tensors["emb_params"].shape == (8, 768)
    assert meta == {"name": "rick", "step": "60"}


def test_our_json_is_byte_identical_to_a1111s(forge_card: Path) -> None:
    with Image.open(forge_card) as im:
        original = base64.b64decode(im.info[ti.TEXT_KEY])
    emb = ti.loads_json(original)
    assert ti.dumps_json(emb) == original


def test_embed_reproduces_the_real_cards_pixels(forge_card: Path, tmp_path: Path) -> None:
    """Extract, then embed into the card's own picture: the same card comes out, except the
    padding after the zlib stream (this card's writer padded with zeros; A1111 today repeats
    the stream: docs/formats.md#the-pixel-blocks, step 3)."""
    with Image.open(forge_card) as im:
        real = np.asarray(im.convert("RGB"))
    low, _ = tb.find_blocks(real)
    w = low.shape[1]
    Image.fromarray(real[:, w + 1 : real.shape[1] - w - 1]).save(tmp_path / "picture.png")
    extracted = ti.extract(forge_card, tmp_path / "rick.safetensors")
    made = ti.embed(extracted.output, tmp_path / "picture.png", tmp_path / "card.png")
    with Image.open(made.output) as im:
        ours = np.asarray(im.convert("RGB"))
    assert ours.shape == real.shape
    # Decoration (upper nibbles) and picture: identical everywhere.
    assert np.array_equal(ours & 0xF0, real & 0xF0)
    assert np.array_equal(ours[:, w:-w], real[:, w:-w])
    # Data nibbles: identical for every byte of the zlib stream.
    n = len(zlib.compress(ti.dumps_json(extracted.embedding), 9))
    for side in (slice(0, w), slice(real.shape[1] - w, None)):
        assert np.array_equal(
            (ours[:, side] & 0x0F).reshape(-1)[:n], (real[:, side] & 0x0F).reshape(-1)[:n]
        )
    with Image.open(made.output) as im:
        assert im.info[ti.TEXT_KEY] == Image.open(forge_card).info[ti.TEXT_KEY]


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("vectors", [1, 8, 75])
@pytest.mark.parametrize("width", [768, 1024])
def test_extract_embed_round_trip_is_bit_exact(tmp_path: Path, vectors: int, width: int) -> None:
    rng = np.random.default_rng(vectors * 10_000 + width)
    original = (rng.standard_normal((vectors, width)) * 0.05).astype(np.float32)
    src = _emb_file(tmp_path / "in.safetensors", {"emb_params": original}, name="mytok")
    made = ti.embed(src, _cover(tmp_path / "cover.png"), tmp_path / "card.png")
    assert made.token == "mytok"
    for source in ("text", "pixels"):
        out = ti.extract(made.output, tmp_path / f"{source}.safetensors", source=source)
        back, meta = st.load(out.output)
        assert back["emb_params"].dtype == np.float32
        assert back["emb_params"].tobytes() == original.tobytes()
        assert meta["name"] == "mytok"
    assert ti.read_card(made.output).agree is True


def test_sdxl_pair_round_trip_keeps_clip_l_and_clip_g(tmp_path: Path) -> None:
    rng = np.random.default_rng(42)
    pair = {
        "clip_g": rng.standard_normal((4, 1280)).astype(np.float32),
        "clip_l": rng.standard_normal((4, 768)).astype(np.float32),
    }
    src = _emb_file(tmp_path / "xl.safetensors", pair, name="xl")
    made = ti.embed(src, _cover(tmp_path / "cover.png"), tmp_path / "xlcard.png")
    assert made.token == "xlcard"  # A1111 can only take the name from the file for SDXL
    assert any("SDXL" in w for w in made.warnings)
    with Image.open(made.output) as im:
        stored = json.loads(base64.b64decode(im.info[ti.TEXT_KEY]))
    assert list(stored) == ["clip_g", "clip_l"]  # nothing A1111 would choke on
    out = ti.extract(made.output, tmp_path / "back.safetensors", source="pixels")
    back, _ = st.load(out.output)
    assert sorted(back) == ["clip_g", "clip_l"]
    for key, arr in pair.items():
        assert back[key].tobytes() == arr.tobytes()
    info = ti.inspect(made.output)
    assert info is not None and info.family == "SDXL" and info.width is None
    assert info.to_json()["widths"] == {"clip_g": 1280, "clip_l": 768}


def test_diffusers_token_layout_and_one_dimensional_tensor(tmp_path: Path) -> None:
    vec = np.linspace(-1, 1, 768, dtype=np.float32)
    src = _emb_file(tmp_path / "learned_embeds.safetensors", {"<cat-toy>": vec})
    made = ti.embed(src, _cover(tmp_path / "c.png"), tmp_path / "card.png")
    assert made.token == "<cat-toy>"
    out = ti.extract(made.output, tmp_path / "d.safetensors", layout="token")
    back, _ = st.load(out.output)
    assert list(back) == ["<cat-toy>"] and back["<cat-toy>"].shape == (1, 768)
    assert back["<cat-toy>"][0].tobytes() == vec.tobytes()


def test_interop_with_reference_safetensors(tmp_path: Path) -> None:
    sn = pytest.importorskip("safetensors.numpy")
    vec = np.random.default_rng(7).standard_normal((3, 768)).astype(np.float32)
    src = tmp_path / "ref.safetensors"
    sn.save_file({"emb_params": vec}, str(src))
    made = ti.embed(src, _cover(tmp_path / "c.png"), tmp_path / "card.png", name="refname")
    out = ti.extract(made.output, tmp_path / "out.safetensors")
    assert sn.load_file(str(out.output))["emb_params"].tobytes() == vec.tobytes()


def test_transparent_cover_and_nested_card(tmp_path: Path) -> None:
    src = _emb_file(tmp_path / "e.safetensors", {"emb_params": np.ones((2, 768), np.float32)})
    made = ti.embed(src, _cover(tmp_path / "rgba.png", mode="RGBA"), tmp_path / "a.png")
    again = ti.embed(src, made.output, tmp_path / "b.png", name="outer")  # a card as cover
    card = ti.read_card(again.output)
    assert card is not None and card.agree is True and card.token == "outer"


# --------------------------------------------------------------------------- stripped / mismatched


def test_stripped_chunk_still_extracts_from_pixels(tmp_path: Path) -> None:
    original = np.random.default_rng(1).standard_normal((8, 768)).astype(np.float32)
    src = _emb_file(tmp_path / "e.safetensors", {"emb_params": original}, name="strip")
    made = ti.embed(src, _cover(tmp_path / "c.png"), tmp_path / "card.png")
    bare = _strip_text(made.output, tmp_path / "bare.png")
    with Image.open(bare) as im:
        assert ti.TEXT_KEY not in im.info
    assert ti.inspect(bare) is None  # cheap mode never decodes pixels
    info = ti.inspect(bare, pixels=True)
    assert info is not None and info.source == "pixels" and info.has_text is False
    out = ti.extract(bare, tmp_path / "out.safetensors")
    assert out.card.source == "pixels"
    assert st.load(out.output)[0]["emb_params"].tobytes() == original.tobytes()
    assert ti.read_embedding(bare).name == "strip"


def test_disagreeing_copies_are_reported_and_text_wins(tmp_path: Path) -> None:
    card = _craft_card(
        tmp_path / "odd.png",
        text=_a1111_json([[0.5, 0.25]], name="from_text"),
        blocks=_a1111_json([[0.5, 0.75]], name="from_pixels"),
    )
    result = ti.extract(card, tmp_path / "o.safetensors")
    (warning,) = result.card.warnings
    assert "disagree" in warning and "'from_text' vs 'from_pixels'" in warning
    assert "values differ" in warning
    assert result.embedding.name == "from_text"
    assert result.card.info().agree is False


# --------------------------------------------------------------------------- damage


def test_corrupt_blocks_without_chunk_fail_clearly_and_write_nothing(tmp_path: Path) -> None:
    vec = np.random.default_rng(3).standard_normal((8, 768)).astype(np.float32)
    src = _emb_file(tmp_path / "e.safetensors", {"emb_params": vec})
    made = ti.embed(src, _cover(tmp_path / "c.png"), tmp_path / "card.png")
    with Image.open(made.output) as im:
        pixels = np.asarray(im.convert("RGB")).copy()
    assert tb.find_blocks(pixels)[0].shape[1] > 10
    pixels[10:20, 1:3] ^= 0x05  # scribble over data nibbles of the low block
    broken = tmp_path / "broken.png"
    Image.fromarray(pixels).save(broken)
    before = _files(tmp_path)
    with pytest.raises(ContainerError, match="zlib"):
        ti.extract(broken, tmp_path / "x.safetensors")
    assert _files(tmp_path) == before
    # With the text chunk present the damaged blocks are only a warning.
    with_text = _craft_card(tmp_path / "both.png", text=_a1111_json([[1.0]]), blocks=None)
    with Image.open(with_text) as im:
        info = PngImagePlugin.PngInfo()
        info.add_text(ti.TEXT_KEY, im.info[ti.TEXT_KEY])
    Image.fromarray(pixels).save(tmp_path / "both.png", pnginfo=info)
    result = ti.extract(tmp_path / "both.png", tmp_path / "ok.safetensors")
    assert result.card.source == "text"
    assert any("pixel blocks unreadable" in w for w in result.card.warnings)


def test_truncated_zlib_stream_in_blocks(tmp_path: Path) -> None:
    full = zlib.compress(_a1111_json(np.ones((4, 768)).tolist()), 9)
    cut = full[: len(full) // 3]
    card = _craft_card(tmp_path / "t.png", text=None, blocks=cut, compressed=True)
    with pytest.raises(ContainerError, match="zlib stream"):
        ti.extract(card, tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()


def test_truncated_text_chunk_json(tmp_path: Path) -> None:
    text = _a1111_json([[1.0, 2.0]])
    card = _craft_card(tmp_path / "t.png", text=text[:-20], blocks=None)
    with pytest.raises(ParseError, match="not JSON"):
        ti.extract(card, tmp_path / "x.safetensors")
    with pytest.raises(ParseError, match="sd-ti-embedding chunk"):
        ti.inspect(card)


def test_json_without_tensors(tmp_path: Path) -> None:
    payload = json.dumps({"name": "empty", "step": 3}).encode()
    card = _craft_card(tmp_path / "nt.png", text=payload, blocks=payload)
    with pytest.raises(ParseError, match="holds no tensors"):
        ti.extract(card, tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()


@pytest.mark.parametrize(
    ("tensor", "message"),
    [
        ([[1.0, 2.0], [3.0]], "rectangular"),
        ([["a", "b"]], "must hold numbers"),
        ([[[1.0]]], "expected \\[vectors, width\\]"),
        ([], "must hold numbers"),
    ],
)
def test_malformed_tensors(tmp_path: Path, tensor: list, message: str) -> None:
    card = _craft_card(tmp_path / "m.png", text=_a1111_json(tensor), blocks=None)
    with pytest.raises(ParseError, match=message):
        ti.inspect(card)


def test_not_a_card(tmp_path: Path) -> None:
    plain = _cover(tmp_path / "plain.png")
    assert ti.inspect(plain) is None
    assert ti.inspect(plain, pixels=True) is None
    with pytest.raises(ContainerError, match="no sd-ti-embedding chunk and no TI pixel blocks"):
        ti.extract(plain)
    text_file = tmp_path / "notes.png"
    text_file.write_text("not an image")
    with pytest.raises(ContainerError, match="not an image"):
        ti.inspect(text_file)


# --------------------------------------------------------------------------- hostile input


@pytest.mark.parametrize("bad", ["../../x", "..\\x", "a/b", "/abs", "..", "", "tab\tname"])
def test_embed_rejects_names_that_are_not_plain(tmp_path: Path, bad: str) -> None:
    src = _emb_file(tmp_path / "e.safetensors", {"emb_params": np.ones((1, 768), np.float32)})
    cover = _cover(tmp_path / "c.png")
    before = _files(tmp_path)
    with pytest.raises(ValidationError, match="not usable"):
        ti.embed(src, cover, tmp_path / "card.png", name=bad)
    assert _files(tmp_path) == before


def test_card_name_cannot_choose_where_files_land(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    card = _craft_card(
        tmp_path / "evil.png",
        text=_a1111_json([[1.0, 2.0]], name="../../x"),
        blocks=_a1111_json([[1.0, 2.0]], name="../../x"),
    )
    monkeypatch.chdir(work)
    before = _files(tmp_path)
    with pytest.raises(ValidationError, match=r"path separators.*-o"):
        ti.extract(card)
    with pytest.raises(ValidationError, match="path separators"):
        ti.extract(card, work)  # a folder as output: the name would pick the file
    assert _files(tmp_path) == before
    chosen = work / "safe.safetensors"
    result = ti.extract(card, chosen)
    assert result.output == chosen
    assert _files(tmp_path) == before | {chosen}
    assert result.embedding.name == "../../x"  # kept as data, never used as a path


def test_default_output_is_token_in_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    card = _craft_card(tmp_path / "c.png", text=_a1111_json([[1.0]], name="tok"), blocks=None)
    monkeypatch.chdir(tmp_path)
    assert ti.extract(card).output == Path("tok.safetensors")
    assert (tmp_path / "tok.safetensors").is_file()
    with pytest.raises(WriteError, match="--force"):
        ti.extract(card)
    (tmp_path / "out").mkdir()
    assert ti.extract(card, tmp_path / "out").output == tmp_path / "out" / "tok.safetensors"
    assert ti.extract(card, force=True).output == Path("tok.safetensors")
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_decompression_bomb_in_blocks_is_refused(tmp_path: Path) -> None:
    engine = zlib.compressobj(9)
    chunk = b"\0" * (1 << 20)
    bomb = b"".join(engine.compress(chunk) for _ in range(ti.MAX_JSON_BYTES // len(chunk) + 1))
    bomb += engine.flush()
    card = _craft_card(tmp_path / "bomb.png", text=None, blocks=bomb, compressed=True)
    with pytest.raises(ContainerError, match="decompression bomb"):
        ti.inspect(card, pixels=True)


def _png_header_only(path: Path, width: int, height: int) -> Path:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 10))
        + chunk(b"IEND", b"")
    )
    return path


@pytest.mark.parametrize("size", [(7000, 7000), (30000, 30000)])
def test_huge_images_are_refused_before_decoding(tmp_path: Path, size: tuple[int, int]) -> None:
    big = _png_header_only(tmp_path / "big.png", *size)
    with pytest.raises(ContainerError, match=r"huge image|more than"):
        ti.inspect(big, pixels=True)
    src = _emb_file(tmp_path / "e.safetensors", {"emb_params": np.ones((1, 768), np.float32)})
    with pytest.raises(ContainerError, match=r"huge image|more than"):
        ti.embed(src, big, tmp_path / "card.png")
    assert not (tmp_path / "card.png").exists()


def test_checkpoint_sized_safetensors_is_refused(tmp_path: Path) -> None:
    many = {f"layer{i}": np.zeros((4, 4), np.float32) for i in range(3)}
    src = _emb_file(tmp_path / "model.safetensors", many)
    with pytest.raises(ParseError, match="holds 3 tensors"):
        ti.embed(src, _cover(tmp_path / "c.png"), tmp_path / "card.png")


def test_output_must_be_png_and_safetensors(tmp_path: Path) -> None:
    src = _emb_file(tmp_path / "e.safetensors", {"emb_params": np.ones((1, 768), np.float32)})
    with pytest.raises(UsageError, match=r"\.png"):
        ti.embed(src, _cover(tmp_path / "c.png"), tmp_path / "card.jpg")
    card = ti.embed(src, tmp_path / "c.png", tmp_path / "card.png").output
    with pytest.raises(UsageError, match=r"\.safetensors"):
        ti.extract(card, tmp_path / "x.pt")


def _move_text_after_idat(src: Path, dst: Path) -> None:
    data = src.read_bytes()
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        chunks.append(data[pos : pos + 12 + length])
        pos += 12 + length
    text = [c for c in chunks if c[4:8] == b"tEXt"]
    rest = [c for c in chunks if c[4:8] != b"tEXt"]
    assert len(text) == 1 and rest[-1][4:8] == b"IEND"
    dst.write_bytes(data[:8] + b"".join(rest[:-1]) + text[0] + rest[-1])


def test_text_chunk_after_image_data_is_found_without_decoding(tmp_path: Path) -> None:
    card = _craft_card(tmp_path / "c.png", text=_a1111_json([[0.5]], name="late"), blocks=None)
    late = tmp_path / "late.png"
    _move_text_after_idat(card, late)
    with Image.open(late) as im:
        assert ti.TEXT_KEY not in im.info  # Pillow would need a full decode to see it
    info = ti.inspect(late)
    assert info is not None and info.name == "late" and info.has_pixels is None
