"""Torch-free tests of the regen plan: sampler mapping, sigmas, noise, emphasis, hires, reports."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from regen_cli import make_png

from gendata.model import GenParams
from gendata.regen import RegenOptions, plan
from gendata.regen.emphasis import (
    BREAK,
    chunk_tokens,
    extract_extra_networks,
    flatten_prompt_schedules,
    parse_attention,
)
from gendata.regen.nvrng import ImageNoise, PhiloxNV, slerp
from gendata.regen.plan import hires_steps
from gendata.regen.samplers import SAMPLERS, UNSUPPORTED
from gendata.regen.schedules import a1111_sigmas, model_sigmas

ROOT = Path(__file__).resolve().parents[2]
SIGMA_MAX, SIGMA_MIN = 14.614642, 0.0291675


def params(**kw: object) -> GenParams:
    base: dict = dict(prompt="a cat", negative_prompt="", steps=20, sampler="Euler a",
                      cfg_scale=7.0, seed=1234, width=512, height=512)
    base.update(kw)
    return GenParams(**base)


# --- sampler and schedule mapping ------------------------------------------------------------

MAPPING = [
    # sampler, schedule type, class, resolved schedule, flags expected in the config
    ("Euler", None, "EulerDiscreteScheduler", "uniform", {}),
    ("Euler a", None, "EulerAncestralDiscreteScheduler", "uniform", {}),
    ("Euler a", "Karras", "EulerAncestralDiscreteScheduler", "karras", {}),
    ("Euler", "Exponential", "EulerDiscreteScheduler", "exponential", {}),
    ("LMS", None, "LMSDiscreteScheduler", "uniform", {}),
    ("LMS Karras", None, "LMSDiscreteScheduler", "karras", {}),
    ("Heun", None, "HeunDiscreteScheduler", "uniform", {}),
    ("DPM2", None, "KDPM2DiscreteScheduler", "karras", {"use_karras_sigmas": True}),
    ("DPM2 Karras", None, "KDPM2DiscreteScheduler", "karras", {"use_karras_sigmas": True}),
    ("DPM2 a", None, "KDPM2AncestralDiscreteScheduler", "karras", {"use_karras_sigmas": True}),
    ("DPM2 a Karras", None, "KDPM2AncestralDiscreteScheduler", "karras",
     {"use_karras_sigmas": True}),
    ("DPM++ 2M", None, "DPMSolverMultistepScheduler", "karras", {"use_karras_sigmas": True}),
    ("DPM++ 2M", "Automatic", "DPMSolverMultistepScheduler", "karras",
     {"use_karras_sigmas": True}),
    ("DPM++ 2M Karras", None, "DPMSolverMultistepScheduler", "karras",
     {"use_karras_sigmas": True}),
    ("DPM++ 2M", "Exponential", "DPMSolverMultistepScheduler", "exponential",
     {"use_exponential_sigmas": True}),
    ("DPM++ 2M", "Beta", "DPMSolverMultistepScheduler", "beta", {"use_beta_sigmas": True}),
    ("DPM++ 2M", "Uniform", "DPMSolverMultistepScheduler", "uniform", {}),
    ("DPM++ 2M SDE", None, "DPMSolverMultistepScheduler", "exponential",
     {"algorithm_type": "sde-dpmsolver++", "use_exponential_sigmas": True}),
    ("DPM++ 2M SDE Karras", None, "DPMSolverMultistepScheduler", "karras",
     {"algorithm_type": "sde-dpmsolver++", "use_karras_sigmas": True}),
    ("DPM++ 2M SDE Heun", None, "DPMSolverMultistepScheduler", "exponential",
     {"algorithm_type": "sde-dpmsolver++", "solver_type": "heun"}),
    ("DPM++ 3M SDE", None, "DPMSolverMultistepScheduler", "exponential",
     {"algorithm_type": "sde-dpmsolver++", "solver_order": 3}),
    ("DPM++ SDE", None, "DPMSolverSDEScheduler", "karras",
     {"use_karras_sigmas": True, "noise_sampler_seed": 1234}),
    ("DPM++ SDE Karras", None, "DPMSolverSDEScheduler", "karras", {"use_karras_sigmas": True}),
    ("DPM++ 2S a", None, "DPMSolverSinglestepScheduler", "karras", {"use_karras_sigmas": True}),
    ("DDIM", None, "DDIMScheduler", "automatic", {"timestep_spacing": "leading",
                                                  "steps_offset": 1}),
    ("PLMS", None, "PNDMScheduler", "automatic", {"skip_prk_steps": True}),
    ("UniPC", None, "UniPCMultistepScheduler", "automatic", {"solver_order": 3}),
]


@pytest.mark.parametrize(("sampler", "schedule", "cls", "resolved", "flags"), MAPPING)
def test_sampler_maps_to_scheduler(sampler, schedule, cls, resolved, flags) -> None:
    p = plan(params(sampler=sampler, scheduler=schedule))
    s = p.scheduler
    assert (s.cls, s.schedule) == (cls, resolved)
    for k, v in flags.items():
        assert s.config[k] == v, k
    if cls not in ("DDIMScheduler", "PNDMScheduler", "UniPCMultistepScheduler"):
        assert s.config["timestep_spacing"] == "linspace"
        assert s.config["steps_offset"] == 0
    assert not p.refused


def test_every_table_sampler_is_covered() -> None:
    covered = {m[0] for m in MAPPING}
    assert {s.name for s in SAMPLERS} <= covered


@pytest.mark.parametrize("name", [*UNSUPPORTED, "Bogus sampler"])
def test_unsupported_or_unknown_sampler_is_refused(name: str) -> None:
    p = plan(params(sampler=name))
    assert [d.code for d in p.refused] == ["unknown-sampler"]
    assert p.fidelity == "refused"


def test_custom_sigma_samplers_impose_a1111_list() -> None:
    p = plan(params(sampler="Euler a", scheduler="Karras", steps=10))
    assert p.scheduler.custom_sigmas
    np.testing.assert_allclose(p.scheduler.sigmas, a1111_sigmas("karras", 10), rtol=0)
    assert len(p.scheduler.timesteps) == 10
    assert p.scheduler.timesteps[0] == pytest.approx(999.0, abs=1e-6)


def test_dpm_latent_scale() -> None:
    p = plan(params(sampler="DPM++ 2M Karras"))
    assert p.scheduler.latent_scale == pytest.approx(
        SIGMA_MAX / math.sqrt(1 + SIGMA_MAX**2), abs=1e-6)
    assert p.scheduler.latent_scale == pytest.approx(0.99767, abs=1e-5)


# --- sigma schedules (k-diffusion formulas as A1111 uses them) -------------------------------

def test_model_sigmas_range() -> None:
    s = model_sigmas()
    assert s[-1] == pytest.approx(SIGMA_MAX, rel=1e-6)
    assert s[0] == pytest.approx(SIGMA_MIN, rel=1e-5)


@pytest.mark.parametrize("n", [1, 7, 20, 35])
def test_karras_formula(n: int) -> None:
    rho = 7.0
    ramp = np.linspace(0, 1, n)
    hi, lo = SIGMA_MAX ** (1 / rho), SIGMA_MIN ** (1 / rho)
    expect = np.append((hi + ramp * (lo - hi)) ** rho, 0.0)
    np.testing.assert_allclose(a1111_sigmas("karras", n), expect, rtol=1e-5)


@pytest.mark.parametrize("n", [5, 20])
def test_exponential_and_uniform_formulas(n: int) -> None:
    expect = np.append(np.exp(np.linspace(math.log(SIGMA_MAX), math.log(SIGMA_MIN), n)), 0.0)
    np.testing.assert_allclose(a1111_sigmas("exponential", n), expect, rtol=1e-5)
    sig = model_sigmas()
    t = np.linspace(999, 0, n)
    logs = np.log(sig)
    expect_u = np.exp(np.interp(t, np.arange(1000), logs))
    np.testing.assert_allclose(a1111_sigmas("uniform", n)[:-1], expect_u, rtol=1e-5)


def test_uniform_20_known_values() -> None:
    s = a1111_sigmas("uniform", 20)
    assert len(s) == 21 and s[-1] == 0.0
    assert s[0] == pytest.approx(14.6146, abs=1e-4)
    assert s[-2] == pytest.approx(0.0292, abs=1e-4)


def test_discard_penultimate_and_kl_optimal() -> None:
    full = a1111_sigmas("karras", 11)
    d = a1111_sigmas("karras", 10, discard_penultimate=True)
    assert len(d) == 11
    np.testing.assert_allclose(d, np.concatenate([full[:-2], [0.0]]))
    kl = a1111_sigmas("kl_optimal", 10)
    assert len(kl) == 11 and kl[-1] == pytest.approx(SIGMA_MIN, rel=1e-5)


def test_beta_schedule_matches_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    n = 12
    qs = 1 - np.linspace(0, 1, n)
    ts = stats.beta.ppf(qs, 0.6, 0.6)
    expect = np.append(SIGMA_MIN + ts * (SIGMA_MAX - SIGMA_MIN), 0.0)
    np.testing.assert_allclose(a1111_sigmas("beta", n), expect, rtol=1e-5)


def test_align_your_steps_11_is_the_reference_list() -> None:
    s = a1111_sigmas("align_your_steps", 11)
    assert s[0] == 14.615 and s[-2] == 0.029 and s[-1] == 0.0


# --- noise -----------------------------------------------------------------------------------

DOC_SEED0 = np.array([
    [-0.92466259, -0.42534415, -2.6438457, 0.14518388],
    [-0.12086647, -0.57972564, -0.62285122, -0.32838709],
    [-1.07454231, -0.36314407, -1.67105067, 2.26550497],
])


def test_philox_reproduces_documented_cuda_values() -> None:
    got = PhiloxNV(0).randn((3, 4))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, DOC_SEED0, atol=1e-6)


def test_philox_offsets_and_seeds() -> None:
    g = PhiloxNV(7)
    a, b = g.randn((4, 8, 8)), g.randn((4, 8, 8))
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, PhiloxNV(7).randn((4, 8, 8)))
    np.testing.assert_array_equal(b, PhiloxNV(7, offset=1).randn((4, 8, 8)))
    big = PhiloxNV(3).randn((4, 128, 128))
    assert abs(float(big.mean())) < 0.01 and abs(float(big.std()) - 1) < 0.01


def test_noise_plan_sources_and_ensd() -> None:
    p = plan(params(extra={"ENSD": "31337"}), RegenOptions(device="cpu"))
    n = p.noise
    assert (n.source, n.generator, n.step_noise, n.step_seed) == ("GPU", "philox", "generator",
                                                                  1234 + 31337)
    assert "rng-emulated" in [d.code for d in p.deviations]
    assert plan(params(), RegenOptions(device="cuda")).noise.generator == "torch-cuda"
    cpu = plan(params(extra={"RNG": "CPU"}), RegenOptions(device="cpu"))
    assert cpu.noise.generator == "torch-cpu"
    assert "rng-emulated" not in [d.code for d in cpu.deviations]
    assert plan(params(extra={"RNG": "NV"})).noise.generator == "philox"
    assert plan(params(sampler="Euler")).noise.step_noise == "none"
    assert plan(params(sampler="DPM++ SDE")).noise.step_noise == "brownian"
    assert plan(params(), RegenOptions(device="auto")).noise.generator == "auto"
    assert plan(params(), RegenOptions(rng="CPU")).noise.generator == "torch-cpu"


def test_variation_seed_plan_and_slerp() -> None:
    p = plan(params(variation_seed=99, variation_seed_strength=0.3,
                    extra={"Seed resize from": "256x384"}))
    n = p.noise
    assert (n.subseed, n.subseed_strength, n.resize_from) == (99, 0.3, (256, 384))
    assert n.shape == (4, 64, 64)
    low, high = PhiloxNV(1).randn((4, 8, 8)), PhiloxNV(2).randn((4, 8, 8))
    np.testing.assert_allclose(slerp(0.0, low, high), low, atol=1e-6)
    np.testing.assert_allclose(slerp(1.0, low, high), high, atol=1e-6)
    mid = ImageNoise(PhiloxNV, (4, 8, 8), 1, subseed=2, subseed_strength=0.5).first()
    np.testing.assert_allclose(mid, slerp(0.5, low, high), atol=1e-6)


def test_image_noise_life_cycle() -> None:
    n = ImageNoise(PhiloxNV, (4, 8, 8), 5, ensd=31337)
    first = n.first()
    np.testing.assert_array_equal(first, PhiloxNV(5).randn((4, 8, 8)))
    np.testing.assert_array_equal(n.next(), PhiloxNV(5 + 31337).randn((4, 8, 8)))
    m = ImageNoise(PhiloxNV, (4, 8, 8), 5)
    m.first()
    np.testing.assert_array_equal(m.next(), PhiloxNV(5, offset=1).randn((4, 8, 8)))
    r = ImageNoise(PhiloxNV, (4, 8, 8), 5, resize_from=(32, 32)).first()
    np.testing.assert_array_equal(r[:, 2:6, 2:6], PhiloxNV(5).randn((4, 4, 4)))


# --- prompts ---------------------------------------------------------------------------------

DOC_EXAMPLES = [
    ("normal text", [("normal text", 1.0)]),
    ("an (important) word", [("an ", 1.0), ("important", 1.1), (" word", 1.0)]),
    ("(unbalanced", [("unbalanced", 1.1)]),
    ("\\(literal\\]", [("(literal]", 1.0)]),
    ("(unnecessary)(parens)", [("unnecessaryparens", 1.1)]),
    ("a (((house:1.3)) [on] a (hill:0.5), sun, (((sky))).", [
        ("a ", 1.0), ("house", 1.5730000000000004), (" ", 1.1), ("on", 1.0), (" a ", 1.1),
        ("hill", 0.55), (", sun, ", 1.1), ("sky", 1.4641000000000006), (".", 1.1)]),
]


@pytest.mark.parametrize(("text", "expected"), DOC_EXAMPLES)
def test_attention_documented_examples(text: str, expected: list) -> None:
    got = parse_attention(text)
    assert [t for t, _ in got] == [t for t, _ in expected]
    np.testing.assert_allclose([w for _, w in got], [w for _, w in expected], rtol=1e-12)


def test_attention_more() -> None:
    assert parse_attention("[x]") == [("x", pytest.approx(1 / 1.1))]
    assert parse_attention("((x))") == [("x", pytest.approx(1.21))]
    assert parse_attention("a BREAK b") == [("a", 1.0), BREAK, ("b", 1.0)]


def test_extra_networks_and_prompt_editing() -> None:
    text, nets = extract_extra_networks("x <lora:a:0.5> <lora:b:te=0.2:unet=0.9> <lora:c>")
    assert text.strip() == "x"
    assert [(n.name, n.te_weight, n.unet_weight) for n in nets] == [
        ("a", 0.5, 0.5), ("b", 0.2, 0.9), ("c", 1.0, 1.0)]
    assert flatten_prompt_schedules("a [cat:dog:0.5] [r|b] [x:3] [(y)]") == (
        "a cat r  [(y)]", True)
    assert flatten_prompt_schedules("(a) [b]") == ("(a) [b]", False)


def test_chunking_comma_backtrack_break_and_embeddings() -> None:
    def tok(s: str) -> list[int]:
        return [1 if w == "," else 5 for w in s.replace(",", " , ").split()]

    words = " ".join(["w w w w w ,"] * 14)  # 84 tokens, commas at 5, 11, ..., 71, 77, 83
    chunks = chunk_tokens([(words, 1.0)], tok, comma_id=1)
    assert len(chunks) == 2
    # token 76 does not fit; the comma at 71 is within 20 tokens, so 72.. move on
    assert chunks[0].tokens[-1] == 1 and len(chunks[0].tokens) == 72
    assert sum(len(c.tokens) for c in chunks) == 84
    no_bt = chunk_tokens([(words, 1.0)], tok, comma_id=1, comma_backtrack=0)
    assert len(no_bt[0].tokens) == 75
    br = chunk_tokens([("a", 1.2), BREAK, ("b", 1.0)], tok, comma_id=1)
    assert [c.weights for c in br] == [[1.2], [1.0]]
    emb = chunk_tokens([(" ".join(["w"] * 74) + " emb", 1.0)], tok, comma_id=1,
                       embeddings={"emb": [900, 901, 902]})
    assert len(emb[0].tokens) == 74 and emb[1].tokens == [900, 901, 902]
    assert emb[1].embeddings == [(0, "emb")]


def test_prompt_plan_emphasis_and_clip_skip() -> None:
    p = plan(params(prompt="a (cat:1.3) <lora:x:0.7>", clip_skip=2,
                    extra={"Emphasis": "No norm"}))
    assert p.prompt.pieces == [("a ", 1.0), ("cat", 1.3), (" ", 1.0)]
    assert (p.prompt.clip_skip, p.negative.clip_skip) == (2, 2)
    assert p.prompt.emphasis == "No norm"


# --- hires -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("hr", "denoise", "total"), [
    (10, 0.7, 14), (20, 0.5, 40), (15, 0.35, 42), (20, 1.0, 20), (8, 0.3, 26)])
def test_hires_step_arithmetic(hr: int, denoise: float, total: int) -> None:
    t, t_enc, strength = hires_steps(hr, denoise)
    assert (t, t_enc) == (total, hr - 1)
    assert int(t * strength) == hr  # diffusers img2img then runs exactly hr steps
    sig = a1111_sigmas("karras", t)[t - t_enc - 1:]
    assert len(sig) - 1 == hr


def test_hires_plan() -> None:
    p = plan(params(width=512, height=768, hires_upscale=1.5, hires_steps=10,
                    denoising_strength=0.7, hires_upscaler="Latent (bicubic antialiased)",
                    extra={"Hires sampler": "DPM++ 2M", "Hires CFG Scale": "5"}))
    h = p.hires
    assert (h.width, h.height, h.mode, h.interpolation, h.antialias) == (
        768, 1152, "latent", "bicubic", True)
    assert (h.steps, h.total_steps, h.cfg_scale) == (10, 14, 5.0)
    assert h.scheduler.cls == "DPMSolverMultistepScheduler" and h.scheduler.steps == 14
    assert h.noise.shape == (4, 144, 96)
    esr = plan(params(hires_upscale=2, hires_upscaler="R-ESRGAN 4x+", denoising_strength=0.5))
    assert esr.hires.mode == "image"
    assert "upscaler-fallback" in [d.code for d in esr.deviations]


# --- deviations ------------------------------------------------------------------------------

def test_deviation_codes(tmp_path: Path) -> None:
    p = plan(params(prompt="x <lora:gone:1> [a:b:0.5] AND y", sampler="DPM++ 2M SDE",
                    extra={"ADetailer model": "face_yolov8n.pt", "Face restoration": "CodeFormer"}),
             RegenOptions(lora_dir=str(tmp_path), device="cpu"))
    codes = {d.code for d in p.deviations}
    assert {"missing-lora", "prompt-editing", "composable-and", "extension-params",
            "unsupported-param", "approx-sampler", "rng-emulated"} <= codes
    assert p.fidelity == "degraded"
    assert plan(params(seed=None)).fidelity == "refused"
    assert plan(params(sampler="Euler", extra={"RNG": "CPU"})).deviations == []


def test_model_checks(tmp_path: Path) -> None:
    missing = plan(params(), RegenOptions(model=str(tmp_path / "nope")))
    assert [d.code for d in missing.refused] == ["missing-model"]
    ckpt = tmp_path / "m.safetensors"
    ckpt.write_bytes(b"\x02\x00\x00\x00\x00\x00\x00\x00{}" + b"\0" * 64)
    import hashlib

    good = hashlib.sha256(ckpt.read_bytes()).hexdigest()[:10]
    ok = plan(params(model_hash=good, sampler="Euler", extra={"RNG": "CPU"}),
              RegenOptions(model=str(ckpt)))
    assert ok.deviations == [] and ok.model_kind == "single-file"
    bad = plan(params(model_hash="0123456789"), RegenOptions(model=str(ckpt)))
    assert "model-hash-mismatch" in [d.code for d in bad.deviations]


# --- dry run without torch --------------------------------------------------------------------

BLOCK = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('torch', 'diffusers', 'transformers'):
            raise ImportError('blocked ' + name)
sys.meta_path.insert(0, Block())
from gendata.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    assert not any(m.split('.')[0] in ('torch', 'diffusers') for m in sys.modules)
"""



def test_dry_run_without_torch(tmp_path: Path) -> None:
    img = make_png(tmp_path / "src.png")
    r = subprocess.run([sys.executable, "-c", BLOCK, "regen", str(img), "--dry-run"],
                       capture_output=True, text=True, cwd=ROOT, timeout=60,
                       env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "DPMSolverMultistepScheduler" in out and "use_karras_sigmas" in out
    assert "seed 42" in out and "ENSD 31337" in out and "'red':1.2" in out
    assert "missing-lora" in out
    assert not list(tmp_path.glob("*.regen.png"))


@pytest.mark.parametrize("kind", ["sd2", "refiner"])
def test_sd2_and_sdxl_refiner_are_refused(kind: str, tmp_path: Path) -> None:
    import json as _json

    folder = tmp_path / kind
    (folder / "unet").mkdir(parents=True)
    if kind == "sd2":
        index = {"_class_name": "StableDiffusionPipeline", "text_encoder": ["transformers",
                                                                            "CLIPTextModel"]}
        unet = {"cross_attention_dim": 1024}
    else:
        index = {"_class_name": "StableDiffusionXLImg2ImgPipeline", "text_encoder": [None, None]}
        unet = {"cross_attention_dim": 1280, "addition_embed_type": "text_time"}
    (folder / "model_index.json").write_text(_json.dumps(index))
    (folder / "unet" / "config.json").write_text(_json.dumps(unet))
    p = plan(params(), RegenOptions(model=str(folder)))
    assert [d.code for d in p.refused] == ["unsupported-model"]
    sdxl = tmp_path / "sdxl"
    (sdxl / "unet").mkdir(parents=True)
    (sdxl / "model_index.json").write_text(_json.dumps({
        "_class_name": "StableDiffusionXLPipeline", "text_encoder": ["transformers", "x"]}))
    (sdxl / "unet" / "config.json").write_text(_json.dumps({"cross_attention_dim": 2048}))
    p = plan(params(width=1024, height=768), RegenOptions(model=str(sdxl)))
    assert p.base == "sdxl" and not p.refused
    assert p.size_cond is not None and p.size_cond.original == (768, 1024)
