"""Hugging Face Spaces (Animagine and its clones): `parameters` JSON
(docs/formats.md#other-writers).

Keys: `prompt`, `negative_prompt`, `resolution` ("1024 x 1024"), `guidance_scale`,
`num_inference_steps`, `seed`, `sampler`, `Model`, `Model hash`, `use_upscaler`
(`{upscale_method, upscaler_strength, upscale_by, new_resolution}` or null).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..containers.raw import Changes, RawMetadata
from ..errors import ParseError
from ._util import (
    FieldTable,
    build,
    get_str,
    parse_size,
    positive_int,
    read_fields,
    stamp,
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
    params = _parse(raw)
    return stamp(params, NAME, "parameters", raw.texts()["parameters"])


def _parse(raw: RawMetadata) -> GenParams:
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


# --- writing it back -------------------------------------------------------------------

_UPSCALER = "use_upscaler"


def _targets() -> dict[str, Any]:
    from .editing import size_target

    targets: dict[str, Any] = {field: (key,) for field, (key, _) in _FIELDS.items()}
    targets["width"] = size_target(("resolution",), "width", DISPLAY_NAME)
    targets["height"] = size_target(("resolution",), "height", DISPLAY_NAME)
    return targets


def _hires_targets() -> dict[str, Any]:
    """The upscaler's values, which exist only where the space ran its upscaler."""
    from .editing import size_target

    new_res = (_UPSCALER, "new_resolution")
    return {"hires_upscaler": (_UPSCALER, "upscale_method"),
            "denoising_strength": (_UPSCALER, "upscaler_strength"),
            "hires_upscale": (_UPSCALER, "upscale_by"),
            "hires_width": size_target(new_res, "width", DISPLAY_NAME),
            "hires_height": size_target(new_res, "height", DISPLAY_NAME)}


def edit(raw: RawMetadata, params: GenParams, *, node: str | None = None) -> Changes:
    """Rewrite the changed values in the `parameters` JSON, in place."""
    from .editing import (
        Entries,
        apply_extra,
        apply_json,
        changed_fields,
        extra_changes,
        no_node,
    )
    from .jsonedit import JsonText

    no_node(node, DISPLAY_NAME)
    old = _parse(raw)
    fields = changed_fields(old, params)
    entries = Entries(raw)
    doc = JsonText(raw.texts()["parameters"], "parameters")
    targets = _targets()
    if isinstance(doc.get((_UPSCALER,)), dict):
        targets.update(_hires_targets())
    apply_json(doc, fields, targets, DISPLAY_NAME)
    read = {key for key, _ in _FIELDS.values()} | {"resolution", _UPSCALER}
    apply_extra(doc, extra_changes(old, params), lambda k: None if k in read else (k,),
                DISPLAY_NAME)
    entries.put("parameters", doc.text)
    return entries.changes()
