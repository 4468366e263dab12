"""What a sampler's inputs lead to in a ComfyUI graph: prompts, checkpoint and LoRAs, clip
skip, Flux guidance, the latent's size or upscale, the VAE (docs/formats.md#the-api-graph).

Each function follows one kind of input backwards with a Walker, which keeps the budget
and the notes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._util import parse_size, positive_int, to_float, to_int
from .graph import Node, as_link
from .nodes import (
    CHECKPOINT_KEYS,
    IMAGE_LOADERS,
    LATENT_KEYS,
    MODEL_LINK_KEYS,
    NOT_CONDITIONING,
    TEXT_KEYS,
    dedupe,
    is_encoder,
    make_lora,
)
from .walker import Walker

if TYPE_CHECKING:
    from ...model import Lora

__all__ = ["checkpoint", "clip_skip", "flux_guidance", "latent", "prompts", "vae"]


# --- conditioning ----------------------------------------------------------------------

def _text_from(w: Walker, node: Node) -> str | None:
    """The encoder's prompt; "" for a deliberately empty one, None when not recorded."""
    empty = False
    for key in TEXT_KEYS:
        if key in node.inputs:
            v = w.resolve(node.inputs[key], f"{key} of {node.label()}")
            if isinstance(v, str) and v.strip():
                return v
            empty = empty or v == ""
    return "" if empty else None


def prompts(w: Walker, value: Any, what: str) -> list[str]:
    """Prompt texts reached backwards from a conditioning input, nearest first."""
    start = as_link(value)
    if start is None:
        return []
    out: list[str] = []
    for node, slot, queue in w.backwards(start, what, per_slot=True):
        if node.class_type == "ConditioningZeroOut":
            continue
        if is_encoder(node):
            text = _text_from(w, node)
            if text is None:
                w.notes.append(f"{what}: {node.label()} has no prompt text in the graph")
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
        for name, link in node.links():
            if name not in NOT_CONDITIONING:
                queue.append(link)
    return out


def clip_skip(w: Walker, encoders_from: Any) -> int | None:
    """Follow a conditioning input to its encoder's clip input and on to CLIPSetLastLayer."""
    start = as_link(encoders_from)
    if start is None:
        return None
    for node, _, queue in w.backwards(start, None):
        if "stop_at_clip_layer" in node.inputs:
            v = to_int(w.resolve(node.inputs["stop_at_clip_layer"], node.label()))
            return -v if v is not None and v < 0 else None
        if "ckpt_name" in node.inputs:
            return None
        for name, link in node.links():
            if name in ("model", "vae", "image", "images", "samples", "latent_image"):
                continue
            queue.append(link)
    return None


def flux_guidance(w: Walker, value: Any) -> float | None:
    """The guidance of a FluxGuidance node on the conditioning chain, if there is one."""
    link = as_link(value)
    seen: set[str] = set()
    while link is not None and link[0] not in seen:
        seen.add(link[0])
        w.step()
        node = w.g.get(link[0])
        if node is None:
            return None
        if node.class_type == "FluxGuidance":
            return to_float(w.resolve(node.inputs.get("guidance"), node.label()))
        link = as_link(node.inputs.get("conditioning"))
    return None


# --- model -----------------------------------------------------------------------------

def checkpoint(w: Walker, value: Any, what: str) -> tuple[str | None, list[Lora]]:
    """The checkpoint behind a model input, and the LoRAs loaded on the way, in load order."""
    start = as_link(value)
    if start is None:
        return None, []
    loras: list[Lora] = []
    for node, _, queue in w.backwards(start, what):
        inp = node.inputs
        loras.extend(_loras_of(w, node))
        for key in CHECKPOINT_KEYS:
            if key in inp:
                name = w.resolve(inp[key], f"{key} of {node.label()}")
                if isinstance(name, str) and name:
                    loras.reverse()
                    return name, dedupe(loras)
        for name in MODEL_LINK_KEYS:
            link = as_link(inp.get(name))
            if link:
                queue.append(link)
    loras.reverse()
    w.notes.append(f"{what}: no checkpoint loader found behind the sampler's model input")
    return None, dedupe(loras)


def _loras_of(w: Walker, node: Node) -> list[Lora]:
    inp = node.inputs
    found: list[Lora] = []
    if "lora_name" in inp:
        name = w.resolve(inp["lora_name"], f"lora_name of {node.label()}")
        sm = to_float(w.resolve(inp.get("strength_model"), "strength_model"))
        sc = to_float(w.resolve(inp.get("strength_clip"), "strength_clip"))
        lora = make_lora(name, sm, sc)
        if lora:
            found.append(lora)
    for key, value in inp.items():
        if key.startswith("lora_name_"):
            n = key[len("lora_name_") :]
            if str(inp.get(f"switch_{n}", "On")).lower() != "on":
                continue
            lora = make_lora(
                value,
                to_float(inp.get(f"model_weight_{n}")),
                to_float(inp.get(f"clip_weight_{n}")),
            )
            if lora:
                found.append(lora)
        elif isinstance(value, dict) and "lora" in value:
            if value.get("on", True) is False:
                continue
            lora = make_lora(
                value.get("lora"),
                to_float(value.get("strength")),
                to_float(value.get("strengthTwo")),
            )
            if lora:
                found.append(lora)
    return found


def vae(w: Walker, output: str | None) -> str | None:
    """The VAE loaded upstream of the output node (of any node, without one)."""
    ids = w.upstream(output) if output else list(w.g.nodes)
    for nid in ids:
        node = w.g.nodes.get(nid)
        if node is not None and "vae_name" in node.inputs:
            v = w.resolve(node.inputs["vae_name"], node.label())
            if isinstance(v, str):
                return v
    return None


# --- latent ----------------------------------------------------------------------------

def latent(w: Walker, value: Any, samplers: set[str]) -> dict[str, Any]:
    """Trace a sampler's latent input: first-pass size, or the upscale from an earlier pass."""
    out: dict[str, Any] = {}
    link = as_link(value)
    seen: set[str] = set()
    while link is not None:
        node = w.g.get(link[0])
        if node is None or node.id in seen:
            break
        seen.add(node.id)
        w.step()
        if node.id in samplers:
            out["from_sampler"] = node.id
            break
        inp = node.inputs
        if "size" not in out:
            size = _size(w, node)
            if size:
                out["size"] = size
        if "scale" not in out:
            for key in ("scale_by", "upscale_by", "scale"):
                f = to_float(inp.get(key))
                if f:
                    out["scale"] = f
                    break
        if "upscaler" not in out:
            upscaler = _upscaler(w, node)
            if upscaler:
                out["upscaler"] = upscaler
        if node.class_type in IMAGE_LOADERS:
            out["img2img"] = True
            break
        link = None
        for key in LATENT_KEYS:
            link = as_link(inp.get(key))
            if link:
                break
    return out


def _size(w: Walker, node: Node) -> tuple[int, int] | None:
    inp = node.inputs
    width = (
        positive_int(w.resolve(inp["width"], f"width of {node.label()}"))
        if "width" in inp
        else None
    )
    height = (
        positive_int(w.resolve(inp["height"], f"height of {node.label()}"))
        if "height" in inp
        else None
    )
    if width and height:
        return width, height
    for key in ("dimensions", "resolution", "aspect_ratio"):
        size = parse_size(inp.get(key))
        if size:
            return size
    return None


def _upscaler(w: Walker, node: Node) -> str | None:
    inp = node.inputs
    model = as_link(inp.get("upscale_model"))
    if model:
        loader = w.g.get(model[0])
        if loader is not None:
            name = w.resolve(loader.inputs.get("model_name"), loader.label())
            if isinstance(name, str):
                return name
        return None
    if "upscale_method" in inp and ("scale_by" in inp or "Latent" in node.class_type):
        method = inp.get("upscale_method")
        if isinstance(method, str):
            return f"latent ({method})" if "Latent" in node.class_type else method
    return None
