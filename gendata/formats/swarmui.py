"""SwarmUI: `sui_image_params` JSON in `parameters` or UserComment (docs/formats.md#swarmui).

The JPEG/WebP UserComment is UTF-16LE (the container layer decodes it); old releases put
the JSON in EXIF Model and kept `date`/`generation_time` inside `sui_image_params`. The
ComfyUI `prompt` chunk the ComfyUI backend adds is ignored here: SwarmUI's own record is
the one the user set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..containers.raw import RawMetadata
from ..errors import ParseError
from ._util import (
    FieldTable,
    basename,
    build,
    get_str,
    loads,
    new_lora,
    positive_int,
    read_fields,
    str_or_empty,
    str_or_none,
    to_float,
    to_int,
    try_loads,
    unread,
)

if TYPE_CHECKING:
    from ..model import GenParams, Lora

NAME = "swarmui"
DISPLAY_NAME = "SwarmUI"
KEYS = frozenset({"sui_image_params", "parameters", "UserComment"})
MARKERS = ("sui_image_params",)

_FIELDS: FieldTable = {
    "prompt": ("prompt", str_or_empty),
    "negative_prompt": ("negativeprompt", str_or_empty),
    "seed": ("seed", to_int),
    "steps": ("steps", positive_int),
    "cfg_scale": ("cfgscale", to_float),
    "scheduler": ("scheduler", str_or_none),
    "variation_seed": ("variationseed", to_int),
    "variation_seed_strength": ("variationseedstrength", to_float),
    "denoising_strength": ("initimagecreativity", to_float),
    "vae": ("vae", str_or_none),
    "version": ("swarm_version", str_or_none),
}


def _find(raw: RawMetadata) -> dict[str, Any] | None:
    for entry in raw.entries:
        if entry.text and "sui_image_params" in entry.text:
            data = try_loads(entry.text)
            if isinstance(data, dict) and isinstance(data.get("sui_image_params"), dict):
                return data
    return None


def score(raw: RawMetadata) -> float:
    for entry in raw.entries:
        if entry.text and "sui_image_params" in entry.text[:4096]:
            return 0.95
    return 0.0


def parse(raw: RawMetadata) -> GenParams:
    data = _find(raw)
    if data is None:
        for entry in raw.entries:
            if entry.text and "sui_image_params" in entry.text:
                loads(entry.text, f"{entry.location} {entry.key}")  # raises a precise ParseError
        raise ParseError("SwarmUI: sui_image_params is not a JSON object")
    p = data["sui_image_params"]
    extra_data = data["sui_extra_data"] if isinstance(data.get("sui_extra_data"), dict) else {}
    unused = extra_data.get("unused_parameters") or p.get("unused_parameters") or []
    unused = {u for u in unused if isinstance(u, str)} if isinstance(unused, list) else set()
    models = data["sui_models"] if isinstance(data.get("sui_models"), list) else []
    model_hash = None
    for m in models:
        if isinstance(m, dict) and m.get("param") == "model" and isinstance(m.get("hash"), str):
            model_hash = m["hash"]
    loras: list[Lora] = []
    names = p["loras"] if isinstance(p.get("loras"), list) else []
    weights = p["loraweights"] if isinstance(p.get("loraweights"), list) else []
    for i, name in enumerate(names):
        if isinstance(name, str):
            w = to_float(weights[i]) if i < len(weights) else None
            h = None
            for m in models:
                if (
                    isinstance(m, dict)
                    and m.get("param") == "loras"
                    and str(m.get("name", "")).startswith(name)
                ):
                    h = get_str(m, "hash")
            loras.append(new_lora(name=name, weight=w, hash=h))
    sampler = p.get("sampler") or p.get("comfyuisampler") or p.get("autowebuisampler")
    width = None if "width" in unused else positive_int(p.get("width"))
    height = None if "height" in unused else positive_int(p.get("height"))
    notes = []
    if width is None and positive_int(p.get("sidelength")):
        notes.append("size set through sidelength/aspect ratio; width/height were not used")
    extra = unread(
        p,
        _FIELDS,
        "model",
        "width",
        "height",
        "sampler",
        "comfyuisampler",
        "autowebuisampler",
        "loras",
        "loraweights",
    )
    for k, v in extra_data.items():
        extra.setdefault(f"sui_extra_data.{k}", v)
    model = get_str(p, "model")
    return build(
        NAME,
        {
            **read_fields(p, _FIELDS),
            "model": basename(model) if model and "/" in model else model,
            "model_hash": model_hash,
            "width": width,
            "height": height,
            "sampler": sampler if isinstance(sampler, str) else None,
            "loras": loras,
        },
        extra=extra,
        notes=notes,
    )
