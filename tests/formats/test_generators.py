"""The non-graph dialects on hand-built metadata (layouts from docs/formats.md#novelai
to docs/formats.md#other-writers)."""

from __future__ import annotations

import json

import pytest

from gendata.containers.raw import RawEntry, RawMetadata
from gendata.errors import ParseError
from gendata.formats import DIALECTS, detect, dialect


def raw_of(container: str = "png", location: str = "tEXt", **texts: str) -> RawMetadata:
    return RawMetadata(
        container, [RawEntry(container, location, k, v, len(v)) for k, v in texts.items()]
    )


def test_novelai_legacy() -> None:
    comment = {"steps": 28, "sampler": "k_euler", "seed": 7, "scale": 11.0, "uc": "bad",
               "strength": 0.7, "noise": 0.2, "width": 512, "height": 768}
    p = detect(raw_of(Title="AI generated image", Description="1girl", Software="NovelAI",
                      Source="Stable Diffusion 1D44365E", Comment=json.dumps(comment)))
    assert (p.generator, p.prompt, p.negative_prompt, p.steps, p.cfg_scale) == (
        "novelai", "1girl", "bad", 28, 11.0)
    assert (p.model, p.model_hash, p.width, p.height) == ("Stable Diffusion", "1D44365E", 512, 768)
    assert p.extra["strength"] == 0.7
    assert p.denoising_strength is None  # txt2img: strength is not a denoise


def test_novelai_v4_webp_usercomment() -> None:
    comment = {"prompt": "base", "uc": "neg", "steps": 23, "seed": 1, "scale": 5,
               "noise_schedule": "karras", "sampler": "k_euler_ancestral",
               "v4_prompt": {"caption": {"base_caption": "base", "char_captions": [
                   {"char_caption": "girl", "centers": [{"x": 0.1, "y": 0.9}]}]},
                   "use_coords": True, "use_order": False}}
    outer = {"Comment": json.dumps(comment), "Software": "NovelAI",
             "Source": "NovelAI Diffusion V4.5 4BDE2A90"}
    raw = RawMetadata("webp", [
        RawEntry("webp", "EXIF:Software", "Software", "NovelAI Diffusion V4.5 4BDE2A90", 10),
        RawEntry("webp", "EXIF:UserComment", "UserComment", json.dumps(outer), 10),
    ])
    p = detect(raw)
    assert (p.generator, p.prompt, p.scheduler) == ("novelai", "base", "karras")
    assert p.extra["NovelAI characters"] == [{"prompt": "girl", "center": {"x": 0.1, "y": 0.9}}]
    assert p.extra["use_coords"] is True


def test_invokeai_dream() -> None:
    p = detect(raw_of(Dream='"a castle [fog, blur]" -s50 -S 42 -W 640 -H 512 -C 7.5 -A k_lms '
                            "-f 0.6 -U 2 0.8"))
    assert (p.generator, p.prompt, p.negative_prompt) == ("invokeai", "a castle", "fog, blur")
    assert (p.steps, p.seed, p.width, p.height, p.cfg_scale, p.sampler) == (
        50, 42, 640, 512, 7.5, "k_lms")
    assert p.denoising_strength == 0.6
    assert p.extra["U"] == "2 0.8"


def test_invokeai_sd_metadata_v2() -> None:
    meta = {"model_weights": "sd-1.5", "model_hash": "abc", "app_version": "2.3.0",
            "image": {"prompt": [{"prompt": "a tree [snow]", "weight": 1}], "steps": 30,
                      "cfg_scale": 7, "seed": 9, "width": 512, "height": 512,
                      "sampler": "k_euler"}}
    p = detect(raw_of(**{"sd-metadata": json.dumps(meta)}))
    assert (p.prompt, p.negative_prompt, p.model, p.model_hash, p.steps) == (
        "a tree", "snow", "sd-1.5", "abc", 30)


def test_invokeai_v3_and_v4_model_shapes() -> None:
    v3 = {"positive_prompt": "p", "negative_prompt": "n", "width": 1024, "height": 1024,
          "seed": 3, "cfg_scale": 6, "steps": 30, "scheduler": "dpmpp_2m_k",
          "model": {"model_name": "juggernaut", "base_model": "sdxl"},
          "loras": [{"lora": {"model_name": "detail"}, "weight": 0.5}],
          "generation_mode": "sdxl_txt2img", "strength": 0.75}
    p = detect(raw_of(invokeai_metadata=json.dumps(v3)))
    assert (p.generator, p.model, p.sampler, p.denoising_strength) == (
        "invokeai", "juggernaut", "dpmpp_2m_k", None)
    assert [(lo.name, lo.weight) for lo in p.loras] == [("detail", 0.5)]
    v3["model"] = {"key": "k", "hash": "blake3:ff", "name": "flux", "base": "flux"}
    p = detect(raw_of(invokeai_metadata=json.dumps(v3)))
    assert (p.model, p.model_hash) == ("flux", "blake3:ff")


def test_fooocus_json_scheme() -> None:
    data = {"prompt": "a lake", "negative_prompt": "", "resolution": "(896, 1152)",
            "guidance_scale": 4.0, "seed": "18446744073709551615", "steps": 30,
            "sampler": "dpmpp_2m_sde_gpu", "scheduler": "karras",
            "base_model": "juggernautXL.safetensors", "base_model_hash": "0123456789",
            "loras": [["sd_xl_offset.safetensors", 0.1, "abcdef"]], "version": "Fooocus v2.5.0",
            "full_prompt": ["a lake, cinematic"], "metadata_scheme": "fooocus"}
    p = detect(raw_of(parameters=json.dumps(data), fooocus_scheme="fooocus"))
    assert (p.generator, p.width, p.height, p.seed) == ("fooocus", 896, 1152, 2**64 - 1)
    assert p.loras[0].name == "sd_xl_offset.safetensors" and p.loras[0].hash == "abcdef"
    assert p.version == "Fooocus v2.5.0"


def test_fooocus_a1111_scheme_jpeg() -> None:
    text = ("a lake\nNegative prompt: ugly\nSteps: 30, Sampler: DPM++ 2M SDE Karras, Seed: 5, "
            "Size: 896x1152, CFG scale: 4, Version: Fooocus v2.5.0")
    raw = RawMetadata("jpeg", [
        RawEntry("jpeg", "EXIF:UserComment", "UserComment", text, len(text)),
        RawEntry("jpeg", "EXIF:Software", "Software", "Fooocus v2.5.0", 14),
        RawEntry("jpeg", "EXIF:MakerNote", "MakerNote", "a1111", 5),
    ])
    p = detect(raw)
    assert (p.generator, p.prompt, p.steps, p.width) == ("fooocus", "a lake", 30, 896)


def test_fooocus_a1111_scheme_recognised_by_version_alone() -> None:
    text = "a lake\nSteps: 30, Sampler: Euler, Seed: 5, CFG scale: 4, Version: Fooocus v2.5.0"
    assert detect(raw_of(parameters=text)).generator == "fooocus"
    assert detect(raw_of(parameters=text.replace("Fooocus ", ""))).generator == "a1111"


def test_fooocus_mre_comment() -> None:
    data = {"prompt": "p", "negative_prompt": "n", "real_prompt": "p, x", "seed": 1,
            "width": 1024, "height": 1024, "sampler": "dpmpp_2m", "steps": 30, "cfg": 7,
            "base_model": "sd_xl_base_1.0.safetensors", "switch": 0.75, "base_clip_skip": -2}
    p = detect(raw_of(Comment=json.dumps(data)))
    assert (p.generator, p.model, p.clip_skip) == ("fooocus-mre", "sd_xl_base_1.0.safetensors", 2)


def test_swarmui_unused_size_and_legacy_sampler() -> None:
    data = {"sui_image_params": {"prompt": "x", "negativeprompt": "", "model": "SDXL/base",
                                 "seed": 5, "steps": 20, "cfgscale": 6, "width": 1024,
                                 "height": 1024, "sidelength": 768,
                                 "comfyuisampler": "euler", "loras": ["a"],
                                 "loraweights": ["0.5"]},
            "sui_extra_data": {"unused_parameters": ["width", "height"]}}
    raw = RawMetadata("jpeg", [RawEntry("jpeg", "EXIF:UserComment", "UserComment",
                                        json.dumps(data), 10)])
    p = detect(raw)
    assert (p.generator, p.sampler, p.model, p.width) == ("swarmui", "euler", "base", None)
    assert [(lo.name, lo.weight) for lo in p.loras] == [("a", 0.5)]
    assert p.notes


def test_easydiffusion_png_chunks_and_jpeg_json() -> None:
    fields = {"prompt": "a cat", "negative_prompt": "None", "seed": "42",
              "use_stable_diffusion_model": "/models/sd/v1-5.safetensors",
              "num_inference_steps": "25", "guidance_scale": "7.5", "width": "512",
              "height": "768", "sampler_name": "euler_a", "use_vae_model": "None",
              "clip_skip": "False"}
    p = detect(raw_of(**fields))
    assert (p.generator, p.model, p.negative_prompt, p.vae, p.clip_skip) == (
        "easydiffusion", "v1-5.safetensors", "", None, None)
    assert (p.steps, p.cfg_scale, p.height) == (25, 7.5, 768)
    labelled = {"Prompt": "a dog", "Stable Diffusion model": "C:\\m\\x.ckpt", "Steps": 20}
    raw = RawMetadata("jpeg", [RawEntry("jpeg", "EXIF:UserComment", "UserComment",
                                        json.dumps(labelled), 10)])
    p = detect(raw)
    assert (p.prompt, p.model, p.steps) == ("a dog", "x.ckpt", 20)


def test_drawthings_xmp() -> None:
    comment = json.dumps({"c": "a \"red\" fox", "uc": "blur", "seed": 9, "steps": 8,
                          "scale": 4.5, "sampler": "DPM++ 2M AYS", "size": "768x1024",
                          "model": "flux_1_schnell_q8p.ckpt", "strength": 1,
                          "lora": [{"model": "x.ckpt", "weight": 0.6}],
                          "v2": {"clipSkip": 1}})
    esc = comment.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    xmp = (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description '
        'xmp:CreatorTool="Draw Things"><exif:UserComment><rdf:Alt><rdf:li xml:lang="x-default">'
        f"{esc}</rdf:li></rdf:Alt></exif:UserComment></rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    p = detect(raw_of(**{"XML:com.adobe.xmp": xmp}))
    assert (p.generator, p.prompt, p.width, p.height, p.denoising_strength) == (
        "drawthings", 'a "red" fox', 768, 1024, None)
    assert p.loras[0].weight == 0.6


def test_civitai_infotext() -> None:
    text = ('a cat\nNegative prompt: dog\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, '
            'Size: 512x512, Created Date: 2025-01-01T10:00:00.000Z, Civitai resources: '
            '[{"type":"checkpoint","modelVersionId":1}], Civitai metadata: {}')
    p = detect(raw_of(parameters=text))
    assert (p.generator, p.prompt, p.steps, p.seed) == ("civitai", "a cat", 20, 1)


def test_tensorart_random_seed_falls_back_to_graph() -> None:
    graph = {"1": {"class_type": "KSampler", "inputs": {"seed": 99, "steps": 5, "cfg": 2,
                                                        "sampler_name": "euler",
                                                        "positive": ["2", 0],
                                                        "latent_image": ["3", 0]}},
             "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "g", "clip": ["4", 1]}},
             "3": {"class_type": "EmptyLatentImage", "inputs": {"width": 64, "height": 64}}}
    data = {"prompt": "t", "negativePrompt": "", "seed": "-1", "steps": 25, "cfgScale": 7,
            "baseModel": {"modelFileName": "M", "hash": "H"}, "ksamplerName": "euler"}
    p = detect(raw_of(generation_data=json.dumps(data) + "\x00", prompt=json.dumps(graph)))
    assert (p.generator, p.prompt, p.seed, p.steps, p.model, p.model_hash) == (
        "tensorart", "t", 99, 25, "M", "H")
    assert p.width == 64


def test_hf_space_upscaler() -> None:
    data = {"prompt": "p", "negative_prompt": "n", "resolution": "832 x 1216",
            "guidance_scale": 5, "num_inference_steps": 28, "seed": 3, "sampler": "Euler a",
            "Model": "Animagine", "Model hash": "h",
            "use_upscaler": {"upscale_method": "nearest-exact", "upscaler_strength": 0.55,
                             "upscale_by": 1.5, "new_resolution": "1248 x 1824"}}
    p = detect(raw_of(parameters=json.dumps(data)))
    assert (p.generator, p.width, p.height, p.hires_upscale, p.denoising_strength) == (
        "hfspace", 832, 1216, 1.5, 0.55)


UNRELATED = [
    raw_of(Comment="Created with GIMP"),
    raw_of(Software="NovelAI"),  # no Comment
    raw_of(parameters='{"foo": 1}'),
    raw_of(prompt="a cat sitting"),  # Easy Diffusion-like prompt chunk alone, not a graph
    raw_of(workflow='{"nodes": "x"}'),
    raw_of(Dream=""),
    raw_of(generation_data="nope"),
    RawMetadata("jpeg", [RawEntry("jpeg", "XMP", "XMP", "<x:xmpmeta>Photoshop</x:xmpmeta>", 5)]),
    RawMetadata("png", [RawEntry("png", "eXIf", "eXIf", None, 4, data=b"II*\0")]),
]


@pytest.mark.parametrize("raw", UNRELATED)
@pytest.mark.parametrize("name", [d for d in DIALECTS if d != "a1111"])
def test_unrecognised_data_scores_zero(name: str, raw: RawMetadata) -> None:
    assert dialect(name).score(raw) == 0


def test_unrecognised_data_is_no_generation_data() -> None:
    for raw in UNRELATED[2:]:
        assert detect(raw) is None


@pytest.mark.parametrize("name", [d for d in DIALECTS if d != "a1111"])
def test_every_dialect_has_the_interface(name: str) -> None:
    mod = dialect(name)
    assert isinstance(mod.NAME, str) and callable(mod.score) and callable(mod.parse)
    with pytest.raises(ParseError):
        mod.parse(RawMetadata("png"))
