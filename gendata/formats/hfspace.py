"""Hugging Face Spaces (Animagine and its clones): `parameters` JSON (formats.md section 14).

Keys: `prompt`, `negative_prompt`, `resolution` ("1024 x 1024"), `guidance_scale`,
`num_inference_steps`, `seed`, `sampler`, `Model`, `Model hash`, `use_upscaler`
(`{upscale_method, upscaler_strength, upscale_by, new_resolution}` or null).
"""

from __future__ import annotations

from typing import Any

from ..containers.raw import RawMetadata
from ..errors import ParseError
from ..model import GenParams
from ._util import build, get_str, parse_size, positive_int, to_float, to_int, try_loads

NAME = "hfspace"


def _data(raw: RawMetadata) -> dict[str, Any] | None:
    data = try_loads(raw.texts().get("parameters"))
    if isinstance(data, dict) and "num_inference_steps" in data and "prompt" in data:
        return data
    return None


def score(raw: RawMetadata) -> float:
    try:
        return 0.85 if _data(raw) is not None else 0.0
    except Exception:
        return 0.0


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
    known = {
        "prompt",
        "negative_prompt",
        "resolution",
        "guidance_scale",
        "num_inference_steps",
        "seed",
        "sampler",
        "Model",
        "Model hash",
        "use_upscaler",
    }
    return build(
        NAME,
        {
            "prompt": get_str(data, "prompt", ""),
            "negative_prompt": get_str(data, "negative_prompt", ""),
            "width": size[0] if size else None,
            "height": size[1] if size else None,
            "cfg_scale": to_float(data.get("guidance_scale")),
            "steps": positive_int(data.get("num_inference_steps")),
            "seed": to_int(data.get("seed")),
            "sampler": get_str(data, "sampler"),
            "model": get_str(data, "Model"),
            "model_hash": get_str(data, "Model hash"),
            **hires,
        },
        extra={k: v for k, v in data.items() if k not in known},
    )
