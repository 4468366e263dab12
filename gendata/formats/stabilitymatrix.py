"""Stability Matrix: `parameters-json`, `smproj` and a ComfyUI `prompt` graph
(docs/formats.md#other-writers).

The graph is walked for what only it knows (scheduler, clip skip, the hires pass);
`parameters-json` supplies what the user typed (the full prompt, CRLF line ends kept) and
the model's full SHA-256. The A1111-like `parameters` text is a fallback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..containers.raw import RawMetadata
from ..errors import ParseError
from ._util import (
    FieldTable,
    build,
    loads,
    missing_fields,
    positive_int,
    read_fields,
    str_or_none,
    to_float,
    to_int,
)

if TYPE_CHECKING:
    from ..model import GenParams

NAME = "stabilitymatrix"
DISPLAY_NAME = "Stability Matrix"
KEYS = frozenset({"parameters-json", "smproj", "parameters", "prompt", "workflow"})
MARKERS: tuple[str, ...] = ()  # only its own chunks

# What the user typed wins over the graph ...
_OWN: FieldTable = {
    "prompt": ("PositivePrompt", str_or_none),
    "negative_prompt": ("NegativePrompt", str_or_none),
    "model": ("ModelName", str_or_none),
    "model_hash": ("ModelHash", str_or_none),
    "seed": ("Seed", to_int),
}
# ... these only fill what the graph (or the A1111 text) lacks.
_FALLBACK: FieldTable = {
    "steps": ("Steps", positive_int),
    "cfg_scale": ("CfgScale", to_float),
    "sampler": ("Sampler", str_or_none),
    "width": ("Width", positive_int),
    "height": ("Height", positive_int),
}


def score(raw: RawMetadata) -> float:
    texts = raw.texts()
    return 0.95 if ("parameters-json" in texts or "smproj" in texts) else 0.0


def parse(raw: RawMetadata) -> GenParams:
    from . import comfyui

    texts = raw.texts()
    if "parameters-json" not in texts and "smproj" not in texts:
        raise ParseError("no Stability Matrix parameters-json/smproj chunk")
    data: dict[str, Any] = {}
    if "parameters-json" in texts:
        loaded = loads(texts["parameters-json"], "parameters-json")
        if not isinstance(loaded, dict):
            raise ParseError("parameters-json: expected a JSON object")
        data = loaded
    api, workflow, _ = comfyui.find_graphs(raw)
    if api is not None or workflow is not None:
        params = comfyui.params_from_graphs(api, workflow, NAME)
    elif "parameters" in texts:
        from .a1111 import parse_text

        params = parse_text(texts["parameters"]).model_copy(update={"generator": NAME})
    else:
        params = build(NAME, {})
    own = read_fields(data, _OWN)
    changes: dict[str, Any] = {k: v for k, v in own.items() if v is not None}
    changes.update(missing_fields(params, read_fields(data, _FALLBACK)))
    if data.get("Sampler"):
        changes["extra"] = {**params.extra, "Stability Matrix sampler": data["Sampler"]}
    return params.model_copy(update=changes)
