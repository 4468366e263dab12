"""Regen service, pure: GenParams + options -> RegenPlan, every decision made and explained.

The plan is the whole recipe (regen.md section 4): scheduler class and config, sigma list,
noise sources and seeds, weighted prompt pieces, LoRAs, embeddings, hires pass, and the list
of deviations from A1111. It never imports torch, so `--dry-run` and the tests are cheap; the
runner only executes what the plan says.
"""

from __future__ import annotations

import json
import math
import re
import struct
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ..model import GenParams
from . import emphasis, samplers, schedules
from .hashing import addnet_hash, hash_matches
from .report import Deviation, worst

__all__ = [
    "EmbeddingPlan",
    "HiresPlan",
    "LoraPlan",
    "NoisePlan",
    "PromptPlan",
    "RegenOptions",
    "RegenPlan",
    "SchedulerPlan",
    "SizeCond",
    "hires_steps",
    "make_plan",
]

# The SD1.5 scheduler config (scheduler/scheduler_config.json of the reference model).
SD15_SCHEDULER: dict[str, Any] = {
    "num_train_timesteps": 1000,
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "clip_sample": False,
    "set_alpha_to_one": False,
    "steps_offset": 1,
    "timestep_spacing": "leading",
    "prediction_type": "epsilon",
}

LATENT_UPSCALE: dict[str, tuple[str, bool]] = {
    "Latent": ("bilinear", False),
    "Latent (antialiased)": ("bilinear", True),
    "Latent (bicubic)": ("bicubic", False),
    "Latent (bicubic antialiased)": ("bicubic", True),
    "Latent (nearest)": ("nearest", False),
    "Latent (nearest-exact)": ("nearest-exact", False),
}
IMAGE_UPSCALE = {"Lanczos": "lanczos", "Nearest": "nearest", "None": "lanczos"}

# Keys A1111 writes for features that change the image and that this tool does not run.
UNSUPPORTED_KEYS: dict[str, str] = {
    "Token merging ratio": "approximate",
    "Token merging ratio hr": "approximate",
    "NGMS": "approximate",
    "Skip Early CFG": "approximate",
    "Tiling": "degraded",
    "Face restoration": "degraded",
    "Refiner": "degraded",
    "Refiner switch at": "degraded",
    "Hypernet": "degraded",
    "Hypernet strength": "degraded",
    "Sigma churn": "approximate",
    "Sigma tmin": "approximate",
    "Sigma tmax": "approximate",
    "Sigma noise": "approximate",
    "s_noise": "approximate",
}
EXTENSION_PREFIXES = (
    "ControlNet", "ADetailer", "Dynamic thresholding", "Regional", "Tiled", "MultiDiffusion",
    "FreeU", "SAG", "Mimic", "CFG Rescale", "Kohya Hires", "Dynamic Prompts", "Template",
    "Negative Template", "RP ", "Latent Couple", "Cutoff", "Wildcard", "SD upscale",
)


@dataclass
class RegenOptions:
    """What the user asked for on top of the image's own parameters."""

    model: str | None = None
    config: str | None = None
    device: str = "auto"  # auto | cuda | mps | cpu
    lora_dir: str | None = None
    embeddings_dir: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    rng: str | None = None  # CPU | GPU | NV: overrides the image's RNG
    check_hash: bool = True


@dataclass
class SchedulerPlan:
    sampler: str
    schedule: str
    cls: str
    config: dict[str, Any]
    sigmas: list[float] | None = None
    timesteps: list[float] | None = None
    custom_sigmas: bool = False
    latent_scale: float = 1.0
    eta: float | None = None
    steps: int = 0


@dataclass
class NoisePlan:
    """A1111's ImageRNG for one image: initial noise, variation, and noise drawn during sampling.

    `source` is what A1111 used (GPU, CPU, NV); `generator` what this run uses (torch-cpu,
    torch-cuda, philox, or "auto" until the device is known). `step_noise`: none, generator
    (continues after the initial draw, re-seeded as seed + ENSD when ENSD is set) or brownian.
    """

    shape: tuple[int, int, int]
    seed: int
    source: str
    generator: str
    subseed: int | None = None
    subseed_strength: float = 0.0
    resize_from: tuple[int, int] | None = None
    ensd: int = 0
    step_noise: str = "none"
    step_seed: int | None = None


@dataclass
class PromptPlan:
    """`clip_skip`: which hidden state of CLIP (1 = last). `final_norm`: whether CLIP's final
    LayerNorm is applied to it; SD 1.x does, SDXL's penultimate-layer conditioning does not."""

    text: str
    pieces: list[tuple[str, float]]
    emphasis: str = "Original"
    clip_skip: int = 1
    final_norm: bool = True


@dataclass
class SizeCond:
    """SDXL's micro-conditioning (the UNet's add_time_ids), as (height, width) pairs."""

    original: tuple[int, int]
    crop: tuple[int, int]
    target: tuple[int, int]


@dataclass
class LoraPlan:
    name: str
    te_weight: float
    unet_weight: float
    path: str | None = None
    expected_hash: str | None = None
    actual_hash: str | None = None


@dataclass
class EmbeddingPlan:
    name: str
    path: str


@dataclass
class HiresPlan:
    width: int
    height: int
    upscaler: str
    mode: str  # "latent" or "image"
    interpolation: str
    antialias: bool
    steps: int  # steps actually run (A1111's hr steps)
    total_steps: int  # the schedule length they are cut from
    denoise: float
    strength: float  # diffusers img2img strength giving exactly `steps` steps
    cfg_scale: float
    scheduler: SchedulerPlan
    noise: NoisePlan
    prompt: PromptPlan
    negative: PromptPlan
    size_cond: SizeCond | None = None


@dataclass
class RegenPlan:
    base: str
    model: str | None
    model_kind: str | None
    config: str | None
    device: str
    width: int
    height: int
    steps: int
    cfg_scale: float
    scheduler: SchedulerPlan
    noise: NoisePlan
    prompt: PromptPlan
    negative: PromptPlan
    loras: list[LoraPlan]
    embeddings: list[EmbeddingPlan]
    hires: HiresPlan | None
    deviations: list[Deviation]
    notes: list[str]
    params: GenParams = field(repr=False)
    options: RegenOptions = field(repr=False)
    size_cond: SizeCond | None = None

    @property
    def fidelity(self) -> str:
        return worst(self.deviations)

    @property
    def refused(self) -> list[Deviation]:
        return [d for d in self.deviations if d.severity == "refused"]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("params", None)
        data.pop("options", None)
        data["fidelity"] = self.fidelity
        return data


def hires_steps(hr_steps: int, denoise: float) -> tuple[int, int, float]:
    """A1111's img2img step arithmetic for the hires pass (regen.md 3.8).

    Returns (total, t_enc, strength): the schedule is built for `total` steps and the last
    `t_enc + 1 == hr_steps` are run; `strength` makes diffusers' `int(total * strength)` equal
    hr_steps, which plain `strength=denoise` misses by one in common cases.
    """
    if denoise <= 0:
        return 0, hr_steps - 1, 0.0
    total = int(hr_steps / min(denoise, 0.999))
    t_enc = hr_steps - 1
    return total, t_enc, (hr_steps + 0.5) / total


def _extra(params: GenParams, key: str) -> Any:
    for k, v in params.extra.items():
        if k.lower() == key.lower():
            return v
    return None


def _float(value: Any, default: float | None = None) -> float | None:
    try:
        return float(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def _size(value: Any) -> tuple[int, int] | None:
    m = re.fullmatch(r"\s*(\d+)\s*x\s*(\d+)\s*", str(value or ""))
    return (int(m.group(1)), int(m.group(2))) if m else None


def _hash_list(value: Any) -> dict[str, str]:
    """Parse `Lora hashes` / `TI hashes`: "name: hash, name2: hash2"."""
    out: dict[str, str] = {}
    for part in str(value or "").strip().strip('"').split(","):
        name, sep, h = part.rpartition(":")
        if sep and name.strip():
            out[name.strip()] = h.strip()
    return out


def _safetensors_keys(path: Path) -> list[str]:
    with path.open("rb") as f:
        head = f.read(8)
        if len(head) < 8:
            return []
        (n,) = struct.unpack("<Q", head)
        if n > 100_000_000:
            return []
        try:
            return list(json.loads(f.read(n)))
        except ValueError:
            return []


def _model_base(path: Path) -> tuple[str, str]:
    """(kind, base): kind diffusers|single-file; base sd1|sd2|sdxl|unknown, from files only."""
    if path.is_dir():
        try:
            index = json.loads((path / "model_index.json").read_text())
            unet = json.loads((path / "unet" / "config.json").read_text())
        except (OSError, ValueError):
            return "diffusers", "unknown"
        if "XL" in str(index.get("_class_name", "")) or unet.get("addition_embed_type") == \
                "text_time":
            # The refiner has only the second (OpenCLIP) text encoder.
            te1 = index.get("text_encoder")
            return "diffusers", "sdxl" if te1 and te1[0] else "sdxl-refiner"
        if unet.get("cross_attention_dim") == 1024:
            return "diffusers", "sd2"
        return "diffusers", "sd1"
    keys = _safetensors_keys(path) if path.suffix.lower() == ".safetensors" else []
    if any(k.startswith("conditioner.embedders.1") for k in keys):
        return "single-file", "sdxl"
    if any(k.startswith("conditioner.embedders.0.model.") for k in keys):
        return "single-file", "sdxl-refiner"
    if any(k.startswith("cond_stage_model.model.") for k in keys):
        return "single-file", "sd2"
    return "single-file", "sd1"


def _find_file(folder: Path, name: str, suffixes: tuple[str, ...]) -> Path | None:
    for suf in suffixes:
        p = folder / f"{name}{suf}"
        if p.is_file():
            return p
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.stem == name and p.suffix.lower() in suffixes:
            return p
    return None


def _prompt_plan(text: str, params: GenParams, devs: list[Deviation], label: str) -> PromptPlan:
    flat, edited = emphasis.flatten_prompt_schedules(text)
    if edited:
        devs.append(Deviation("prompt-editing", "degraded",
                              f"{label}: prompt editing/alternation flattened to the text "
                              "active at the first step"))
    parts = emphasis.split_and(flat)
    if len(parts) > 1:
        devs.append(Deviation("composable-and", "degraded",
                              f"{label}: AND (composable diffusion) is not supported; only the "
                              "first subprompt is used"))
        flat = parts[0]
    mode = str(_extra(params, "Emphasis") or "Original")
    if mode == "None":
        pieces = [(flat, 1.0)]
    else:
        pieces = emphasis.parse_attention(flat)
        if mode == "Ignore":
            pieces = [(t, w if w == -1.0 else 1.0) for t, w in pieces]
    return PromptPlan(flat, pieces, mode, params.clip_skip or 1)


def _scheduler_plan(
    info: samplers.SamplerInfo,
    schedule: str,
    steps: int,
    seed: int,
    params: GenParams,
    devs: list[Deviation],
    label: str = "",
) -> SchedulerPlan:
    config = dict(SD15_SCHEDULER)
    config.update(info.kwargs)
    prefix = f"{label}: " if label else ""
    if info.family == "timestep":
        if schedule not in ("automatic",):
            devs.append(Deviation("unsupported-schedule", "close",
                                  f"{prefix}{info.name} ignores the schedule type "
                                  f"{schedule!r} in A1111 too; its own timesteps are used"))
        eta = _float(_extra(params, "Eta DDIM"), 0.0) if info.name == "DDIM" else None
        return SchedulerPlan(info.name, "automatic", info.cls, config, eta=eta, steps=steps)

    resolved = info.default_schedule if schedule == "automatic" else schedule
    if resolved not in schedules.SCHEDULE_LABELS.values():
        devs.append(Deviation("unsupported-schedule", "approximate",
                              f"{prefix}unknown schedule type {schedule!r}; using "
                              f"{info.default_schedule}"))
        resolved = info.default_schedule
    config.update(samplers.KDIFF_BASE)
    discard = info.discard_penultimate or str(
        _extra(params, "Discard penultimate sigma") or ""
    ).lower() == "true"
    smin = _float(_extra(params, "Schedule min sigma"))
    smax = _float(_extra(params, "Schedule max sigma"))
    rho = _float(_extra(params, "Schedule rho"))
    sig = schedules.a1111_sigmas(
        resolved, steps, discard_penultimate=discard, sigma_min=smin, sigma_max=smax, rho=rho
    )
    msig = schedules.model_sigmas()
    ts = [schedules.sigma_to_t(float(s), msig) for s in sig[:-1]]
    plan = SchedulerPlan(info.name, resolved, info.cls, config, [float(s) for s in sig], ts,
                         steps=steps)
    if info.custom_sigmas:
        plan.custom_sigmas = True
    else:
        if resolved in samplers.FLAG_FOR_SCHEDULE:
            config.update(samplers.FLAG_FOR_SCHEDULE[resolved])
        elif resolved in ("sgm_uniform", "simple"):
            config["timestep_spacing"] = "trailing"
            devs.append(Deviation("unsupported-schedule", "approximate",
                                  f"{prefix}{resolved} approximated by trailing timestep "
                                  f"spacing in {info.cls}"))
        elif resolved != "uniform":
            config.update(samplers.FLAG_FOR_SCHEDULE.get(info.default_schedule, {}))
            devs.append(Deviation("unsupported-schedule", "approximate",
                                  f"{prefix}{info.cls} cannot take the {resolved} schedule; "
                                  f"using {info.default_schedule}"))
        if smin or smax or rho:
            devs.append(Deviation("unsupported-schedule", "approximate",
                                  f"{prefix}custom schedule sigma/rho values need a sampler "
                                  "with custom sigmas (Euler, Euler a, LMS)"))
        if discard and not info.discard_penultimate:
            devs.append(Deviation("unsupported-schedule", "approximate",
                                  f"{prefix}'Discard penultimate sigma' is not applied by "
                                  f"{info.cls}"))
    if info.cls in ("DPMSolverMultistepScheduler", "DPMSolverSinglestepScheduler"):
        s0 = plan.sigmas[0] if plan.sigmas else 14.6146
        plan.latent_scale = s0 / math.sqrt(1.0 + s0 * s0)
    if info.cls == "DPMSolverSDEScheduler":
        config["noise_sampler_seed"] = seed
    if info.fidelity != "exact-recipe":
        devs.append(Deviation("approx-sampler", info.fidelity,
                              f"{prefix}{info.name} -> {info.cls}: {info.note}"))
    eta = _float(_extra(params, "Eta"))
    if eta is not None and eta != 1.0 and (info.uses_ensd or info.brownian):
        devs.append(Deviation("eta-unsupported", "approximate",
                              f"{prefix}Eta {eta} has no diffusers equivalent; eta 1 is used"))
    return plan


def _resolve_sampler(
    name: str | None, schedule: str | None, devs: list[Deviation], label: str = ""
) -> tuple[samplers.SamplerInfo | None, str]:
    prefix = f"{label}: " if label else ""
    if not name:
        devs.append(Deviation("unknown-sampler", "approximate",
                              f"{prefix}no sampler in the parameters; using Euler a "
                              "(A1111's old default)"))
        name = "Euler a"
    base, sched = samplers.split_sampler_name(name, schedule)
    info = samplers.find_sampler(base)
    if info is None:
        known = base in samplers.UNSUPPORTED
        devs.append(Deviation("unknown-sampler", "refused",
                              f"{prefix}sampler {name!r} "
                              + ("has no diffusers equivalent" if known else "is not known")
                              + "; supported: " + ", ".join(s.name for s in samplers.SAMPLERS)))
    return info, sched


def _noise_plan(
    shape: tuple[int, int, int], seed: int, params: GenParams, opts: RegenOptions,
    info: samplers.SamplerInfo | None, sched: SchedulerPlan | None, devs: list[Deviation],
    device: str,
) -> NoisePlan:
    source = str(opts.rng or _extra(params, "RNG") or "GPU").upper()
    if source not in ("GPU", "CPU", "NV"):
        devs.append(Deviation("rng-source", "approximate",
                              f"unknown RNG {source!r}; using the GPU generator"))
        source = "GPU"
    if source == "CPU":
        gen = "torch-cpu"
    elif source == "NV":
        gen = "philox"
    elif device == "cuda":
        gen = "torch-cuda"
    elif device == "auto":
        gen = "auto"
    else:
        gen = "philox"
    ensd = int(_float(_extra(params, "ENSD"), 0) or 0)
    step = "none"
    if info is not None:
        if info.cls == "DPMSolverSDEScheduler":
            step = "brownian"
        elif info.uses_ensd or info.brownian or (sched and sched.eta):
            step = "generator"
    resize = _size(_extra(params, "Seed resize from"))
    if resize and (resize[0] <= 0 or resize[1] <= 0 or resize == (shape[2] * 8, shape[1] * 8)):
        resize = None
    sub = params.variation_seed
    strength = params.variation_seed_strength or 0.0
    return NoisePlan(
        shape=shape, seed=seed, source=source, generator=gen,
        subseed=sub if strength else None, subseed_strength=strength if sub is not None else 0.0,
        resize_from=resize, ensd=ensd, step_noise=step,
        step_seed=(seed + ensd) if ensd else seed,
    )


def _rng_deviation(noise: NoisePlan, devs: list[Deviation]) -> None:
    if noise.source == "GPU" and noise.generator == "philox":
        step = (" Noise drawn during sampling continues a CUDA generator in A1111; it is "
                "emulated with the same Philox stream and may differ."
                if noise.step_noise == "generator" else "")
        devs.append(Deviation("rng-emulated", "close",
                              "A1111 drew the noise with torch's CUDA generator; this run "
                              "emulates it with Philox on the CPU (same initial noise)." + step))


def make_plan(params: GenParams, options: RegenOptions | None = None) -> RegenPlan:
    """Decide everything about a regen run. Pure apart from reading the model's, LoRAs' and
    embeddings' files (existence, safetensors headers, hashes)."""
    opts = options or RegenOptions()
    devs: list[Deviation] = []
    notes: list[str] = []
    if opts.overrides:
        params = params.edited(**opts.overrides)
    device = (opts.device or "auto").lower()

    # Model
    base, kind, model = "sd1", None, opts.model
    if model:
        mpath = Path(model)
        if not mpath.exists():
            devs.append(Deviation("missing-model", "refused", f"model not found: {model}"))
        else:
            kind, base = _model_base(mpath)
            if base == "sd2":
                devs.append(Deviation("unsupported-model", "refused",
                                      f"{model} is an SD2 model; regen runs SD 1.x and SDXL "
                                      "models"))
            elif base == "sdxl-refiner":
                devs.append(Deviation("unsupported-model", "refused",
                                      f"{model} is an SDXL refiner (one text encoder, "
                                      "aesthetic-score conditioning); regen runs SD 1.x and "
                                      "SDXL base models"))
            elif base == "unknown":
                devs.append(Deviation("missing-model", "refused",
                                      f"{model} is not a diffusers pipeline folder "
                                      "(no model_index.json / unet/config.json)"))
            if params.model_hash and opts.check_hash:
                if kind == "single-file":
                    ok, actual = hash_matches(params.model_hash, mpath)
                    if not ok:
                        devs.append(Deviation("model-hash-mismatch", "degraded",
                                              f"the image was made with model hash "
                                              f"{params.model_hash}, {mpath.name} hashes to "
                                              f"{actual}"))
                    else:
                        notes.append(f"model hash {actual} matches the image")
                else:
                    notes.append("model hash not checked: a diffusers folder has no single "
                                 "file to hash as A1111 does")
    else:
        notes.append("no model given: plan only")
    if params.vae or params.vae_hash:
        notes.append(f"the image names VAE {params.vae or params.vae_hash}; the model's own VAE "
                     "is used")

    # Size, steps, seeds
    width = params.width or 512
    height = params.height or 512
    if params.width is None or params.height is None:
        devs.append(Deviation("missing-param", "approximate", "no Size; using 512x512"))
    if width % 8 or height % 8:
        devs.append(Deviation("size-rounded", "approximate",
                              f"size {width}x{height} rounded down to a multiple of 8"))
        width, height = width - width % 8, height - height % 8
    steps = params.steps or 20
    if params.steps is None:
        devs.append(Deviation("missing-param", "approximate", "no Steps; using 20"))
    cfg = params.cfg_scale if params.cfg_scale is not None else 7.0
    if params.cfg_scale is None:
        devs.append(Deviation("missing-param", "approximate", "no CFG scale; using 7"))
    seed = params.seed
    if seed is None or seed < 0:
        devs.append(Deviation("missing-seed", "refused",
                              "the image has no seed (or -1); pass --seed"))
        seed = 0

    # Sampler and schedule
    schedule_label = params.scheduler or _extra(params, "Schedule type")
    info, sched_name = _resolve_sampler(params.sampler, schedule_label, devs)
    if info is not None:
        sched = _scheduler_plan(info, sched_name, steps, seed, params, devs)
    else:
        sched = SchedulerPlan(params.sampler or "", sched_name, "", {}, steps=steps)
    if _extra(params, "Noise Schedule") == "Zero Terminal SNR":
        sched.config["rescale_betas_zero_snr"] = True
        devs.append(Deviation("unsupported-schedule", "close",
                              "Zero Terminal SNR: diffusers' rescaled betas are used"))
    shape = (4, height // 8, width // 8)
    noise = _noise_plan(shape, seed, params, opts, info, sched, devs, device)
    if noise.generator != "auto":
        _rng_deviation(noise, devs)
    else:
        notes.append("GPU RNG: native on CUDA, emulated with Philox elsewhere (decided at run)")

    # Prompts and extra networks
    pos_text, nets = emphasis.extract_extra_networks(params.prompt)
    neg_text, neg_nets = emphasis.extract_extra_networks(params.negative_prompt)
    prompt = _prompt_plan(pos_text, params, devs, "prompt")
    negative = _prompt_plan(neg_text, params, devs, "negative prompt")
    size_cond = None
    if base == "sdxl":
        size_cond = _sdxl_conditioning(params, width, height, devs, notes)
        for pp in (prompt, negative):
            pp.clip_skip, pp.final_norm = 2, False
    elif (params.clip_skip or 1) > 2:
        notes.append(f"clip skip {params.clip_skip}: hidden state -{params.clip_skip} of CLIP")

    loras: list[LoraPlan] = []
    hashes = _hash_list(_extra(params, "Lora hashes"))
    for lo in params.loras:
        if lo.hash and lo.name not in hashes:
            hashes[lo.name] = lo.hash
    for net in nets + neg_nets:
        if net.kind in ("hypernet",):
            devs.append(Deviation("hypernetwork", "degraded",
                                  f"hypernetwork {net.name!r} is not supported; ignored"))
            continue
        if net.kind not in ("lora", "lyco"):
            devs.append(Deviation("extension-params", "degraded",
                                  f"extra network <{net.kind}:{net.name}> ignored"))
            continue
        lp = LoraPlan(net.name, net.te_weight, net.unet_weight, expected_hash=hashes.get(net.name))
        path = (_find_file(Path(opts.lora_dir), net.name, (".safetensors", ".pt", ".ckpt"))
                if opts.lora_dir and Path(opts.lora_dir).is_dir() else None)
        if path is None:
            where = f"in {opts.lora_dir}" if opts.lora_dir else "(no --lora-dir given)"
            devs.append(Deviation("missing-lora", "degraded",
                                  f"LoRA {net.name!r} not found {where}; generated without it"))
            continue
        lp.path = str(path)
        if lp.expected_hash:
            lp.actual_hash = addnet_hash(path)
            if not lp.actual_hash.startswith(lp.expected_hash.lower()[:12]):
                devs.append(Deviation("lora-hash-mismatch", "degraded",
                                      f"LoRA {net.name!r}: the image lists hash "
                                      f"{lp.expected_hash}, {path.name} hashes to "
                                      f"{lp.actual_hash}"))
        loras.append(lp)

    embeddings: list[EmbeddingPlan] = []
    available: dict[str, Path] = {}
    if opts.embeddings_dir and Path(opts.embeddings_dir).is_dir():
        for p in sorted(Path(opts.embeddings_dir).rglob("*")):
            if p.is_file() and p.suffix.lower() in (".pt", ".safetensors", ".bin"):
                available.setdefault(p.stem, p)
    both = prompt.text + "\n" + negative.text
    for name, p in available.items():
        if re.search(r"(?<![\w])" + re.escape(name) + r"(?![\w])", both):
            embeddings.append(EmbeddingPlan(name, str(p)))
    wanted = {e.name for e in params.embeddings} | set(_hash_list(_extra(params, "TI hashes")))
    for name in sorted(wanted - {e.name for e in embeddings}):
        devs.append(Deviation("missing-embedding", "degraded",
                              f"embedding {name!r} not found"
                              + (f" in {opts.embeddings_dir}" if opts.embeddings_dir
                                 else " (no --embeddings-dir given)")))

    # Hires fix
    hires = None
    hr_scale = params.hires_upscale
    hr_size = None
    if params.hires_width and params.hires_height:
        hr_size = (params.hires_width, params.hires_height)
    elif (rs := _size(_extra(params, "Hires resize"))) and rs[0] and rs[1]:
        hr_size = rs
    if hr_scale or hr_size:
        if hr_size is None:
            hr_size = (int(width * (hr_scale or 1.0)), int(height * (hr_scale or 1.0)))
        hw, hh = hr_size[0] - hr_size[0] % 8, hr_size[1] - hr_size[1] % 8
        denoise = params.denoising_strength if params.denoising_strength is not None else 0.7
        hr_steps = params.hires_steps or steps
        total, _t_enc, strength = hires_steps(hr_steps, denoise)
        upscaler = params.hires_upscaler or "Latent"
        if upscaler in LATENT_UPSCALE:
            mode, (interp, aa) = "latent", LATENT_UPSCALE[upscaler]
        else:
            mode, interp, aa = "image", IMAGE_UPSCALE.get(upscaler, "lanczos"), False
            if upscaler not in IMAGE_UPSCALE:
                devs.append(Deviation("upscaler-fallback", "degraded",
                                      f"hires upscaler {upscaler!r} needs its own weights; "
                                      "Lanczos is used instead"))
        hr_sampler = _extra(params, "Hires sampler")
        hr_sched = _extra(params, "Hires schedule type")
        if hr_sampler in (None, "", "Use same sampler"):
            hr_sampler, same = params.sampler, True
        else:
            same = False
        if hr_sched in (None, "", "Use same scheduler"):
            hr_sched = schedule_label if same else None
        hinfo, hsched_name = _resolve_sampler(hr_sampler, hr_sched, devs, "hires")
        if hinfo is not None and total > 0:
            hsched = _scheduler_plan(hinfo, hsched_name, total, seed, params, [], "hires")
            if not same:
                _scheduler_plan(hinfo, hsched_name, total, seed, params, devs, "hires")
        else:
            hsched = SchedulerPlan(str(hr_sampler), hsched_name, "", {}, steps=total)
        hnoise = replace(noise, shape=(4, hh // 8, hw // 8))
        hcfg = _float(_extra(params, "Hires CFG Scale"), cfg) or cfg
        hp = _extra(params, "Hires prompt")
        hn = _extra(params, "Hires negative prompt")
        hprompt = _prompt_plan(emphasis.extract_extra_networks(str(hp))[0], params, devs,
                               "hires prompt") if hp else prompt
        hneg = _prompt_plan(emphasis.extract_extra_networks(str(hn))[0], params, devs,
                            "hires negative prompt") if hn else negative
        if base == "sdxl":
            for pp in (hprompt, hneg):
                pp.clip_skip, pp.final_norm = 2, False
        if denoise <= 0:
            devs.append(Deviation("hires-skipped", "approximate",
                                  "hires fix with denoising strength 0: only the upscale is run"))
        # A1111 conditions the hires pass on the hires size (its hr_c/hr_uc).
        hsize = (SizeCond((hh, hw), size_cond.crop, (hh, hw)) if size_cond is not None
                 else None)
        hires = HiresPlan(hw, hh, upscaler, mode, interp, aa, hr_steps, total, denoise,
                          strength, hcfg, hsched, hnoise, hprompt, hneg, hsize)

    # Parameters this tool does not run
    for key in params.extra:
        if key in UNSUPPORTED_KEYS:
            devs.append(Deviation("unsupported-param", UNSUPPORTED_KEYS[key],
                                  f"{key!r} is not reproduced"))
        elif key.startswith(EXTENSION_PREFIXES):
            devs.append(Deviation("extension-params", "degraded",
                                  f"extension parameter {key!r} ignored"))
    return RegenPlan(
        base=base, model=model, model_kind=kind, config=opts.config, device=device,
        width=width, height=height, steps=steps, cfg_scale=cfg, scheduler=sched, noise=noise,
        prompt=prompt, negative=negative, loras=loras, embeddings=embeddings, hires=hires,
        deviations=_dedupe(devs), notes=notes, params=params, options=opts,
        size_cond=size_cond,
    )


def _sdxl_conditioning(params: GenParams, width: int, height: int, devs: list[Deviation],
                       notes: list[str]) -> SizeCond:
    """What A1111 feeds SDXL besides the text (sd_models_xl.get_learned_conditioning):
    original and target size are the generation size, the crop comes from its settings
    (sdxl_crop_top/left, 0 by default), which the infotext does not record; an empty
    negative prompt is zero conditioning. Both text encoders give their penultimate hidden
    state without the final LayerNorm; A1111 ignores `Clip skip` for SDXL unless its
    "sdxl_clip_l_skip" option is on, which applies it to CLIP-L only and is not recorded."""
    crop = (0, 0)  # A1111's default; its infotext has no key for the crop options
    notes.append(f"SDXL size conditioning: original {height}x{width} (HxW), crop "
                 f"{crop[0]},{crop[1]}, target {height}x{width}; an empty negative prompt is "
                 "zeroed, as A1111 does")
    skip = params.clip_skip or 1
    if skip > 2:
        devs.append(Deviation("clip-skip-sdxl", "approximate",
                              f"Clip skip {skip}: A1111 ignores it for SDXL unless its "
                              "'sdxl_clip_l_skip' option was on (not recorded in the "
                              "infotext); both encoders use their penultimate layer here"))
    elif skip == 2:
        notes.append("Clip skip 2 on SDXL: the penultimate layer both encoders use anyway")
    return SizeCond((height, width), crop, (height, width))


def _dedupe(devs: list[Deviation]) -> list[Deviation]:
    seen: set[tuple[str, str]] = set()
    out = []
    for d in devs:
        if (d.code, d.message) not in seen:
            seen.add((d.code, d.message))
            out.append(d)
    return out
