"""Planning the sampler, its schedule and the noise: A1111's choices mapped onto diffusers.

A1111 names a sampler and a schedule type; diffusers has scheduler classes with config flags.
This module picks the class and config, computes A1111's exact sigma list where a scheduler
can take it, and plans the noise A1111's ImageRNG would draw (docs/regen.md#how-a1111-is-matched),
recording every mismatch as a Deviation.
"""

from __future__ import annotations

import math
from typing import Any

from ..model import GenParams
from . import samplers, schedules
from .recipe import NoisePlan, RegenOptions, SchedulerPlan
from .report import Deviation
from .values import extra, to_float, to_size

__all__ = [
    "GPU_WAVE_CHECKED",
    "SD15_SCHEDULER",
    "gpu_wave_deviation",
    "plan_noise",
    "plan_sampling",
    "resolve_sampler",
    "schedule_label",
    "scheduler_plan",
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

# CUDA's noise is the same on every card only while the card runs one thread per value
# (nvrng.wave_threads, docs/regen.md#noise-and-the-gpu). The RTX 4060 (24 SMs x 1536 threads), the
# smallest current desktop card, runs 36,864: above that count the card that made the image
# matters, and the infotext does not name it.
GPU_WAVE_CHECKED = 36_864


def schedule_label(params: GenParams) -> str | None:
    """The schedule type the image names: its own field, else A1111's `Schedule type` key."""
    return params.scheduler or extra(params, "Schedule type")


def plan_sampling(
    params: GenParams, steps: int, seed: int, devs: list[Deviation]
) -> tuple[samplers.SamplerInfo | None, SchedulerPlan]:
    """The first pass's sampler and schedule; the info is None for a sampler that is refused."""
    info, sched_name = resolve_sampler(params.sampler, schedule_label(params), devs)
    if info is not None:
        sched = scheduler_plan(info, sched_name, steps, seed, params, devs)
    else:
        sched = SchedulerPlan(params.sampler or "", sched_name, "", {}, steps=steps)
    if extra(params, "Noise Schedule") == "Zero Terminal SNR":
        sched.config["rescale_betas_zero_snr"] = True
        devs.append(Deviation("unsupported-schedule", "close",
                              "Zero Terminal SNR: diffusers' rescaled betas are used"))
    return info, sched


def plan_noise(
    shape: tuple[int, int, int], seed: int, params: GenParams, opts: RegenOptions,
    info: samplers.SamplerInfo | None, sched: SchedulerPlan, device: str,
    devs: list[Deviation], notes: list[str],
) -> NoisePlan:
    """The first pass's noise, and how far this device can reproduce A1111's generator; with
    the device still "auto" that is left for the runner to decide."""
    noise = _noise_plan(shape, seed, params, opts, info, sched, devs, device)
    if noise.generator != "auto":
        _rng_deviation(noise, devs)
    else:
        notes.append("GPU RNG: native on CUDA, emulated with Philox elsewhere (decided at run)")
    return noise


def scheduler_plan(
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
        eta = to_float(extra(params, "Eta DDIM"), 0.0) if info.name == "DDIM" else None
        return SchedulerPlan(info.name, "automatic", info.cls, config, eta=eta, steps=steps)

    resolved = info.default_schedule if schedule == "automatic" else schedule
    if resolved not in schedules.SCHEDULE_LABELS.values():
        devs.append(Deviation("unsupported-schedule", "approximate",
                              f"{prefix}unknown schedule type {schedule!r}; using "
                              f"{info.default_schedule}"))
        resolved = info.default_schedule
    config.update(samplers.KDIFF_BASE)
    discard = info.discard_penultimate or str(
        extra(params, "Discard penultimate sigma") or ""
    ).lower() == "true"
    smin = to_float(extra(params, "Schedule min sigma"))
    smax = to_float(extra(params, "Schedule max sigma"))
    rho = to_float(extra(params, "Schedule rho"))
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
    eta = to_float(extra(params, "Eta"))
    if eta is not None and eta != 1.0 and (info.uses_ensd or info.brownian):
        devs.append(Deviation("eta-unsupported", "approximate",
                              f"{prefix}Eta {eta} has no diffusers equivalent; eta 1 is used"))
    return plan


def resolve_sampler(
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
    source = str(opts.rng or extra(params, "RNG") or "GPU").upper()
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
    ensd = int(to_float(extra(params, "ENSD"), 0) or 0)
    step = "none"
    if info is not None:
        if info.cls == "DPMSolverSDEScheduler":
            step = "brownian"
        elif info.uses_ensd or info.brownian or (sched and sched.eta):
            step = "generator"
    resize = to_size(extra(params, "Seed resize from"))
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
                              "emulates it with Philox on the CPU (the same Philox numbers; "
                              "the card's float32 Box-Muller can differ in the last bits)."
                              + step))



def gpu_wave_deviation(noises: list[NoisePlan], devs: list[Deviation]) -> None:
    """Name the card dependence of A1111's GPU noise for latents above GPU_WAVE_CHECKED values
    (first pass or hires); the noise drawn during sampling has the same size."""
    sizes = [math.prod(n.shape) for n in noises if n.source == "GPU"]
    if not sizes or max(sizes) <= GPU_WAVE_CHECKED:
        return
    devs.append(Deviation("rng-gpu-threads", "close",
                          f"A1111's GPU noise has {max(sizes)} values per image: a card that "
                          "runs fewer threads at once (SMs x threads per SM; RTX 4060: 36864, "
                          "RTX 3060: 43008) lays them out differently, and the infotext does "
                          "not name the card. This run follows a card with enough threads."))
