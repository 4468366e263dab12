"""Turn a ComfyUI editor graph (`workflow` chunk) into the API shape the walker reads, and
remember where each value sits in the editor JSON so an edit can set it there too.

docs/formats.md#the-editor-graph: nodes carry positional `widgets_values` (widgets.py names them),
`links` are `[id, from_node, from_slot, to_node, to_slot, type]` (objects with `origin_id`
... in newer files). Reroute and Primitive nodes are resolved; muted (mode 2) nodes are
dropped and bypassed (mode 4) nodes pass their input of the same type through.

Subgraphs (`definitions.subgraphs`, instances whose `type` is the subgraph's id) and group
nodes (`extra.groupNodes`, instances typed `workflow>NAME` or `workflow/NAME`) are
flattened with the ids ComfyUI gives their inner nodes in the `prompt` chunk:
`<instance>:<inner>`, nested as deep as they go. A subgraph's inner widgets live in its
definition unless the instance promotes them; a group node's live on the instance, one
inner node after the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...errors import ParseError
from .graph import MAX_NODES, OUTPUT_NAMES_KEY
from .widgets import layout, names_for
from .workflow_guess import guess_names

__all__ = ["MAX_LINKS", "Flat", "JsonPath", "flatten", "to_api"]

MAX_LINKS = 500_000
MAX_DEPTH = 8  # subgraphs inside subgraphs; a definition that contains itself stops here
_SUBGRAPH_IN, _SUBGRAPH_OUT = "-10", "-20"
_WIDGET_TYPES = frozenset({"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"})

JsonPath = tuple[str | int, ...]


@dataclass
class Flat:
    """The flattened graph, its notes, and (node id, input) -> where the editor JSON holds
    that widget's value."""

    api: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    paths: dict[tuple[str, str], JsonPath] = field(default_factory=dict)


def _list(value: Any) -> list[Any]:
    """`value` when it is a list; hostile or damaged JSON gets an empty one."""
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _node_id(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None
    return str(value)


def _link_table(raw_links: Any) -> dict[str, tuple[str, int]]:
    """Link id -> (origin node id, origin slot), from either link layout."""
    links: dict[str, tuple[str, int]] = {}
    if not isinstance(raw_links, list):
        return links
    for entry in raw_links[:MAX_LINKS]:
        if isinstance(entry, list) and len(entry) >= 3:
            lid, src, slot = _node_id(entry[0]), _node_id(entry[1]), entry[2]
        elif isinstance(entry, dict):
            lid, src, slot = (_node_id(entry.get("id")), _node_id(entry.get("origin_id")),
                              entry.get("origin_slot", 0))
        else:
            continue
        if lid is not None and src is not None:
            links[lid] = (src, slot if isinstance(slot, int) and not isinstance(slot, bool)
                          else 0)
    return links


@dataclass
class _Scope:
    """One level of the editor graph: the top, a subgraph definition or a group node."""

    prefix: str  # "" at the top, "57:" inside instance 57
    # (raw node, its JSON path, where its widget values are: (values, path to that list,
    # offset into it) or None for the node's own list)
    nodes: list[tuple[dict[str, Any], JsonPath]]
    # (node id, input index) -> value: a link [api id, slot] or ("bound", literal, path)
    sources: dict[tuple[str, int], Any]
    # node id -> (values, JSON path of the list, offset): group nodes keep inner widgets
    # on the instance
    widget_lists: dict[str, tuple[list[Any], JsonPath, int]] = field(default_factory=dict)
    # instance output slot -> (inner node id, slot), filled by the scope inside
    outputs: dict[int, tuple[str, int]] = field(default_factory=dict)
    depth: int = 0


class _Flattener:
    def __init__(self, workflow: dict[str, Any]) -> None:
        self.wf = workflow
        self.flat = Flat()
        defs = workflow.get("definitions")
        subgraphs = defs.get("subgraphs") if isinstance(defs, dict) else None
        self.subgraphs: dict[str, tuple[int, dict[str, Any]]] = {}
        if isinstance(subgraphs, list):
            for k, sg in enumerate(subgraphs):
                if isinstance(sg, dict) and isinstance(sg.get("id"), str):
                    self.subgraphs[sg["id"]] = (k, sg)
        extra = workflow.get("extra")
        groups = extra.get("groupNodes") if isinstance(extra, dict) else None
        self.groups: dict[str, dict[str, Any]] = groups if isinstance(groups, dict) else {}
        # api id of an instance -> its output slot -> (inner api id, slot)
        self.instance_outputs: dict[str, dict[int, tuple[str, int]]] = {}
        self.full = False

    # --- scopes ------------------------------------------------------------------------

    def top(self) -> None:
        links = _link_table(self.wf.get("links"))
        nodes: list[tuple[dict[str, Any], JsonPath]] = [
            (n, ("nodes", i)) for i, n in enumerate(self.wf["nodes"]) if isinstance(n, dict)]
        sources: dict[tuple[str, int], Any] = {}
        for raw, _ in nodes:
            nid = _node_id(raw.get("id"))
            for idx, inp in enumerate(_list(raw.get("inputs"))):
                lid = _node_id(inp.get("link")) if isinstance(inp, dict) else None
                if lid is not None and lid in links and nid is not None:
                    sources[(nid, idx)] = list(links[lid])
        self.scope(_Scope("", nodes, sources))

    def scope(self, sc: _Scope) -> None:
        for raw, path in sc.nodes:
            if len(self.flat.api) >= MAX_NODES:
                if not self.full:
                    self.full = True
                    self.flat.notes.append(f"editor graph has more than {MAX_NODES} nodes "
                                           "once subgraphs are expanded; the rest is not read")
                return
            nid, ntype = _node_id(raw.get("id")), raw.get("type")
            if nid is None or not isinstance(ntype, str):
                continue
            api_id = sc.prefix + nid
            mode = raw.get("mode", 0)
            if mode == 2:
                continue
            inputs = self._linked_inputs(sc, nid, raw)
            if ntype == "Reroute" or mode == 4:
                self._pass_through(api_id, raw, inputs, ntype, mode)
            elif ntype == "PrimitiveNode":
                self._primitive(sc, api_id, nid, raw, path)
            elif ntype in self.subgraphs and sc.depth < MAX_DEPTH:
                self._subgraph(sc, api_id, raw, path, inputs)
            elif (ntype.startswith(("workflow>", "workflow/"))
                  and ntype[9:] in self.groups and sc.depth < MAX_DEPTH):
                self._group(sc, api_id, raw, path, inputs)
            else:
                self._plain(sc, api_id, nid, raw, path, inputs)

    def _linked_inputs(self, sc: _Scope, nid: str, raw: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for idx, inp in enumerate(_list(raw.get("inputs"))):
            if not isinstance(inp, dict) or not isinstance(inp.get("name"), str):
                continue
            value = sc.sources.get((nid, idx))
            if value is None:
                continue
            if isinstance(value, tuple):  # a subgraph input bound to a widget of the instance
                out[inp["name"]] = value
            elif isinstance(value, _Absolute):
                out[inp["name"]] = value.link
            elif value[0] != _SUBGRAPH_IN:
                out[inp["name"]] = [sc.prefix + value[0], value[1]]
        return out

    def _pass_through(self, api_id: str, raw: dict[str, Any], inputs: dict[str, Any],
                      ntype: str, mode: Any) -> None:
        """Reroutes and bypassed nodes hand output slot N the first linked input of the
        same type (a bypassed LoRA loader passes model to model and clip to clip)."""
        by_slot: dict[str, Any] = {}
        typed = [(inp.get("type"), inp.get("name")) for inp in _list(raw.get("inputs"))
                 if isinstance(inp, dict)]
        for slot, out in enumerate(_list(raw.get("outputs"))):
            want = out.get("type") if isinstance(out, dict) else None
            pick = next((inputs[n] for t, n in typed if n in inputs and t == want
                         and not isinstance(inputs[n], tuple)), None)
            if pick is not None:
                by_slot[str(slot)] = pick
        first = next((v for v in inputs.values() if not isinstance(v, tuple)), None)
        if first is not None:
            by_slot.setdefault("0", first)
        self.flat.api[api_id] = {
            "class_type": "Reroute" if mode != 4 else f"Bypassed {ntype}",
            "inputs": {"input": first} if first is not None else {},
            "slots": by_slot,
        }

    def _primitive(self, sc: _Scope, api_id: str, nid: str, raw: dict[str, Any],
                   path: JsonPath) -> None:
        values, base, offset = self._values(sc, nid, raw, path)
        inputs: dict[str, Any] = {}
        if values:
            inputs["value"] = values[offset] if offset < len(values) else None
            if base is not None:
                self.flat.paths[(api_id, "value")] = (*base, offset)
        self.flat.api[api_id] = {"class_type": "PrimitiveNode", "inputs": inputs}

    def _values(self, sc: _Scope, nid: str, raw: dict[str, Any], path: JsonPath
                ) -> tuple[list[Any], JsonPath | None, int]:
        """(widget values, JSON path of their list or None when not editable, offset)."""
        if nid in sc.widget_lists:
            return sc.widget_lists[nid]
        values = raw.get("widgets_values")
        if isinstance(values, list):
            return values, (*path, "widgets_values"), 0
        return [], None, 0

    def _plain(self, sc: _Scope, api_id: str, nid: str, raw: dict[str, Any], path: JsonPath,
               inputs: dict[str, Any]) -> None:
        ntype = raw["type"]
        own = raw.get("widgets_values")
        literal: dict[str, Any] = {}
        if isinstance(own, dict) and nid not in sc.widget_lists:
            for key, value in own.items():
                if isinstance(key, str):
                    literal[key] = value
                    self.flat.paths[(api_id, key)] = (*path, "widgets_values", key)
        else:
            values, base, offset = self._values(sc, nid, raw, path)
            window = values[offset:offset + self._width(raw)] if nid in sc.widget_lists \
                else values
            names = names_for(raw) or guess_names(raw, window)
            if names:
                for name, i in layout(names, window).items():
                    literal[name] = window[i]
                    if base is not None:
                        self.flat.paths[(api_id, name)] = (*base, offset + i)
            elif window:
                literal["widgets_values"] = window
        for name, value in inputs.items():
            if isinstance(value, tuple):  # bound to the instance's promoted widget
                literal[name] = value[1]
                if value[2] is not None:
                    self.flat.paths[(api_id, name)] = value[2]
        node_inputs = {**literal, **{k: v for k, v in inputs.items() if not isinstance(v, tuple)}}
        self.flat.api[api_id] = {"class_type": ntype, "inputs": node_inputs}
        outputs = [o.get("name") if isinstance(o, dict) else None
                   for o in _list(raw.get("outputs"))]
        if any(isinstance(n, str) for n in outputs):  # which output is which (graph.py)
            self.flat.api[api_id][OUTPUT_NAMES_KEY] = outputs

    @staticmethod
    def _width(raw: dict[str, Any]) -> int:
        values = raw.get("widgets_values")
        return len(values) if isinstance(values, list) else 0

    # --- subgraphs ---------------------------------------------------------------------

    def _subgraph(self, sc: _Scope, api_id: str, raw: dict[str, Any], path: JsonPath,
                  outer: dict[str, Any]) -> None:
        k, sg = self.subgraphs[raw["type"]]
        links = _link_table(sg.get("links"))
        sg_inputs = [i for i in _list(sg.get("inputs")) if isinstance(i, dict)]
        widgets = _list(raw.get("widgets_values"))
        promoted = [i for i, si in enumerate(sg_inputs)
                    if si.get("type") in _WIDGET_TYPES and si.get("name") not in outer]
        bound: dict[int, Any] = {}
        for slot, si in enumerate(sg_inputs):
            name = si.get("name")
            if name in outer:
                bound[slot] = outer[name]
            elif slot in promoted and len(promoted) == len(widgets):
                w = promoted.index(slot)
                bound[slot] = ("bound", widgets[w], (*path, "widgets_values", w))
        base: JsonPath = ("definitions", "subgraphs", k, "nodes")
        nodes: list[tuple[dict[str, Any], JsonPath]] = [
            (n, (*base, i)) for i, n in enumerate(_list(sg.get("nodes"))) if isinstance(n, dict)]
        sources: dict[tuple[str, int], Any] = {}
        prefix = f"{api_id}:"
        for node, _ in nodes:
            nid = _node_id(node.get("id"))
            for idx, inp in enumerate(_list(node.get("inputs"))):
                lid = _node_id(inp.get("link")) if isinstance(inp, dict) else None
                if nid is None or lid is None or lid not in links:
                    continue
                src, slot = links[lid]
                if src == _SUBGRAPH_IN:
                    value = bound.get(slot)
                    if value is not None:
                        # outer links are already absolute; strip the prefix _linked_inputs adds
                        sources[(nid, idx)] = value if isinstance(value, tuple) else \
                            _Absolute(value)
                else:
                    sources[(nid, idx)] = [src, slot]
        outs: dict[int, tuple[str, int]] = {}
        for entry in _list(sg.get("links")):
            if isinstance(entry, dict) and _node_id(entry.get("target_id")) == _SUBGRAPH_OUT:
                origin, out_slot = _node_id(entry.get("origin_id")), entry.get("target_slot")
                if origin is not None and isinstance(out_slot, int):
                    outs[out_slot] = (prefix + origin, entry.get("origin_slot", 0))
        self.instance_outputs[api_id] = outs
        self.scope(_Scope(prefix, nodes, sources, depth=sc.depth + 1))

    # --- group nodes -------------------------------------------------------------------

    def _group(self, sc: _Scope, api_id: str, raw: dict[str, Any], path: JsonPath,
               outer: dict[str, Any]) -> None:
        group = self.groups[raw["type"][9:]]
        inner = [n for n in _list(group.get("nodes")) if isinstance(n, dict)]
        ids = [str(n.get("index", i)) for i, n in enumerate(inner)]
        internal: dict[tuple[str, int], list[Any]] = {}
        linked_out: set[tuple[str, int]] = set()
        for entry in _list(group.get("links")):
            if isinstance(entry, list) and len(entry) >= 4 and entry[0] is not None:
                src, to = _node_id(entry[0]), _node_id(entry[2])
                if src is not None and to is not None:
                    internal[(to, entry[3])] = [src, entry[1]]
                    linked_out.add((src, entry[1]))
        # Inputs fed from outside: the inner inputs not linked inside, in node order, are the
        # instance's inputs in order.
        exposed_in = [(nid, idx) for nid, n in zip(ids, inner, strict=True)
                      for idx, inp in enumerate(_list(n.get("inputs")))
                      if isinstance(inp, dict) and not inp.get("widget")
                      and (nid, idx) not in internal]
        outer_links = [outer.get(str(i.get("name"))) for i in _list(raw.get("inputs"))
                       if isinstance(i, dict) and not i.get("widget")]
        sources: dict[tuple[str, int], Any] = dict(internal)
        for key, value in zip(exposed_in, outer_links, strict=False):
            if value is not None and not isinstance(value, tuple):
                sources[key] = _Absolute(value)
        config = _dict(group.get("config"))
        outs: dict[int, tuple[str, int]] = {}
        for nid, n in zip(ids, inner, strict=True):
            for slot, _out in enumerate(_list(n.get("outputs"))):
                seen = _dict(_dict(_dict(config.get(nid)).get("output")).get(str(slot)))
                visible = seen.get("visible")
                if visible is True or (visible is not False and (nid, slot) not in linked_out):
                    outs[len(outs)] = (f"{api_id}:{nid}", slot)
        self.instance_outputs[api_id] = outs
        values = _list(raw.get("widgets_values"))
        widths = [self._width(n) for n in inner]
        lists: dict[str, tuple[list[Any], JsonPath, int]] = {}
        if sum(widths) == len(values):
            offset = 0
            for nid, width in zip(ids, widths, strict=True):
                lists[nid] = (values, (*path, "widgets_values"), offset)
                offset += width
        else:
            self.flat.notes.append(
                f"group node {api_id} ({raw['type']}): its widget values do not line up with "
                "its definition; the definition's values are read")
        nodes = [({**n, "id": nid}, path) for nid, n in zip(ids, inner, strict=True)]
        sub = _Scope(f"{api_id}:", nodes, sources, depth=sc.depth + 1)
        sub.widget_lists = lists
        if not lists:  # read the definition's own values, which cannot be edited in place
            for nid, n in zip(ids, inner, strict=True):
                vals = n.get("widgets_values")
                sub.widget_lists[nid] = (vals if isinstance(vals, list) else [], None, 0)  # type: ignore[assignment]
        self.scope(sub)

    # --- links through reroutes, bypassed nodes and instances ---------------------------

    def resolve_links(self) -> None:
        api = self.flat.api
        for node in api.values():
            for key, value in list(node["inputs"].items()):
                node["inputs"][key] = self._follow(value)
        for node in api.values():
            node.pop("slots", None)

    def _follow(self, value: Any) -> Any:
        if isinstance(value, _Absolute):
            value = value.link
        hops = 0
        while isinstance(value, list) and len(value) == 2 and hops < 1000:
            hops += 1
            src, slot = str(value[0]), value[1]
            if src in self.instance_outputs:
                nxt = self.instance_outputs[src].get(slot)
                if nxt is None:
                    return value
                value = [nxt[0], nxt[1]]
                continue
            node = self.flat.api.get(src)
            if node is None or "slots" not in node:
                return value
            nxt = node["slots"].get(str(slot))
            if nxt is None:
                return value
            value = nxt.link if isinstance(nxt, _Absolute) else nxt
        return value


@dataclass(frozen=True)
class _Absolute:
    """A link already in flattened ids (crossing into a subgraph or group from outside)."""

    link: list[Any]


def flatten(workflow: Any, what: str = "workflow") -> Flat:
    """Editor graph -> Flat (API-shaped graph, notes, widget paths). Raises ParseError on a
    non-graph."""
    if not isinstance(workflow, dict) or not isinstance(workflow.get("nodes"), list):
        raise ParseError(f"{what}: not a ComfyUI editor graph (no 'nodes' list)")
    fl = _Flattener(workflow)
    fl.top()
    fl.resolve_links()
    return fl.flat


def to_api(workflow: Any, what: str = "workflow") -> tuple[dict[str, Any], list[str]]:
    """Editor graph -> (API-shaped dict, notes). Raises ParseError on a non-graph."""
    flat = flatten(workflow, what)
    return flat.api, flat.notes
