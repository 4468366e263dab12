"""Regen from a single-file A1111 checkpoint: the tiny pipeline written in the original SD
layout, loaded with `--config` pointing at a weight-less copy of its folder, and the
`Model hash` check against the file."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import tiny
from PIL import Image
from regen_cli import make_png, pixels, regen

from gendata.containers import safetensors as st
from gendata.regen import REPORT_KEY

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")

pytest.importorskip("torch")
pytest.importorskip("diffusers")

TEXT = ("a (red:1.2) cat, dog\nNegative prompt: ugly\nSteps: 3, Sampler: Euler, "
        "CFG scale: 6, Seed: 42, Size: 64x64, Model hash: {h}, Model: tiny, Version: v1.10.1")


@pytest.fixture(scope="module")
def single_file(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("single")
    ckpt = tiny.write_single_file(tiny_model, d / "tiny-v1.safetensors")
    return ckpt, tiny.config_only_copy(tiny_model, d / "config")


def test_checkpoint_layout(single_file: tuple[Path, Path]) -> None:
    ckpt, config = single_file
    keys = set(st.load(ckpt)[0])
    # the keys diffusers uses to recognise an SD 1.x checkpoint, and each component's prefix
    assert "cond_stage_model.transformer.text_model.embeddings.position_embedding.weight" in keys
    assert "model.diffusion_model.input_blocks.0.0.weight" in keys
    assert "first_stage_model.decoder.mid.attn_1.q.weight" in keys
    assert not list(config.rglob("*.safetensors")) and (config / "model_index.json").is_file()


def test_single_file_runs_like_the_folder(tiny_model: Path, single_file: tuple[Path, Path],
                                          tmp_path: Path) -> None:
    ckpt, config = single_file
    sha = hashlib.sha256(ckpt.read_bytes()).hexdigest()
    src = make_png(tmp_path / "src.png", TEXT.format(h=sha[:10]))
    a, b = tmp_path / "file.png", tmp_path / "folder.png"
    code, out = regen(str(src), "--model", str(ckpt), "--config", str(config), "-o", str(a))
    assert code == 0, out
    code, out = regen(str(src), "--model", str(tiny_model), "-o", str(b))
    assert code == 0, out
    with Image.open(a) as im, Image.open(src) as s:
        assert im.text["parameters"] == s.text["parameters"]
        rep = json.loads(im.text[REPORT_KEY])
    assert rep["plan"]["model_kind"] == "single-file"
    assert "model-hash-mismatch" not in [d["code"] for d in rep["deviations"]]
    assert f"model hash {sha[:10]} matches the image" in rep["plan"]["notes"]
    # the same weights through both loading paths give the same pixels (parameters realigned)
    assert np.array_equal(pixels(a), pixels(b))


def test_model_hash_check(single_file: tuple[Path, Path], tmp_path: Path) -> None:
    ckpt, config = single_file
    data = ckpt.read_bytes()
    full = hashlib.sha256(data).hexdigest()[:10]
    legacy = hashlib.sha256(data[0x100000:0x110000]).hexdigest()[:8]
    common = ["--model", str(ckpt), "--config", str(config), "--dry-run", "--json"]
    for good in (full, full.upper(), legacy):
        code, out = regen(str(make_png(tmp_path / "ok.png", TEXT.format(h=good))), *common)
        assert code == 0, out
        assert "model-hash-mismatch" not in [d["code"] for d in json.loads(out)["deviations"]]
    wrong = "0123456789" if full != "0123456789" else "9876543210"
    code, out = regen(str(make_png(tmp_path / "bad.png", TEXT.format(h=wrong))), *common)
    assert code == 0, out
    devs = {d["code"]: d for d in json.loads(out)["deviations"]}
    assert devs["model-hash-mismatch"]["severity"] == "degraded"
    assert wrong in devs["model-hash-mismatch"]["message"]
    assert full in devs["model-hash-mismatch"]["message"]
    code, out = regen(str(tmp_path / "bad.png"), *common[:4], "--strict")
    assert code == 1 and "model-hash-mismatch" in out
    code, out = regen(str(tmp_path / "bad.png"), *common, "--no-hash-check")
    assert "model-hash-mismatch" not in out


def test_single_file_without_config_says_what_to_do(single_file: tuple[Path, Path],
                                                    tmp_path: Path) -> None:
    ckpt, _ = single_file
    src = make_png(tmp_path / "src.png", TEXT.format(h="0"))
    code, out = regen(str(src), "--model", str(ckpt), "--no-hash-check")
    assert code == 1
    assert "--config DIR" in out and "Traceback" not in out
