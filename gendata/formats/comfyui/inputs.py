"""What a sampler's inputs lead to in a ComfyUI graph: prompts, checkpoint and LoRAs, clip
skip, Flux guidance, the latent's size or upscale, the VAE (docs/formats.md#the-api-graph).

Each function follows one kind of input backwards with a Walker, which keeps the budget
and the notes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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
    is_encoder,
    make_lora,
)
from .walker import Site, Walker

if TYPE_CHECKING:
    from ...model import Lora

__all__ = ["ModelChain", "TextSite", "checkpoint", "clip_skip", "flux_guidance", "latent",
           "prompts", "vae"]


# --- conditioning ----------------------------------------------------------------------

TextSite = tuple["Site | str | None", str]  # where an encoder's text sits, and the text


def text_from(w: Walker, node: Node) -> tuple[str | None, list[Site | str | None]]:
    """The encoder's prompt ("" for a deliberately empty one, None when not recorded) and
    where it sits: every text input of the encoder that holds that same text."""
    found: list[tuple[str, Site | str | None]] = []
    for key in TEXT_KEYS:
        if key in node.inputs:
            v, site = w.trace(node, key, f"{key} of {node.label()}")
            if isinstance(v, str):
                found.append((v, site))
            elif site is not None and not isinstance(site, Site):
                found.append(("\0", site))  # computed: cannot be edited
    text = next((v for v, _ in found if v.strip() and v != "\0"), None)
    if text is None:
        text = "" if any(v == "" for v, _ in found) else None
    if text is None:
        blocked = [s for v, s in found if v == "\0"]
        return None, blocked
    return text, [s for v, s in found if v == text]


def _is_text_node(node: Node) -> bool:
    """An encoder by name, or any node on the conditioning path holding a prompt text
    (custom encoders such as MZ_ChatGLM3 take other inputs than `clip`)."""
    return is_encoder(node) or (
        any(isinstance(node.inputs.get(k), str) or as_link(node.inputs.get(k)) is not None
            for k in TEXT_KEYS[:2])
        and "conditioning" not in node.inputs)


def prompts(w: Walker, value: Any, what: str, sites: list[TextSite] | None = None,
            side: str | None = None) -> list[str]:
    """Prompt texts reached backwards from a conditioning input, nearest first; `sites`,
    when given, gets where each encoder's text sits. `side` ("positive" or "negative")
    picks the text of an all-in-one loader that holds both (Efficiency Nodes)."""
    start = as_link(value)
    if start is None:
        return []
    out: list[str] = []
    for node, slot, queue in w.backwards(start, what, per_slot=True):
        if node.class_type == "ConditioningZeroOut":
            continue
        if _is_text_node(node):
            text, where = text_from(w, node)
            if text is None:
                w.notes.append(f"{what}: {node.label()} has no prompt text in the graph")
                if sites is not None:
                    sites.extend((s, "") for s in where)
                continue
            if sites is not None:
                sites.extend((s, text) for s in where)
            if text and text not in out:
                out.append(text)
            continue
        inp = node.inputs
        key = side or ("negative" if slot == 1 else "positive")
        if "positive" in inp and "negative" in inp and isinstance(inp.get(key), str):
            text, site = w.trace(node, key, f"{key} of {node.label()}")
            if sites is not None:
                sites.append((site, text))
            if text and text not in out:
                out.append(text)
            continue
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


def clip_skip(w: Walker, encoders_from: Any) -> tuple[int | None, Site | str | None]:
    """Follow a conditioning input to its encoder's clip input and on to CLIPSetLastLayer."""
    start = as_link(encoders_from)
    if start is None:
        return None, None
    for node, _, queue in w.backwards(start, None):
        if "stop_at_clip_layer" in node.inputs:
            raw, site = w.trace(node, "stop_at_clip_layer", node.label())
            v = to_int(raw)
            return (-v if v is not None and v < 0 else None), site
        if "ckpt_name" in node.inputs:
            return None, None
        for name, link in node.links():
            if name in ("model", "vae", "image", "images", "samples", "latent_image"):
                continue
            queue.append(link)
    return None, None


def flux_guidance(w: Walker, value: Any) -> tuple[float | None, Site | str | None]:
    """The guidance of a FluxGuidance node on the conditioning chain, if there is one."""
    link = as_link(value)
    seen: set[str] = set()
    while link is not None and link[0] not in seen:
        seen.add(link[0])
        w.step()
        node = w.g.get(link[0])
        if node is None:
            return None, None
        if node.class_type == "FluxGuidance":
            raw, site = w.trace(node, "guidance", node.label())
            return to_float(raw), site
        link = as_link(node.inputs.get("conditioning"))
    return None, None


# --- model -----------------------------------------------------------------------------

LoraSites = dict[str, "Site | str | None"]  # "name", "model", "clip" -> where each sits


@dataclass
class ModelChain:
    """What a sampler's model input leads to: the checkpoint (or UNet) and the LoRAs loaded
    on the way, in load order, each with where its values sit."""

    name: str | None = None
    site: Site | str | None = None
    loras: list[Lora] = field(default_factory=list)
    lora_sites: list[LoraSites] = field(default_factory=list)


def checkpoint(w: Walker, value: Any, what: str) -> ModelChain:
    """The checkpoint behind a model input, and the LoRAs loaded on the way, in load order."""
    chain = ModelChain()
    start = as_link(value)
    if start is None:
        return chain
    found: list[tuple[Lora, LoraSites]] = []
    for node, _, queue in w.backwards(start, what):
        inp = node.inputs
        found.extend(_loras_of(w, node))
        for key in CHECKPOINT_KEYS:
            if key in inp:
                name, site = w.trace(node, key, f"{key} of {node.label()}")
                if isinstance(name, str) and name:
                    chain.name, chain.site = name, site
                    _set_loras(chain, found)
                    return chain
        for name in MODEL_LINK_KEYS:
            link = as_link(inp.get(name))
            if link:
                queue.append(link)
    w.notes.append(f"{what}: no checkpoint loader found behind the sampler's model input")
    _set_loras(chain, found)
    return chain


def _set_loras(chain: ModelChain, found: list[tuple[Lora, LoraSites]]) -> None:
    found.reverse()
    seen: set[tuple[str, float | None]] = set()
    for lora, sites in found:
        key = (lora.name, lora.weight)
        if key not in seen:
            seen.add(key)
            chain.loras.append(lora)
            chain.lora_sites.append(sites)


def _loras_of(w: Walker, node: Node) -> list[tuple[Lora, LoraSites]]:
    inp = node.inputs
    found: list[tuple[Lora, LoraSites]] = []
    if "lora_name" in inp:
        name, n_site = w.trace(node, "lora_name", f"lora_name of {node.label()}")
        sm_raw, m_site = w.trace(node, "strength_model", "strength_model")
        sc_raw, c_site = w.trace(node, "strength_clip", "strength_clip")
        lora = make_lora(name, to_float(sm_raw), to_float(sc_raw))
        if lora:
            found.append((lora, {"name": n_site, "model": m_site, "clip": c_site}))
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
                sites: LoraSites = {
                    "name": Site(node.id, key),
                    "model": Site(node.id, f"model_weight_{n}")
                    if f"model_weight_{n}" in inp else None,
                    "clip": Site(node.id, f"clip_weight_{n}")
                    if f"clip_weight_{n}" in inp else None,
                }
                found.append((lora, sites))
        elif isinstance(value, dict) and "lora" in value:
            if value.get("on", True) is False:
                continue
            lora = make_lora(
                value.get("lora"),
                to_float(value.get("strength")),
                to_float(value.get("strengthTwo")),
            )
            if lora:
                found.append((lora, {
                    "name": Site(node.id, key, "lora"),
                    "model": Site(node.id, key, "strength"),
                    "clip": Site(node.id, key, "strengthTwo") if "strengthTwo" in value
                    else None,
                }))
    return found


def vae(w: Walker, output: str | None) -> tuple[str | None, Site | str | None]:
    """The VAE loaded upstream of the output node (of any node, without one)."""
    ids = w.upstream(output) if output else list(w.g.nodes)
    for nid in ids:
        node = w.g.nodes.get(nid)
        if node is not None and "vae_name" in node.inputs:
            v, site = w.trace(node, "vae_name", node.label())
            if isinstance(v, str):
                return v, site
    return None, None


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
            size, where = _size(w, node)
            if size:
                out["size"] = size
                out["size_sites"] = where
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


def _size(w: Walker, node: Node
          ) -> tuple[tuple[int, int] | None, tuple[Site | str | None, Site | str | None]]:
    """A latent node's (width, height) and where each sits; a size given as one string
    ("1024 x 768", an aspect-ratio preset) sits nowhere an edit can set a number."""
    inp = node.inputs
    w_raw, w_site = w.trace(node, "width", f"width of {node.label()}")
    h_raw, h_site = w.trace(node, "height", f"height of {node.label()}")
    width, height = positive_int(w_raw), positive_int(h_raw)
    if width and height:
        return (width, height), (w_site, h_site)
    for key in ("dimensions", "resolution", "aspect_ratio"):
        size = parse_size(inp.get(key))
        if size:
            why = f"the size is one text ({key} of {node.label()})"
            return size, (why, why)
    return None, (None, None)


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
