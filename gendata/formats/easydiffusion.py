"""Easy Diffusion: one PNG text chunk per field, or a JSON object in JPEG UserComment.

docs/formats.md#easy-diffusion. Field names are either internal (`use_stable_diffusion_model`) or
the human labels (`Stable Diffusion model`); values are Python `str()` text, so "None",
"True" and list literals appear; model values are paths.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..containers.raw import Changes, RawMetadata
from ..errors import ParseError
from ._util import basename, build, new_lora, positive_int, stamp, to_float, to_int, try_loads

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
    found = _where(raw)
    return found[1] if found else None


def _where(raw: RawMetadata) -> tuple[str | None, dict[str, Any]] | None:
    """(None, the chunks) for one PNG chunk per field, or (the key of the entry holding
    them as a JSON object, the object)."""
    texts = raw.texts()
    if any(m in texts for m in _MARKERS):
        return None, dict(texts)
    for key in ("UserComment", "parameters"):
        data = try_loads(texts.get(key))
        if isinstance(data, dict) and any(m in data for m in _MARKERS):
            return key, data
    return None


def score(raw: RawMetadata) -> float:
    return 0.9 if _fields(raw) is not None else 0.0


def _clean(value: Any) -> Any:
    if isinstance(value, str) and value.strip() in ("None", ""):
        return None
    return value


def parse(raw: RawMetadata) -> GenParams:
    found = _where(raw)
    params = _parse(raw, found)
    assert found is not None  # _parse raised otherwise
    key = found[0] or next(m for m in _MARKERS if raw.text(m) is not None)
    return stamp(params, NAME, key, raw.text(key) or "")


def _parse(raw: RawMetadata, found: tuple[str | None, dict[str, Any]] | None = None
           ) -> GenParams:
    data = found[1] if found is not None else _fields(raw)
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


# --- writing it back -------------------------------------------------------------------

def _as_text(value: Any) -> str:
    """A value as Easy Diffusion writes it into its own chunk: Python's str()."""
    return str(value)


def _path_like(old: Any, name: str) -> str:
    """A model name written where the old value was a path: the folder is kept."""
    import re

    if isinstance(old, str) and re.search(r"[\\/]", old):
        cut = max(old.rfind("/"), old.rfind("\\"))
        return old[:cut + 1] + name
    return name


def edit(raw: RawMetadata, params: GenParams, *, node: str | None = None) -> Changes:
    """Rewrite the changed fields: each in its own PNG chunk (under the name the file uses,
    internal or label), or in the JSON object a JPEG keeps in UserComment."""
    from .editing import Entries, changed_fields, coerce_like, extra_changes, no_node, refuse
    from .jsonedit import MISSING, JsonText

    no_node(node, DISPLAY_NAME)
    found = _where(raw)
    if found is None:
        raise ParseError("no Easy Diffusion fields")
    holder, data = found
    old = _parse(raw, found)
    fields = changed_fields(old, params)
    entries = Entries(raw)
    doc = JsonText(raw.text(holder) or "", holder) if holder else None

    def write(key: str, value: Any) -> None:
        if doc is not None:
            if value is None or value is MISSING:
                doc.remove((key,))
            else:
                doc.set((key,), coerce_like(doc.get((key,)), value))
        else:
            entries.put(key, "None" if value is None or value is MISSING else _as_text(value))

    for field, value in fields.items():
        if field not in _FIELDS:
            raise refuse(DISPLAY_NAME, field)
        internal, label = _FIELDS[field]
        key = label if label in data and internal not in data else internal
        if field == "clip_skip":
            if value not in (None, 2):
                raise refuse(DISPLAY_NAME, field, "Easy Diffusion only turns clip skip 2 on "
                             "or off")
            value = value == 2
        elif field == "denoising_strength" and old.denoising_strength is None:
            raise refuse(DISPLAY_NAME, field, "this image was not made from an init image")
        elif field in ("model", "vae") and value is not None:
            value = _path_like(data.get(key), value)
        write(key, value)
    for key, value in extra_changes(old, params).items():
        write(key, value)
    if doc is not None and holder is not None:
        entries.put(holder, doc.text)
    return entries.changes()
