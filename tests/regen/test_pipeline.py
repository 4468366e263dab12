"""Regen on CPU with a tiny random-weight SD pipeline built in code and loaded like a user's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tiny
from PIL import Image
from regen_cli import make_png, pixels, regen, report

from gendata.regen import REPORT_KEY

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")

pytest.importorskip("torch")
pytest.importorskip("diffusers")

TEXT = ("a (red:1.2) cat, dog\nNegative prompt: ugly\nSteps: 3, Sampler: Euler a, "
        "CFG scale: 6, Seed: 42, Size: 64x64, ENSD: 31337, Version: v1.10.1")


@pytest.fixture
def src(tmp_path: Path) -> Path:
    return make_png(tmp_path / "src.png", TEXT)


def test_two_runs_identical_and_parameters_kept(tiny_model: Path, src: Path) -> None:
    a, b = src.parent / "a.png", src.parent / "b.png"
    code, out = regen(str(src), "--model", str(tiny_model), "-o", str(a), "--device", "cpu")
    assert code == 0, out
    assert regen(str(src), "--model", str(tiny_model), "-o", str(b))[0] == 0
    assert np.array_equal(pixels(a), pixels(b))
    assert pixels(a).std() > 0
    with Image.open(a) as im, Image.open(src) as s:
        assert im.size == (64, 64)
        assert im.text["parameters"] == s.text["parameters"]
        report = json.loads(im.text[REPORT_KEY])
    assert report["fidelity"] == "close"
    assert [d["code"] for d in report["deviations"]] == ["rng-emulated"]
    assert report["plan"]["noise"]["generator"] == "philox"
    assert report["plan"]["scheduler"]["cls"] == "EulerAncestralDiscreteScheduler"


def test_different_seed_differs_and_overrides_are_written(tiny_model: Path, src: Path) -> None:
    a, b = src.parent / "a.png", src.parent / "b.png"
    assert regen(str(src), "--model", str(tiny_model), "-o", str(a))[0] == 0
    code, out = regen(str(src), "--model", str(tiny_model), "-o", str(b), "--seed", "43")
    assert code == 0, out
    assert not np.array_equal(pixels(a), pixels(b))
    with Image.open(b) as im:
        assert "Seed: 43" in im.text["parameters"]


def test_rng_sources_give_different_noise(tiny_model: Path, src: Path) -> None:
    outs = []
    for rng in ("CPU", "NV"):
        o = src.parent / f"{rng}.png"
        assert regen(str(src), "--model", str(tiny_model), "-o", str(o), "--rng", rng)[0] == 0
        outs.append(pixels(o))
    assert not np.array_equal(*outs)


def test_lora_and_embedding_load_and_change_result(tiny_model: Path, tmp_path: Path) -> None:
    loras, embs = tmp_path / "loras", tmp_path / "emb"
    loras.mkdir()
    embs.mkdir()
    tiny.write_lora(loras / "style.safetensors", tiny_model)
    tiny.write_embedding(embs / "mytoken.pt")
    base = make_png(tmp_path / "base.png", TEXT.replace("Sampler: Euler a", "Sampler: Euler"))
    with_lora = make_png(tmp_path / "lora.png", TEXT.replace("dog\n", "dog <lora:style:1>\n")
                         .replace("Sampler: Euler a", "Sampler: Euler"))
    with_emb = make_png(tmp_path / "emb.png", TEXT.replace("dog\n", "dog mytoken\n")
                        .replace("Sampler: Euler a", "Sampler: Euler"))
    plain_emb = make_png(tmp_path / "plain.png", TEXT.replace("dog\n", "dog mytoken\n")
                         .replace("Sampler: Euler a", "Sampler: Euler"))
    common = ["--model", str(tiny_model), "--lora-dir", str(loras)]
    code, out = regen(str(base), *common, "-o", str(tmp_path / "o_base.png"))
    assert code == 0, out
    code, out = regen(str(with_lora), *common, "-o", str(tmp_path / "o_lora.png"))
    assert code == 0, out
    assert "missing-lora" not in out and "lora-load-failed" not in out
    code, out = regen(str(with_emb), *common, "--embeddings-dir", str(embs), "-o",
                      str(tmp_path / "o_emb.png"))
    assert code == 0, out
    code, out = regen(str(plain_emb), *common, "-o", str(tmp_path / "o_plain.png"))
    assert code == 0, out
    p = {k: pixels(tmp_path / f"o_{k}.png") for k in ("base", "lora", "emb", "plain")}
    assert not np.array_equal(p["base"], p["lora"])
    assert not np.array_equal(p["plain"], p["emb"])
    rep = report(tmp_path / "o_emb.png")
    assert [e["name"] for e in rep["plan"]["embeddings"]] == ["mytoken"]
    # the LoRA is unloaded after the run: the base image comes back unchanged
    regen(str(base), *common, "-o", str(tmp_path / "o_base2.png"))
    assert np.array_equal(p["base"], pixels(tmp_path / "o_base2.png"))


def test_missing_model_and_unknown_sampler(tiny_model: Path, src: Path, tmp_path: Path) -> None:
    code, out = regen(str(src), "--model", str(tmp_path / "nowhere"))
    assert code == 1 and "missing-model: model not found" in out
    bad = make_png(tmp_path / "bad.png", TEXT.replace("Euler a", "Restart"))
    code, out = regen(str(bad), "--model", str(tiny_model))
    assert code == 1 and "unknown-sampler" in out and "no diffusers equivalent" in out
    code, out = regen(str(src), "--model", str(tiny_model), "--strict")
    assert code == 1 and "--strict" in out and "rng-emulated" in out
    assert not (tmp_path / "src.regen.png").exists()


def test_hires_and_compare(tiny_model: Path, tmp_path: Path) -> None:
    text = TEXT.replace("Version", "Denoising strength: 0.5, Hires upscale: 2, Hires steps: 2, "
                                   "Hires upscaler: Latent, Version")
    src = make_png(tmp_path / "hr.png", text, size=(128, 128))
    out = tmp_path / "hr_out.png"
    code, log = regen(str(src), "--model", str(tiny_model), "-o", str(out), "--compare")
    assert code == 0, log
    assert pixels(out).shape == (128, 128, 3)
    assert "PSNR" in log and "SSIM" in log
    assert (tmp_path / "hr_out.compare.png").exists()
    with Image.open(tmp_path / "hr_out.compare.png") as im:
        assert im.size == (384, 128)


@pytest.mark.parametrize("sampler", ["Euler", "Euler a", "DPM++ 2M Karras", "DPM2 Karras",
                                     "DPM++ 2M SDE Exponential", "LMS Karras"])
def test_scheduler_sigmas_match_plan(sampler: str) -> None:
    from gendata.model import GenParams
    from gendata.regen import plan
    from gendata.regen.runner import _scheduler

    p = plan(GenParams(prompt="x", steps=10, sampler=sampler, seed=1, width=64, height=64,
                       cfg_scale=7))
    s = _scheduler(p.scheduler)
    s.set_timesteps(10)
    got = s.sigmas.numpy()
    if p.scheduler.cls.startswith("KDPM2"):
        got = np.array([v for i, v in enumerate(got) if i == 0 or v != got[i - 1]])  # dedupe
    expect = np.asarray(p.scheduler.sigmas)
    if p.scheduler.cls.startswith("KDPM2"):  # diffusers keeps the penultimate sigma
        from gendata.regen.schedules import a1111_sigmas
        expect = a1111_sigmas("karras", 10)
    np.testing.assert_allclose(got, expect, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("pad_conds", [False, True])
def test_unequal_chunk_counts_are_reported_unless_pad_conds(tiny_model: Path, tmp_path: Path,
                                                             pad_conds: bool) -> None:
    extra = ", Pad conds: True" if pad_conds else ""
    text = ("a red cat, " * 40 + "\nNegative prompt: ugly\nSteps: 2, Sampler: Euler, "
            f"CFG scale: 6, Seed: 1, Size: 64x64, RNG: CPU{extra}")
    src = make_png(tmp_path / "long.png", text)
    out = tmp_path / "out.png"
    code, log = regen(str(src), "--model", str(tiny_model), "-o", str(out), "--device", "cpu")
    assert code == 0, log
    codes = [d["code"] for d in report(out)["deviations"]]
    assert ("cond-padded" in codes) is not pad_conds
