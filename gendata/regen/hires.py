"""Planning the hires fix: A1111's txt2img -> upscale -> img2img second pass.

The pass reuses the first pass's seed, noise and (unless the image names others) sampler and
prompts, at the hires size; the step arithmetic follows A1111's img2img exactly
(docs/regen.md#how-a1111-is-matched, hires fix), which plain diffusers `strength` does not.
"""

from __future__ import annotations

from dataclasses import replace

from .prompts import plan_hires_prompts
from .recipe import HiresPlan, RegenPlan, SchedulerPlan, SizeCond
from .report import Deviation
from .sampling import resolve_sampler, schedule_label, scheduler_plan
from .values import extra, to_float, to_size

__all__ = ["IMAGE_UPSCALE", "LATENT_UPSCALE", "hires_steps", "plan_hires"]

LATENT_UPSCALE: dict[str, tuple[str, bool]] = {
    "Latent": ("bilinear", False),
    "Latent (antialiased)": ("bilinear", True),
    "Latent (bicubic)": ("bicubic", False),
    "Latent (bicubic antialiased)": ("bicubic", True),
    "Latent (nearest)": ("nearest", False),
    "Latent (nearest-exact)": ("nearest-exact", False),
}
IMAGE_UPSCALE = {"Lanczos": "lanczos", "Nearest": "nearest", "None": "lanczos"}


def hires_steps(hr_steps: int, denoise: float) -> tuple[int, int, float]:
    """A1111's img2img step arithmetic for the hires pass (docs/regen.md#how-a1111-is-matched).

    Returns (total, t_enc, strength): the schedule is built for `total` steps and the last
    `t_enc + 1 == hr_steps` are run; `strength` makes diffusers' `int(total * strength)` equal
    hr_steps, which plain `strength=denoise` misses by one in common cases.
    """
    if denoise <= 0:
        return 0, hr_steps - 1, 0.0
    total = int(hr_steps / min(denoise, 0.999))
    t_enc = hr_steps - 1
    return total, t_enc, (hr_steps + 0.5) / total


def plan_hires(first: RegenPlan, devs: list[Deviation]) -> HiresPlan | None:
    """The hires pass that follows `first` (planned without one), or None when the image asks
    for none. Its seed and noise are the first pass's, as in A1111."""
    params = first.params
    width, height, steps, cfg = first.width, first.height, first.steps, first.cfg_scale
    seed, noise, size_cond = first.noise.seed, first.noise, first.size_cond
    hr_scale = params.hires_upscale
    hr_size = None
    if params.hires_width and params.hires_height:
        hr_size = (params.hires_width, params.hires_height)
    elif (rs := to_size(extra(params, "Hires resize"))) and rs[0] and rs[1]:
        hr_size = rs
    if not (hr_scale or hr_size):
        return None
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
    hr_sampler = extra(params, "Hires sampler")
    hr_sched = extra(params, "Hires schedule type")
    if hr_sampler in (None, "", "Use same sampler"):
        hr_sampler, same = params.sampler, True
    else:
        same = False
    if hr_sched in (None, "", "Use same scheduler"):
        hr_sched = schedule_label(params) if same else None
    hinfo, hsched_name = resolve_sampler(hr_sampler, hr_sched, devs, "hires")
    if hinfo is not None and total > 0:
        hsched = scheduler_plan(hinfo, hsched_name, total, seed, params, [], "hires")
        if not same:
            scheduler_plan(hinfo, hsched_name, total, seed, params, devs, "hires")
    else:
        hsched = SchedulerPlan(str(hr_sampler), hsched_name, "", {}, steps=total)
    hnoise = replace(noise, shape=(4, hh // 8, hw // 8))
    hcfg = to_float(extra(params, "Hires CFG Scale"), cfg) or cfg
    hprompt, hneg = plan_hires_prompts(params, first.base, first.prompt, first.negative, devs)
    if denoise <= 0:
        devs.append(Deviation("hires-skipped", "approximate",
                              "hires fix with denoising strength 0: only the upscale is run"))
    # A1111 conditions the hires pass on the hires size (its hr_c/hr_uc).
    hsize = SizeCond((hh, hw), size_cond.crop, (hh, hw)) if size_cond is not None else None
    return HiresPlan(hw, hh, upscaler, mode, interp, aa, hr_steps, total, denoise,
                     strength, hcfg, hsched, hnoise, hprompt, hneg, hsize)
