"""Stability Matrix: `parameters-json`, `smproj` and a ComfyUI `prompt` graph
(docs/formats.md#other-writers).

The graph is walked for what only it knows (scheduler, clip skip, the hires pass);
`parameters-json` supplies what the user typed (the full prompt, CRLF line ends kept) and
the model's full SHA-256. The A1111-like `parameters` text is a fallback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..containers.raw import Changes, RawMetadata
from ..errors import ParseError
from ._util import (
    FieldTable,
    build,
    loads,
    missing_fields,
    positive_int,
    read_fields,
    stamp,
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
    params = _parse(raw)
    key = "parameters-json" if raw.text("parameters-json") is not None else "smproj"
    return stamp(params, NAME, key, raw.text(key) or "")


def _parse(raw: RawMetadata) -> GenParams:
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


# --- writing it back -------------------------------------------------------------------
#
# Stability Matrix keeps a value in up to three places: parameters-json (what the user
# typed), the A1111-style `parameters` text and the ComfyUI graph it ran. An edit goes to
# each place that held the old value, so copies that agreed still agree; a place that held
# something else (the final size where the graph holds the first pass's) is left alone. The
# graph must take what is read from it (every value parameters-json does not own).

_INFOTEXT_FIELDS = ("prompt", "negative_prompt", "steps", "sampler", "cfg_scale", "seed",
                    "width", "height", "model", "model_hash", "clip_skip",
                    "denoising_strength", "scheduler")


def _same(a: Any, b: Any) -> bool:
    """Whether two copies of a value agree: text compares line by line, stripped, as the
    A1111 text holds it (parameters-json keeps the CRLF and spaces its parser drops)."""
    if isinstance(a, str) and isinstance(b, str):
        return _lines(a) == _lines(b)
    return bool(a == b)


def _lines(text: str) -> list[str]:
    """Text as A1111's parser reads it: lines stripped, empty ends dropped."""
    return [line.strip() for line in text.strip().splitlines()]


def edit(raw: RawMetadata, params: GenParams, *, node: str | None = None) -> Changes:
    from . import comfyui
    from .a1111 import parse_text
    from .editing import Entries, changed_fields, infotext_edit, merge, refuse, sync_graph
    from .jsonedit import JsonText

    old = _parse(raw)
    fields = changed_fields(old, params)
    if params.extra != old.extra:
        raise refuse(DISPLAY_NAME, "extra", "its extra values come from its graph and text")
    entries = Entries(raw)
    texts = raw.texts()
    held: set[str] = set()
    api, workflow, _ = comfyui.find_graphs(raw)
    graph = comfyui.params_from_graphs(api, workflow, NAME) if (
        api is not None or workflow is not None) else None
    if "parameters-json" in texts:
        doc = JsonText(texts["parameters-json"], "parameters-json")
        for field, value in fields.items():
            key = (_OWN.get(field) or _FALLBACK.get(field) or (None,))[0]
            if key is None or value is None:
                continue
            current = doc.get((key,))
            if field in _OWN or (current is not None and _FALLBACK[field][1](
                    current) == getattr(old, field)):
                doc.set((key,), value)
                # read from here unless the graph has it (parse: the graph comes first)
                if field in _OWN or graph is None or getattr(graph, field) is None:
                    held.add(field)
        entries.put("parameters-json", doc.text)
    if "parameters" in texts:
        text = texts["parameters"]
        mine = parse_text(text)
        agree = {f: v for f, v in fields.items()
                 if f in _INFOTEXT_FIELDS and _same(getattr(mine, f), getattr(old, f))}
        entries.put("parameters", infotext_edit(text, agree))
        if api is None and workflow is None:
            held |= set(agree)
    unheld = [f for f in fields if f not in held]
    if graph is None:
        if unheld:
            raise refuse(DISPLAY_NAME, unheld[0])
        return entries.changes()
    beside = sync_graph(raw, {"prompt", "workflow"}, fields, NAME, node=node, required=unheld)
    return merge(beside, entries.changes())
