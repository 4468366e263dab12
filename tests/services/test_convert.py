"""`gendata convert --to a1111`: output re-reads (with our A1111 parser) to the same values."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image, PngImagePlugin

from gendata import api
from gendata.cli import main
from gendata.formats import a1111

from ..formats.test_comfyui import basic_graph

COMPARED = ("negative_prompt", "steps", "sampler", "scheduler", "cfg_scale", "seed", "width",
            "height", "model", "model_hash", "clip_skip", "hires_upscale", "hires_steps",
            "denoising_strength")


def _lines(text: str) -> str:
    """A1111 text strips each prompt line on reading (docs/formats.md#reading-an-infotext)."""
    return "\n".join(line.strip() for line in text.strip().split("\n"))


def assert_same(before, after) -> None:
    prompt = re.sub(r"\s*<lora:[^>]+>", "", after.prompt)
    assert _lines(prompt) == _lines(before.prompt)
    for field in COMPARED:
        b, a = getattr(before, field), getattr(after, field)
        if field == "negative_prompt":
            assert _lines(a) == _lines(b)
        else:
            assert a == b, (field, b, a)
    assert [lo.weight for lo in after.loras] == [lo.weight for lo in before.loras]


@pytest.fixture
def comfy_png(tmp_path: Path) -> Path:
    g = basic_graph(seed=2**63 + 11)
    g["10"] = {"class_type": "LoraLoader", "inputs": {
        "lora_name": "style/ink.safetensors", "strength_model": 0.7, "strength_clip": 0.7,
        "model": ["4", 0], "clip": ["4", 1]}}
    g["3"]["inputs"]["model"] = ["10", 0]
    info = PngImagePlugin.PngInfo()
    info.add_text("prompt", json.dumps(g))
    info.add_text("workflow", json.dumps({"nodes": [], "links": []}))
    path = tmp_path / "comfy.png"
    Image.new("RGB", (40, 30), "teal").save(path, pnginfo=info)
    return path


def run(*args: str) -> None:
    result = CliRunner().invoke(main, ["convert", *args])
    assert result.exit_code == 0, result.output


def test_convert_in_place_keeps_graph_chunks(comfy_png: Path) -> None:
    before = api.read(comfy_png).params
    run(str(comfy_png))
    raw = api.read_raw(comfy_png)
    assert {"prompt", "workflow", "parameters"} <= {e.key for e in raw.entries}
    text = raw.text("parameters")
    after = a1111.parse_text(text)
    assert "<lora:ink:0.7>" in after.prompt
    assert_same(before, after)


@pytest.mark.parametrize("ext", [".png", ".jpg", ".webp"])
def test_convert_replace_into_any_container(comfy_png: Path, tmp_path: Path, ext: str) -> None:
    before = api.read(comfy_png).params
    out = tmp_path / f"out{ext}"
    run(str(comfy_png), "--replace", "-o", str(out))
    rec = api.read(out)
    assert rec.params.generator == "a1111"
    assert rec.params.extra["Converted from"] == "comfyui"
    assert_same(before, rec.params)
    assert "prompt" not in {e.key for e in rec.raw.entries}
    assert api.read(comfy_png).params.generator == "comfyui"  # source untouched


def test_dry_run_prints_and_writes_nothing(comfy_png: Path) -> None:
    data = comfy_png.read_bytes()
    result = CliRunner().invoke(main, ["convert", "--dry-run", str(comfy_png)])
    assert result.exit_code == 0
    assert "Seed: 9223372036854775819" in result.output
    assert comfy_png.read_bytes() == data


def test_no_data_is_exit_1(tmp_path: Path) -> None:
    path = tmp_path / "plain.png"
    Image.new("RGB", (4, 4)).save(path)
    result = CliRunner().invoke(main, ["convert", str(path)])
    assert result.exit_code == 1
    assert "no generation data" in result.output


@pytest.mark.parametrize("name", [
    "sd-metadata/samples/png/comfyui-hires.png",
    "sd-metadata/samples/png/novelai-full-3char.png",
    "sd-metadata/samples/png/swarmui.png",
    "sd-metadata/samples/png/tensorart.png",
    "sd-metadata/samples/png/ruined-fooocus.png",
    "sd-metadata/samples/png/huggingface-space-upscale.png",
    "sd-metadata/samples/webp/comfyui-comfy-image-saver.webp",
    "sd-parsers/tests/resources/parsers/InvokeAI/invokeai_dream1.png",
])
def test_corpus_files_convert_and_reread(corpus: Path, tmp_path: Path, name: str) -> None:
    src = corpus / name
    before = api.read(src).params
    out = tmp_path / ("out" + src.suffix)
    run(str(src), "--replace", "-o", str(out))
    after = api.read(out).params
    assert after.generator in ("a1111", "comfyui")
    assert_same(before, after)
