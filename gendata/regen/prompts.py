"""Planning the prompts: A1111's prompt syntax reduced to what the text encoders are given.

Extra-network tags are taken out (the LoRAs and embeddings they name are found in `resources`),
emphasis is parsed into weighted pieces (docs/regen.md#how-a1111-is-matched, prompts), and for SDXL
the size conditioning A1111 adds beside the text is planned too.
"""

from __future__ import annotations

from ..model import GenParams
from . import emphasis
from .emphasis import ExtraNetwork
from .recipe import PromptPlan, SizeCond
from .report import Deviation
from .values import extra

__all__ = ["plan_hires_prompts", "plan_prompts", "prompt_plan", "sdxl_conditioning"]


def plan_prompts(
    params: GenParams, base: str, width: int, height: int, devs: list[Deviation],
    notes: list[str],
) -> tuple[PromptPlan, PromptPlan, list[ExtraNetwork], SizeCond | None]:
    """Prompt and negative prompt, the extra networks both name, and SDXL's size conditioning
    (None for SD 1.x)."""
    pos_text, nets = emphasis.extract_extra_networks(params.prompt)
    neg_text, neg_nets = emphasis.extract_extra_networks(params.negative_prompt)
    prompt = prompt_plan(pos_text, params, devs, "prompt")
    negative = prompt_plan(neg_text, params, devs, "negative prompt")
    size_cond = None
    if base == "sdxl":
        size_cond = sdxl_conditioning(params, width, height, devs, notes)
        _sdxl_encoders(prompt, negative)
    elif (params.clip_skip or 1) > 2:
        notes.append(f"clip skip {params.clip_skip}: hidden state -{params.clip_skip} of CLIP")
    return prompt, negative, nets + neg_nets, size_cond


def plan_hires_prompts(
    params: GenParams, base: str, prompt: PromptPlan, negative: PromptPlan,
    devs: list[Deviation],
) -> tuple[PromptPlan, PromptPlan]:
    """The hires pass's prompts: A1111's `Hires prompt` keys where given, else the first
    pass's own objects (the runner reuses their conditioning when it gets those back)."""
    hp = extra(params, "Hires prompt")
    hn = extra(params, "Hires negative prompt")
    hprompt = prompt_plan(emphasis.extract_extra_networks(str(hp))[0], params, devs,
                          "hires prompt") if hp else prompt
    hneg = prompt_plan(emphasis.extract_extra_networks(str(hn))[0], params, devs,
                       "hires negative prompt") if hn else negative
    if base == "sdxl":
        _sdxl_encoders(hprompt, hneg)
    return hprompt, hneg


def _sdxl_encoders(*prompts: PromptPlan) -> None:
    # SDXL's encoders give their penultimate hidden state without the final LayerNorm.
    for pp in prompts:
        pp.clip_skip, pp.final_norm = 2, False


def prompt_plan(text: str, params: GenParams, devs: list[Deviation], label: str) -> PromptPlan:
    """One prompt (extra-network tags already removed) as weighted pieces; what A1111 would do
    differently over the run, such as prompt editing, is reduced to its first step."""
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
    mode = str(extra(params, "Emphasis") or "Original")
    if mode == "None":
        pieces = [(flat, 1.0)]
    else:
        pieces = emphasis.parse_attention(flat)
        if mode == "Ignore":
            pieces = [(t, w if w == -1.0 else 1.0) for t, w in pieces]
    return PromptPlan(flat, pieces, mode, params.clip_skip or 1)


def sdxl_conditioning(params: GenParams, width: int, height: int, devs: list[Deviation],
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

