"""Regen service, pure: GenParams + options -> RegenPlan, every decision made and explained.

The plan is the whole recipe: scheduler class and config, sigma list,
noise sources and seeds, weighted prompt pieces, LoRAs, embeddings, hires pass, and the list
of deviations from A1111. It never imports torch, so `--dry-run` and the tests are cheap; the
runner only executes what the plan says.

`make_plan` runs the sections in A1111's order, each in the module for its job: `resources`
(model, LoRAs, embeddings), `sampling` (sampler, schedule, noise), `prompts` and `hires`; the
plan's data classes live in `recipe` and are importable from here too.
"""

from __future__ import annotations

from dataclasses import replace

from ..model import GenParams
from .hires import hires_steps, plan_hires
from .prompts import plan_prompts
from .recipe import (
    EmbeddingPlan,
    HiresPlan,
    LoraPlan,
    NoisePlan,
    PromptPlan,
    RegenOptions,
    RegenPlan,
    SchedulerPlan,
    SizeCond,
)
from .report import Deviation
from .resources import plan_embeddings, plan_loras, plan_model
from .sampling import gpu_wave_deviation, plan_noise, plan_sampling

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


def make_plan(params: GenParams, options: RegenOptions | None = None) -> RegenPlan:
    """Decide everything about a regen run. Pure apart from reading the model's, LoRAs' and
    embeddings' files (existence, safetensors headers, hashes)."""
    opts = options or RegenOptions()
    devs: list[Deviation] = []
    notes: list[str] = []
    if opts.overrides:
        params = params.edited(**opts.overrides)
    device = (opts.device or "auto").lower()

    base, kind = plan_model(params, opts, devs, notes)
    width, height, steps, cfg, seed = _basics(params, devs)
    info, sched = plan_sampling(params, steps, seed, devs)
    noise = plan_noise((4, height // 8, width // 8), seed, params, opts, info, sched, device,
                       devs, notes)
    prompt, negative, nets, size_cond = plan_prompts(params, base, width, height, devs, notes)
    loras = plan_loras(params, nets, opts, devs)
    embeddings = plan_embeddings(params, prompt, negative, opts, devs)
    first = RegenPlan(
        base=base, model=opts.model, model_kind=kind, config=opts.config, device=device,
        width=width, height=height, steps=steps, cfg_scale=cfg, scheduler=sched, noise=noise,
        prompt=prompt, negative=negative, loras=loras, embeddings=embeddings, hires=None,
        deviations=[], notes=notes, params=params, options=opts, size_cond=size_cond,
    )
    hires = plan_hires(first, devs)
    gpu_wave_deviation([noise] + ([hires.noise] if hires else []), devs)
    _unsupported(params, devs)
    return replace(first, hires=hires, deviations=_dedupe(devs))


def _basics(params: GenParams, devs: list[Deviation]) -> tuple[int, int, int, float, int]:
    """(width, height, steps, cfg scale, seed), with A1111's defaults for what is missing; a
    missing seed refuses the run, since no default could reproduce the image."""
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
    return width, height, steps, cfg, seed


def _unsupported(params: GenParams, devs: list[Deviation]) -> None:
    """Report the image's keys for features that change the image and are not run here."""
    for key in params.extra:
        if key in UNSUPPORTED_KEYS:
            devs.append(Deviation("unsupported-param", UNSUPPORTED_KEYS[key],
                                  f"{key!r} is not reproduced"))
        elif key.startswith(EXTENSION_PREFIXES):
            devs.append(Deviation("extension-params", "degraded",
                                  f"extension parameter {key!r} ignored"))


def _dedupe(devs: list[Deviation]) -> list[Deviation]:
    seen: set[tuple[str, str]] = set()
    out = []
    for d in devs:
        if (d.code, d.message) not in seen:
            seen.add((d.code, d.message))
            out.append(d)
    return out
