"""Regen of SDXL images with a tiny random-weight SDXL pipeline built in code: two text
encoders (the second with a projection, giving the pooled vector), SDXL's size conditioning,
A1111's SDXL conditioning rules, hires, and SDXL embeddings (clip_l + clip_g)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from regen_cli import make_png, pixels, regen, report

from gendata.containers import safetensors as st
from gendata.model import GenParams
from gendata.regen import RegenOptions, plan

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")

TEXT = ("a (red:1.2) cat, dog\nNegative prompt: ugly\nSteps: 3, Sampler: DPM++ 2M, "
        "Schedule type: Karras, CFG scale: 6, Seed: 42, Size: 64x64, Model: tinyxl, "
        "Version: v1.10.1")


def test_sdxl_runs_deterministically_and_keeps_parameters(tiny_sdxl: Path,
                                                          tmp_path: Path) -> None:
    src = make_png(tmp_path / "src.png", TEXT)
    a, b, c = (tmp_path / f"{n}.png" for n in "abc")
    code, out = regen(str(src), "--model", str(tiny_sdxl), "-o", str(a))
    assert code == 0, out
    assert regen(str(src), "--model", str(tiny_sdxl), "-o", str(b))[0] == 0
    assert regen(str(src), "--model", str(tiny_sdxl), "-o", str(c), "--seed", "43")[0] == 0
    assert np.array_equal(pixels(a), pixels(b))
    assert pixels(a).std() > 0
    assert not np.array_equal(pixels(a), pixels(c))
    with Image.open(a) as im, Image.open(src) as s:
        assert im.size == (64, 64)
        assert im.text["parameters"] == s.text["parameters"]
    rep = report(a)
    assert rep["plan"]["base"] == "sdxl"
    assert rep["plan"]["size_cond"] == {"original": [64, 64], "crop": [0, 0],
                                        "target": [64, 64]}
    assert rep["plan"]["prompt"]["clip_skip"] == 2
    assert rep["plan"]["prompt"]["final_norm"] is False
    assert not [d for d in rep["deviations"] if d["code"] == "unsupported-model"]


def test_sdxl_conditioning_follows_a1111(tiny_sdxl: Path) -> None:
    """Without emphasis, one chunk: exactly diffusers' own SDXL encode_prompt (penultimate
    layer of both encoders, no final norm, pooled from the projecting encoder). An empty
    negative prompt is zero, as in A1111 (and diffusers' force_zeros_for_empty_prompt).
    Emphasis changes the states but not the pooled vector."""
    from diffusers import StableDiffusionXLPipeline

    from gendata.regen.conditioning import pair

    pipe = StableDiffusionXLPipeline.from_pretrained(tiny_sdxl, local_files_only=True)
    p = plan(GenParams(prompt="a cat, dog", negative_prompt="", steps=3, sampler="Euler",
                       seed=1, width=64, height=64, cfg_scale=7),
             RegenOptions(model=str(tiny_sdxl)))
    with torch.no_grad():
        c, u = pair(pipe, p.prompt, p.negative, [], [], False)
        ref = pipe.encode_prompt("a cat, dog", device="cpu", num_images_per_prompt=1,
                                 do_classifier_free_guidance=True)
    assert c.states.shape == (1, 77, 64) and c.pooled.shape == (1, 16)
    torch.testing.assert_close(c.states, ref[0], rtol=0, atol=1e-6)
    torch.testing.assert_close(c.pooled, ref[2], rtol=0, atol=1e-6)
    assert not u.states.any() and not u.pooled.any()
    assert not ref[1].any()  # diffusers zeroes the empty negative prompt too

    w = plan(GenParams(prompt="a (cat:1.5), dog", negative_prompt="ugly", steps=3,
                       sampler="Euler", seed=1, width=64, height=64, cfg_scale=7),
             RegenOptions(model=str(tiny_sdxl)))
    with torch.no_grad():
        cw, uw = pair(pipe, w.prompt, w.negative, [], [], False)
    assert not torch.equal(cw.states, c.states)
    torch.testing.assert_close(cw.pooled, c.pooled, rtol=0, atol=1e-6)
    assert uw.states.any() and uw.pooled.any()


def test_sdxl_hires_and_embedding(tiny_sdxl: Path, tmp_path: Path) -> None:
    hr = TEXT.replace("Version", "Denoising strength: 0.5, Hires upscale: 2, Hires steps: 2, "
                                 "Hires upscaler: Latent, Version")
    src = make_png(tmp_path / "hr.png", hr, size=(128, 128))
    out = tmp_path / "hr_out.png"
    code, log = regen(str(src), "--model", str(tiny_sdxl), "-o", str(out))
    assert code == 0, log
    assert pixels(out).shape == (128, 128, 3)
    assert report(out)["plan"]["hires"]["size_cond"]["target"] == [128, 128]

    rng = np.random.default_rng(3)
    embs = tmp_path / "emb"
    embs.mkdir()
    (embs / "xlstyle.safetensors").write_bytes(st.dumps({
        "clip_g": (rng.standard_normal((2, 32)) * 3).astype(np.float32),
        "clip_l": (rng.standard_normal((2, 32)) * 3).astype(np.float32)}))
    (embs / "oldstyle.safetensors").write_bytes(st.dumps({
        "emb_params": rng.standard_normal((2, 32)).astype(np.float32)}))
    text = TEXT.replace("dog\n", "dog xlstyle\n")
    plain = make_png(tmp_path / "plain.png", text)
    code, log = regen(str(plain), "--model", str(tiny_sdxl), "-o", str(tmp_path / "p.png"))
    assert code == 0, log
    code, log = regen(str(plain), "--model", str(tiny_sdxl), "-o", str(tmp_path / "e.png"),
                      "--embeddings-dir", str(embs))
    assert code == 0, log
    rep = report(tmp_path / "e.png")
    assert [e["name"] for e in rep["plan"]["embeddings"]] == ["xlstyle"]
    assert "missing-embedding" not in [d["code"] for d in rep["deviations"]]
    assert not np.array_equal(pixels(tmp_path / "p.png"), pixels(tmp_path / "e.png"))
    # an SD 1.x embedding cannot condition SDXL: reported, and the run goes on without it
    old = make_png(tmp_path / "old.png", TEXT.replace("dog\n", "dog oldstyle\n"))
    code, log = regen(str(old), "--model", str(tiny_sdxl), "-o", str(tmp_path / "o.png"),
                      "--embeddings-dir", str(embs))
    assert code == 0, log
    devs = {d["code"]: d["message"] for d in report(tmp_path / "o.png")["deviations"]}
    assert "SDXL" in devs["missing-embedding"]


def test_sdxl_clip_skip_is_reported(tiny_sdxl: Path, tmp_path: Path) -> None:
    src = make_png(tmp_path / "cs.png", TEXT.replace("Version", "Clip skip: 3, Version"))
    code, out = regen(str(src), "--model", str(tiny_sdxl), "--dry-run", "--json")
    assert code == 0, out
    devs = {d["code"]: d for d in json.loads(out)["deviations"]}
    assert devs["clip-skip-sdxl"]["severity"] == "approximate"
