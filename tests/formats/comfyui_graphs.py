"""Build a ComfyUI graph once and get both of its forms: the executed `prompt` graph and the
editor `workflow` graph, with widgets_values in the order the test writes them (not taken
from gendata's own widget table, so the table is tested, not assumed).

Used by the ComfyUI tests and by scripts/make_fixtures.py for the fixtures/comfyui_*.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

# Output types of the node types the tests use (what the editor lists as `outputs`).
OUTPUTS: dict[str, list[str]] = {
    "CheckpointLoaderSimple": ["MODEL", "CLIP", "VAE"],
    "UNETLoader": ["MODEL"], "CLIPLoader": ["CLIP"], "DualCLIPLoader": ["CLIP"],
    "QuadrupleCLIPLoader": ["CLIP"], "VAELoader": ["VAE"],
    "LoraLoader": ["MODEL", "CLIP"], "LoraLoaderModelOnly": ["MODEL"],
    "CLIPSetLastLayer": ["CLIP"], "ModelSamplingAuraFlow": ["MODEL"],
    "KSampler": ["LATENT"], "KSamplerAdvanced": ["LATENT"], "SamplerCustomAdvanced": ["LATENT"],
    "RandomNoise": ["NOISE"], "KSamplerSelect": ["SAMPLER"], "BasicScheduler": ["SIGMAS"],
    "CFGGuider": ["GUIDER"], "DualCFGGuider": ["GUIDER"], "BasicGuider": ["GUIDER"],
    "EmptyLatentImage": ["LATENT"], "EmptySD3LatentImage": ["LATENT"],
    "EmptyHunyuanLatentVideo": ["LATENT"], "LatentUpscaleBy": ["LATENT"],
    "VAEDecode": ["IMAGE"], "VAEEncode": ["LATENT"], "LoadImage": ["IMAGE", "MASK"],
    "FluxGuidance": ["CONDITIONING"], "ConditioningZeroOut": ["CONDITIONING"],
    "ReferenceLatent": ["CONDITIONING"], "SaveImage": [], "SaveAnimatedWEBP": [],
    "PrimitiveNode": ["INT"], "FluxKontextProImageNode": ["IMAGE"],
}


@dataclass
class _Node:
    id: int
    type: str
    widgets: list[Any]  # editor widgets_values, in order
    named: dict[str, Any]  # widget name -> value, the executed graph's literals
    links: dict[str, tuple[int, int]]  # input -> (source id, slot)
    outputs: list[str]
    mode: int = 0
    converted: dict[str, int] = field(default_factory=dict)  # widget input -> primitive id


class Graph:
    """A graph under construction. `add` takes widgets as (name, value) pairs in widget
    order; a bare value is a front-end-only entry (a seed's control value)."""

    def __init__(self) -> None:
        self.nodes: dict[int, _Node] = {}
        self._next = 1

    def add(self, ntype: str, widgets: list[Any] | None = None,
            inputs: dict[str, tuple[int, int]] | None = None, *, id: int | None = None,
            outputs: list[str] | None = None, mode: int = 0) -> int:
        nid = id if id is not None else self._next
        self._next = max(self._next, nid) + 1
        values: list[Any] = []
        named: dict[str, Any] = {}
        for item in widgets or ():
            if isinstance(item, tuple):
                named[item[0]] = item[1]
                values.append(item[1])
            else:
                values.append(item)
        self.nodes[nid] = _Node(nid, ntype, values, named, dict(inputs or {}),
                                outputs if outputs is not None else OUTPUTS.get(ntype, []),
                                mode)
        return nid

    def primitive(self, value: Any, targets: list[tuple[int, str]], control: Any = None
                  ) -> int:
        """An editor PrimitiveNode feeding widget inputs of other nodes (converted widgets):
        the executed graph holds the value in each target instead."""
        widgets: list[Any] = [value] + ([control] if control is not None else [])
        kind = "INT" if isinstance(value, int) else "FLOAT" if isinstance(value, float) \
            else "STRING"
        pid = self.add("PrimitiveNode", widgets, outputs=[kind])
        for tid, name in targets:
            self.nodes[tid].converted[name] = pid
        return pid

    def api(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for n in self.nodes.values():
            if n.type == "PrimitiveNode" or n.mode in (2, 4):
                continue
            inputs: dict[str, Any] = {}
            for name, value in n.named.items():
                pid = n.converted.get(name)
                inputs[name] = self.nodes[pid].widgets[0] if pid is not None else value
            for name, (src, slot) in n.links.items():
                inputs[name] = [str(src), slot]
            out[str(n.id)] = {"inputs": inputs, "class_type": n.type,
                              "_meta": {"title": n.type}}
        return out

    def workflow(self) -> dict[str, Any]:
        links: list[list[Any]] = []
        outs: dict[tuple[int, int], list[int]] = {}
        nodes: list[dict[str, Any]] = []

        def link(src: int, slot: int, dst: int, dslot: int, kind: str) -> int:
            lid = len(links) + 1
            links.append([lid, src, slot, dst, dslot, kind])
            outs.setdefault((src, slot), []).append(lid)
            return lid

        for n in self.nodes.values():
            inputs: list[dict[str, Any]] = []
            for name, (src, slot) in n.links.items():
                kind = self.nodes[src].outputs[slot] if slot < len(self.nodes[src].outputs) \
                    else "*"
                inputs.append({"name": name, "type": kind,
                               "link": link(src, slot, n.id, len(inputs), kind)})
            for name, pid in n.converted.items():
                kind = self.nodes[pid].outputs[0]
                inputs.append({"name": name, "type": kind, "widget": {"name": name},
                               "link": link(pid, 0, n.id, len(inputs), kind)})
            nodes.append({"id": n.id, "type": n.type, "pos": [0, 0], "size": [300, 100],
                          "flags": {}, "order": len(nodes), "mode": n.mode,
                          "inputs": inputs, "outputs": [], "properties": {},
                          "widgets_values": list(n.widgets)})
        for node in nodes:
            n = self.nodes[node["id"]]
            node["outputs"] = [{"name": kind, "type": kind, "links": outs.get((n.id, i), []),
                                "slot_index": i} for i, kind in enumerate(n.outputs)]
        return {"last_node_id": max(self.nodes), "last_link_id": len(links), "nodes": nodes,
                "links": links, "groups": [], "config": {}, "extra": {}, "version": 0.4}


def sdxl_graph(seed: int = 123456789, prompt: str = "a red fox in snow") -> Graph:
    """KSampler, checkpoint, LoRA, CLIPSetLastLayer, empty latent: the common layout."""
    g = Graph()
    ck = g.add("CheckpointLoaderSimple", [("ckpt_name", "sdxl_base.safetensors")], id=4)
    lo = g.add("LoraLoader", [("lora_name", "fox_style.safetensors"), ("strength_model", 0.8),
                              ("strength_clip", 0.6)], {"model": (ck, 0), "clip": (ck, 1)},
               id=10)
    cl = g.add("CLIPSetLastLayer", [("stop_at_clip_layer", -2)], {"clip": (lo, 1)}, id=11)
    pos = g.add("CLIPTextEncode", [("text", prompt)], {"clip": (cl, 0)}, id=6)
    neg = g.add("CLIPTextEncode", [("text", "blurry, lowres")], {"clip": (cl, 0)}, id=7)
    lat = g.add("EmptyLatentImage", [("width", 832), ("height", 1216), ("batch_size", 1)],
                id=5)
    ks = g.add("KSampler", [("seed", seed), "randomize", ("steps", 28), ("cfg", 6.5),
                            ("sampler_name", "dpmpp_2m"), ("scheduler", "karras"),
                            ("denoise", 1.0)],
               {"model": (lo, 0), "positive": (pos, 0), "negative": (neg, 0),
                "latent_image": (lat, 0)}, id=3)
    dec = g.add("VAEDecode", [], {"samples": (ks, 0), "vae": (ck, 2)}, id=8)
    g.add("SaveImage", [("filename_prefix", "ComfyUI")], {"images": (dec, 0)}, id=9)
    return g


def png_with(texts: dict[str, str], size: tuple[int, int] = (64, 48)) -> bytes:
    """A small PNG holding `texts` as tEXt chunks, as ComfyUI's SaveImage writes them."""
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    for key, value in texts.items():
        info.add_text(key, value)
    buf = io.BytesIO()
    Image.new("RGB", size, (40, 90, 160)).save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def comfy_png(g: Graph, *, workflow: bool = True, prompt: bool = True) -> bytes:
    """The PNG SaveImage writes: `prompt` and `workflow` as Python's json.dumps gives them."""
    texts = {}
    if prompt:
        texts["prompt"] = json.dumps(g.api())
    if workflow:
        texts["workflow"] = json.dumps(g.workflow())
    return png_with(texts)


def comfy_webp(g: Graph, frames: int = 1) -> bytes:
    """The WebP SaveAnimatedWEBP writes: EXIF Model = "prompt:" + JSON, Make = "workflow:"
    + JSON (docs/formats.md#where-comfyui-graphs-are-stored)."""
    from PIL import Image

    exif = Image.Exif()
    exif[0x0110] = "prompt:" + json.dumps(g.api())
    exif[0x010F] = "workflow:" + json.dumps(g.workflow())
    imgs = [Image.new("RGB", (48, 32), (20 * i, 90, 160)) for i in range(frames)]
    buf = io.BytesIO()
    imgs[0].save(buf, "WEBP", save_all=frames > 1, append_images=imgs[1:], lossless=True,
                 exif=exif.tobytes())
    return buf.getvalue()


# --- one graph per model family the readers must know ----------------------------------------

def _tail(g: Graph, sampler: int, vae: int, saver: str = "SaveImage") -> None:
    dec = g.add("VAEDecode", [], {"samples": (sampler, 0), "vae": (vae, 0)})
    if saver == "SaveAnimatedWEBP":
        g.add(saver, [("filename_prefix", "video"), ("fps", 16.0), ("lossless", False),
                      ("quality", 90), ("method", "default")], {"images": (dec, 0)})
    else:
        g.add(saver, [("filename_prefix", "ComfyUI")], {"images": (dec, 0)})


def _ksampler(g: Graph, model: int, pos: int, neg: int, latent: int, seed: int,
              steps: int = 20, cfg: float = 1.0, sampler: str = "euler") -> int:
    return g.add("KSampler", [("seed", seed), "randomize", ("steps", steps), ("cfg", cfg),
                              ("sampler_name", sampler), ("scheduler", "simple"),
                              ("denoise", 1.0)],
                 {"model": (model, 0), "positive": (pos, 0), "negative": (neg, 0),
                  "latent_image": (latent, 0)})


def hidream_graph() -> Graph:
    """HiDream I1: QuadrupleCLIPLoader and the four-text encoder."""
    g = Graph()
    unet = g.add("UNETLoader", [("unet_name", "hidream_i1_full_fp16.safetensors"),
                                ("weight_dtype", "default")])
    clip = g.add("QuadrupleCLIPLoader", [("clip_name1", "clip_l_hidream.safetensors"),
                                         ("clip_name2", "clip_g_hidream.safetensors"),
                                         ("clip_name3", "t5xxl_fp8.safetensors"),
                                         ("clip_name4", "llama_3.1_8b.safetensors")])
    text = "a lighthouse on a cliff at dusk"
    pos = g.add("CLIPTextEncodeHiDream", [("clip_l", text), ("clip_g", text), ("t5xxl", text),
                                          ("llama", text)], {"clip": (clip, 0)},
                outputs=["CONDITIONING"])
    neg = g.add("CLIPTextEncode", [("text", "blurry")], {"clip": (clip, 0)},
                outputs=["CONDITIONING"])
    lat = g.add("EmptySD3LatentImage", [("width", 1024), ("height", 1024), ("batch_size", 1)])
    _tail(g, _ksampler(g, unet, pos, neg, lat, 221267224284097, 50, 5.0, "uni_pc"), unet)
    return g


def zimage_graph() -> Graph:
    """Z-Image Turbo: a Qwen3 text encoder through CLIPLoader, AuraFlow model sampling."""
    g = Graph()
    unet = g.add("UNETLoader", [("unet_name", "z_image_turbo_bf16.safetensors"),
                                ("weight_dtype", "default")])
    clip = g.add("CLIPLoader", [("clip_name", "qwen_3_4b.safetensors"), ("type", "lumina2"),
                                ("device", "default")])
    ms = g.add("ModelSamplingAuraFlow", [("shift", 3.0)], {"model": (unet, 0)})
    pos = g.add("CLIPTextEncode", [("text", "a neon street at night, rain")],
                {"clip": (clip, 0)}, outputs=["CONDITIONING"])
    neg = g.add("ConditioningZeroOut", [], {"conditioning": (pos, 0)})
    lat = g.add("EmptySD3LatentImage", [("width", 1024), ("height", 768), ("batch_size", 1)])
    _tail(g, _ksampler(g, ms, pos, neg, lat, 42, 8, 1.0, "res_multistep"), unet)
    return g


def omnigen2_graph() -> Graph:
    """OmniGen2 / HiDream E1: DualCFGGuider behind SamplerCustomAdvanced."""
    g = Graph()
    unet = g.add("UNETLoader", [("unet_name", "omnigen2_fp16.safetensors"),
                                ("weight_dtype", "default")])
    clip = g.add("CLIPLoader", [("clip_name", "qwen_2.5_vl_fp16.safetensors"),
                                ("type", "omnigen2"), ("device", "default")])
    pos = g.add("CLIPTextEncode", [("text", "make it a snowy winter scene")],
                {"clip": (clip, 0)}, outputs=["CONDITIONING"])
    neg = g.add("CLIPTextEncode", [("text", "blurry, low quality")], {"clip": (clip, 0)},
                outputs=["CONDITIONING"])
    guider = g.add("DualCFGGuider", [("cfg_conds", 5.0), ("cfg_cond2_negative", 2.0),
                                     ("style", "regular")],
                   {"model": (unet, 0), "cond1": (pos, 0), "cond2": (neg, 0),
                    "negative": (neg, 0)})
    noise = g.add("RandomNoise", [("noise_seed", 459775754578815), "randomize"])
    sel = g.add("KSamplerSelect", [("sampler_name", "euler")])
    sched = g.add("BasicScheduler", [("scheduler", "simple"), ("steps", 20), ("denoise", 1.0)],
                  {"model": (unet, 0)})
    lat = g.add("EmptySD3LatentImage", [("width", 1024), ("height", 1024), ("batch_size", 1)])
    sca = g.add("SamplerCustomAdvanced", [], {"noise": (noise, 0), "guider": (guider, 0),
                                              "sampler": (sel, 0), "sigmas": (sched, 0),
                                              "latent_image": (lat, 0)})
    _tail(g, sca, unet)
    return g


def kontext_pro_graph() -> Graph:
    """An API node that makes the image from its own prompt and seed (no sampler)."""
    g = Graph()
    img = g.add("LoadImage", [("image", "girl.png"), "image"])
    gen = g.add("FluxKontextProImageNode", [("prompt", "change it to a pop art poster"),
                                            ("aspect_ratio", "1:1"), ("guidance", 3.0),
                                            ("steps", 50), ("seed", 300619098965942),
                                            "randomize", ("prompt_upsampling", False)],
                {"input_image": (img, 0)})
    g.add("SaveImage", [("filename_prefix", "ComfyUI")], {"images": (gen, 0)})
    return g


def wan_video_graph() -> Graph:
    """Wan 2.1 text to video, saved as an animated WebP."""
    g = Graph()
    unet = g.add("UNETLoader", [("unet_name", "wan2.1_t2v_1.3B_fp16.safetensors"),
                                ("weight_dtype", "default")])
    clip = g.add("CLIPLoader", [("clip_name", "umt5_xxl_fp8.safetensors"), ("type", "wan"),
                                ("device", "default")])
    pos = g.add("CLIPTextEncode", [("text", "a fox running through snow")],
                {"clip": (clip, 0)}, outputs=["CONDITIONING"])
    neg = g.add("CLIPTextEncode", [("text", "static, blurry")], {"clip": (clip, 0)},
                outputs=["CONDITIONING"])
    lat = g.add("EmptyHunyuanLatentVideo", [("width", 832), ("height", 480), ("length", 33),
                                            ("batch_size", 1)])
    _tail(g, _ksampler(g, unet, pos, neg, lat, 225577701395309, 30, 6.0, "uni_pc"), unet,
          "SaveAnimatedWEBP")
    return g


# name -> (file bytes, what gendata must read from it)
def family_fixtures() -> dict[str, tuple[bytes, dict[str, Any]]]:
    return {
        "comfyui/sdxl_lora.png": (comfy_png(sdxl_graph()), {
            "prompt": "a red fox in snow", "seed": 123456789, "steps": 28,
            "model": "sdxl_base.safetensors", "width": 832}),
        "comfyui/editor_only.png": (comfy_png(sdxl_graph(seed=5), prompt=False), {
            "prompt": "a red fox in snow", "seed": 5, "sampler": "dpmpp_2m"}),
        "comfyui/hidream.png": (comfy_png(hidream_graph()), {
            "prompt": "a lighthouse on a cliff at dusk", "negative_prompt": "blurry",
            "seed": 221267224284097, "steps": 50, "model": "hidream_i1_full_fp16.safetensors"}),
        "comfyui/zimage.png": (comfy_png(zimage_graph()), {
            "prompt": "a neon street at night, rain", "negative_prompt": "", "seed": 42,
            "sampler": "res_multistep", "width": 1024, "height": 768}),
        "comfyui/omnigen2.png": (comfy_png(omnigen2_graph()), {
            "prompt": "make it a snowy winter scene", "negative_prompt": "blurry, low quality",
            "seed": 459775754578815, "cfg_scale": 5.0, "steps": 20}),
        "comfyui/kontext_pro_api.png": (comfy_png(kontext_pro_graph()), {
            "prompt": "change it to a pop art poster", "seed": 300619098965942, "steps": 50}),
        "comfyui/wan_t2v.webp": (comfy_webp(wan_video_graph(), frames=3), {
            "prompt": "a fox running through snow", "seed": 225577701395309, "width": 832,
            "height": 480}),
    }
