"""Civitai's on-site generator (docs/formats.md#civitai).

Two shapes: an A1111-style infotext with the unquoted-JSON keys `Civitai resources` /
`Civitai metadata`, or (ComfyUI-based workflows) a ComfyUI API graph in UserComment with
an `extraMetadata` JSON string (prompt, sampler, size as the user entered them) and
`extra.airs` (model URNs). The graph is walked first; `extraMetadata` fills what the graph
lacks (an upscale-only graph has no sampler at all).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..containers.raw import Changes, RawEntry, RawMetadata
from ..errors import ParseError
from ._util import (
    FieldTable,
    marked_infotext,
    missing_fields,
    positive_int,
    read_fields,
    stamp,
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
    found = _graph_entry(raw)
    return found[1] if found else None


def _graph_entry(raw: RawMetadata) -> tuple[RawEntry, dict[str, Any]] | None:
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
            return entry, data
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
    found = _graph_entry(raw)
    if found is None:
        raise ParseError("no Civitai metadata")
    return stamp(_from_graph(found[1]), NAME, found[0].key, found[0].text or "")


# --- writing it back -------------------------------------------------------------------
# (Infotext files are A1111 text: the A1111 dialect writes them back.)


def edit(raw: RawMetadata, params: GenParams, *, node: str | None = None) -> Changes:
    """Rewrite a ComfyUI-based job: the graph takes what is read from it, and
    `extraMetadata` (a JSON string inside the same object) every value it held that
    agreed with the old one."""
    from .comfyui import params_from_graphs
    from .editing import Entries, changed_fields, graph_changes, refuse
    from .jsonedit import JsonText

    found = _graph_entry(raw)
    if found is None:
        raise ParseError("no Civitai metadata")
    entry, data = found
    old = _from_graph(data)
    fields = changed_fields(old, params)
    if params.extra != old.extra:
        raise refuse(DISPLAY_NAME, "extra", "its extra values come from extraMetadata")
    graph = params_from_graphs(data, None, NAME)
    in_graph = {f: v for f, v in fields.items() if getattr(graph, f) not in (None, "")}
    entries = Entries(raw)
    text = entry.text or ""
    if in_graph:
        text = graph_changes(raw, {entry.key}, in_graph, NAME, node=node).set.get(
            entry.key, text)
    doc = JsonText(text, f"{entry.location} {entry.key}")
    meta_text = doc.get(("extraMetadata",))
    done = set(in_graph)
    if isinstance(meta_text, str):
        meta = JsonText(meta_text, "extraMetadata")
        for field, value in fields.items():
            key = _EXTRA_METADATA.get(field, (None,))[0]
            if key is None or value is None:
                continue
            current = meta.get((key,))
            if _EXTRA_METADATA[field][1](current) == getattr(old, field) or (
                    field not in in_graph and current is not None):
                meta.set((key,), value)
                done.add(field)
        doc.set(("extraMetadata",), meta.text)
    lost = [f for f in fields if f not in done]
    if lost:
        raise refuse(DISPLAY_NAME, lost[0])
    entries.put(entry.key, doc.text)
    return entries.changes()
