"""Walk a ComfyUI API graph (`prompt` chunk) from its output back to what made the image.

formats.md section 6.2: the graph maps node ids (arbitrary strings: "3", "30:6",
"CheckpointLoader_Base") to `{class_type, inputs}`; an input is a literal or a link
`[source_id, output_index]`. Nothing is guessed: every value is read from a node reached
by following links from a sampler, and what cannot be followed is reported in notes.

Every traversal is iterative, keeps a visited set and draws from one step budget, so cyclic
links, deep chains and huge graphs give a partial result with a note, never a hang or a
RecursionError.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..errors import ParseError
from ..model import GenParams, Lora, SamplerPass
from ._util import parse_size, positive_int, to_float, to_int

__all__ = ["Graph", "GraphResult", "walk"]

MAX_NODES = 100_000
STEP_BUDGET = 400_000
MAX_SAMPLERS = 32

Link = tuple[str, int]


def as_link(value: Any) -> Link | None:
    """`["4", 0]` / `[4, 0]` -> ("4", 0); anything else (a literal) -> None."""
    if (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], (str, int))
        and not isinstance(value[0], bool)
        and isinstance(value[1], int)
        and not isinstance(value[1], bool)
    ):
        return str(value[0]), value[1]
    return None


@dataclass(slots=True)
class Node:
    id: str
    class_type: str
    inputs: dict[str, Any]
    title: str | None = None

    def label(self) -> str:
        return f"node {self.id} ({self.class_type})"


class Graph:
    """The nodes of one API-format graph, keyed by string id."""

    def __init__(self, nodes: dict[str, Node]) -> None:
        self.nodes = nodes

    @classmethod
    def from_api(cls, data: Any, what: str = "prompt") -> Graph:
        if not isinstance(data, dict):
            raise ParseError(
                f"{what}: ComfyUI graph must be a JSON object, got {type(data).__name__}"
            )
        nodes: dict[str, Node] = {}
        for key, value in data.items():
            if not isinstance(value, dict):
                continue
            ctype = value.get("class_type")
            if not isinstance(ctype, str):
                continue
            inputs = value.get("inputs")
            if not isinstance(inputs, dict):
                inputs = {}
            meta = value.get("_meta")
            title = meta.get("title") if isinstance(meta, dict) else None
            nodes[str(key)] = Node(
                str(key), ctype, inputs, title if isinstance(title, str) else None
            )
            if len(nodes) > MAX_NODES:
                raise ParseError(f"{what}: ComfyUI graph has more than {MAX_NODES} nodes")
        if not nodes:
            raise ParseError(f"{what}: no ComfyUI nodes (objects with class_type) in the graph")
        return cls(nodes)

    @staticmethod
    def looks_like_api(data: Any) -> bool:
        """True when `data` is a dict with at least one `{class_type, inputs}` value."""
        if not isinstance(data, dict):
            return False
        for i, value in enumerate(data.values()):
            if isinstance(value, dict) and isinstance(value.get("class_type"), str):
                return True
            if i > 50:
                break
        return False

    def get(self, node_id: str) -> Node | None:
        return self.nodes.get(node_id)


class _OutOfBudget(Exception):
    pass


@dataclass
class _Pass:
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


@dataclass
class GraphResult:
    """What the walk found; `to_params` turns it into the common model."""

    passes: list[_Pass] = field(default_factory=list)
    vae: str | None = None
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    output: str | None = None

    def to_params(self, generator: str = "comfyui") -> GenParams:
        p = GenParams(generator=generator)
        notes = list(dict.fromkeys(self.notes))
        samplers: list[SamplerPass] = []
        for ps in self.passes:
            samplers.append(
                SamplerPass(
                    sampler=ps.sampler,
                    scheduler=ps.scheduler,
                    steps=ps.steps,
                    cfg_scale=ps.cfg,
                    seed=ps.seed,
                    denoise=ps.denoise,
                    model=ps.model,
                    node=ps.node.id,
                )
            )
        fields: dict[str, Any] = {"samplers": samplers, "vae": self.vae}
        extra = dict(self.extra)
        if self.passes:
            first = self.passes[0]
            fields.update(
                prompt="\n".join(first.positive),
                negative_prompt="\n".join(first.negative),
                seed=first.seed,
                steps=first.steps,
                cfg_scale=first.cfg,
                sampler=first.sampler,
                scheduler=first.scheduler,
                model=first.model,
                loras=first.loras,
                clip_skip=first.clip_skip,
            )
            size = first.latent.get("size")
            if size:
                fields["width"], fields["height"] = size
            elif first.latent.get("img2img"):
                notes.append("first pass starts from a loaded image; its size is not in the graph")
            if len(first.positive) > 1:
                extra["ComfyUI prompts"] = list(first.positive)
            for key, value in first.extra.items():
                extra.setdefault(key, value)
            hires = self._hires()
            if hires:
                fields.update(hires)
            elif first.denoise is not None and first.denoise < 1:
                fields["denoising_strength"] = first.denoise
        else:
            notes.append("no sampler node found in the ComfyUI graph")
        fields["extra"] = extra
        fields["notes"] = notes
        for key, value in fields.items():
            try:
                setattr(p, key, value)
            except Exception:  # pydantic rejects e.g. steps=0; keep the rest
                notes.append(f"{key} value {value!r} is not valid and was left out")
        p.notes = list(dict.fromkeys(notes))
        return p

    def _hires(self) -> dict[str, Any]:
        """Second pass fed by an upscaled first pass -> A1111-style hires fields."""
        if len(self.passes) < 2:
            return {}
        first, second = self.passes[0], self.passes[1]
        lat = second.latent
        if lat.get("from_sampler") is None or not (
            lat.get("scale") or lat.get("size") or lat.get("upscaler")
        ):
            return {}
        out: dict[str, Any] = {}
        if second.steps:
            out["hires_steps"] = second.steps
        if second.denoise is not None:
            out["denoising_strength"] = second.denoise
        if lat.get("upscaler"):
            out["hires_upscaler"] = lat["upscaler"]
        scale = lat.get("scale")
        size = lat.get("size")
        base = first.latent.get("size")
        if size:
            out["hires_width"], out["hires_height"] = size
            if scale is None and base and base[0]:
                scale = round(size[0] / base[0], 4)
        if scale:
            out["hires_upscale"] = scale
        return out


# --- node vocabulary -------------------------------------------------------------------

_OUTPUT_HINTS = ("save", "preview")
_TEXT_KEYS = ("text", "prompt", "text_g", "t5xxl", "clip_l", "text_l", "Text", "string")
_VALUE_KEYS = (
    "value",
    "seed",
    "noise_seed",
    "int",
    "float",
    "number",
    "string",
    "text",
    "Text",
    "String",
    "prompt",
    "boolean",
    "Number",
    "INT",
    "FLOAT",
    "STRING",
)
_NOT_CONDITIONING = {
    "clip",
    "opt_clip",
    "model",
    "vae",
    "control_net",
    "image",
    "images",
    "pixels",
    "mask",
    "samples",
    "latent",
    "latent_image",
    "upscale_model",
    "style_model",
    "clip_vision",
    "clip_vision_output",
    "seed",
    "noise",
    "sampler",
    "sigmas",
    "guider",
    "lora_stack",
}
_LATENT_KEYS = ("latent_image", "latent", "samples", "pixels", "image", "images", "LATENT")
_CONTROL_VALUES = {"fixed", "increment", "decrement", "randomize"}
_SCHEDULER_CLASSES = {
    "KarrasScheduler": "karras",
    "ExponentialScheduler": "exponential",
    "PolyexponentialScheduler": "polyexponential",
    "SDTurboScheduler": "sd_turbo",
    "AlignYourStepsScheduler": "ays",
    "BetaSamplingScheduler": "beta",
    "LaplaceScheduler": "laplace",
    "VPScheduler": "vp",
    "GITSScheduler": "gits",
}


def _is_sampler(node: Node) -> bool:
    inp = node.inputs
    ct = node.class_type
    if ct in ("KSampler", "KSamplerAdvanced", "SamplerCustom", "SamplerCustomAdvanced"):
        return True
    if ct == "KSamplerSelect" or "select" in ct.lower():
        return False
    has_cond = "positive" in inp or "guider" in inp
    has_latent = "latent_image" in inp or "latent" in inp
    if has_cond and has_latent:
        return True
    return (
        "sampler_name" in inp
        and "steps" in inp
        and "cfg" in inp
        and ("seed" in inp or "noise_seed" in inp or has_latent)
    )


class Walker:
    def __init__(self, graph: Graph, budget: int = STEP_BUDGET) -> None:
        self.g = graph
        self.budget = budget
        self.notes: list[str] = []

    def _step(self) -> None:
        self.budget -= 1
        if self.budget < 0:
            raise _OutOfBudget

    def _links(self, node: Node) -> Iterator[tuple[str, Link]]:
        for name, value in node.inputs.items():
            link = as_link(value)
            if link is not None:
                yield name, link

    def _backwards(
        self, start: Link, what: str | None, *, per_slot: bool = False
    ) -> Iterator[tuple[Node, int, deque[Link]]]:
        """Breadth-first over the nodes reached backwards from `start`.

        Yields (node, output slot it was reached through, queue); the caller extends the
        queue with the links it wants followed. Each node is visited once (once per slot
        with `per_slot`) and costs one step of the budget; a link to a missing node is
        noted when `what` names the input, else skipped.
        """
        queue: deque[Link] = deque([start])
        seen: set[Any] = set()
        while queue:
            link = queue.popleft()
            key = link if per_slot else link[0]
            if key in seen:
                continue
            seen.add(key)
            self._step()
            node = self.g.get(link[0])
            if node is None:
                if what is not None:
                    self.notes.append(f"{what} links to missing node {link[0]}")
                continue
            yield node, link[1], queue

    # --- values ------------------------------------------------------------------------

    def resolve(self, value: Any, what: str) -> Any:
        """A literal, or the literal a chain of value nodes (primitives, seeds) hands on."""
        seen: set[str] = set()
        while True:
            link = as_link(value)
            if link is None:
                return value
            node = self.g.get(link[0])
            if node is None:
                self.notes.append(f"{what} links to missing node {link[0]}")
                return None
            if node.id in seen:
                self.notes.append(f"{what} follows a cycle of links at {node.label()}")
                return None
            seen.add(node.id)
            self._step()
            nxt = self._value_of(node, link[1])
            if nxt is _UNRESOLVED:
                self.notes.append(
                    f"{what} comes from {node.label()}, which gendata cannot evaluate"
                )
                return None
            value = nxt

    def _value_of(self, node: Node, slot: int) -> Any:
        inp = node.inputs
        literals = {k: v for k, v in inp.items() if as_link(v) is None and _scalar(v)}
        links = dict(self._links(node))
        ct = node.class_type.lower()
        if ("concat" in ct or "join" in ct or "combine" in ct) and "conditioning" not in ct:
            return self._concat(node)
        for key in _VALUE_KEYS:
            if key in literals and not (
                isinstance(literals[key], str) and literals[key] in _CONTROL_VALUES
            ):
                return literals[key]
        for key in _VALUE_KEYS:
            if key in links:
                return inp[key]
        if len(literals) == 1 and not links:
            return next(iter(literals.values()))
        if len(links) == 1 and not literals:
            return inp[next(iter(links))]
        return _UNRESOLVED

    def _concat(self, node: Node) -> Any:
        sep = node.inputs.get("delimiter", node.inputs.get("separator", ""))
        if not isinstance(sep, str):
            sep = ""
        parts: list[str] = []
        for name, value in node.inputs.items():
            if name in ("delimiter", "separator", "clean_whitespace"):
                continue
            v = self.resolve(value, f"input {name} of {node.label()}")
            if isinstance(v, str) and v:
                parts.append(v)
        return sep.join(parts)

    def _text_from(self, node: Node) -> str | None:
        """The encoder's prompt; "" for a deliberately empty one, None when not recorded."""
        empty = False
        for key in _TEXT_KEYS:
            if key in node.inputs:
                v = self.resolve(node.inputs[key], f"{key} of {node.label()}")
                if isinstance(v, str) and v.strip():
                    return v
                empty = empty or v == ""
        return "" if empty else None

    def _is_encoder(self, node: Node) -> bool:
        ct = node.class_type
        if "TextEncode" in ct or "CLIPText" in ct:
            return True
        return any(k in node.inputs for k in ("text", "prompt", "text_g", "t5xxl")) and (
            "clip" in node.inputs or "opt_clip" in node.inputs
        )

    # --- conditioning ------------------------------------------------------------------

    def texts(self, value: Any, what: str) -> list[str]:
        """Prompt texts reached backwards from a conditioning input, nearest first."""
        start = as_link(value)
        if start is None:
            return []
        out: list[str] = []
        for node, slot, queue in self._backwards(start, what, per_slot=True):
            if node.class_type == "ConditioningZeroOut":
                continue
            if self._is_encoder(node):
                text = self._text_from(node)
                if text is None:
                    self.notes.append(f"{what}: {node.label()} has no prompt text in the graph")
                elif text and text not in out:
                    out.append(text)
                continue
            inp = node.inputs
            if "positive" in inp and "negative" in inp:
                pick = "negative" if slot == 1 else "positive"
                link = as_link(inp[pick])
                if link:
                    queue.append(link)
                continue
            for name, link in self._links(node):
                if name not in _NOT_CONDITIONING:
                    queue.append(link)
        return out

    # --- model -------------------------------------------------------------------------

    def model(self, value: Any, what: str) -> tuple[str | None, list[Lora]]:
        start = as_link(value)
        if start is None:
            return None, []
        loras: list[Lora] = []
        for node, _, queue in self._backwards(start, what):
            inp = node.inputs
            loras.extend(self._loras_of(node))
            for key in ("ckpt_name", "unet_name", "model_path", "base_ckpt_name"):
                if key in inp:
                    name = self.resolve(inp[key], f"{key} of {node.label()}")
                    if isinstance(name, str) and name:
                        loras.reverse()
                        return name, _dedupe(loras)
            for name in ("model", "model1", "lora_stack", "unet", "base_model"):
                link = as_link(inp.get(name))
                if link:
                    queue.append(link)
        loras.reverse()
        self.notes.append(f"{what}: no checkpoint loader found behind the sampler's model input")
        return None, _dedupe(loras)

    def _loras_of(self, node: Node) -> list[Lora]:
        inp = node.inputs
        found: list[Lora] = []
        if "lora_name" in inp:
            name = self.resolve(inp["lora_name"], f"lora_name of {node.label()}")
            sm = to_float(self.resolve(inp.get("strength_model"), "strength_model"))
            sc = to_float(self.resolve(inp.get("strength_clip"), "strength_clip"))
            lora = _make_lora(name, sm, sc)
            if lora:
                found.append(lora)
        for key, value in inp.items():
            if key.startswith("lora_name_"):
                n = key[len("lora_name_") :]
                if str(inp.get(f"switch_{n}", "On")).lower() != "on":
                    continue
                lora = _make_lora(
                    value,
                    to_float(inp.get(f"model_weight_{n}")),
                    to_float(inp.get(f"clip_weight_{n}")),
                )
                if lora:
                    found.append(lora)
            elif isinstance(value, dict) and "lora" in value:
                if value.get("on", True) is False:
                    continue
                lora = _make_lora(
                    value.get("lora"),
                    to_float(value.get("strength")),
                    to_float(value.get("strengthTwo")),
                )
                if lora:
                    found.append(lora)
        return found

    def clip_skip(self, encoders_from: Any) -> int | None:
        """Follow a conditioning input to its encoder's clip input and on to CLIPSetLastLayer."""
        start = as_link(encoders_from)
        if start is None:
            return None
        for node, _, queue in self._backwards(start, None):
            if "stop_at_clip_layer" in node.inputs:
                v = to_int(self.resolve(node.inputs["stop_at_clip_layer"], node.label()))
                return -v if v is not None and v < 0 else None
            if "ckpt_name" in node.inputs:
                return None
            for name, link in self._links(node):
                if name in ("model", "vae", "image", "images", "samples", "latent_image"):
                    continue
                queue.append(link)
        return None

    # --- latent ------------------------------------------------------------------------

    def latent(self, value: Any, samplers: set[str]) -> dict[str, Any]:
        """Trace a sampler's latent input: first-pass size, or the upscale from an earlier pass."""
        out: dict[str, Any] = {}
        link = as_link(value)
        seen: set[str] = set()
        while link is not None:
            node = self.g.get(link[0])
            if node is None or node.id in seen:
                break
            seen.add(node.id)
            self._step()
            if node.id in samplers:
                out["from_sampler"] = node.id
                break
            inp = node.inputs
            if "size" not in out:
                w = (
                    positive_int(self.resolve(inp["width"], f"width of {node.label()}"))
                    if "width" in inp
                    else None
                )
                h = (
                    positive_int(self.resolve(inp["height"], f"height of {node.label()}"))
                    if "height" in inp
                    else None
                )
                if w and h:
                    out["size"] = (w, h)
                else:
                    for key in ("dimensions", "resolution", "aspect_ratio"):
                        size = parse_size(inp.get(key))
                        if size:
                            out["size"] = size
                            break
            if "scale" not in out:
                for key in ("scale_by", "upscale_by", "scale"):
                    f = to_float(inp.get(key))
                    if f:
                        out["scale"] = f
                        break
            um = as_link(inp.get("upscale_model"))
            if um and "upscaler" not in out:
                mnode = self.g.get(um[0])
                if mnode is not None:
                    name = self.resolve(mnode.inputs.get("model_name"), mnode.label())
                    if isinstance(name, str):
                        out["upscaler"] = name
            elif (
                "upscale_method" in inp
                and "upscaler" not in out
                and ("scale_by" in inp or "Latent" in node.class_type)
            ):
                method = inp.get("upscale_method")
                if isinstance(method, str):
                    out["upscaler"] = (
                        f"latent ({method})" if "Latent" in node.class_type else method
                    )
            if node.class_type in ("LoadImage", "LoadImageMask", "Image Load"):
                out["img2img"] = True
                break
            link = None
            for key in _LATENT_KEYS:
                link = as_link(inp.get(key))
                if link:
                    break
        return out

    # --- samplers ----------------------------------------------------------------------

    def upstream(self, start: str) -> list[str]:
        """Ids reachable backwards from `start` (inclusive), nearest first."""
        order: list[str] = []
        for node, _, queue in self._backwards((start, 0), None):
            order.append(node.id)
            queue.extend(link for _, link in self._links(node))
        return order

    def pick_samplers(self) -> tuple[list[Node], str | None]:
        samplers = [n for n in self.g.nodes.values() if _is_sampler(n)]
        if not samplers:
            return [], None
        sampler_ids = {n.id for n in samplers}
        outputs = [
            n
            for n in self.g.nodes.values()
            if any(h in n.class_type.lower() for h in _OUTPUT_HINTS)
            and ("images" in n.inputs or "image" in n.inputs)
        ]
        best: tuple[int, int, str, list[str]] | None = None
        for out in outputs[:64]:
            reach = [i for i in self.upstream(out.id) if i in sampler_ids]
            rank = (len(reach), 1 if "save" in out.class_type.lower() else 0)
            if reach and (best is None or rank > best[:2]):
                best = (rank[0], rank[1], out.id, reach)
        if best is not None:
            chosen = [self.g.nodes[i] for i in best[3]]
            output = best[2]
        else:
            chosen = samplers
            output = None
        if len(chosen) > MAX_SAMPLERS:
            self.notes.append(
                f"graph has {len(chosen)} samplers; only the first {MAX_SAMPLERS} are read"
            )
            chosen = chosen[:MAX_SAMPLERS]
        chosen_ids = {n.id for n in chosen}
        depth: dict[str, int] = {}
        for n in chosen:
            depth[n.id] = sum(1 for i in self.upstream(n.id) if i in chosen_ids and i != n.id)
        index = {nid: i for i, nid in enumerate(self.g.nodes)}
        chosen.sort(key=lambda n: (depth[n.id], index[n.id]))
        return chosen, output

    def read_pass(self, node: Node, sampler_ids: set[str]) -> _Pass:
        inp = node.inputs
        ps = _Pass(node)
        label = node.label()

        def val(source: Node, key: str) -> Any:
            if key not in source.inputs:
                return None
            return self.resolve(source.inputs[key], f"{key} of {source.label()}")

        def linked(key: str) -> Node | None:
            link = as_link(inp.get(key))
            return self.g.get(link[0]) if link else None

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
                sched = _SCHEDULER_CLASSES.get(sched_node.class_type, sched_node.class_type)
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
            ps.positive = self.texts(cond_src.inputs["positive"], f"positive of {label}")
            ps.clip_skip = self.clip_skip(cond_src.inputs["positive"])
        elif "conditioning" in cond_src.inputs:
            ps.positive = self.texts(cond_src.inputs["conditioning"], f"conditioning of {label}")
            ps.clip_skip = self.clip_skip(cond_src.inputs["conditioning"])
        else:
            ps.positive = []
        if "negative" in cond_src.inputs:
            ps.negative = self.texts(cond_src.inputs["negative"], f"negative of {label}")
        if not ps.positive:
            self.notes.append(f"no prompt text reachable from {label}")
        guidance = self._flux_guidance(
            cond_src.inputs.get("positive", cond_src.inputs.get("conditioning"))
        )
        if guidance is not None:
            ps.extra["Flux guidance"] = guidance
        if "model" in model_src.inputs:
            ps.model, ps.loras = self.model(model_src.inputs["model"], f"model of {label}")
        latent_key = next((k for k in ("latent_image", "latent", "samples") if k in inp), None)
        if latent_key:
            ps.latent = self.latent(inp[latent_key], sampler_ids)
        if node.class_type == "KSamplerAdvanced":
            for key in ("start_at_step", "end_at_step", "add_noise"):
                v = val(node, key)
                if v is not None:
                    ps.extra[key] = v
        return ps

    def _flux_guidance(self, value: Any) -> float | None:
        link = as_link(value)
        seen: set[str] = set()
        while link is not None and link[0] not in seen:
            seen.add(link[0])
            self._step()
            node = self.g.get(link[0])
            if node is None:
                return None
            if node.class_type == "FluxGuidance":
                return to_float(self.resolve(node.inputs.get("guidance"), node.label()))
            link = as_link(node.inputs.get("conditioning"))
        return None

    def vae(self, output: str | None) -> str | None:
        ids = self.upstream(output) if output else list(self.g.nodes)
        for nid in ids:
            node = self.g.nodes.get(nid)
            if node is not None and "vae_name" in node.inputs:
                v = self.resolve(node.inputs["vae_name"], node.label())
                if isinstance(v, str):
                    return v
        return None


_UNRESOLVED = object()


def _scalar(v: Any) -> bool:
    return isinstance(v, (str, int, float, bool))


def _make_lora(name: Any, strength_model: float | None, strength_clip: float | None) -> Lora | None:
    if not isinstance(name, str) or not name or name.lower() == "none":
        return None
    if strength_model == 0 and (strength_clip in (None, 0)):
        return None
    weight = strength_clip if strength_clip is not None else strength_model
    unet = strength_model if strength_model is not None and strength_model != weight else None
    return Lora(name=name, weight=weight, unet_weight=unet)


def _dedupe(loras: list[Lora]) -> list[Lora]:
    seen: set[tuple[str, float | None]] = set()
    out: list[Lora] = []
    for lo in loras:
        key = (lo.name, lo.weight)
        if key not in seen:
            seen.add(key)
            out.append(lo)
    return out


def walk(graph: Graph, budget: int = STEP_BUDGET) -> GraphResult:
    """Read every sampler pass that leads to the saved image, in execution order."""
    w = Walker(graph, budget)
    result = GraphResult()
    try:
        samplers, output = w.pick_samplers()
        result.output = output
        ids = {n.id for n in samplers}
        for node in samplers:
            result.passes.append(w.read_pass(node, ids))
        result.vae = w.vae(output)
    except _OutOfBudget:
        w.notes.append(
            f"graph walk stopped after {budget} steps (graph too large); the result is partial"
        )
    result.notes = w.notes
    return result
