"""Widget names for editor nodes that neither widgets.WIDGETS nor the node itself names:
custom nodes in files from front ends too old to list widget inputs.

Only three shapes are recognised, each by what its values and ports must look like, so a
node that does not fit gets no names at all:

- a sampler: a node that makes a LATENT (or an IMAGE from inputs) whose widgets hold seed
  (and its control value), steps, cfg, a sampler name, a scheduler and optionally denoise,
  one after the other (Impact Pack, Efficiency Nodes, ... all copy KSampler's widgets);
- a text encoder: a node with a CONDITIONING output and no CONDITIONING input whose only
  text widget is the prompt;
- a model loader: a MODEL output, no MODEL input, and a widget naming a model file.
"""

from __future__ import annotations

import re
from typing import Any

from .widgets import CONTROL_VALUES

__all__ = ["SAMPLER_NAMES", "SCHEDULER_NAMES", "guess_names"]

# comfy/samplers.py KSAMPLER_NAMES + SAMPLER_NAMES and SCHEDULER_NAMES
SAMPLER_NAMES = frozenset({
    "euler", "euler_cfg_pp", "euler_ancestral", "euler_ancestral_cfg_pp", "heun", "heunpp2",
    "dpm_2", "dpm_2_ancestral", "lms", "dpm_fast", "dpm_adaptive", "dpmpp_2s_ancestral",
    "dpmpp_2s_ancestral_cfg_pp", "dpmpp_sde", "dpmpp_sde_gpu", "dpmpp_2m", "dpmpp_2m_cfg_pp",
    "dpmpp_2m_sde", "dpmpp_2m_sde_gpu", "dpmpp_3m_sde", "dpmpp_3m_sde_gpu", "ddpm", "lcm",
    "ipndm", "ipndm_v", "deis", "res_multistep", "res_multistep_cfg_pp",
    "res_multistep_ancestral", "res_multistep_ancestral_cfg_pp", "gradient_estimation",
    "er_sde", "seeds_2", "seeds_3", "sa_solver", "sa_solver_pece", "ddim", "uni_pc",
    "uni_pc_bh2",
})
SCHEDULER_NAMES = frozenset({
    "normal", "karras", "exponential", "sgm_uniform", "simple", "ddim_uniform", "beta",
    "linear_quadratic", "kl_optimal",
})
_MODEL_FILE = re.compile(r"\.(safetensors|ckpt|pt|pth|bin|sft|gguf)$", re.IGNORECASE)


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _sampler_at(values: list[Any], i: int) -> tuple[int, bool] | None:
    """If a KSampler-shaped run of widgets starts at `i`: (index of steps, whether denoise
    follows); else None."""
    if not _int(values[i]):
        return None
    j = i + 1
    if j < len(values) and (values[j] in CONTROL_VALUES or isinstance(values[j], bool)):
        j += 1
    if j + 3 >= len(values):
        return None
    steps, cfg, sampler, scheduler = values[j:j + 4]
    if not (_int(steps) and steps > 0 and _number(cfg) and sampler in SAMPLER_NAMES
            and scheduler in SCHEDULER_NAMES):
        return None
    return j, j + 4 < len(values) and _number(values[j + 4])


def _ports(node: dict[str, Any], key: str) -> set[str]:
    ports = node.get(key)
    return {str(p.get("type")) for p in ports if isinstance(p, dict)} \
        if isinstance(ports, list) else set()


def guess_names(node: dict[str, Any], values: list[Any]) -> tuple[str, ...] | None:
    """Names for `values` (the node's widget values) in widgets.layout's form, or None."""
    if not values or not isinstance(values, list):
        return None
    outputs, inputs = _ports(node, "outputs"), _ports(node, "inputs")
    makes_image = "LATENT" in outputs or ("IMAGE" in outputs and inputs)
    for i in range(len(values) if makes_image else 0):
        found = _sampler_at(values, i)
        if found is not None:
            _, denoise = found
            names = [f"widget_{k}" for k in range(i)] + ["seed+"]
            names += ["steps", "cfg", "sampler_name", "scheduler"] + (["denoise"] if denoise
                                                                      else [])
            return tuple(names)
    texts = [k for k, v in enumerate(values) if isinstance(v, str)]
    if "CONDITIONING" in outputs and "CONDITIONING" not in inputs and len(texts) == 1:
        return (*tuple(f"widget_{k}" for k in range(texts[0])), "text")
    if "MODEL" in outputs and "MODEL" not in inputs:
        for k, v in enumerate(values):
            if isinstance(v, str) and _MODEL_FILE.search(v):
                return (*tuple(f"widget_{n}" for n in range(k)), "ckpt_name")
    return None
