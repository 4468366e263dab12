"""Tensor.Art: `generation_data` JSON (UTF-8 in tEXt, trailing NUL) + a ComfyUI graph.

docs/formats.md#other-writers. `generation_data` is what the user set (prompt, sampler as
`ksamplerName`/`schedule`, model as `baseModel{modelFileName, hash}`); its `seed` is "-1"
when random, in which case the graph's sampler seed is the real one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..containers.raw import Changes, RawMetadata
from ..errors import ParseError
from ._util import (
    FieldTable,
    build,
    get_str,
    loads,
    looks_like_json_object,
    positive_int,
    read_fields,
    stamp,
    str_or_empty,
    str_or_none,
    to_float,
    to_int,
    unread,
)

if TYPE_CHECKING:
    from ..model import GenParams

NAME = "tensorart"
DISPLAY_NAME = "Tensor.Art"
KEYS = frozenset({"generation_data", "prompt", "workflow"})
MARKERS: tuple[str, ...] = ()  # only its own chunk

_FIELDS: FieldTable = {
    "prompt": ("prompt", str_or_empty),
    "negative_prompt": ("negativePrompt", str_or_empty),
    "width": ("width", positive_int),
    "height": ("height", positive_int),
    "steps": ("steps", positive_int),
    "cfg_scale": ("cfgScale", to_float),
    "clip_skip": ("clipSkip", positive_int),
    "sampler": ("ksamplerName", str_or_none),
    "scheduler": ("schedule", str_or_none),
}


def score(raw: RawMetadata) -> float:
    return 0.95 if looks_like_json_object(raw.texts().get("generation_data")) else 0.0


def parse(raw: RawMetadata) -> GenParams:
    params = _parse(raw)
    return stamp(params, NAME, "generation_data", raw.texts().get("generation_data", ""))


def _parse(raw: RawMetadata) -> GenParams:
    from . import comfyui

    text = raw.texts().get("generation_data")
    if text is None:
        raise ParseError("no Tensor.Art generation_data chunk")
    data = loads(text, "generation_data")
    if not isinstance(data, dict):
        raise ParseError("generation_data: expected a JSON object")
    api, workflow, _ = comfyui.find_graphs(raw)
    graph = None
    if api is not None or workflow is not None:
        try:
            graph = comfyui.params_from_graphs(api, workflow, NAME)
        except ParseError:
            graph = None
    base = data["baseModel"] if isinstance(data.get("baseModel"), dict) else {}
    seed = to_int(data.get("seed"))
    notes: list[str] = []
    if seed is None or seed < 0:
        seed = graph.seed if graph is not None else None
        if seed is not None:
            notes.append("generation_data seed is random (-1); seed taken from the ComfyUI graph")
    fields: dict[str, Any] = {
        **read_fields(data, _FIELDS),
        "seed": seed,
        "model": get_str(base, "modelFileName"),
        "model_hash": get_str(base, "hash"),
        "vae": data.get("sdVae") if data.get("sdVae") not in (None, "Automatic") else None,
    }
    if graph is not None:
        for key in ("steps", "cfg_scale", "sampler", "scheduler", "width", "height", "clip_skip"):
            if fields.get(key) is None:
                fields[key] = getattr(graph, key)
        fields["samplers"] = graph.samplers
    extra = unread(data, _FIELDS, "seed", "baseModel", "sdVae")
    return build(NAME, fields, extra=extra, notes=notes)


# --- writing it back -------------------------------------------------------------------

# What the ComfyUI graph Tensor.Art saves beside generation_data also holds.
_GRAPH_FIELDS = ("prompt", "negative_prompt", "seed", "steps", "cfg_scale", "sampler",
                 "scheduler", "width", "height", "clip_skip", "model")


def edit(raw: RawMetadata, params: GenParams, *, node: str | None = None) -> Changes:
    """Rewrite the changed values in `generation_data`, in place, and in the ComfyUI graph
    beside it: where generation_data does not hold a value (a random seed, "-1"), the
    graph is where it is read from, so it must take the edit."""
    from .editing import (
        Entries,
        apply_extra,
        apply_json,
        changed_fields,
        extra_changes,
        merge,
        sync_graph,
    )
    from .jsonedit import JsonText

    text = raw.texts().get("generation_data")
    if text is None:
        raise ParseError("no Tensor.Art generation_data chunk")
    old = _parse(raw)
    fields = changed_fields(old, params)
    doc = JsonText(text, "generation_data")
    data = loads(text, "generation_data")
    in_graph = {f for f, (key, convert) in _FIELDS.items() if convert(data.get(key)) is None}
    gen_seed = to_int(data.get("seed"))
    if gen_seed is None or gen_seed < 0:
        in_graph.add("seed")
    targets: dict[str, Any] = {f: (key,) for f, (key, _) in _FIELDS.items() if f not in in_graph}
    if "seed" not in in_graph:
        targets["seed"] = ("seed",)
    if isinstance(data.get("baseModel"), dict):
        targets["model"] = ("baseModel", "modelFileName")
        targets["model_hash"] = ("baseModel", "hash")
    targets["vae"] = ("sdVae",)
    own = {f: v for f, v in fields.items() if f not in in_graph}
    apply_json(doc, own, targets, DISPLAY_NAME)
    read = {key for key, _ in _FIELDS.values()} | {"seed", "baseModel", "sdVae"}
    apply_extra(doc, extra_changes(old, params), lambda k: None if k in read else (k,),
                DISPLAY_NAME)
    entries = Entries(raw)
    entries.put("generation_data", doc.text)
    graph = {f: v for f, v in fields.items() if f in _GRAPH_FIELDS and f != "model"}
    beside = sync_graph(raw, {"prompt", "workflow"}, graph, NAME, node=node,
                        required=in_graph)
    return merge(beside, entries.changes())
