"""Editing in place, dialect by dialect, on fixtures/dialects (scripts/make_dialect_fixtures.py
builds one file per generator layout the shared corpus lacks)."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import pytest

import gendata
from gendata import api
from gendata.containers import open_raw
from gendata.errors import UsageError

from ..conftest import FIXTURES
from .edit_check import check_roundtrip, edited

DIALECTS = FIXTURES / "dialects"


@pytest.mark.parametrize("name", sorted(p.name for p in DIALECTS.iterdir()))
def test_seed_set_back_and_prompt_round_trip(tmp_path: Path, name: str) -> None:
    check_roundtrip(DIALECTS / name, tmp_path)


def _copy(tmp_path: Path, name: str) -> Path:
    p = tmp_path / name
    shutil.copyfile(DIALECTS / name, p)
    return p


def test_novelai_stealth_only_stays_in_its_bits(tmp_path: Path) -> None:
    from gendata.containers.stealth import read_stealth

    p = _copy(tmp_path, "novelai_stealth.png")
    edited(p, seed=5, prompt="3girls")
    sig, text = read_stealth(p)
    assert sig == "stealth_pngcomp"  # same signature: alpha, gzip
    outer = json.loads(text)
    comment = json.loads(outer["Comment"])
    assert (comment["seed"], comment["prompt"], outer["Description"]) == (5, "3girls", "3girls")
    assert comment["v4_prompt"]["caption"]["base_caption"] == "3girls"
    assert not [e for e in open_raw(p).entries if e.text]  # no chunk was added


def test_rgb_stealth_keeps_its_mode(tmp_path: Path) -> None:
    from gendata.containers.stealth import read_stealth

    p = _copy(tmp_path, "a1111_stealth_rgb.png")
    edited(p, steps=31)
    sig, text = read_stealth(p)
    assert sig == "stealth_rgbinfo" and "Steps: 31" in text


def test_novelai_legacy_comment_and_description_in_step(tmp_path: Path) -> None:
    p = _copy(tmp_path, "novelai_legacy.png")
    edited(p, prompt="a fox", negative_prompt="ugly", cfg_scale=9)
    raw = open_raw(p)
    comment = json.loads(raw.text("Comment"))
    assert raw.text("Description") == "a fox"
    assert (comment["uc"], comment["scale"]) == ("ugly", 9.0)
    assert list(comment) == list(json.loads(open_raw(DIALECTS / p.name).text("Comment")))


def test_invokeai_metadata_graph_and_primitive_nodes_in_step(tmp_path: Path) -> None:
    p = _copy(tmp_path, "invokeai_v5.png")
    edited(p, seed=7, prompt="a tower", steps=12)
    raw = open_raw(p)
    meta = json.loads(raw.text("invokeai_metadata"))
    graph = json.loads(raw.text("invokeai_graph"))["nodes"]
    assert (meta["seed"], meta["positive_prompt"], meta["steps"]) == (7, "a tower", 12)
    assert graph["seed:4"]["value"] == 7  # the integer node feeding the noise
    assert graph["positive_prompt:1"]["value"] == "a tower"  # the string node
    assert graph["denoise_latents:8"]["steps"] == 12
    assert graph["core_metadata:10"]["seed"] == 7


@pytest.mark.parametrize("name", ["invokeai_graph_only.png", "invokeai_workflow_only.png"])
def test_invokeai_graph_only_files_read_and_edit(tmp_path: Path, name: str) -> None:
    p = _copy(tmp_path, name)
    params = gendata.read(p).params
    assert (params.prompt, params.negative_prompt, params.seed, params.steps) == (
        "a castle on a hill, 塔", "blurry", 424242, 30)
    assert [lo.name for lo in params.loras] == []  # the collection loader names none
    edited(p, seed=8)
    assert gendata.read(p).params.seed == 8


def test_fooocus_jpeg_keeps_its_ifd0_ascii_comment(tmp_path: Path) -> None:
    from gendata.containers.exif import read_tags
    from gendata.containers.jpeg import EXIF_ID

    p = _copy(tmp_path, "fooocus.jpg")
    edited(p, seed=11)
    data = p.read_bytes()
    block = data[data.index(EXIF_ID) + 6:]
    ifd, typ, value = read_tags(block)[0x9286]
    assert (ifd, typ) == ("IFD0", 2)  # where and how Fooocus reads it back
    assert json.loads(value.rstrip(b"\0"))["seed"] == "11"  # still a string


def test_fooocus_full_prompt_follows_the_prompt(tmp_path: Path) -> None:
    p = _copy(tmp_path, "fooocus.png")
    edited(p, prompt="a grey wolf")
    data = json.loads(open_raw(p).text("parameters"))
    assert data["full_prompt"] == ["a grey wolf, cinematic, highly detailed"]


def test_swarmui_refiner_size_is_the_hires_size(tmp_path: Path) -> None:
    params = gendata.read(DIALECTS / "swarmui_refiner.png").params
    assert (params.width, params.hires_upscale, params.hires_width, params.hires_height) == (
        1024, 1.5, 1536, 1536)
    assert (params.hires_steps, params.hires_upscaler) == (12, "pixel-lanczos")
    p = _copy(tmp_path, "swarmui_refiner.png")
    edited(p, hires_steps=20)
    assert json.loads(open_raw(p).text("parameters"))["sui_image_params"]["refinersteps"] == 20


def test_drawthings_json_v2_and_description_in_step(tmp_path: Path) -> None:
    p = _copy(tmp_path, "drawthings.png")
    edited(p, seed=5, width=640)
    entry = next(e for e in open_raw(p).entries if e.key == "XML:com.adobe.xmp")
    assert entry.location == "iTXt"  # XMP stays in iTXt
    assert "Seed: 5," in entry.text and "Size: 640x640" in entry.text
    assert "&quot;seed&quot;: 5," in entry.text and "&quot;size&quot;: &quot;640x640" in (
        entry.text)
    assert "&quot;width&quot;: 640" in entry.text  # v2 follows


def test_easydiffusion_writes_each_field_chunk_as_text(tmp_path: Path) -> None:
    p = _copy(tmp_path, "easydiffusion.png")
    edited(p, model="dreamshaper_8.safetensors", steps=30)
    raw = open_raw(p)
    assert raw.text("use_stable_diffusion_model") == (
        "C:\\EasyDiffusion\\models\\stable-diffusion\\dreamshaper_8.safetensors")
    assert raw.text("num_inference_steps") == "30"


def test_tensorart_seed_and_graph(tmp_path: Path) -> None:
    p = _copy(tmp_path, "tensorart.png")
    edited(p, steps=30)
    assert json.loads(open_raw(p).text("generation_data"))["steps"] == 30
    assert b'"schedule":"karras"}\0' in p.read_bytes()  # its trailing NUL is kept


@pytest.mark.parametrize("name, field, value", [
    ("hfspace.png", "clip_skip", 2),
    ("novelai_legacy.png", "vae", "x.vae"),
    ("easydiffusion.png", "clip_skip", 3),
    ("invokeai_v2.png", "vae", "x.vae"),
])
def test_refusals_name_the_field_and_write_nothing(tmp_path: Path, name: str, field: str,
                                                   value: object) -> None:
    p = _copy(tmp_path, name)
    before = p.read_bytes()
    with pytest.raises(UsageError, match=field):
        edited(p, **{field: value})
    assert p.read_bytes() == before


def test_node_is_refused_outside_graphs(tmp_path: Path) -> None:
    p = _copy(tmp_path, "hfspace.png")
    params = api.update(api.editable_params(gendata.read(p)), {"seed": 1})
    with pytest.raises(UsageError, match="--node"):
        gendata.write(p, params, node="3")


def test_set_command_edits_in_the_files_own_dialect(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from gendata.cli import main

    p = _copy(tmp_path, "novelai_legacy.png")
    r = CliRunner().invoke(main, ["set", "--seed", "5", "--dry-run", str(p)])
    assert r.exit_code == 0, r.output
    assert "--- Comment" in r.output and '"seed": 5' in r.output
    assert "parameters" not in r.output
    r = CliRunner().invoke(main, ["set", "--seed", "5", "--prompt", "a fox", str(p)])
    assert r.exit_code == 0, r.output
    params = gendata.read(p).params
    assert (params.generator, params.seed, params.prompt) == ("novelai", 5, "a fox")
    assert open_raw(p).text("parameters") is None  # no A1111 text was added


def test_set_refusal_names_the_field_and_exits_1(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from gendata.cli import main

    p = _copy(tmp_path, "hfspace.png")
    r = CliRunner().invoke(main, ["set", "--clip-skip", "2", str(p)])
    assert r.exit_code == 1
    assert "clip_skip" in r.output


def test_invokeai_3_0_graph_only_is_read() -> None:
    """InvokeAI 3.0 named the denoise step `t2l`; its graph alone still gives the values."""
    from gendata.containers.raw import RawEntry, RawMetadata
    from gendata.formats import detect

    def edge(a: str, b: str, c: str, d: str) -> dict:
        return {"source": {"node_id": a, "field": b}, "destination": {"node_id": c, "field": d}}

    graph = {"nodes": {
        "noise": {"id": "noise", "type": "noise", "seed": 5, "width": 512, "height": 640},
        "pos": {"id": "pos", "type": "compel", "prompt": "a cat"},
        "neg": {"id": "neg", "type": "compel", "prompt": "bad"},
        "t2l": {"id": "t2l", "type": "t2l", "steps": 30, "cfg_scale": 7.5, "scheduler": "euler"},
        "loader": {"id": "loader", "type": "main_model_loader",
                   "model": {"model_name": "sd15", "base_model": "sd-1"}}},
        "edges": [edge("noise", "noise", "t2l", "noise"),
                  edge("pos", "conditioning", "t2l", "positive_conditioning"),
                  edge("neg", "conditioning", "t2l", "negative_conditioning"),
                  edge("loader", "unet", "t2l", "unet")]}
    text = json.dumps(graph)
    params = detect(RawMetadata("png", [RawEntry("png", "tEXt", "invokeai_graph", text,
                                                 len(text))]))
    assert (params.prompt, params.negative_prompt, params.seed, params.steps, params.width,
            params.height, params.sampler, params.model) == (
        "a cat", "bad", 5, 30, 512, 640, "euler", "sd15")


def _user_comment_bytes(path: Path) -> bytes:
    from gendata.containers.exif import read_tags, strip_exif_header

    data = path.read_bytes()
    if data[:4] == b"RIFF":
        at = data.index(b"EXIF") + 4
        (n,) = struct.unpack("<I", data[at:at + 4])
        block = strip_exif_header(data[at + 4:at + 4 + n])
    else:
        block = data[data.index(b"Exif\0\0") + 6:]
    return read_tags(block)[0x9286][2]


def test_swarmui_jpeg_keeps_its_utf16le_comment(tmp_path: Path) -> None:
    """SwarmUI reads its JPEG UserComment as UTF-16LE: an edit keeps that byte order."""
    import io

    import piexif
    from PIL import Image

    record = {"sui_image_params": {"prompt": "a cat", "seed": 3, "steps": 20}}
    text = json.dumps(record, indent=2)
    exif = piexif.dump({"Exif": {piexif.ExifIFD.UserComment: b"UNICODE\0"
                                 + text.encode("utf-16-le")}})
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "JPEG", exif=exif)
    p = tmp_path / "swarm.jpg"
    p.write_bytes(buf.getvalue())
    before = _user_comment_bytes(p)
    edited(p, seed=4)
    value = _user_comment_bytes(p)
    assert value.startswith(b"UNICODE\0{\0")  # still little-endian
    assert json.loads(value[8:].decode("utf-16-le"))["sui_image_params"]["seed"] == 4
    edited(p, seed=3)
    assert _user_comment_bytes(p) == before


def test_novelai_webp_keeps_its_ascii_prefixed_utf8(tmp_path: Path) -> None:
    from ..conftest import CORPUS

    src = CORPUS / "sd-metadata" / "samples" / "webp" / "novelai-full-3char.webp"
    if not src.exists():
        pytest.skip("../shared/corpus is not present")
    p = tmp_path / src.name
    shutil.copyfile(src, p)
    before = _user_comment_bytes(p)
    edited(p, prompt="3girls, テスト")
    value = _user_comment_bytes(p)
    assert value.startswith(b"ASCII\0\0\0{") and "テスト".encode() in value
    raw = open_raw(p)
    assert raw.text("ImageDescription") == "\0\0\0\0" + "3girls, テスト"
    assert json.loads(raw.text("UserComment"))["Description"].endswith("3girls, テスト")
    assert before != value
