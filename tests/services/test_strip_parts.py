"""`gendata strip --only/--keep`: remove just the parts named, through the real command."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image
from PIL.PngImagePlugin import PngInfo

import gendata
from gendata.cli import main
from gendata.containers import open_raw

from ..conftest import FIXTURES
from ..helpers import png_chunks

GRAPH = {"3": {"class_type": "KSampler", "inputs": {
    "seed": 5, "steps": 20, "cfg": 7, "sampler_name": "euler", "scheduler": "normal",
    "denoise": 1, "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0],
    "latent_image": ["5", 0]}},
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "m.safetensors"}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 8, "height": 8,
                                                       "batch_size": 1}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a comfy cat", "clip": ["4", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}}}
WORKFLOW = {"last_node_id": 7, "last_link_id": 0, "nodes": [], "links": [], "version": 0.4,
            "extra": {"note": "x" * 30000}}


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def comfy(tmp_path: Path) -> Path:
    info = PngInfo()
    info.add_text("prompt", json.dumps(GRAPH))
    info.add_text("workflow", json.dumps(WORKFLOW))
    p = tmp_path / "comfy.png"
    Image.new("RGB", (8, 8), (1, 2, 3)).save(p, pnginfo=info)
    return p


def _keys(path: Path) -> list[str]:
    return [e.key for e in open_raw(path).entries if e.text is not None]


def _non_text(path: Path) -> list:
    return [c for c in png_chunks(path.read_bytes()) if c[0] not in (b"tEXt", b"iTXt", b"zTXt")]


@pytest.mark.parametrize("args", [("--only", "workflow"), ("--keep", "parameters")])
def test_drop_the_workflow_keep_the_parameters(comfy: Path, args: tuple[str, str]) -> None:
    before = _non_text(comfy)
    r = run("strip", *args, str(comfy))
    assert r.exit_code == 0, r.output
    assert "removed tEXt workflow" in r.output
    assert _keys(comfy) == ["prompt"]
    assert _non_text(comfy) == before
    assert gendata.read(comfy).params.seed == 5


@pytest.mark.parametrize("args", [("--only", "parameters"), ("--keep", "workflow")])
def test_drop_the_parameters_keep_the_workflow(comfy: Path, args: tuple[str, str]) -> None:
    r = run("strip", *args, str(comfy))
    assert r.exit_code == 0, r.output
    assert _keys(comfy) == ["workflow"]


def test_an_entry_by_its_key(tmp_path: Path) -> None:
    p = tmp_path / "n.png"
    shutil.copyfile(FIXTURES / "dialects" / "novelai_legacy.png", p)
    r = run("strip", "--only", "Generation time", "--only", "Title", str(p))
    assert r.exit_code == 0, r.output
    assert _keys(p) == ["Description", "Software", "Source", "Comment"]
    assert gendata.read(p).params.seed == 1234567890


def test_only_prompt_blanks_the_prompts_and_keeps_the_settings(tmp_path: Path) -> None:
    p = tmp_path / "a.png"
    shutil.copyfile(FIXTURES / "a1111_basic.png", p)
    before = gendata.read(p).params
    r = run("strip", "--only", "prompt", str(p))
    assert r.exit_code == 0, r.output
    assert "blanked the prompts in parameters" in r.output
    after = gendata.read(p).params
    assert (after.prompt, after.negative_prompt) == ("", "")
    assert (after.seed, after.steps, after.model) == (before.seed, before.steps, before.model)


def test_only_prompt_in_another_dialect(tmp_path: Path) -> None:
    p = tmp_path / "n.png"
    shutil.copyfile(FIXTURES / "dialects" / "novelai_legacy.png", p)
    assert run("strip", "--only", "prompt", str(p)).exit_code == 0
    raw = open_raw(p)
    assert raw.text("Description") == "" and json.loads(raw.text("Comment"))["uc"] == ""
    assert gendata.read(p).params.generator == "novelai"


def test_dry_run_changes_nothing(comfy: Path) -> None:
    before = comfy.read_bytes()
    r = run("strip", "--dry-run", "--only", "workflow", str(comfy))
    assert r.exit_code == 0 and "would remove tEXt workflow" in r.output
    assert comfy.read_bytes() == before


@pytest.mark.parametrize("args", [("--only", "workflow", "--keep", "parameters"),
                                  ("--keep", "prompt")])
def test_usage_errors(comfy: Path, args: tuple[str, ...]) -> None:
    before = comfy.read_bytes()
    r = run("strip", *args, str(comfy))
    assert r.exit_code == 2
    assert comfy.read_bytes() == before


def test_nothing_named_is_there(comfy: Path) -> None:
    r = run("strip", "--only", "smproj", str(comfy))
    assert r.exit_code == 0 and "nothing of that to remove" in r.output
