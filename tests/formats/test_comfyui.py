"""ComfyUI graph walking: hand-built graphs with the pitfalls of
docs/formats.md#comfyui-pitfalls, and fuzz."""

from __future__ import annotations

import contextlib
import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gendata.containers.raw import RawEntry, RawMetadata
from gendata.errors import ParseError
from gendata.formats import comfyui, detect
from gendata.formats.comfyui.workflow import to_api


def raw_of(**texts: str) -> RawMetadata:
    return RawMetadata("png", [RawEntry("png", "tEXt", k, v, len(v)) for k, v in texts.items()])


def exif_raw(**tags: str) -> RawMetadata:
    return RawMetadata(
        "webp", [RawEntry("webp", f"EXIF:{k}", k, v, len(v)) for k, v in tags.items()]
    )


def basic_graph(seed: object = 123, ids: tuple[str, ...] = ("4", "5", "6", "7", "3", "8", "9")
                ) -> dict:
    ck, lat, pos, neg, ks, dec, save = ids
    return {
        ck: {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "model.safetensors"}},
        lat: {"class_type": "EmptyLatentImage", "inputs": {"width": 832, "height": 1216,
                                                          "batch_size": 1}},
        pos: {"class_type": "CLIPTextEncode", "inputs": {"text": "a cat", "clip": [ck, 1]}},
        neg: {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": [ck, 1]}},
        ks: {"class_type": "KSampler", "inputs": {
            "seed": seed, "steps": 25, "cfg": 7.0, "sampler_name": "euler", "scheduler": "karras",
            "denoise": 1.0, "model": [ck, 0], "positive": [pos, 0], "negative": [neg, 0],
            "latent_image": [lat, 0]}},
        dec: {"class_type": "VAEDecode", "inputs": {"samples": [ks, 0], "vae": [ck, 2]}},
        save: {"class_type": "SaveImage", "inputs": {"images": [dec, 0]}},
    }


def parse_graph(graph: dict, key: str = "prompt") -> object:
    return comfyui.parse(raw_of(**{key: json.dumps(graph)}))


def test_basic_graph() -> None:
    p = parse_graph(basic_graph())
    assert (p.generator, p.prompt, p.negative_prompt) == ("comfyui", "a cat", "blurry")
    assert (p.width, p.height, p.steps, p.cfg_scale, p.seed) == (832, 1216, 25, 7.0, 123)
    assert (p.sampler, p.scheduler, p.model) == ("euler", "karras", "model.safetensors")
    assert [s.node for s in p.samplers] == ["3"]


def test_string_ids_nan_and_huge_seed() -> None:
    graph = basic_graph(seed=2**64 - 1, ids=("Loader", "30:5", "30:6", "30:7", "KS", "D", "S"))
    nan_node = ', "x": {"class_type": "Note", "inputs": {}, "is_changed": NaN}}'
    text = json.dumps(graph)[:-1] + nan_node
    p = comfyui.parse(raw_of(prompt=text))
    assert p.seed == 2**64 - 1
    assert p.prompt == "a cat"
    assert p.samplers[0].node == "KS"


def test_seed_and_text_through_links() -> None:
    g = basic_graph(seed=["seed", 0])
    g["seed"] = {"class_type": "CR Seed", "inputs": {"seed": 987654321987654321}}
    g["txt"] = {"class_type": "Text Concatenate", "inputs": {
        "text_a": ["p1", 0], "text_b": "masterpiece", "delimiter": ", "}}
    g["p1"] = {"class_type": "PrimitiveString", "inputs": {"value": "a dog"}}
    g["6"]["inputs"]["text"] = ["txt", 0]
    p = parse_graph(g)
    assert p.seed == 987654321987654321
    assert p.prompt == "a dog, masterpiece"


def test_unresolvable_value_is_a_note_not_a_guess() -> None:
    g = basic_graph()
    g["3"]["inputs"]["steps"] = ["calc", 0]
    g["calc"] = {"class_type": "MathExpression", "inputs": {"a": 10, "b": 15, "expr": "a+b"}}
    p = parse_graph(g)
    assert p.steps is None
    assert any("node calc (MathExpression)" in n and "cannot evaluate" in n for n in p.notes)


def test_loras_and_clip_skip() -> None:
    g = basic_graph()
    g["10"] = {"class_type": "LoraLoader", "inputs": {
        "lora_name": "detail.safetensors", "strength_model": 0.8, "strength_clip": 0.6,
        "model": ["4", 0], "clip": ["4", 1]}}
    g["11"] = {"class_type": "CLIPSetLastLayer", "inputs": {"stop_at_clip_layer": -2,
                                                            "clip": ["10", 1]}}
    g["3"]["inputs"]["model"] = ["10", 0]
    g["6"]["inputs"]["clip"] = ["11", 0]
    p = parse_graph(g)
    assert [(lo.name, lo.weight, lo.unet_weight) for lo in p.loras] == [
        ("detail.safetensors", 0.6, 0.8)]
    assert p.clip_skip == 2


def test_hires_pass_in_execution_order() -> None:
    g = basic_graph()
    g["up"] = {"class_type": "LatentUpscaleBy", "inputs": {
        "upscale_method": "nearest-exact", "scale_by": 1.5, "samples": ["3", 0]}}
    g["ks2"] = {"class_type": "KSampler", "inputs": {
        "seed": 5, "steps": 12, "cfg": 7.0, "sampler_name": "dpmpp_2m", "scheduler": "normal",
        "denoise": 0.45, "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0],
        "latent_image": ["up", 0]}}
    g["8"]["inputs"]["samples"] = ["ks2", 0]
    # Put the second pass first in the dict: order must come from the links, not the file.
    g = {"ks2": g.pop("ks2"), **g}
    p = parse_graph(g)
    assert [s.node for s in p.samplers] == ["3", "ks2"]
    assert p.steps == 25 and p.width == 832
    assert (p.hires_upscale, p.hires_steps, p.denoising_strength) == (1.5, 12, 0.45)
    assert p.samplers[1].sampler == "dpmpp_2m"


def test_sampler_custom_advanced() -> None:
    g = {
        "1": {"class_type": "UNETLoader", "inputs": {"unet_name": "flux1-dev.safetensors"}},
        "2": {"class_type": "CLIPTextEncode", "inputs": {"text": "a fox", "clip": ["9", 0]}},
        "3": {"class_type": "FluxGuidance", "inputs": {"guidance": 3.5, "conditioning": ["2", 0]}},
        "4": {"class_type": "BasicGuider", "inputs": {"model": ["1", 0], "conditioning": ["3", 0]}},
        "5": {"class_type": "RandomNoise", "inputs": {"noise_seed": 42}},
        "6": {"class_type": "KSamplerSelect", "inputs": {"sampler_name": "euler"}},
        "7": {"class_type": "BasicScheduler", "inputs": {"scheduler": "simple", "steps": 20,
                                                         "denoise": 1.0, "model": ["1", 0]}},
        "8": {"class_type": "EmptySD3LatentImage", "inputs": {"width": 1024, "height": 768,
                                                              "batch_size": 1}},
        "9": {"class_type": "DualCLIPLoader", "inputs": {"clip_name1": "t5.safetensors"}},
        "10": {"class_type": "SamplerCustomAdvanced", "inputs": {
            "noise": ["5", 0], "guider": ["4", 0], "sampler": ["6", 0], "sigmas": ["7", 0],
            "latent_image": ["8", 0]}},
        "11": {"class_type": "VAEDecode", "inputs": {"samples": ["10", 0]}},
        "12": {"class_type": "SaveImage", "inputs": {"images": ["11", 0]}},
    }
    p = parse_graph(g)
    assert (p.prompt, p.seed, p.steps, p.sampler, p.scheduler) == ("a fox", 42, 20, "euler",
                                                                   "simple")
    assert (p.model, p.width, p.height) == ("flux1-dev.safetensors", 1024, 768)
    assert p.extra["Flux guidance"] == 3.5
    assert p.cfg_scale is None


def test_exif_prefixed_carriers() -> None:
    g = json.dumps(basic_graph())
    assert comfyui.parse(exif_raw(Model="prompt:" + g)).prompt == "a cat"
    assert comfyui.parse(exif_raw(Make="Prompt: " + g)).prompt == "a cat"
    plus = json.dumps({"prompt": basic_graph(), "workflow": {"nodes": [], "links": []}})
    assert comfyui.parse(exif_raw(UserComment=plus)).seed == 123


def workflow_of_basic() -> dict:
    return {
        "last_node_id": 9, "last_link_id": 9, "version": 0.4,
        "nodes": [
            {"id": 4, "type": "CheckpointLoaderSimple", "mode": 0,
             "widgets_values": ["wf.safetensors"]},
            {"id": 5, "type": "EmptyLatentImage", "mode": 0, "widgets_values": [512, 640, 1]},
            {"id": 6, "type": "CLIPTextEncode", "mode": 0,
             "inputs": [{"name": "clip", "link": 1}], "widgets_values": ["from workflow"]},
            {"id": 7, "type": "CLIPTextEncode", "mode": 0,
             "inputs": [{"name": "clip", "link": 2}], "widgets_values": ["bad"]},
            {"id": 12, "type": "Reroute", "mode": 0, "inputs": [{"name": "", "link": 3}]},
            {"id": 13, "type": "PrimitiveNode", "mode": 0, "widgets_values": [777, "fixed"]},
            {"id": 3, "type": "KSampler", "mode": 0, "inputs": [
                {"name": "model", "link": 4}, {"name": "positive", "link": 5},
                {"name": "negative", "link": 6}, {"name": "latent_image", "link": 7},
                {"name": "seed", "link": 10, "widget": {"name": "seed"}}],
             "widgets_values": [1, "randomize", 30, 6.5, "dpmpp_2m", "karras", 1.0]},
            {"id": 8, "type": "VAEDecode", "mode": 0, "inputs": [{"name": "samples", "link": 8}]},
            {"id": 9, "type": "SaveImage", "mode": 0, "inputs": [{"name": "images", "link": 9}]},
            {"id": 20, "type": "KSampler", "mode": 2, "widgets_values": [1, "fixed", 5, 1, "x",
                                                                           "y", 1]},
        ],
        "links": [[1, 4, 1, 6, 0, "CLIP"], [2, 4, 1, 7, 0, "CLIP"], [3, 4, 0, 12, 0, "MODEL"],
                  [4, 12, 0, 3, 0, "MODEL"], [5, 6, 0, 3, 1, "CONDITIONING"],
                  [6, 7, 0, 3, 2, "CONDITIONING"], [7, 5, 0, 3, 3, "LATENT"],
                  [8, 3, 0, 8, 0, "LATENT"], [9, 8, 0, 9, 0, "IMAGE"], [10, 13, 0, 3, 4, "INT"]],
    }


def test_workflow_only_is_walked_with_widget_names() -> None:
    p = parse_graph(workflow_of_basic(), key="workflow")
    assert (p.prompt, p.negative_prompt, p.model) == ("from workflow", "bad", "wf.safetensors")
    assert (p.seed, p.steps, p.cfg_scale, p.sampler, p.scheduler) == (777, 30, 6.5, "dpmpp_2m",
                                                                     "karras")
    assert (p.width, p.height) == (512, 640)
    assert len(p.samplers) == 1  # the muted sampler is not there
    assert any("editor graph" in n for n in p.notes)


def test_to_api_rejects_non_graph() -> None:
    with pytest.raises(ParseError):
        to_api({"foo": 1})


# --- hostile input ---------------------------------------------------------------------------

def test_cyclic_links_terminate() -> None:
    g = basic_graph()
    g["6"]["inputs"]["text"] = ["a", 0]
    g["a"] = {"class_type": "StringFunc", "inputs": {"value": ["b", 0]}}
    g["b"] = {"class_type": "StringFunc", "inputs": {"value": ["a", 0]}}
    g["4"]["inputs"]["model"] = ["3", 0]  # model chain loops back into the sampler
    g["4"]["inputs"].pop("ckpt_name")
    g["3"]["inputs"]["latent_image"] = ["8", 0]
    g["8"]["inputs"]["samples"] = ["3", 0]
    start = time.monotonic()
    p = parse_graph(g)
    assert time.monotonic() - start < 2
    assert p.prompt == ""
    assert any("cycle" in n for n in p.notes)


def test_deep_chain_does_not_recurse() -> None:
    g = basic_graph()
    depth = 20000
    for i in range(depth):
        g[f"r{i}"] = {"class_type": "Reroute", "inputs": {"input": [f"r{i + 1}", 0]}}
    g[f"r{depth}"] = {"class_type": "PrimitiveInt", "inputs": {"value": 31}}
    g["3"]["inputs"]["steps"] = ["r0", 0]
    p = parse_graph(g)
    assert p.steps == 31


def test_deeply_nested_json_is_a_parse_error() -> None:
    text = '{"3": ' + "[" * 100000 + "]" * 100000 + "}"
    raw = raw_of(prompt=text)
    assert comfyui.score(raw) == 0.0
    with pytest.raises(ParseError):
        comfyui.parse(raw)


def test_huge_graph_is_partial_or_fast() -> None:
    g = basic_graph()
    for i in range(30000):
        g[f"n{i}"] = {"class_type": "KSampler", "inputs": {
            "seed": i, "steps": 1, "cfg": 1, "sampler_name": "euler", "model": ["4", 0],
            "positive": ["6", 0], "negative": ["7", 0], "latent_image": [f"n{i - 1}", 0]
            if i else ["5", 0]}}
    g["8"]["inputs"]["samples"] = ["n29999", 0]  # all of them lead to the saved image
    start = time.monotonic()
    p = parse_graph(g)
    assert time.monotonic() - start < 20
    assert p.generator == "comfyui"
    assert p.notes  # partial result says so


@pytest.mark.parametrize("fraction", [0.01, 0.3, 0.7, 0.99])
def test_truncated_graph(fraction: float) -> None:
    full = json.dumps(basic_graph())
    text = full[: int(len(full) * fraction)]
    raw = raw_of(prompt=text)
    assert comfyui.score(raw) == 0.0
    assert detect(raw) is None


@pytest.mark.parametrize("bad", [
    "[]", "{}", '{"1": 5}', '{"1": {"class_type": 3}}', '{"1": {"class_type": "KSampler", '
    '"inputs": [1, 2]}}', '{"1": {"class_type": "KSampler", "inputs": {"steps": [["x"], 0], '
    '"positive": [1, 2, 3], "latent_image": {"a": 1}}}}', "null", '"prompt"',
])
def test_garbled_graphs_never_traceback(bad: str) -> None:
    raw = raw_of(prompt=bad)
    try:
        p = detect(raw)
    except ParseError:
        return
    assert p is None or p.generator == "comfyui"


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["3", "4", "class_type", "inputs", "seed", "model", "positive", "text",
                         "latent_image", "ckpt_name", "samples", "images"]), children,
        max_size=5),
    max_leaves=30,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["3", "4", "5", "6", "30:6"]), _json_values, max_size=5))
def test_fuzzed_graphs(graph: dict) -> None:
    raw = raw_of(prompt=json.dumps(graph), workflow=json.dumps({"nodes": list(graph.values())}))
    with contextlib.suppress(ParseError):
        detect(raw)
