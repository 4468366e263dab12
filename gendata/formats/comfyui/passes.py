"""The sampler passes of a ComfyUI graph: which samplers made the saved image, in execution
order, and what each was run with (docs/formats.md#the-api-graph)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._util import positive_int, to_float, to_int
from . import inputs
from .graph import Graph, Node, as_link
from .nodes import SCHEDULER_CLASSES, is_output, is_sampler
from .result import GraphResult
from .walker import STEP_BUDGET, OutOfBudget, Walker

if TYPE_CHECKING:
    from ...model import Lora

__all__ = ["MAX_SAMPLERS", "Pass", "pick_samplers", "read_pass", "walk"]

MAX_SAMPLERS = 32


@dataclass
class Pass:
    """What one sampler node was run with, as read from the graph."""

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


def pick_samplers(w: Walker) -> tuple[list[Node], str | None]:
    """The sampler nodes that lead to the saved image (the output reached from most of them;
    a SaveImage before a preview), in execution order, and that output's id."""
    samplers = [n for n in w.g.nodes.values() if is_sampler(n)]
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


def read_pass(w: Walker, node: Node, sampler_ids: set[str]) -> Pass:
    """Read one sampler: its own widgets, then what its inputs lead to (inputs.py)."""
    inp = node.inputs
    ps = Pass(node)
    label = node.label()

    def val(source: Node, key: str) -> Any:
        if key not in source.inputs:
            return None
        return w.resolve(source.inputs[key], f"{key} of {source.label()}")

    def linked(key: str) -> Node | None:
        link = as_link(inp.get(key))
        return w.g.get(link[0]) if link else None

    seed = val(node, "seed") if "seed" in inp else val(node, "noise_seed")
    noise = linked("noise")
    if seed is None and noise is not None:
        seed = val(noise, "noise_seed") if "noise_seed" in noise.inputs else val(noise, "seed")
    ps.seed = to_int(seed)

    sched_node = linked("sigmas")
    ps.steps = positive_int(val(node, "steps"))
    if ps.steps is None and sched_node is not None:
        ps.steps = positive_int(val(sched_node, "steps"))
    sampler = val(node, "sampler_name")
    sel = linked("sampler")
    if sampler is None and sel is not None:
        sampler = val(sel, "sampler_name")
        if sampler is None:
            sampler = sel.class_type
    ps.sampler = sampler if isinstance(sampler, str) else None
    sched = val(node, "scheduler")
    if sched is None and sched_node is not None:
        sched = val(sched_node, "scheduler")
        if sched is None:
            sched = SCHEDULER_CLASSES.get(sched_node.class_type, sched_node.class_type)
    ps.scheduler = sched if isinstance(sched, str) else None
    den = val(node, "denoise")
    if den is None and sched_node is not None:
        den = val(sched_node, "denoise")
    ps.denoise = to_float(den)

    guider = linked("guider")
    cfg = val(node, "cfg")
    cond_src: Node = node
    model_src: Node = node
    if guider is not None:
        if cfg is None:
            cfg = val(guider, "cfg")
        cond_src = guider
        model_src = guider
    ps.cfg = to_float(cfg)

    if "positive" in cond_src.inputs:
        ps.positive = inputs.prompts(w, cond_src.inputs["positive"], f"positive of {label}")
        ps.clip_skip = inputs.clip_skip(w, cond_src.inputs["positive"])
    elif "conditioning" in cond_src.inputs:
        ps.positive = inputs.prompts(w, cond_src.inputs["conditioning"], f"conditioning of {label}")
        ps.clip_skip = inputs.clip_skip(w, cond_src.inputs["conditioning"])
    else:
        ps.positive = []
    if "negative" in cond_src.inputs:
        ps.negative = inputs.prompts(w, cond_src.inputs["negative"], f"negative of {label}")
    if not ps.positive:
        w.notes.append(f"no prompt text reachable from {label}")
    guidance = inputs.flux_guidance(
        w, cond_src.inputs.get("positive", cond_src.inputs.get("conditioning"))
    )
    if guidance is not None:
        ps.extra["Flux guidance"] = guidance
    if "model" in model_src.inputs:
        ps.model, ps.loras = inputs.checkpoint(w, model_src.inputs["model"], f"model of {label}")
    latent_key = next((k for k in ("latent_image", "latent", "samples") if k in inp), None)
    if latent_key:
        ps.latent = inputs.latent(w, inp[latent_key], sampler_ids)
    if node.class_type == "KSamplerAdvanced":
        for key in ("start_at_step", "end_at_step", "add_noise"):
            v = val(node, key)
            if v is not None:
                ps.extra[key] = v
    return ps


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
        result.vae = inputs.vae(w, output)
    except OutOfBudget:
        w.notes.append(
            f"graph walk stopped after {budget} steps (graph too large); the result is partial"
        )
    result.notes = w.notes
    return result
