"""The sampler passes of a ComfyUI graph: which samplers made the saved image, in execution
order, and what each was run with (docs/formats.md#the-api-graph)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._util import positive_int, to_float, to_int
from . import inputs
from .graph import Graph, Node, as_link
from .nodes import SCHEDULER_CLASSES, is_generator, is_output, is_sampler
from .result import GraphResult
from .walker import STEP_BUDGET, OutOfBudget, Site, Walker

if TYPE_CHECKING:
    from ...model import Lora

__all__ = ["MAX_SAMPLERS", "Pass", "pick_samplers", "read_pass", "walk"]

MAX_SAMPLERS = 32


@dataclass
class Pass:
    """What one sampler node was run with, as read from the graph, and where each value
    sits (`sites`: field -> Site, or why it cannot be edited) for an edit to set."""

    node: Node
    seed: int | None = None
    steps: int | None = None
    cfg: float | None = None
    sampler: str | None = None
    scheduler: str | None = None
    denoise: float | None = None
    positive: list[str] = field(default_factory=list)
    negative: list[str] = field(default_factory=list)
    model: str | None = None
    loras: list[Lora] = field(default_factory=list)
    clip_skip: int | None = None
    latent: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    sites: dict[str, Site | str | None] = field(default_factory=dict)
    text_sites: dict[str, list[inputs.TextSite]] = field(default_factory=dict)
    lora_sites: list[inputs.LoraSites] = field(default_factory=list)


def pick_samplers(w: Walker) -> tuple[list[Node], str | None]:
    """The sampler nodes that lead to the saved image (the output reached from most of them;
    a SaveImage before a preview), in execution order, and that output's id. A graph
    without samplers is read from the nodes that generate by themselves (API nodes)."""
    samplers = [n for n in w.g.nodes.values() if is_sampler(n)]
    if not samplers:
        samplers = [n for n in w.g.nodes.values() if is_generator(n)]
    if not samplers:
        return [], None
    sampler_ids = {n.id for n in samplers}
    outputs = [n for n in w.g.nodes.values() if is_output(n)]
    best: tuple[int, int, str, list[str]] | None = None
    for out in outputs[:64]:
        reach = [i for i in w.upstream(out.id) if i in sampler_ids]
        rank = (len(reach), 1 if "save" in out.class_type.lower() else 0)
        if reach and (best is None or rank > best[:2]):
            best = (rank[0], rank[1], out.id, reach)
    if best is not None:
        chosen = [w.g.nodes[i] for i in best[3]]
        output = best[2]
    else:
        chosen = samplers
        output = None
    if len(chosen) > MAX_SAMPLERS:
        w.notes.append(
            f"graph has {len(chosen)} samplers; only the first {MAX_SAMPLERS} are read"
        )
        chosen = chosen[:MAX_SAMPLERS]
    chosen_ids = {n.id for n in chosen}
    depth: dict[str, int] = {}
    for n in chosen:
        depth[n.id] = sum(1 for i in w.upstream(n.id) if i in chosen_ids and i != n.id)
    index = {nid: i for i, nid in enumerate(w.g.nodes)}
    chosen.sort(key=lambda n: (depth[n.id], index[n.id]))
    return chosen, output


# Inputs that carry a sampler's or guider's positive / negative conditioning, most usual
# first (DualCFGGuider calls its positive `cond1`).
_POSITIVE = ("positive", "cond1", "conditioning")
_NEGATIVE = ("negative",)


def _pipe_source(w: Walker, node: Node) -> Node | None:
    """The node that packed a sampler's model and prompts into a pipe (Impact Pack's
    ToBasicPipe behind `basic_pipe`), when the sampler takes them that way."""
    for name, link in node.links():
        if "pipe" in name.lower():
            src = w.g.get(link[0])
            seen = 0
            while src is not None and seen < 16 and not (
                    "positive" in src.inputs or "model" in src.inputs):
                seen += 1
                nxt = next((lk for n, lk in src.links() if "pipe" in n.lower()), None)
                src = w.g.get(nxt[0]) if nxt else None
            return src
    return None


def read_pass(w: Walker, node: Node, sampler_ids: set[str]) -> Pass:
    """Read one sampler: its own widgets, then what its inputs lead to (inputs.py)."""
    inp = node.inputs
    ps = Pass(node)
    label = node.label()

    def val(source: Node | None, key: str, field_name: str) -> Any:
        if source is None or key not in source.inputs:
            return None
        value, site = w.trace(source, key, f"{key} of {source.label()}")
        ps.sites[field_name] = site
        return value

    def linked(key: str) -> Node | None:
        link = as_link(inp.get(key))
        return w.g.get(link[0]) if link else None

    seed = val(node, "seed", "seed") if "seed" in inp else val(node, "noise_seed", "seed")
    noise = linked("noise")
    if seed is None and noise is not None:
        seed = val(noise, "noise_seed" if "noise_seed" in noise.inputs else "seed", "seed")
    ps.seed = to_int(seed)

    sched_node = linked("sigmas")
    ps.steps = positive_int(val(node, "steps", "steps"))
    if ps.steps is None and sched_node is not None:
        ps.steps = positive_int(val(sched_node, "steps", "steps"))
    sampler = val(node, "sampler_name", "sampler")
    sel = linked("sampler")
    if sampler is None and sel is not None:
        sampler = val(sel, "sampler_name", "sampler")
        if sampler is None:
            sampler = sel.class_type
            ps.sites["sampler"] = f"the sampler is the class of {sel.label()}"
    ps.sampler = sampler if isinstance(sampler, str) else None
    sched = val(node, "scheduler", "scheduler")
    if sched is None and sched_node is not None:
        sched = val(sched_node, "scheduler", "scheduler")
        if sched is None:
            sched = SCHEDULER_CLASSES.get(sched_node.class_type, sched_node.class_type)
            ps.sites["scheduler"] = f"the scheduler is the class of {sched_node.label()}"
    ps.scheduler = sched if isinstance(sched, str) else None
    den = val(node, "denoise", "denoise")
    if den is None and sched_node is not None:
        den = val(sched_node, "denoise", "denoise")
    ps.denoise = to_float(den)

    guider = linked("guider")
    cfg = val(node, "cfg", "cfg") if "cfg" in inp else val(node, "cfg_scale", "cfg")
    cond_src: Node = node
    model_src: Node = node
    if guider is not None:
        if cfg is None:
            cfg = val(guider, "cfg", "cfg") if "cfg" in guider.inputs else \
                val(guider, "cfg_conds", "cfg")
        cond_src = guider
        model_src = guider
    elif not any(k in inp for k in _POSITIVE) and (pipe := _pipe_source(w, node)):
        cond_src = model_src = pipe
    ps.cfg = to_float(cfg)

    _read_prompts(w, ps, cond_src, label)
    if is_generator(node) and not ps.positive:
        _read_own_prompt(w, ps)
    if not ps.positive:
        w.notes.append(f"no prompt text reachable from {label}")
    pos_key = next((k for k in _POSITIVE if k in cond_src.inputs), None)
    guidance, g_site = inputs.flux_guidance(w, cond_src.inputs.get(pos_key or "positive"))
    if guidance is not None:
        ps.extra["Flux guidance"] = guidance
        ps.sites["flux_guidance"] = g_site
    if "model" in model_src.inputs:
        chain = inputs.checkpoint(w, model_src.inputs["model"], f"model of {label}")
        ps.model, ps.loras, ps.lora_sites = chain.name, chain.loras, chain.lora_sites
        ps.sites["model"] = chain.site
    elif isinstance(inp.get("model"), str) and is_generator(node):
        ps.model = inp["model"]
        ps.sites["model"] = Site(node.id, "model")
    latent_key = next((k for k in ("latent_image", "latent", "samples") if k in inp), None)
    if latent_key:
        ps.latent = inputs.latent(w, inp[latent_key], sampler_ids)
    if node.class_type == "KSamplerAdvanced":
        for key in ("start_at_step", "end_at_step", "add_noise"):
            v = w.resolve(inp.get(key), key) if key in inp else None
            if v is not None:
                ps.extra[key] = v
    return ps


def _read_prompts(w: Walker, ps: Pass, cond_src: Node, label: str) -> None:
    pos_key = next((k for k in _POSITIVE if k in cond_src.inputs), None)
    ps.text_sites = {"positive": [], "negative": []}
    if pos_key is not None:
        ps.positive = inputs.prompts(w, cond_src.inputs[pos_key], f"{pos_key} of {label}",
                                     ps.text_sites["positive"], "positive")
        ps.clip_skip, ps.sites["clip_skip"] = inputs.clip_skip(w, cond_src.inputs[pos_key])
    if "negative" in cond_src.inputs:
        ps.negative = inputs.prompts(w, cond_src.inputs["negative"], f"negative of {label}",
                                     ps.text_sites["negative"], "negative")
        if ps.negative == ps.positive and ps.positive and "cond2" in cond_src.inputs:
            # HiDream E1 gives DualCFGGuider its prompt as `negative` as well; the negative
            # text is the one behind `cond2`.
            ps.text_sites["negative"] = []
            ps.negative = inputs.prompts(w, cond_src.inputs["cond2"], f"cond2 of {label}",
                                         ps.text_sites["negative"], "negative")


def _read_own_prompt(w: Walker, ps: Pass) -> None:
    """A generator node's own prompt (and negative prompt, which may be linked from a
    string node)."""
    node = ps.node
    for field_name, keys, out in (("positive", ("prompt", "text"), ps.positive),
                                  ("negative", ("negative_prompt",), ps.negative)):
        for key in keys:
            if key in node.inputs:
                text, site = w.trace(node, key, f"{key} of {node.label()}")
                if isinstance(text, str):
                    ps.text_sites[field_name].append((site, text))
                    if text:
                        out.append(text)
                break


def walk(graph: Graph, budget: int = STEP_BUDGET) -> GraphResult:
    """Read every sampler pass that leads to the saved image, in execution order."""
    w = Walker(graph, budget)
    result = GraphResult()
    try:
        samplers, output = pick_samplers(w)
        result.output = output
        ids = {n.id for n in samplers}
        for node in samplers:
            result.passes.append(read_pass(w, node, ids))
        # A sampler with no prompt at all (a depth estimator inside a subgraph, an image
        # encoder's pass) is not the one the image's prompt belongs to: read it last.
        result.passes.sort(key=lambda ps: not ps.positive)
        result.vae, result.vae_site = inputs.vae(w, output)
    except OutOfBudget:
        w.notes.append(
            f"graph walk stopped after {budget} steps (graph too large); the result is partial"
        )
    result.notes = w.notes
    return result
