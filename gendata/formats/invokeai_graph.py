"""Dialect layer: InvokeAI's executed graph (`invokeai_graph`, docs/formats.md#invokeai), read
for the values it holds and for where it holds them.

InvokeAI 3+ saves the graph it ran beside `invokeai_metadata`, and some images (workflow
editor runs without a metadata node, files whose metadata was dropped) carry only the graph.
The graph is `{"nodes": {id: {"type", field: value, ...}}, "edges": [{"source": {"node_id",
"field"}, "destination": {"node_id", "field"}}]}`: a field either holds its value or is fed
by an edge, from a primitive node's `value` (a `string` node holding the prompt, an
`integer` holding the seed) or from another invocation. The walk starts at the denoise node
of the first pass and follows its inputs: conditioning nodes for the prompts, the noise node
for seed and size, the loader chain (through LoRA loaders) for the model. Each value comes
with the JSON paths that hold it, so an edit can set it there. A `core_metadata` node, when
the graph has one, holds the metadata record itself.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Found", "core_metadata", "walk"]

Path = tuple[str | int, ...]
# field -> (value, the JSON paths in the graph that hold it)
Found = dict[str, tuple[Any, list[Path]]]

_PRIMITIVES = ("string", "integer", "float", "boolean")
# InvokeAI 3.0's names for the denoise step: text to latents, latents to latents.
_OLD_DENOISE = ("t2l", "l2l")
_PROMPT_KEYS = ("prompt", "positive_prompt", "text")


class _Graph:
    """The graph, or the editor workflow (`invokeai_workflow`: nodes with `data.inputs`
    holding `{name, value}`, edges as source/sourceHandle/target/targetHandle) seen as one."""

    def __init__(self, graph: dict[str, Any]) -> None:
        nodes = graph.get("nodes")
        self.nodes: dict[str, tuple[Any, dict[str, Any]]] = {}
        self.workflow = False
        items = nodes.items() if isinstance(nodes, dict) else enumerate(
            nodes if isinstance(nodes, list) else [])
        for key, node in items:
            if not isinstance(node, dict):
                continue
            data = node.get("data")
            if isinstance(data, dict) and isinstance(data.get("inputs"), dict):
                self.workflow = True
                inputs = data["inputs"]
                flat = {"type": data.get("type"), "id": data.get("id", node.get("id"))}
                flat.update({k: v.get("value") for k, v in inputs.items() if isinstance(v, dict)})
                self.nodes[str(flat["id"])] = (key, flat)
            else:
                self.nodes[str(node.get("id", key))] = (key, node)
        self.into: dict[tuple[str, str], tuple[str, str]] = {}
        edges = graph.get("edges")
        for edge in edges if isinstance(edges, list) else []:
            if not isinstance(edge, dict):
                continue
            src, dst = edge.get("source"), edge.get("destination")
            if isinstance(src, dict) and isinstance(dst, dict):
                self.into[(str(dst.get("node_id")), str(dst.get("field")))] = (
                    str(src.get("node_id")), str(src.get("field")))
            elif "target" in edge and "targetHandle" in edge:
                self.into[(str(edge["target"]), str(edge["targetHandle"]))] = (
                    str(edge.get("source")), str(edge.get("sourceHandle")))

    def node(self, node_id: str) -> dict[str, Any] | None:
        found = self.nodes.get(node_id)
        return found[1] if found else None

    def path(self, node_id: str, key: str) -> Path:
        if self.workflow:
            return ("nodes", self.nodes[node_id][0], "data", "inputs", key, "value")
        return ("nodes", self.nodes[node_id][0], key)

    def type(self, node_id: str) -> str:
        node = self.node(node_id)
        return str(node.get("type", "")) if node else ""

    def source(self, node_id: str, field: str) -> str | None:
        found = self.into.get((node_id, field))
        return found[0] if found and found[0] in self.nodes else None

    def value(self, node_id: str, key: str, depth: int = 0) -> tuple[Any, list[Path]] | None:
        """The value of a node's field: held by the node, or by the primitive node an edge
        brings it from."""
        node = self.node(node_id)
        if node is None or depth > 8:
            return None
        src = self.into.get((node_id, key))
        if src is not None and src[0] in self.nodes:
            other = self.type(src[0])
            if other in _PRIMITIVES or src[1] == "value":
                return self.value(src[0], "value", depth + 1)
            return None  # computed by another invocation
        if key in node and node[key] is not None:
            return node[key], [self.path(node_id, key)]
        return None


def core_metadata(graph: dict[str, Any]) -> tuple[dict[str, Any], Any] | None:
    """(fields, key -> JSON path) of the graph's `core_metadata` node, which holds the
    metadata record itself."""
    g = _Graph(graph)
    for node_id in g.nodes:
        node = g.node(node_id)
        if node is not None and g.type(node_id) == "core_metadata":
            return node, lambda key, n=node_id: g.path(n, key)
    return None


def _denoise(g: _Graph) -> str | None:
    """The first pass's denoise node: a denoise node not started part way (a hires pass
    starts at denoising_start > 0)."""
    found = [i for i in g.nodes if ("denoise" in g.type(i) and "mask" not in g.type(i))
             or g.type(i) in _OLD_DENOISE]
    first = [i for i in found if not (g.node(i) or {}).get("denoising_start")]
    return next(iter(first or found), None)


def _conditioning(g: _Graph, denoise: str, sign: str) -> str | None:
    for (dst, field), (src, _f) in g.into.items():
        if dst == denoise and sign in field and "conditioning" in field and src in g.nodes:
            return src
    return None


def _text(g: _Graph, node_id: str | None) -> tuple[Any, list[Path]] | None:
    if node_id is None:
        return None
    for key in _PROMPT_KEYS:
        found = g.value(node_id, key)
        if found is not None and isinstance(found[0], str):
            return found
    return None


def _model(g: _Graph, denoise: str) -> tuple[tuple[Any, list[Path]] | None, list[dict[str, Any]]]:
    """(the checkpoint, LoRAs) from the loader chain feeding the denoise node's model."""
    loras: list[dict[str, Any]] = []
    current: str | None = denoise
    seen: set[str] = set()
    while current is not None and current not in seen:
        seen.add(current)
        nxt = None
        for field in ("unet", "transformer", "model"):
            nxt = g.source(current, field)
            if nxt is not None:
                break
        if nxt is None:
            return None, loras
        node = g.node(nxt) or {}
        if "lora" in g.type(nxt):
            lora = node.get("lora")
            name = lora.get("name") or lora.get("model_name") if isinstance(lora, dict) else None
            if isinstance(name, str):
                loras.append({"name": name, "weight": node.get("weight")})
        elif isinstance(node.get("model"), dict):
            model = node["model"]
            key = "name" if "name" in model else "model_name"
            if isinstance(model.get(key), str):
                return (model[key], [(*g.path(nxt, "model"), key)]), loras
        current = nxt
    return None, loras


def walk(graph: dict[str, Any]) -> tuple[Found, list[dict[str, Any]]]:
    """(field -> (value, paths), LoRAs) for what the graph's first pass ran."""
    g = _Graph(graph)
    found: Found = {}
    denoise = _denoise(g)
    if denoise is None:
        return found, []

    def take(field: str, node_id: str | None, *keys: str) -> None:
        if node_id is None or field in found:
            return
        for key in keys:
            got = g.value(node_id, key)
            if got is not None:
                found[field] = got
                return

    take("steps", denoise, "steps", "num_steps")
    take("cfg_scale", denoise, "cfg_scale")
    take("sampler", denoise, "scheduler")
    take("seed", denoise, "seed")
    take("width", denoise, "width")
    take("height", denoise, "height")
    noise = g.source(denoise, "noise")
    take("seed", noise, "seed")
    take("width", noise, "width")
    take("height", noise, "height")
    positive = _text(g, _conditioning(g, denoise, "positive"))
    if positive is not None:
        found["prompt"] = positive
    negative = _text(g, _conditioning(g, denoise, "negative"))
    if negative is not None:
        found["negative_prompt"] = negative
    start = g.value(denoise, "denoising_start")
    if start is not None and isinstance(start[0], (int, float)) and 0 < start[0] < 1:
        found["denoising_strength"] = (1 - start[0], start[1])
    model, loras = _model(g, denoise)
    if model is not None:
        found["model"] = model
    return found, loras
