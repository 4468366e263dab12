"""Easy Diffusion: one PNG text chunk per field, or a JSON object in JPEG UserComment.

docs/formats.md#easy-diffusion. Field names are either internal (`use_stable_diffusion_model`) or
the human labels (`Stable Diffusion model`); values are Python `str()` text, so "None",
"True" and list literals appear; model values are paths.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..containers.raw import RawMetadata
from ..errors import ParseError
from ._util import basename, build, new_lora, positive_int, to_float, to_int, try_loads

if TYPE_CHECKING:
    from ..model import GenParams, Lora

NAME = "easydiffusion"
DISPLAY_NAME = "Easy Diffusion"
KEYS = frozenset({"parameters", "UserComment", "prompt"})
MARKERS: tuple[str, ...] = ()  # JSON, or its own chunks

# our field -> (internal name, label)
_FIELDS = {
    "prompt": ("prompt", "Prompt"),
    "negative_prompt": ("negative_prompt", "Negative Prompt"),
    "seed": ("seed", "Seed"),
    "model": ("use_stable_diffusion_model", "Stable Diffusion model"),
    "clip_skip": ("clip_skip", "Clip Skip"),
    "vae": ("use_vae_model", "VAE model"),
    "sampler": ("sampler_name", "Sampler"),
    "scheduler": ("scheduler_name", "Scheduler"),
    "width": ("width", "Width"),
    "height": ("height", "Height"),
    "steps": ("num_inference_steps", "Steps"),
    "cfg_scale": ("guidance_scale", "Guidance Scale"),
    "denoising_strength": ("prompt_strength", "Prompt Strength"),
}
_MARKERS = ("use_stable_diffusion_model", "Stable Diffusion model")


def _fields(raw: RawMetadata) -> dict[str, Any] | None:
    texts = raw.texts()
    if any(m in texts for m in _MARKERS):
        return dict(texts)
    for key in ("UserComment", "parameters"):
        data = try_loads(texts.get(key))
        if isinstance(data, dict) and any(m in data for m in _MARKERS):
            return data
    return None


def score(raw: RawMetadata) -> float:
    return 0.9 if _fields(raw) is not None else 0.0


def _clean(value: Any) -> Any:
    if isinstance(value, str) and value.strip() in ("None", ""):
        return None
    return value


def parse(raw: RawMetadata) -> GenParams:
    data = _fields(raw)
    if data is None:
        raise ParseError("no Easy Diffusion fields")

    def get(field: str) -> Any:
        internal, label = _FIELDS[field]
        return _clean(data.get(internal, data.get(label)))

    model = get("model")
    vae = get("vae")
    img2img = bool(_clean(data.get("init_image", data.get("use_init_image"))))
    loras: list[Lora] = []
    lora = _clean(data.get("use_lora_model", data.get("LoRA model")))
    alpha = _clean(data.get("lora_alpha", data.get("LoRA Strength")))
    names = lora if isinstance(lora, list) else ([lora] if isinstance(lora, str) else [])
    alphas = alpha if isinstance(alpha, list) else [alpha] * len(names)
    for i, name in enumerate(names):
        if isinstance(name, str) and name:
            loras.append(
                new_lora(
                    name=basename(name) or name,
                    weight=to_float(alphas[i] if i < len(alphas) else None),
                )
            )
    used = {n for pair in _FIELDS.values() for n in pair} | {"use_lora_model", "lora_alpha"}
    extra = {
        k: v
        for k, v in data.items()
        if k not in used and isinstance(v, (str, int, float, bool)) and k not in ("Software",)
    }
    extra = {k: v for k, v in extra.items() if not k.startswith(("XML:", "exif", "icc"))}
    return build(
        NAME,
        {
            "prompt": get("prompt") or "",
            "negative_prompt": get("negative_prompt") or "",
            "seed": to_int(get("seed")),
            "model": basename(model) if isinstance(model, str) else None,
            "clip_skip": 2 if str(get("clip_skip")) == "True" else None,
            "vae": basename(vae) if isinstance(vae, str) else None,
            "sampler": get("sampler"),
            "scheduler": get("scheduler"),
            "width": positive_int(get("width")),
            "height": positive_int(get("height")),
            "steps": positive_int(get("steps")),
            "cfg_scale": to_float(get("cfg_scale")),
            # prompt_strength is always written; it only applies when an init image was used
            "denoising_strength": to_float(get("denoising_strength")) if img2img else None,
            "loras": loras,
        },
        extra=extra,
    )
