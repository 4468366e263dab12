"""Civitai's on-site generator (docs/formats.md#civitai).

Two shapes: an A1111-style infotext with the unquoted-JSON keys `Civitai resources` /
`Civitai metadata`, or (ComfyUI-based workflows) a ComfyUI API graph in UserComment with
an `extraMetadata` JSON string (prompt, sampler, size as the user entered them) and
`extra.airs` (model URNs). The graph is walked first; `extraMetadata` fills what the graph
lacks (an upscale-only graph has no sampler at all).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..containers.raw import RawMetadata
from ..errors import ParseError
from ._util import (
    FieldTable,
    marked_infotext,
    missing_fields,
    positive_int,
    read_fields,
    str_or_none,
    to_float,
    to_int,
    try_loads,
)
from .comfyui import looks_like_api

if TYPE_CHECKING:
    from ..model import GenParams

NAME = "civitai"
DISPLAY_NAME = "Civitai"
KEYS = frozenset({"parameters", "UserComment"})
MARKERS = ("Civitai", "extraMetadata", "urn:air:")

_TEXT_MARK = r"(?m)(?:^|,\s*)Civitai (?:resources|metadata):\s*[\[{]"  # compiled on first use

_EXTRA_METADATA: FieldTable = {
    "prompt": ("prompt", str_or_none),
    "negative_prompt": ("negativePrompt", str_or_none),
    "steps": ("steps", positive_int),
    "cfg_scale": ("cfgScale", to_float),
    "sampler": ("sampler", str_or_none),
    "seed": ("seed", to_int),
    "width": ("width", positive_int),
    "height": ("height", positive_int),
    "clip_skip": ("clipSkip", positive_int),
}


def _graph(raw: RawMetadata) -> dict[str, Any] | None:
    for entry in raw.entries:
        text = entry.text
        if not text or ("extraMetadata" not in text and "urn:air:" not in text):
            continue
        data = try_loads(text)
        if (
            isinstance(data, dict)
            and looks_like_api(data)
            and (
                "extraMetadata" in data
                or isinstance(data.get("extra"), dict)
                or "resource-stack" in data
            )
        ):
            return data
    return None


def _text(raw: RawMetadata) -> str | None:
    return marked_infotext(raw, "Civitai", _TEXT_MARK)


def score(raw: RawMetadata) -> float:
    return 0.9 if _text(raw) is not None or _graph(raw) is not None else 0.0


def _from_graph(data: dict[str, Any]) -> GenParams:
    from .comfyui import params_from_graphs

    params = params_from_graphs(data, None, NAME)
    meta = data.get("extraMetadata")
    meta = try_loads(meta) if isinstance(meta, str) else meta
    if not isinstance(meta, dict):
        return params
    changes = missing_fields(params, read_fields(meta, _EXTRA_METADATA))
    extra = dict(params.extra)
    for key in ("baseModel", "workflow", "workflowId", "resources", "aspectRatio"):
        if key in meta:
            extra[f"Civitai {key}"] = meta[key]
    airs = data.get("extra", {}).get("airs") if isinstance(data.get("extra"), dict) else None
    if airs:
        extra["Civitai airs"] = airs
    changes["extra"] = extra
    notes = [n for n in params.notes if n != "no sampler node found in the ComfyUI graph"]
    if not params.samplers:
        notes.append("graph has no sampler (an upscale/edit job); values come from extraMetadata")
    changes["notes"] = notes
    params = params.model_copy(update=changes)
    return params


def parse(raw: RawMetadata) -> GenParams:
    text = _text(raw)
    if text is not None:
        from .a1111 import parse_text

        return parse_text(text).model_copy(update={"generator": NAME})
    data = _graph(raw)
    if data is None:
        raise ParseError("no Civitai metadata")
    return _from_graph(data)
