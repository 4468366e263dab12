"""Build fixtures/dialects/: one small image per generator layout gendata edits in place, for
the generators the shared corpus has no real sample of.

Run from the repository root: `python scripts/make_dialect_fixtures.py`. Each file follows
its generator's documented layout (docs/formats.md, #stealth-pnginfo to #other-writers): the
same chunk names and EXIF tags, the same JSON separators and escaping, so editing it
exercises what editing the generator's own output does.
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import piexif
from PIL import Image, ImageDraw
from PIL.PngImagePlugin import PngInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gendata.containers.png import make_chunk  # noqa: E402
from gendata.containers.stealth import embed_stealth  # noqa: E402

OUT = ROOT / "fixtures" / "dialects"


def picture(w: int = 16, h: int = 16, mode: str = "RGB", hue: int = 0) -> Image.Image:
    img = Image.new(mode, (w, h), (40 + hue % 200, 90, 160) + ((255,) if mode == "RGBA" else ()))
    ImageDraw.Draw(img).ellipse((2, 2, w - 3, h - 3), fill=(220, 200 - hue % 100, 40)
                                + ((255,) if mode == "RGBA" else ()))
    return img


def png(name: str, texts: list[tuple[str, str]], *, img: Image.Image | None = None) -> None:
    info = PngInfo()
    for key, text in texts:
        try:
            text.encode("latin-1")
            info.add_text(key, text)
        except UnicodeEncodeError:
            info.add_itxt(key, text)
    (img or picture()).save(OUT / name, "PNG", pnginfo=info)


def png_utf8(name: str, texts: list[tuple[str, str]]) -> None:
    """A PNG whose tEXt chunks hold UTF-8 bytes, as Tensor.Art and Stability Matrix write
    them (docs/formats.md#other-writers), whatever the text."""
    buf = io.BytesIO()
    picture(hue=200).save(buf, "PNG")
    data = buf.getvalue()
    at = data.index(b"IDAT") - 4
    chunks = b"".join(make_chunk(b"tEXt", k.encode("latin-1") + b"\0" + t.encode("utf-8"))
                      for k, t in texts)
    (OUT / name).write_bytes(data[:at] + chunks + data[at:])


def jpeg(name: str, exif: dict[str, Any]) -> None:
    buf = io.BytesIO()
    picture(hue=60).save(buf, "JPEG", quality=90, exif=piexif.dump(exif))
    (OUT / name).write_bytes(buf.getvalue())


# --- NovelAI (docs/formats.md#novelai) ---------------------------------------------------

NAI_LEGACY = {"steps": 28, "sampler": "k_euler_ancestral", "seed": 1234567890, "strength": 0.7,
              "noise": 0.2, "scale": 11.0, "uc": "lowres, bad anatomy", "width": 512,
              "height": 768, "n_samples": 1, "sm": False, "sm_dyn": False,
              "noise_schedule": "native", "cfg_rescale": 0.0}
NAI_V4 = {"prompt": "2girls, dancing, テスト", "steps": 23, "height": 1216, "width": 832,
          "scale": 5.0, "uncond_scale": 0.0, "cfg_rescale": 0.0, "seed": 3141592653,
          "n_samples": 1, "noise_schedule": "karras",
          "v4_prompt": {"caption": {"base_caption": "2girls, dancing, テスト", "char_captions": [
              {"char_caption": "girl, red hair", "centers": [{"x": 0.3, "y": 0.5}]}]},
              "use_coords": True, "use_order": True},
          "v4_negative_prompt": {"caption": {"base_caption": "blurry", "char_captions": [
              {"char_caption": "", "centers": [{"x": 0.3, "y": 0.5}]}]}, "legacy_uc": False},
          "sampler": "k_euler_ancestral", "version": 1, "uc": "blurry",
          "request_type": "PromptGenerateRequest", "signed_hash": "c2lnbmF0dXJl"}


def novelai() -> None:
    png("novelai_legacy.png", [
        ("Title", "AI generated image"),
        ("Description", "masterpiece, 1girl, {red scarf}, snow"),
        ("Software", "NovelAI"), ("Source", "Stable Diffusion 1D44365E"),
        ("Generation time", "3.21"), ("Comment", json.dumps(NAI_LEGACY))])
    # stealth only: what NovelAI's alpha channel keeps once the chunks are gone
    chunks = {"Description": NAI_V4["prompt"], "Software": "NovelAI",
              "Source": "NovelAI Diffusion V4.5 4BDE2A90", "Generation time": "2.5",
              "Comment": json.dumps(NAI_V4)}
    img = embed_stealth(picture(96, 96, "RGBA", hue=30), json.dumps(chunks), mode="alpha",
                        compressed=True)
    img.save(OUT / "novelai_stealth.png", "PNG")


def a1111_rgb_stealth() -> None:
    text = ("a lighthouse at dusk\nNegative prompt: fog\nSteps: 20, Sampler: Euler a, "
            "CFG scale: 7, Seed: 99, Size: 64x64, Model: sd15")
    img = embed_stealth(picture(64, 64, hue=80), text, mode="rgb", compressed=False)
    img.save(OUT / "a1111_stealth_rgb.png", "PNG")


# --- InvokeAI (docs/formats.md#invokeai) -------------------------------------------------

def _dump(obj: Any) -> str:
    """pydantic's model_dump_json: compact, UTF-8 kept."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


MODEL = {"key": "a1b2c3", "hash": "blake3:0f0e", "name": "juggernautXL_v9", "base": "sdxl",
         "type": "main"}
INVOKE_META = {"generation_mode": "sdxl_txt2img", "positive_prompt": "a castle on a hill, 塔",
               "negative_prompt": "blurry", "width": 1024, "height": 768, "seed": 424242,
               "rand_device": "cpu", "cfg_scale": 6.5, "cfg_rescale_multiplier": 0.0,
               "steps": 30, "scheduler": "dpmpp_3m_k", "model": MODEL,
               "loras": [{"model": {"key": "l1", "hash": "blake3:01", "name": "detail",
                                    "base": "sdxl", "type": "lora"}, "weight": 0.6}],
               "app_version": "5.6.0"}


def _graph(meta: dict[str, Any] | None) -> dict[str, Any]:
    nodes: dict[str, Any] = {
        "positive_prompt:1": {"id": "positive_prompt:1", "type": "string",
                              "value": INVOKE_META["positive_prompt"], "is_intermediate": True},
        "pos_cond:2": {"id": "pos_cond:2", "type": "sdxl_compel_prompt", "style": "",
                       "original_width": 1024, "original_height": 768, "is_intermediate": True},
        "neg_cond:3": {"id": "neg_cond:3", "type": "sdxl_compel_prompt", "prompt": "blurry",
                       "style": "", "is_intermediate": True},
        "seed:4": {"id": "seed:4", "type": "integer", "value": 424242},
        "noise:5": {"id": "noise:5", "type": "noise", "use_cpu": True, "width": 1024,
                    "height": 768},
        "sdxl_model_loader:6": {"id": "sdxl_model_loader:6", "type": "sdxl_model_loader",
                                "model": MODEL},
        "lora:7": {"id": "lora:7", "type": "sdxl_lora_collection_loader", "weight": 0.6},
        "denoise_latents:8": {"id": "denoise_latents:8", "type": "denoise_latents",
                              "cfg_scale": 6.5, "cfg_rescale_multiplier": 0, "scheduler":
                              "dpmpp_3m_k", "steps": 30, "denoising_start": 0,
                              "denoising_end": 1},
        "canvas_output:9": {"id": "canvas_output:9", "type": "l2i", "fp32": False},
    }
    edges = [
        ("positive_prompt:1", "value", "pos_cond:2", "prompt"),
        ("seed:4", "value", "noise:5", "seed"),
        ("sdxl_model_loader:6", "unet", "lora:7", "unet"),
        ("lora:7", "unet", "denoise_latents:8", "unet"),
        ("pos_cond:2", "conditioning", "denoise_latents:8", "positive_conditioning"),
        ("neg_cond:3", "conditioning", "denoise_latents:8", "negative_conditioning"),
        ("noise:5", "noise", "denoise_latents:8", "noise"),
        ("denoise_latents:8", "latents", "canvas_output:9", "latents"),
    ]
    if meta is not None:
        nodes["core_metadata:10"] = {"id": "core_metadata:10", "type": "core_metadata", **meta}
        edges.append(("core_metadata:10", "metadata", "canvas_output:9", "metadata"))
    return {"id": "graph:x", "nodes": nodes, "edges": [
        {"source": {"node_id": a, "field": b}, "destination": {"node_id": c, "field": d}}
        for a, b, c, d in edges]}


def _workflow(graph: dict[str, Any]) -> dict[str, Any]:
    """The editor workflow of `graph` (nodes with data.inputs {name, value}; reactflow
    edges)."""
    nodes = []
    for node in graph["nodes"].values():
        inputs = {k: {"name": k, "label": "", "value": v} for k, v in node.items()
                  if k not in ("id", "type", "is_intermediate")}
        nodes.append({"id": node["id"], "type": "invocation", "position": {"x": 0, "y": 0},
                      "data": {"id": node["id"], "type": node["type"], "version": "1.0.0",
                               "label": "", "notes": "", "isOpen": True,
                               "isIntermediate": True, "useCache": True, "inputs": inputs}})
    edges = [{"id": f"e{i}", "type": "default", "source": e["source"]["node_id"],
              "sourceHandle": e["source"]["field"], "target": e["destination"]["node_id"],
              "targetHandle": e["destination"]["field"]} for i, e in enumerate(graph["edges"])]
    return {"name": "castle", "author": "", "version": "3.0.0", "nodes": nodes, "edges": edges,
            "meta": {"version": "3.0.0", "category": "user"}}


def invokeai() -> None:
    png("invokeai_v5.png", [("invokeai_metadata", _dump(INVOKE_META)),
                            ("invokeai_graph", _dump(_graph(INVOKE_META)))])
    png("invokeai_graph_only.png", [("invokeai_graph", _dump(_graph(None)))])
    png("invokeai_workflow_only.png", [("invokeai_workflow", _dump(_workflow(_graph(None))))])
    dream = ('"a cottage in the woods [fog, blur]" -s 40 -S 1234 -W 512 -H 512 -C 7.5 '
             "-A k_lms")
    sd_meta = {"model": "stable diffusion", "model_weights": "stable-diffusion-1.5",
               "model_hash": "cc6cb27103417325ff94f52b7a5d2dde45a7515b25c255d8e396c90014281516",
               "app_id": "invoke-ai/InvokeAI", "app_version": "2.3.5",
               "image": {"prompt": [{"prompt": "a cottage in the woods [fog, blur]",
                                     "weight": 1.0}], "steps": 40, "cfg_scale": 7.5,
                         "threshold": 0, "perlin": 0, "height": 512, "width": 512,
                         "seed": 1234, "seamless": False, "hires_fix": False,
                         "type": "txt2img", "postprocessing": None, "sampler": "k_lms",
                         "variations": []}}
    png("invokeai_v2.png", [("Dream", dream), ("sd-metadata", json.dumps(sd_meta))])


# --- Fooocus and its forks (docs/formats.md#fooocus) -------------------------------------

FOOOCUS = {"adm_guidance": "(1.5, 0.8, 0.3)", "base_model": "juggernautXL_v8Rundiffusion",
           "base_model_hash": "aeb7e9e689", "clip_skip": 2,
           "full_negative_prompt": ["unrealistic, saturated, lowres"],
           "full_prompt": ["a red fox in the snow, cinematic, highly detailed"],
           "guidance_scale": 4.0, "loras": [["sd_xl_offset_example-lora_1.0", 0.1,
                                              "4852686128"]],
           "metadata_scheme": "fooocus", "negative_prompt": "", "performance": "Speed",
           "prompt": "a red fox in the snow", "prompt_expansion": "",
           "refiner_model": "None", "refiner_switch": 0.5, "resolution": "(1152, 896)",
           "sampler": "dpmpp_2m_sde_gpu", "scheduler": "karras",
           "seed": "6230945188403215424", "sharpness": 2.0, "steps": 30,
           "styles": "['Fooocus V2', 'Fooocus Enhance']", "vae": "Default (model)",
           "version": "Fooocus v2.5.5"}
FOOOCUS_A1111 = (
    "a red fox in the snow, cinematic\nNegative prompt: lowres\nSteps: 30, Sampler: DPM++ 2M "
    "SDE Karras, Seed: 42, Size: 1152x896, CFG scale: 4, Sharpness: 2, ADM Guidance: \"(1.5, "
    "0.8, 0.3)\", Model: juggernautXL_v8Rundiffusion, Model hash: aeb7e9e689, Performance: "
    "Speed, Scheduler: karras, VAE: Default (model), Raw prompt: a red fox in the snow, "
    "Version: Fooocus v2.5.5")


def fooocus() -> None:
    text = json.dumps(dict(sorted(FOOOCUS.items())))
    png("fooocus.png", [("parameters", text), ("fooocus_scheme", "fooocus")])
    png("fooocus_a1111.png", [("parameters", FOOOCUS_A1111), ("fooocus_scheme", "a1111")])
    # JPEG: UserComment as an ASCII string in IFD0, which piexif cannot write: built by hand
    jpeg("fooocus_base.jpg", {"0th": {piexif.ImageIFD.Software: b"Fooocus v2.5.5"}})
    data = (OUT / "fooocus_base.jpg").read_bytes()
    (OUT / "fooocus_base.jpg").unlink()
    (OUT / "fooocus.jpg").write_bytes(_with_ifd0_comment(data, text))
    mre = {"prompt": "a red fox", "negative_prompt": "", "styles": "['Fooocus V2']",
           "real_prompt": "a red fox, highly detailed", "real_negative_prompt": "",
           "seed": 1985, "width": 1152, "height": 896, "sampler": "dpmpp_2m_sde_gpu",
           "scheduler": "karras", "performance": "Speed", "steps": 30, "switch": 20,
           "sharpness": 2.0, "cfg": 7.0, "base_clip_skip": -2, "refiner_clip_skip": -2,
           "base_model": "sd_xl_base_1.0_0.9vae.safetensors", "refiner_model":
           "sd_xl_refiner_1.0_0.9vae.safetensors", "software": "Fooocus-MRE v2.0.78.5"}
    png("fooocus_mre.png", [("Comment", json.dumps(mre))])
    ruined = {"Prompt": "a red fox", "Negative": "", "steps": 20, "cfg": 6.0, "width": 1024,
              "height": 1024, "seed": 77, "sampler_name": "euler_ancestral",
              "scheduler": "karras", "base_model_name": "sdxl.safetensors",
              "base_model_hash": "ab" * 32, "loras": [], "start_step": 0, "denoise": 1.0,
              "clip_skip": 1, "software": "RuinedFooocus"}
    png("ruinedfooocus.png", [("parameters", json.dumps(ruined))])


def _with_ifd0_comment(jpeg_data: bytes, text: str) -> bytes:
    """The JPEG with its EXIF rebuilt to carry `text` as an ASCII UserComment in IFD0, next
    to Software and MakerNote "fooocus" (what Fooocus' Pillow writer produces)."""
    import struct

    entries = [(0x0131, 2, b"Fooocus v2.5.5\0"), (0x927C, 2, b"fooocus\0"),
               (0x9286, 2, text.encode("ascii") + b"\0")]
    head = 8 + 2 + 12 * len(entries) + 4
    table, data = b"", b""
    for tag, typ, value in entries:
        if len(value) <= 4:
            table += struct.pack(">HHI", tag, typ, len(value)) + value.ljust(4, b"\0")
        else:
            table += struct.pack(">HHII", tag, typ, len(value), head + len(data))
            data += value + (b"\0" if len(value) & 1 else b"")
    tiff = b"MM\0*" + struct.pack(">I", 8) + struct.pack(">H", len(entries)) + table + \
        b"\0\0\0\0" + data
    payload = b"Exif\0\0" + tiff
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    # drop the EXIF segment Pillow wrote, put ours after SOI/APP0
    pos, out = 2, [b"\xff\xd8"]
    while jpeg_data[pos + 1] != 0xDA:
        (length,) = struct.unpack(">H", jpeg_data[pos + 2:pos + 4])
        seg = jpeg_data[pos:pos + 2 + length]
        if not (seg[1] == 0xE1 and seg[4:10] == b"Exif\0\0"):
            out.append(seg)
        pos += 2 + length
    out.insert(2 if len(out) > 1 and out[1][1] == 0xE0 else 1, segment)
    return b"".join(out) + jpeg_data[pos:]


# --- SwarmUI, Easy Diffusion, Draw Things, Tensor.Art, Civitai, HF spaces --------------

def swarmui() -> None:
    params = {"sui_image_params": {
        "prompt": "a castle, \u5854", "negativeprompt": "blurry", "model": "sdxl_base",
        "seed": 1234, "steps": 25, "cfgscale": 6.0, "aspectratio": "1:1", "width": 1024,
        "height": 1024, "sampler": "dpmpp_2m", "scheduler": "karras",
        "refinercontrolpercentage": 0.3, "refinermethod": "PostApply",
        "refinerupscale": 1.5, "refinerupscalemethod": "pixel-lanczos", "refinersteps": 12,
        "swarm_version": "0.9.6.2"},
        "sui_extra_data": {"date": "2025-05-01", "prep_time": "0.1 sec",
                           "generation_time": "9.4 sec"},
        "sui_models": [{"name": "sdxl_base.safetensors", "param": "model",
                        "hash": "0x" + "cd" * 32}]}
    # C# writer: indented two spaces, non-ASCII escaped
    png("swarmui_refiner.png", [("parameters", json.dumps(params, indent=2))],
        img=picture(24, 24, hue=10))


def easydiffusion() -> None:
    fields = {"prompt": "a watercolor fox", "seed": "3810", "negative_prompt": "",
              "num_outputs": "1", "num_inference_steps": "25", "guidance_scale": "7.5",
              "width": "512", "height": "512", "vram_usage_level": "balanced",
              "sampler_name": "euler_a", "use_stable_diffusion_model":
              "C:\\EasyDiffusion\\models\\stable-diffusion\\sd-v1-5.safetensors",
              "clip_skip": "False", "use_vae_model": "None", "stream_progress_updates": "True",
              "use_lora_model": "None", "lora_alpha": "0", "tiling": "None",
              "use_face_correction": "None", "use_upscale": "None",
              "output_format": "png", "output_quality": "75"}
    png("easydiffusion.png", list(fields.items()))
    as_json = {"prompt": "a watercolor fox", "seed": 3810, "negative_prompt": "",
               "num_inference_steps": 25, "guidance_scale": 7.5, "width": 512, "height": 512,
               "sampler_name": "euler_a", "use_stable_diffusion_model": "sd-v1-5",
               "clip_skip": False, "use_vae_model": None}
    jpeg("easydiffusion.jpg", {"Exif": {piexif.ExifIFD.UserComment: b"UNICODE\0" + json.dumps(
        as_json, indent=4).encode("utf-16-be")}})


DRAW_THINGS = {"c": "a koi pond, morning light", "uc": "blurry", "seed": 2718281828,
               "steps": 20, "scale": 4.5, "sampler": "DPM++ 2M AYS", "size": "512x640",
               "model": "sd_xl_base_1.0_f16.ckpt", "strength": 1, "seed_mode":
               "Scale Alike", "shift": 1, "mask_blur": 2.5, "lora": [],
               "v2": {"seed": 2718281828, "steps": 20, "guidanceScale": 4.5, "width": 512,
                      "height": 640, "model": "sd_xl_base_1.0_f16.ckpt", "clipSkip": 1,
                      "strength": 1, "sampler": 15}}


def _xml(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("\n", "&#xA;"))


def drawthings() -> None:
    description = (f"{DRAW_THINGS['c']}\n-{DRAW_THINGS['uc']}\nSteps: 20, Sampler: DPM++ 2M "
                   "AYS, Guidance Scale: 4.5, Seed: 2718281828, Size: 512x640, Model: "
                   "sd_xl_base_1.0_f16.ckpt, Strength: 1.0, Seed Mode: Scale Alike, Shift: 1.0")
    xmp = f"""<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 6.0.0">
   <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
      <rdf:Description rdf:about=""
            xmlns:dc="http://purl.org/dc/elements/1.1/"
            xmlns:exif="http://ns.adobe.com/exif/1.0/"
            xmlns:xmp="http://ns.adobe.com/xap/1.0/">
         <dc:description>
            <rdf:Alt>
               <rdf:li xml:lang="x-default">{_xml(description)}</rdf:li>
            </rdf:Alt>
         </dc:description>
         <exif:UserComment>
            <rdf:Alt>
               <rdf:li xml:lang="x-default">{_xml(json.dumps(DRAW_THINGS))}</rdf:li>
            </rdf:Alt>
         </exif:UserComment>
         <xmp:CreatorTool>Draw Things</xmp:CreatorTool>
      </rdf:Description>
   </rdf:RDF>
</x:xmpmeta>
"""
    info = PngInfo()
    info.add_itxt("XML:com.adobe.xmp", xmp)
    picture(hue=140).save(OUT / "drawthings.png", "PNG", pnginfo=info)


def tensorart() -> None:
    gen = {"prompt": "a tabby cat, テスト", "negativePrompt": "lowres", "width": 768,
           "height": 1024, "imageCount": 1, "steps": 25, "cfgScale": 7, "seed": "987654321",
           "clipSkip": 2, "baseModel": {"label": "v1", "type": "BASE_MODEL", "modelFileName":
                                        "catModel", "hash": "AB" * 32}, "sdVae": "Automatic",
           "etaNoiseSeedDelta": 31337, "ksamplerName": "euler_ancestral", "schedule": "karras"}
    graph = {"1": {"class_type": "ECHOCheckpointLoaderSimple",
                   "inputs": {"ckpt_name": "EMS-1-EMS.safetensors"}},
             "2": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["1", 1],
                                                              "text": gen["prompt"]}},
             "3": {"class_type": "CLIPTextEncode", "inputs": {"clip": ["1", 1],
                                                              "text": "lowres"}},
             "4": {"class_type": "EmptyLatentImage", "inputs": {"batch_size": 1, "height": 1024,
                                                                "width": 768}},
             "5": {"class_type": "KSampler", "inputs": {
                 "cfg": 7, "denoise": 1, "latent_image": ["4", 0], "model": ["1", 0],
                 "negative": ["3", 0], "positive": ["2", 0], "sampler_name": "euler_ancestral",
                 "scheduler": "karras", "seed": 987654321, "steps": 25}}}
    png_utf8("tensorart.png", [("generation_data", _dump(gen) + "\0"),
                               ("prompt", json.dumps(graph))])


def civitai() -> None:
    text = ("a lighthouse, stormy sea\nNegative prompt: blurry\nSteps: 30, Sampler: DPM++ 2M "
            "Karras, CFG scale: 5, Seed: 55555, Size: 832x1216, Clip skip: 2, Created Date: "
            "2025-01-05T10:00:00.0000000Z, Civitai resources: [{\"type\":\"checkpoint\","
            "\"modelVersionId\":290640,\"modelName\":\"Pony Diffusion V6 XL\","
            "\"modelVersionName\":\"V6\"}], Civitai metadata: {}")
    jpeg("civitai.jpg", {"0th": {piexif.ImageIFD.Software: b"4c1e0f1a-1111-2222-3333-4444",
                                 piexif.ImageIFD.Artist: b"ai"},
                         "Exif": {piexif.ExifIFD.UserComment: b"UNICODE\0"
                                  + text.encode("utf-16-be")}})


def hfspace() -> None:
    data = {"prompt": "1girl, solo", "negative_prompt": "lowres", "resolution": "832 x 1216",
            "guidance_scale": 7, "num_inference_steps": 28, "seed": 99, "sampler":
            "Euler a", "sdxl_style": "(None)", "add_quality_tags": True,
            "quality_tags": "Standard v3.1", "use_upscaler": None,
            "Model": "Animagine XL 3.1", "Model hash": "e3c47aedb0"}
    png("hfspace.png", [("parameters", json.dumps(data))])


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for make in (novelai, a1111_rgb_stealth, invokeai, fooocus, swarmui, easydiffusion,
                 drawthings, tensorart, civitai, hfspace):
        make()
    for path in sorted(OUT.iterdir()):
        print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()

