"""Write an edited GenParams back into a file's ComfyUI graphs, in place.

The executed graph (`prompt`) and the editor graph (`workflow`) are changed together, so
the image still loads in ComfyUI with the new values in its nodes: targets.py says which
inputs of the executed graph feed each edited field, workflow.py where the same values sit
among the editor nodes' `widgets_values` (through primitives, subgraphs and group nodes),
and jsonedit.py sets them in the texts without touching anything else. A saver node's
A1111-style text beside the graphs is kept in step. Files with an editor graph only are
edited there.

What cannot be placed exactly is refused with UsageError naming the field and the nodes:
nothing is written then.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...containers.raw import Changes, RawEntry, RawMetadata
from ...errors import ParseError, UsageError
from .graph import as_link
from .jsonedit import JsonPath, splice
from .reading import Walked, walk_graphs
from .targets import Target, plan
from .walker import Site

if TYPE_CHECKING:
    from ...model import GenParams
    from . import GraphDoc

__all__ = ["edit", "entry_key", "graph_changes", "widget_paths"]

_TEXT_CHUNKS = frozenset({"tEXt", "zTXt", "iTXt"})
_MISSING = object()


def entry_key(entry: RawEntry) -> str:
    """The Changes key that rewrites `entry` where it is: a PNG text chunk by its keyword, a
    JPEG or WebP EXIF tag by its name ("Make"; the container keeps its IFD, type and
    encoding), a PNG's eXIf only for its UserComment."""
    if entry.location in _TEXT_CHUNKS:
        return entry.key
    if entry.location.startswith("EXIF:") and (entry.container != "png"
                                               or entry.key == "UserComment"):
        return entry.key
    raise UsageError(f"the ComfyUI graph sits in {entry.location} {entry.key}, which gendata "
                     "cannot write")


def _get(data: Any, path: JsonPath) -> Any:
    for part in path:
        in_dict = isinstance(data, dict) and isinstance(part, str) and part in data
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if in_dict or in_list:
            data = data[part]
        else:
            return _MISSING
    return data


def _like(old: Any, value: Any) -> Any:
    """`value` in the type the replaced value had: an integral float where an int was, a
    number as text where the graph held text."""
    if isinstance(old, bool) or old is _MISSING or old is None:
        return value
    if isinstance(old, int) and isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(old, str) and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


class _Placer:
    """Turns targets into JSON edits of the two documents."""

    def __init__(self, walked: Walked, api_doc: GraphDoc | None, wf_doc: GraphDoc | None
                 ) -> None:
        self.walked = walked
        self.api_doc = api_doc
        self.wf_doc = wf_doc
        self.api: dict[JsonPath, Any] = {}
        self.wf: dict[JsonPath, Any] = {}

    def _put(self, edits: dict[JsonPath, Any], path: JsonPath, value: Any, field: str) -> None:
        if path in edits and edits[path] != value:
            raise UsageError(f"{field}: two edits set {'/'.join(map(str, path))} to different "
                             f"values ({edits[path]!r} and {value!r})")
        edits[path] = value

    def place(self, target: Target) -> None:
        site, value, field = target.site, target.value, target.field
        sub: JsonPath = (site.sub,) if site.sub else ()
        flat = self.walked.flat
        if self.walked.editor_only:
            paths, _ = self._workflow_paths(site)
            if not paths:
                raise UsageError(f"{field}: node {site.node} holds it in the editor graph where "
                                 "gendata cannot tell which widget it is")
            for path in paths:
                self._put_wf(path, value, field)
            return
        node = self.walked.graph.get(site.node)
        if (site.node, site.key) not in self.walked.from_editor and node is not None:
            old = node.inputs.get(site.key, _MISSING)
            if sub:
                old = old.get(site.sub, _MISSING) if isinstance(old, dict) else _MISSING
            self._put(self.api, (site.node, "inputs", site.key, *sub), _like(old, value), field)
        if flat is None or self.wf_doc is None:
            return
        paths, siblings = self._workflow_paths(site)
        if not paths:
            raise UsageError(
                f"{field}: {site.key} of node {site.node} has no widget gendata can find in the "
                "editor workflow; editing the prompt graph alone would leave the two graphs "
                "disagreeing")
        for path in paths:
            self._put_wf(path, value, field)
        for tid, tkey in siblings:  # fed by the same primitive in the editor
            twin = self.walked.graph.get(tid)
            if twin is not None and tkey in twin.inputs and as_link(twin.inputs[tkey]) is None:
                self._put(self.api, (tid, "inputs", tkey), _like(twin.inputs[tkey], value),
                          field)

    def _put_wf(self, path: JsonPath, value: Any, field: str) -> None:
        assert self.wf_doc is not None
        old = _get(self.wf_doc.data, path)
        self._put(self.wf, path, _like(old, value), field)

    def _workflow_paths(self, site: Site) -> tuple[list[JsonPath], list[tuple[str, str]]]:
        """Where the editor graph holds the value at `site`, and the other inputs a shared
        primitive feeds."""
        flat = self.walked.flat
        if flat is None:
            return [], []
        sub: JsonPath = (site.sub,) if site.sub else ()
        key = (site.node, site.key)
        paths: list[JsonPath] = []
        if key in flat.paths:
            paths.append((*flat.paths[key], *sub))
        fnode = flat.api.get(site.node)
        prim: str | None = None
        src = fnode["inputs"].get(site.key) if fnode is not None else None
        link = as_link(src)
        if link is not None and flat.api.get(link[0], {}).get("class_type") == "PrimitiveNode":
            prim = link[0]
        elif fnode is not None and fnode["class_type"] == "PrimitiveNode":
            prim = site.node
        siblings: list[tuple[str, str]] = []
        if prim is not None:
            if (prim, "value") in flat.paths and flat.paths[(prim, "value")] not in paths:
                paths.append(flat.paths[(prim, "value")])
            for tid, tnode in flat.api.items():
                for tkey, v in tnode["inputs"].items():
                    tl = as_link(v)
                    if tl is not None and tl[0] == prim and (tid, tkey) != key:
                        siblings.append((tid, tkey))
                        if (tid, tkey) in flat.paths:
                            paths.append(flat.paths[(tid, tkey)])
        if not paths and not self.walked.editor_only:
            paths = self._by_value(site)
        return paths, siblings

    def _by_value(self, site: Site) -> list[JsonPath]:
        """A node the widget table does not know, or one inside a group node whose widgets
        do not line up with its definition: the one widget that holds the value the prompt
        graph has, on the node of that id, else on the group or subgraph instance the id
        belongs to (`instance:inner`), else, for an old group node whose inner nodes got
        plain new ids, on the one group instance holding it."""
        assert self.wf_doc is not None
        node = self.walked.graph.get(site.node)
        if node is None or site.key not in node.inputs:
            return []
        old = node.inputs[site.key]
        nodes = self.wf_doc.data.get("nodes")
        nodes = nodes if isinstance(nodes, list) else []
        sub: JsonPath = (site.sub,) if site.sub else ()
        ids = {str(raw.get("id")): i for i, raw in enumerate(nodes) if isinstance(raw, dict)}
        if site.node in ids:
            raw = nodes[ids[site.node]]
            values = raw.get("widgets_values")
            if isinstance(values, dict) and site.key in values:
                return [("nodes", ids[site.node], "widgets_values", site.key, *sub)]
            candidates = [ids[site.node]]
        elif ":" in site.node and site.node.split(":", 1)[0] in ids:
            candidates = [ids[site.node.split(":", 1)[0]]]
        else:
            candidates = [i for i, raw in enumerate(nodes) if isinstance(raw, dict)
                          and str(raw.get("type", "")).startswith("workflow/")]
        hits = []
        for i in candidates:
            values = nodes[i].get("widgets_values")
            if isinstance(values, list):
                hits += [(i, k) for k, v in enumerate(values)
                         if v == old and type(v) is type(old)]
        if len(hits) == 1:
            return [("nodes", hits[0][0], "widgets_values", hits[0][1], *sub)]
        return []


def widget_paths(raw: RawMetadata, site: Site) -> list[JsonPath]:
    """Where the editor workflow of `raw` shows the value at `site` of the graph the walk
    reads (paths from the root of the workflow's JSON text); empty without a workflow."""
    from . import graph_documents

    api_doc, wf_doc = graph_documents(raw)
    if wf_doc is None:
        return []
    walked = walk_graphs(api_doc.data if api_doc else None, wf_doc.data, editor=True)
    paths, _ = _Placer(walked, api_doc, wf_doc)._workflow_paths(site)
    return [(*wf_doc.inner, *p) for p in paths]


def _texts(placer: _Placer) -> dict[str, str]:
    """Entry key -> new text, both graphs spliced into their entries (one entry may hold
    both)."""
    per_entry: dict[int, tuple[RawEntry, int, dict[JsonPath, Any]]] = {}
    for doc, edits in ((placer.api_doc, placer.api), (placer.wf_doc, placer.wf)):
        if doc is None or not edits:
            continue
        slot = per_entry.setdefault(id(doc.entry), (doc.entry, doc.start, {}))
        for path, value in edits.items():
            slot[2][tuple(doc.inner) + path] = value
    out: dict[str, str] = {}
    for entry, start, edits in per_entry.values():
        assert entry.text is not None
        try:
            out[entry_key(entry)] = splice(entry.text, start, edits)
        except ParseError as exc:
            raise UsageError(f"the ComfyUI graph in {entry.location} {entry.key} could not be "
                             f"edited in place: {exc}") from None
    return out


# Fields an A1111-style saver text beside the graphs is kept in step on.
_SAVER_FIELDS = ("prompt", "negative_prompt", "seed", "steps", "cfg_scale", "sampler",
                 "scheduler", "width", "height", "model", "denoising_strength", "clip_skip")


def _saver(raw: RawMetadata, text: str | None, before: GenParams, after: GenParams,
           fields: tuple[str, ...] = _SAVER_FIELDS) -> dict[str, str]:
    """The saver node's A1111-style text with the `fields` that changed set, everything
    else as it was (its own "CFG Scale" spelling included)."""
    if text is None:
        return {}
    from ..a1111 import dump, parse_text

    entry = next((e for e in raw.entries if e.text == text), None)
    changed = {f: getattr(after, f) for f in fields if getattr(after, f) != getattr(before, f)}
    if entry is None or not changed:
        return {}
    saved = parse_text(text)
    if "cfg_scale" in changed and saved.cfg_scale is None and "CFG Scale" in saved.extra:
        new_cfg = changed.pop("cfg_scale")
        changed["extra"] = {**saved.extra, "CFG Scale": "" if new_cfg is None else str(new_cfg)}
    key = "UserComment" if entry.key == "UserComment" else entry_key(entry)
    return {key: dump(saved.edited(**changed))}


def graph_changes(raw: RawMetadata, before: GenParams, after: GenParams, *,
                  node: str | None = None,
                  saver: Callable[[RawMetadata], str | None] | None = None) -> dict[str, str]:
    """Entry key -> new text for the ComfyUI graphs of `raw` (and, with `saver`, the
    A1111-style text it finds) so that they read as `after` where they read as `before`.
    For dialects that carry a ComfyUI graph beside their own data (Stability Matrix,
    Tensor.Art, Civitai). Raises UsageError when a value cannot be located exactly."""
    from . import graph_documents

    api_doc, wf_doc = graph_documents(raw)
    if api_doc is None and wf_doc is None:
        raise UsageError("the file holds no ComfyUI graph to edit")
    walked = walk_graphs(api_doc.data if api_doc else None, wf_doc.data if wf_doc else None,
                         editor=True)
    placer = _Placer(walked, api_doc, wf_doc)
    for target in plan(walked.result, before, after, node):
        placer.place(target)
    texts = _texts(placer)
    if saver is not None:
        texts.update(_saver(raw, saver(raw), before, after))
    return texts


def edit(raw: RawMetadata, params: GenParams, *, node: str | None = None) -> Changes:
    """The Changes that write `params` (parsed from `raw`, then edited) back into the
    file's ComfyUI data, in the same places and forms. `node` picks the sampler (or the node
    holding the value) when the graph has several that disagree."""
    from . import graph_documents, parse, saver_text

    api_doc, wf_doc = graph_documents(raw)
    before = parse(raw)
    if api_doc is None and wf_doc is None:  # a saver node's A1111-style text only
        text = saver_text(raw)
        if text is None:
            raise UsageError("the file holds no ComfyUI data to edit")
        fields = tuple(f for f in type(params).model_fields if f not in ("generator", "notes"))
        return Changes(set=_saver(raw, text, before, params, fields))
    return Changes(set=graph_changes(raw, before, params, node=node, saver=saver_text))
