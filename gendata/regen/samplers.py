"""Regen service, pure: A1111 sampler and schedule names -> diffusers scheduler classes and flags.

The table is in docs/regen.md#how-a1111-is-matched. A1111 >= 1.9 writes `Sampler` and
`Schedule type` apart; older infotexts fold the schedule into the sampler name ("DPM++ 2M
Karras"), and A1111 splits a trailing schedule label off the name when the schedule is Automatic
or absent. "Automatic" is the sampler's own default schedule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .schedules import SCHEDULE_LABELS

__all__ = ["SAMPLERS", "UNSUPPORTED", "SamplerInfo", "find_sampler", "split_sampler_name"]

# Every k-diffusion sampler starts from the SD1.5 scheduler config with these two changes:
# the SD1.5 default ("leading", offset 1) puts Euler's first sigma at 11.03 instead of 14.61.
KDIFF_BASE: dict[str, Any] = {"timestep_spacing": "linspace", "steps_offset": 0}

# Schedules a diffusers class reaches through a config flag (exact once spacing is linspace).
FLAG_FOR_SCHEDULE: dict[str, dict[str, Any]] = {
    "karras": {"use_karras_sigmas": True},
    "exponential": {"use_exponential_sigmas": True},
    "beta": {"use_beta_sigmas": True},
}


@dataclass(frozen=True)
class SamplerInfo:
    """One A1111 sampler and how diffusers runs it.

    `custom_sigmas`: the runner can impose A1111's exact sigma list (Euler through the pipeline's
    `sigmas=`; Euler a and LMS through a small subclass), so every schedule type is exact.
    `fidelity`: the best this sampler can do, before schedule and noise considerations.
    """

    name: str
    cls: str
    family: str = "k"  # "k" (k-diffusion, sigma based) or "timestep" (DDIM, PLMS, UniPC)
    aliases: tuple[str, ...] = ()
    default_schedule: str = "uniform"
    kwargs: dict[str, Any] = field(default_factory=dict)
    custom_sigmas: bool = False
    uses_ensd: bool = False
    discard_penultimate: bool = False
    brownian: bool = False
    fidelity: str = "close"
    note: str = ""


SAMPLERS: tuple[SamplerInfo, ...] = (
    SamplerInfo("Euler", "EulerDiscreteScheduler", aliases=("k_euler",), custom_sigmas=True,
                fidelity="exact-recipe"),
    SamplerInfo("Euler a", "EulerAncestralDiscreteScheduler",
                aliases=("k_euler_a", "k_euler_ancestral"), custom_sigmas=True, uses_ensd=True,
                fidelity="exact-recipe"),
    SamplerInfo("LMS", "LMSDiscreteScheduler", aliases=("k_lms",), custom_sigmas=True,
                note="LMS coefficients are integrated numerically by both libraries"),
    SamplerInfo("Heun", "HeunDiscreteScheduler", aliases=("k_heun",)),
    SamplerInfo("DPM2", "KDPM2DiscreteScheduler", aliases=("k_dpm_2",), default_schedule="karras",
                discard_penultimate=True, fidelity="approximate",
                note="A1111 discards the penultimate sigma; diffusers does not"),
    SamplerInfo("DPM2 a", "KDPM2AncestralDiscreteScheduler", aliases=("k_dpm_2_a",),
                default_schedule="karras", discard_penultimate=True, uses_ensd=True,
                fidelity="approximate",
                note="A1111 discards the penultimate sigma; diffusers does not"),
    SamplerInfo("DPM++ 2M", "DPMSolverMultistepScheduler", aliases=("k_dpmpp_2m",),
                default_schedule="karras",
                note="diffusers rounds UNet timesteps to integers"),
    SamplerInfo("DPM++ SDE", "DPMSolverSDEScheduler", aliases=("k_dpmpp_sde",),
                default_schedule="karras", brownian=True,
                note="Brownian-tree noise seeded with the image seed, as A1111 (unverified)"),
    SamplerInfo("DPM++ 2M SDE", "DPMSolverMultistepScheduler", aliases=("k_dpmpp_2m_sde",),
                default_schedule="exponential", brownian=True,
                kwargs={"algorithm_type": "sde-dpmsolver++"}, fidelity="approximate",
                note="A1111 draws SDE noise from a Brownian tree, diffusers from the generator"),
    SamplerInfo("DPM++ 2M SDE Heun", "DPMSolverMultistepScheduler",
                aliases=("k_dpmpp_2m_sde_heun",), default_schedule="exponential", brownian=True,
                kwargs={"algorithm_type": "sde-dpmsolver++", "solver_type": "heun"},
                fidelity="approximate",
                note="A1111 draws SDE noise from a Brownian tree, diffusers from the generator"),
    SamplerInfo("DPM++ 3M SDE", "DPMSolverMultistepScheduler", aliases=("k_dpmpp_3m_sde",),
                default_schedule="exponential", brownian=True, discard_penultimate=True,
                kwargs={"algorithm_type": "sde-dpmsolver++", "solver_order": 3},
                fidelity="approximate",
                note="Brownian-tree noise and the discarded penultimate sigma are not reproduced"),
    SamplerInfo("DPM++ 2S a", "DPMSolverSinglestepScheduler", aliases=("k_dpmpp_2s_a",),
                default_schedule="karras", uses_ensd=True, fidelity="approximate",
                note="no ancestral single-step solver in diffusers; the deterministic one is used"),
    SamplerInfo("DDIM", "DDIMScheduler", family="timestep", aliases=("ddim",),
                note="SD1.5 spacing (leading, offset 1) is A1111's ddim_discretize=uniform"),
    SamplerInfo("PLMS", "PNDMScheduler", family="timestep", aliases=("plms",),
                kwargs={"skip_prk_steps": True}),
    SamplerInfo("UniPC", "UniPCMultistepScheduler", family="timestep", aliases=("unipc",),
                kwargs={"solver_order": 3}, fidelity="approximate",
                note="different time discretisation; A1111's default bh1 variant yields NaN "
                     "latents in diffusers 0.42.1, so bh2 is used"),
)

# Known to A1111, with nothing in diffusers close enough to call it the same sampler.
UNSUPPORTED: tuple[str, ...] = (
    "DPM fast", "DPM adaptive", "Restart", "LCM", "DDIM CFG++", "HeunPP2", "IPNDM", "IPNDM_V",
    "DEIS",
)

_BY_NAME: dict[str, SamplerInfo] = {}
for _s in SAMPLERS:
    _BY_NAME[_s.name.lower()] = _s
    for _a in _s.aliases:
        _BY_NAME[_a.lower()] = _s


def find_sampler(name: str) -> SamplerInfo | None:
    """Look a sampler up by A1111 label or alias, ignoring case."""
    return _BY_NAME.get(name.strip().lower())


def split_sampler_name(sampler: str, schedule: str | None) -> tuple[str, str]:
    """(sampler label, schedule internal name) the way A1111 resolves old and new infotexts.

    The schedule stays "automatic" when it is absent or Automatic and the sampler name carries
    no schedule suffix. An unknown schedule label is returned lower-cased for the caller to report.
    """
    sched_label = (schedule or "Automatic").strip()
    sched = SCHEDULE_LABELS.get(sched_label)
    if sched is None:
        lowered = {k.lower(): v for k, v in SCHEDULE_LABELS.items()}
        sched = lowered.get(sched_label.lower(), sched_label.lower())
    name = sampler.strip()
    if sched == "automatic":
        for label, internal in sorted(SCHEDULE_LABELS.items(), key=lambda kv: -len(kv[0])):
            if internal == "automatic":
                continue
            if name.lower().endswith(" " + label.lower()) and find_sampler(name) is None:
                return name[: -len(label) - 1].strip(), internal
    return name, sched
