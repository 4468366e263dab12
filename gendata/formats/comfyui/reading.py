"""Read a file's two ComfyUI graphs together: the executed graph (`prompt`) first, the editor
graph (`workflow`) where the executed one is missing or lacks a prompt text.

docs/formats.md#comfyui-pitfalls: a prompt text can be absent from `prompt` (it came from a
front-end-only node, or from a custom node reading a file at run time) while the editor
still shows it in the encoder's widget. Such texts are taken from the editor graph, with a
note, and remembered as sitting only there (`Walked.from_editor`), so an edit sets them
where they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...errors import ParseError
from .graph import Graph
from .inputs import text_from
from .nodes import TEXT_KEYS, is_encoder
from .passes import walk
from .result import GraphResult
from .walker import Site, Walker
from .workflow import Flat, flatten

__all__ = ["Walked", "walk_graphs"]


@dataclass
class Walked:
    """A walk's result, the graph it walked, the flattened editor graph (when the file has
    one), whether the walk was over the editor graph, and the (node, input) pairs whose
    value was taken from the editor graph."""

    result: GraphResult
    graph: Graph
    flat: Flat | None
    editor_only: bool = False
    from_editor: set[tuple[str, str]] = field(default_factory=set)


def _flat(workflow: Any) -> Flat | None:
    if workflow is None:
        return None
    try:
        return flatten(workflow)
    except ParseError:
        return None


def _textless(graph: Graph) -> list[str]:
    """Ids of the encoders whose text the executed graph does not provide."""
    probe = Walker(graph)
    out: list[str] = []
    for node in graph.nodes.values():
        if is_encoder(node) and text_from(probe, node)[0] is None:
            out.append(node.id)
    return out


def _fill_texts(graph: Graph, flat: Flat, ids: list[str]
                ) -> tuple[set[tuple[str, str]], list[str]]:
    """Give encoders whose text the executed graph cannot provide the text their editor
    widget shows (same node id, same class)."""
    filled: set[tuple[str, str]] = set()
    notes: list[str] = []
    probe = Walker(graph)
    for nid in ids:
        node = graph.nodes[nid]
        twin = flat.api.get(node.id)
        if twin is None or twin.get("class_type") != node.class_type:
            continue
        for key in TEXT_KEYS:
            if key not in twin["inputs"] or not isinstance(twin["inputs"][key], str):
                continue
            value, site = probe.trace(node, key, key) if key in node.inputs else (None, "")
            if isinstance(value, str) or isinstance(site, Site):
                continue
            node.inputs = {**node.inputs, key: twin["inputs"][key]}  # the JSON is cached
            filled.add((node.id, key))
            notes.append(f"{key} of {node.label()} read from the editor graph (workflow "
                         "chunk): the executed graph does not hold it")
    return filled, notes


def walk_graphs(api: Any, workflow: Any, *, editor: bool = False) -> Walked:
    """Walk the executed graph (or, failing that, the editor graph) of a file. The editor
    graph is flattened only when the walk needs it, or when `editor` asks for it (an edit
    writes there too)."""
    flat = _flat(workflow) if editor or api is None else None
    if api is not None:
        graph = Graph.from_api(api)
        filled: set[tuple[str, str]] = set()
        notes: list[str] = []
        textless = _textless(graph) if workflow is not None else []
        if textless:
            flat = flat or _flat(workflow)
            if flat is not None:
                filled, notes = _fill_texts(graph, flat, textless)
        result = walk(graph)
        result.notes = [*notes, *result.notes]
        if result.passes or workflow is None:
            return Walked(result, graph, flat, from_editor=filled)
        flat = flat or _flat(workflow)
    if flat is None:
        raise ParseError("no ComfyUI graph found")
    graph = Graph.from_api(flat.api, "workflow")
    result = walk(graph)
    result.notes = [
        "read from the editor graph (workflow chunk): the executed graph (prompt chunk) is absent",
        *flat.notes,
        *result.notes,
    ]
    return Walked(result, graph, flat, editor_only=True)
