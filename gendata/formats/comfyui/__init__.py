"""ComfyUI: the `prompt` API graph and `workflow` editor graph, wherever a saver put them.

docs/formats.md#where-comfyui-graphs-are-stored: PNG text chunks `prompt`/`workflow`; native
WebP EXIF Model = `prompt:{...}` and Make = `workflow:{...}`; Save-Image-Extended's
`Prompt: {...}` / `Workflow: {...}`; SaveImagePlus's raw `{"prompt":…, "workflow":…}` in
UserComment. Saver nodes that also (or only) write A1111-style text with
`Version: ComfyUI` are read with the A1111 parser and labelled ComfyUI.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ...containers.raw import Changes, RawEntry, RawMetadata
from ...errors import ParseError
from .._util import MAX_JSON_CHARS, loads, marked_infotext, split_prefix, strip_text, to_float

if TYPE_CHECKING:
    from ...model import GenParams

# The package's modules: graph.py (the API graph), nodes.py (node vocabulary), walker.py,
# inputs.py and passes.py (the walk), result.py (walk -> GenParams), widgets.py and
# workflow.py (editor graph -> API graph), reading.py (both graphs together), jsonedit.py,
# targets.py and editing.py (writing edits back). They are imported when a graph is read or
# edited, not with the dialect.

NAME = "comfyui"
DISPLAY_NAME = "ComfyUI"
KEYS = frozenset({"prompt", "workflow"})
MARKERS = ("ComfyUI",)  # saver nodes' A1111-style text; graphs are JSON

_SAVER_TEXT = r"(?m)(?:^|,\s*)Version:\s*ComfyUI\b"  # compiled on first use


@lru_cache(maxsize=32)
def _json(text: str) -> Any:
    """Cached lenient JSON (score and parse look at the same multi-MiB chunks)."""
    try:
        return loads(text, "graph")
    except ParseError:
        return None


def _candidate_json(text: str) -> Any:
    body = strip_text(text)
    if not body or body[0] not in "{[" or len(body) > MAX_JSON_CHARS:
        return None
    return _json(body)


class GraphDoc:
    """Where one graph of a file sits: the entry, the index of its JSON in the entry's text
    (after a carrier's `prompt:` prefix), the path to the graph inside that JSON (SaveImagePlus
    wraps both graphs in one object), and the parsed graph. A plain class: this module loads
    for every `gendata show`, and building a dataclass costs more than the class is worth."""

    __slots__ = ("data", "entry", "inner", "start")

    def __init__(self, entry: RawEntry, start: int, inner: tuple[str, ...], data: Any) -> None:
        self.entry = entry
        self.start = start
        self.inner = inner
        self.data = data


def graph_documents(raw: RawMetadata) -> tuple[GraphDoc | None, GraphDoc | None]:
    """(the API graph's document, the editor workflow's document), the first of each."""
    api: GraphDoc | None = None
    workflow: GraphDoc | None = None
    for entry in raw.entries:
        text = entry.text
        if not text:
            continue
        key = entry.key.lower()
        prefix, body = split_prefix(text)
        label = prefix.lower() if prefix else key
        data = _candidate_json(body)
        if data is None:
            continue
        start = len(text) - len(body.lstrip("\x00 \t\r\n"))
        if isinstance(data, dict) and label not in ("prompt", "workflow"):
            # SaveImagePlus / Civitai put the whole thing in one JSON object.
            if looks_like_api(data.get("prompt")):
                if api is None:
                    api = GraphDoc(entry, start, ("prompt",), data["prompt"])
                if workflow is None and isinstance(data.get("workflow"), dict):
                    workflow = GraphDoc(entry, start, ("workflow",), data["workflow"])
                continue
            if looks_like_api(data):
                if api is None:
                    api = GraphDoc(entry, start, (), data)
                continue
            if isinstance(data.get("nodes"), list) and "links" in data and workflow is None:
                workflow = GraphDoc(entry, start, (), data)
            continue
        if label == "prompt" and api is None and looks_like_api(data):
            api = GraphDoc(entry, start, (), data)
        elif label == "workflow" and workflow is None and isinstance(data, dict) and (
            isinstance(data.get("nodes"), list)
        ):
            workflow = GraphDoc(entry, start, (), data)
    return api, workflow


def find_graphs(raw: RawMetadata) -> tuple[Any, Any, str | None]:
    """(API graph dict, editor workflow dict, where the API graph came from)."""
    api, workflow = graph_documents(raw)
    where = f"{api.entry.location} {api.entry.key}" if api is not None else None
    return (api.data if api else None), (workflow.data if workflow else None), where


def looks_like_api(data: Any) -> bool:
    """True when `data` is a dict with at least one `{class_type, inputs}` value: an API
    graph (docs/formats.md#the-api-graph), as opposed to an editor workflow or any other JSON."""
    if not isinstance(data, dict):
        return False
    for i, value in enumerate(data.values()):
        if isinstance(value, dict) and isinstance(value.get("class_type"), str):
            return True
        if i > 50:
            break
    return False


def saver_text(raw: RawMetadata) -> str | None:
    """A1111-style text written by a ComfyUI saver node (`Version: ComfyUI`)."""
    return marked_infotext(raw, "ComfyUI", _SAVER_TEXT)


def score(raw: RawMetadata) -> float:
    if saver_text(raw) is not None:
        return 0.8
    api, workflow, _ = find_graphs(raw)
    if api is not None:
        return 0.6
    if workflow is not None:
        return 0.55
    return 0.0


def params_from_graphs(api: Any, workflow: Any, generator: str = NAME) -> GenParams:
    """Walk the API graph (or, failing that, the editor graph) into GenParams."""
    from .reading import walk_graphs

    return walk_graphs(api, workflow).result.to_params(generator)


def _merge_saver_text(params: GenParams, text: str) -> GenParams:
    """Graph first; the saver's A1111 text adds hashes the graph cannot know."""
    from ..a1111 import parse_text

    try:
        info = parse_text(text)
    except ParseError:
        return params
    changes: dict[str, Any] = {}
    if info.model_hash and not params.model_hash:
        changes["model_hash"] = info.model_hash
    if info.loras and params.loras:
        by_name = {lo.name.rsplit(".", 1)[0]: lo for lo in info.loras if lo.hash}
        loras = []
        for lo in params.loras:
            hit = by_name.get(lo.name.rsplit("/", 1)[-1].rsplit(".", 1)[0])
            loras.append(lo.model_copy(update={"hash": hit.hash}) if hit and not lo.hash else lo)
        changes["loras"] = loras
    elif info.loras and not params.loras:
        changes["loras"] = info.loras
    if changes:
        params = params.model_copy(update=changes)
    return params


def parse(raw: RawMetadata) -> GenParams:
    api_doc, wf_doc = graph_documents(raw)
    text = saver_text(raw)
    if api_doc is None and wf_doc is None:
        if text is None:
            raise ParseError("no ComfyUI graph or saver text found")
        from ..a1111 import parse_text

        params = parse_text(text)
        changes: dict[str, Any] = {"generator": NAME}
        # Saver nodes write "CFG Scale" (capital S), which A1111's key table does not know.
        cfg = to_float(params.extra.get("CFG Scale"))
        if params.cfg_scale is None and cfg is not None:
            changes["cfg_scale"] = cfg
        params = params.model_copy(update=changes)
        if params.origin is not None:  # written back by `edit`, which keeps "CFG Scale"
            params.origin.dialect = NAME
        return params
    params = params_from_graphs(api_doc.data if api_doc else None,
                                wf_doc.data if wf_doc else None)
    if text is not None:
        params = _merge_saver_text(params, text)
    doc = api_doc or wf_doc
    assert doc is not None and doc.entry.text is not None
    from ...model_fields import Origin

    # The graphs are written back by `edit`, which finds them again in the file.
    params.origin = Origin(dialect=NAME, text=doc.entry.text, key=doc.entry.key)
    return params


def edit(raw: RawMetadata, params: GenParams, *, node: str | None = None) -> Changes:
    """Changes that write `params` (parsed from `raw`, then edited) back into the file's
    ComfyUI graphs in place: the executed `prompt` graph and the editor `workflow` together
    (editing.py). Raises UsageError, naming the field and the nodes, for a value that cannot be
    located exactly; `node` picks among samplers that disagree."""
    from .editing import edit as _edit

    return _edit(raw, params, node=node)
