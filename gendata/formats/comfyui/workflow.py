"""Turn a ComfyUI editor graph (`workflow` chunk) into the API shape the walker reads.

docs/formats.md#the-editor-graph: nodes carry positional `widgets_values` whose names depend
on the node type, and `links` are `[id, from_node, from_slot, to_node, to_slot, type]`. Used
only when the `prompt` chunk is missing (docs/formats.md#comfyui-pitfalls): names come from a
table of core nodes, or from the node's own widget inputs (newer front ends list them);
Reroute and Primitive nodes are resolved; muted (mode 2) nodes are dropped and bypassed
(mode 4) nodes pass their input of the same type through.
"""

from __future__ import annotations

from typing import Any

from ...errors import ParseError

# Widget names in widgets_values order (the seed's "control_after_generate" value is
# skipped separately).
WIDGETS: dict[str, list[str]] = {
    "KSampler": ["seed", "steps", "cfg", "sampler_name", "scheduler", "denoise"],
    "KSamplerAdvanced": [
        "add_noise",
        "noise_seed",
        "steps",
        "cfg",
        "sampler_name",
        "scheduler",
        "start_at_step",
        "end_at_step",
        "return_with_leftover_noise",
    ],
    "SamplerCustom": ["add_noise", "noise_seed", "cfg"],
    "RandomNoise": ["noise_seed"],
    "CFGGuider": ["cfg"],
    "KSamplerSelect": ["sampler_name"],
    "BasicScheduler": ["scheduler", "steps", "denoise"],
    "CLIPTextEncode": ["text"],
    "CLIPTextEncodeSDXL": [
        "width",
        "height",
        "crop_w",
        "crop_h",
        "target_width",
        "target_height",
        "text_g",
        "text_l",
    ],
    "CLIPTextEncodeSDXLRefiner": ["ascore", "width", "height", "text"],
    "CLIPTextEncodeFlux": ["clip_l", "t5xxl", "guidance"],
    "FluxGuidance": ["guidance"],
    "CheckpointLoaderSimple": ["ckpt_name"],
    "CheckpointLoader": ["config_name", "ckpt_name"],
    "UNETLoader": ["unet_name", "weight_dtype"],
    "VAELoader": ["vae_name"],
    "CLIPSetLastLayer": ["stop_at_clip_layer"],
    "LoraLoader": ["lora_name", "strength_model", "strength_clip"],
    "LoraLoaderModelOnly": ["lora_name", "strength_model"],
    "EmptyLatentImage": ["width", "height", "batch_size"],
    "EmptySD3LatentImage": ["width", "height", "batch_size"],
    "LatentUpscale": ["upscale_method", "width", "height", "crop"],
    "LatentUpscaleBy": ["upscale_method", "scale_by"],
    "ImageScale": ["upscale_method", "width", "height", "crop"],
    "ImageScaleBy": ["upscale_method", "scale_by"],
    "UpscaleModelLoader": ["model_name"],
    "SaveImage": ["filename_prefix"],
    "LoadImage": ["image", "upload"],
}
_SEEDS = {"seed", "noise_seed"}
_CONTROL = {"fixed", "increment", "decrement", "randomize"}
MAX_LINKS = 500_000


def _node_id(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return None
    return str(value)


def to_api(workflow: Any, what: str = "workflow") -> tuple[dict[str, Any], list[str]]:
    """Editor graph -> (API-shaped dict, notes). Raises ParseError on a non-graph."""
    if not isinstance(workflow, dict) or not isinstance(workflow.get("nodes"), list):
        raise ParseError(f"{what}: not a ComfyUI editor graph (no 'nodes' list)")
    notes: list[str] = []
    raw_links = workflow.get("links")
    links: dict[str, tuple[str, int]] = {}
    if isinstance(raw_links, list):
        for entry in raw_links[:MAX_LINKS]:
            if isinstance(entry, list) and len(entry) >= 3:
                lid, src = _node_id(entry[0]), _node_id(entry[1])
                slot = (
                    entry[2] if isinstance(entry[2], int) and not isinstance(entry[2], bool) else 0
                )
                if lid is not None and src is not None:
                    links[lid] = (src, slot)
            elif isinstance(entry, dict):
                lid, src = _node_id(entry.get("id")), _node_id(entry.get("origin_id"))
                slot = entry.get("origin_slot", 0)
                if lid is not None and src is not None and isinstance(slot, int):
                    links[lid] = (src, slot)
    nodes: dict[str, dict[str, Any]] = {}
    for raw in workflow["nodes"]:
        if not isinstance(raw, dict):
            continue
        nid, ntype = _node_id(raw.get("id")), raw.get("type")
        if nid is None or not isinstance(ntype, str):
            continue
        nodes[nid] = raw
    if workflow.get("definitions"):
        notes.append(
            "workflow uses subgraphs; nodes inside them are not read from the editor graph"
        )

    def source(link_id: Any) -> list[Any] | None:
        lid = _node_id(link_id)
        if lid is None or lid not in links:
            return None
        src, slot = links[lid]
        return [src, slot]

    api: dict[str, Any] = {}
    for nid, raw in nodes.items():
        ntype = raw["type"]
        mode = raw.get("mode", 0)
        inputs_raw: list[Any] = raw["inputs"] if isinstance(raw.get("inputs"), list) else []
        widgets = raw.get("widgets_values")
        inputs: dict[str, Any] = {}
        if mode == 2:
            continue
        if ntype in ("Reroute",) or mode == 4:
            # Pass-through: output slot 0 takes the first linked input.
            for inp in inputs_raw:
                if isinstance(inp, dict) and source(inp.get("link")) is not None:
                    inputs["input"] = source(inp.get("link"))
                    break
            api[nid] = {
                "class_type": "Reroute" if mode != 4 else f"Bypassed {ntype}",
                "inputs": inputs,
            }
            continue
        if ntype == "PrimitiveNode" or ntype.startswith("Primitive"):
            if isinstance(widgets, list) and widgets:
                inputs["value"] = widgets[0]
            api[nid] = {"class_type": ntype, "inputs": inputs}
            continue
        widget_inputs: list[str] = []
        for inp in inputs_raw:
            if not isinstance(inp, dict) or not isinstance(inp.get("name"), str):
                continue
            link = source(inp.get("link"))
            if isinstance(inp.get("widget"), dict):
                widget_inputs.append(inp["name"])
            if link is not None:
                inputs[inp["name"]] = link
        names = WIDGETS.get(ntype)
        if isinstance(widgets, dict):
            for key, value in widgets.items():
                if isinstance(key, str):
                    inputs.setdefault(key, value)
        elif isinstance(widgets, list):
            if names is None:
                names = widget_inputs if len(widget_inputs) >= 1 else []
                if widgets and not names:
                    inputs["widgets_values"] = widgets
            i = 0
            for name in names:
                if i >= len(widgets):
                    break
                value = widgets[i]
                i += 1
                if name in _SEEDS and i < len(widgets) and widgets[i] in _CONTROL:
                    i += 1
                inputs.setdefault(name, value)
        api[nid] = {"class_type": ntype, "inputs": inputs}
    # Reroutes and bypassed nodes: make links through them point at their source.
    for node in api.values():
        for key, value in list(node["inputs"].items()):
            hops = 0
            while (
                isinstance(value, list)
                and len(value) == 2
                and str(value[0]) in api
                and (
                    api[str(value[0])]["class_type"] == "Reroute"
                    or api[str(value[0])]["class_type"].startswith("Bypassed ")
                )
                and hops < 1000
            ):
                nxt = api[str(value[0])]["inputs"].get("input")
                if nxt is None:
                    break
                value = nxt
                hops += 1
            node["inputs"][key] = value
    return api, notes
