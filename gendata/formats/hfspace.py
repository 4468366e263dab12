"""Hugging Face Spaces (Animagine and its clones): `parameters` JSON
(docs/formats.md#other-writers).

Keys: `prompt`, `negative_prompt`, `resolution` ("1024 x 1024"), `guidance_scale`,
`num_inference_steps`, `seed`, `sampler`, `Model`, `Model hash`, `use_upscaler`
(`{upscale_method, upscaler_strength, upscale_by, new_resolution}` or null).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..containers.raw import RawMetadata
from ..errors import ParseError
from ._util import (
    FieldTable,
    build,
    get_str,
    parse_size,
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
    from ..model import GenParams

NAME = "hfspace"
DISPLAY_NAME = "Hugging Face Space"
KEYS = frozenset({"parameters"})
MARKERS: tuple[str, ...] = ()  # JSON only

_FIELDS: FieldTable = {
    "prompt": ("prompt", str_or_empty),
    "negative_prompt": ("negative_prompt", str_or_empty),
    "cfg_scale": ("guidance_scale", to_float),
    "steps": ("num_inference_steps", positive_int),
    "seed": ("seed", to_int),
    "sampler": ("sampler", str_or_none),
    "model": ("Model", str_or_none),
    "model_hash": ("Model hash", str_or_none),
}


def _data(raw: RawMetadata) -> dict[str, Any] | None:
    data = try_loads(raw.texts().get("parameters"))
    if isinstance(data, dict) and "num_inference_steps" in data and "prompt" in data:
        return data
    return None


def score(raw: RawMetadata) -> float:
    return 0.85 if _data(raw) is not None else 0.0


def parse(raw: RawMetadata) -> GenParams:
    data = _data(raw)
    if data is None:
        raise ParseError("no Hugging Face Space parameters JSON")
    size = parse_size(data.get("resolution"))
    up = data.get("use_upscaler") if isinstance(data.get("use_upscaler"), dict) else None
    hires: dict[str, Any] = {}
    if up:
        new = parse_size(up.get("new_resolution"))
        hires = {
            "hires_upscaler": get_str(up, "upscale_method"),
            "denoising_strength": to_float(up.get("upscaler_strength")),
            "hires_upscale": to_float(up.get("upscale_by")),
            "hires_width": new[0] if new else None,
            "hires_height": new[1] if new else None,
        }
    return build(
        NAME,
        {
            **read_fields(data, _FIELDS),
            "width": size[0] if size else None,
            "height": size[1] if size else None,
            **hires,
        },
        extra=unread(data, _FIELDS, "resolution", "use_upscaler"),
    )
