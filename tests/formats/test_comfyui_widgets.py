"""The editor graph: the widget table against real files, the families the issue names read
from graphs built here, and hostile editor graphs (subgraphs, group nodes) that must give a
result or a ParseError, never a crash."""

from __future__ import annotations

import csv
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gendata.containers.raw import RawEntry, RawMetadata
from gendata.errors import GenDataError
from gendata.formats import comfyui
from gendata.formats.comfyui.widgets import WIDGETS, layout, names_for
from gendata.formats.comfyui.workflow import flatten

from ..conftest import CORPUS
from .comfyui_graphs import Graph


def _kind(v: Any) -> str:
    return "bool" if isinstance(v, bool) else "number" if isinstance(v, (int, float)) else \
        type(v).__name__


def test_widget_table_lines_up_with_real_files() -> None:
    """Every table node of every corpus workflow: the value at each widget's place has the
    kind of the executed graph's input of that name, and (bar workflows changed after the
    run) the same value."""
    rows: list[dict[str, str]] = []
    for name in ("MANIFEST.tsv", "MANIFEST-new.tsv"):
        if (CORPUS / name).exists():
            with (CORPUS / name).open(encoding="utf-8", newline="") as f:
                rows += [r for r in csv.DictReader(f, delimiter="\t")
                         if "comfyui" in r["generator"].lower()]
    if not rows:
        pytest.skip("../shared/corpus is not present")
    compared, differ, wrong_kind = 0, [], []
    for row in rows:
        api, wf, _ = comfyui.find_graphs(comfyui_raw(CORPUS / row["path"]))
        if not api or not wf:
            continue
        for node in wf["nodes"]:
            twin = api.get(str(node.get("id")))
            values = node.get("widgets_values")
            if node.get("type") not in WIDGETS or not twin or not isinstance(values, list) \
                    or twin["class_type"] != node["type"]:
                continue
            linked = {i["name"] for i in node.get("inputs") or () if i.get("link") is not None}
            for name, i in layout(names_for(node) or (), values).items():
                api_value = twin["inputs"].get(name)
                if name in linked or api_value is None or isinstance(api_value, list):
                    continue
                compared += 1
                where = f"{row['path']} node {node['id']} {node['type']}.{name}"
                if _kind(values[i]) != _kind(api_value):
                    wrong_kind.append(f"{where}: {values[i]!r} vs {api_value!r}")
                elif values[i] != api_value:
                    differ.append(where)
    assert compared > 300
    assert not wrong_kind, wrong_kind
    assert len(differ) <= compared // 20, differ


def comfyui_raw(path: Any) -> RawMetadata:
    from gendata import containers

    return containers.open_raw(path)


# --- families ------------------------------------------------------------------------------

def _parse(g: Graph, *, editor_only: bool = False) -> Any:
    texts = {"workflow": json.dumps(g.workflow())}
    if not editor_only:
        texts["prompt"] = json.dumps(g.api())
    raw = RawMetadata("png", [RawEntry("png", "tEXt", k, v, len(v)) for k, v in texts.items()])
    return comfyui.parse(raw)


def _custom_sampler(g: Graph, guider: int, seed: int, latent: int, model: int) -> int:
    noise = g.add("RandomNoise", [("noise_seed", seed), "randomize"])
    sel = g.add("KSamplerSelect", [("sampler_name", "euler")])
    sched = g.add("BasicScheduler", [("scheduler", "simple"), ("steps", 24), ("denoise", 1.0)],
                  {"model": (model, 0)})
    sca = g.add("SamplerCustomAdvanced", [], {"noise": (noise, 0), "guider": (guider, 0),
                                              "sampler": (sel, 0), "sigmas": (sched, 0),
                                              "latent_image": (latent, 0)})
    dec = g.add("VAEDecode", [], {"samples": (sca, 0), "vae": (model, 0)})
    g.add("SaveImage", [("filename_prefix", "x")], {"images": (dec, 0)})
    return sca


@pytest.mark.parametrize("editor_only", [False, True])
def test_hidream_quadruple_encoder(editor_only: bool) -> None:
    g = Graph()
    unet = g.add("UNETLoader", [("unet_name", "hidream_i1_full_fp16.safetensors"),
                                ("weight_dtype", "default")])
    clip = g.add("QuadrupleCLIPLoader", [("clip_name1", "clip_l.safetensors"),
                                         ("clip_name2", "clip_g.safetensors"),
                                         ("clip_name3", "t5.safetensors"),
                                         ("clip_name4", "llama.safetensors")])
    pos = g.add("CLIPTextEncodeHiDream", [("clip_l", "a lighthouse"), ("clip_g", "a lighthouse"),
                                          ("t5xxl", "a lighthouse"), ("llama", "a lighthouse")],
                {"clip": (clip, 0)}, outputs=["CONDITIONING"])
    neg = g.add("CLIPTextEncode", [("text", "blurry")], {"clip": (clip, 0)},
                outputs=["CONDITIONING"])
    lat = g.add("EmptySD3LatentImage", [("width", 1024), ("height", 1024), ("batch_size", 1)])
    ks = g.add("KSampler", [("seed", 11), "fixed", ("steps", 50), ("cfg", 5.0),
                            ("sampler_name", "uni_pc"), ("scheduler", "simple"), ("denoise", 1.0)],
               {"model": (unet, 0), "positive": (pos, 0), "negative": (neg, 0),
                "latent_image": (lat, 0)})
    dec = g.add("VAEDecode", [], {"samples": (ks, 0), "vae": (unet, 0)})
    g.add("SaveImage", [("filename_prefix", "x")], {"images": (dec, 0)})
    p = _parse(g, editor_only=editor_only)
    assert (p.prompt, p.negative_prompt, p.seed, p.steps) == ("a lighthouse", "blurry", 11, 50)
    assert (p.model, p.width) == ("hidream_i1_full_fp16.safetensors", 1024)


@pytest.mark.parametrize("editor_only", [False, True])
def test_dual_cfg_guider_of_omnigen2_and_hidream_e1(editor_only: bool) -> None:
    g = Graph()
    unet = g.add("UNETLoader", [("unet_name", "omnigen2_fp16.safetensors"),
                                ("weight_dtype", "default")])
    clip = g.add("CLIPLoader", [("clip_name", "qwen_2.5_vl.safetensors"), ("type", "omnigen2"),
                                ("device", "default")])
    pos = g.add("CLIPTextEncode", [("text", "make it snowy")], {"clip": (clip, 0)},
                outputs=["CONDITIONING"])
    neg = g.add("CLIPTextEncode", [("text", "low quality")], {"clip": (clip, 0)},
                outputs=["CONDITIONING"])
    ref = g.add("ReferenceLatent", [], {"conditioning": (pos, 0)})
    # HiDream E1 gives the guider its prompt as `negative` too; the negative is behind cond2
    guider = g.add("DualCFGGuider", [("cfg_conds", 5.0), ("cfg_cond2_negative", 2.0),
                                     ("style", "regular")],
                   {"model": (unet, 0), "cond1": (ref, 0), "cond2": (neg, 0),
                    "negative": (pos, 0)})
    lat = g.add("EmptySD3LatentImage", [("width", 768), ("height", 512), ("batch_size", 1)])
    _custom_sampler(g, guider, 77, lat, unet)
    p = _parse(g, editor_only=editor_only)
    assert (p.prompt, p.negative_prompt, p.seed, p.cfg_scale) == ("make it snowy",
                                                                  "low quality", 77, 5.0)
    assert (p.sampler, p.scheduler, p.steps, p.width) == ("euler", "simple", 24, 768)


def test_qwen_edit_z_image_chroma_and_wan_encoders() -> None:
    for encoder, widgets, clip_type in (
            ("TextEncodeQwenImageEditPlus", [("prompt", "add a hat")], "qwen_image"),
            ("CLIPTextEncode", [("text", "a neon street")], "lumina2"),  # Z-Image
            ("CLIPTextEncode", [("text", "aesthetic 11, a fox")], "chroma"),
            ("TextEncodeHunyuanVideo_ImageToVideo", [("prompt", "a robot runs"),
                                                     ("image_interleave", 2)], "hunyuan_video"),
            ("CLIPTextEncodeHunyuanDiT", [("bert", "一只猫"), ("mt5xl", "一只猫")], "hunyuan_dit"),
            ("CLIPTextEncodeLumina2", [("system_prompt", "superior"),
                                       ("user_prompt", "a red door")], "lumina2")):
        g = Graph()
        unet = g.add("UNETLoader", [("unet_name", f"{clip_type}.safetensors"),
                                    ("weight_dtype", "default")])
        clip = g.add("CLIPLoader", [("clip_name", "te.safetensors"), ("type", clip_type),
                                    ("device", "default")])
        ms = g.add("ModelSamplingAuraFlow", [("shift", 3.0)], {"model": (unet, 0)})
        pos = g.add(encoder, widgets, {"clip": (clip, 0)}, outputs=["CONDITIONING"])
        neg = g.add("ConditioningZeroOut", [], {"conditioning": (pos, 0)})
        lat = g.add("EmptyHunyuanLatentVideo", [("width", 848), ("height", 480),
                                                ("length", 25), ("batch_size", 1)])
        ks = g.add("KSampler", [("seed", 3), "randomize", ("steps", 8), ("cfg", 1.0),
                                ("sampler_name", "res_multistep"), ("scheduler", "simple"),
                                ("denoise", 1.0)],
                   {"model": (ms, 0), "positive": (pos, 0), "negative": (neg, 0),
                    "latent_image": (lat, 0)})
        dec = g.add("VAEDecode", [], {"samples": (ks, 0), "vae": (unet, 0)})
        g.add("SaveAnimatedWEBP", [("filename_prefix", "v"), ("fps", 16.0),
                                   ("lossless", False), ("quality", 90), ("method", "default")],
              {"images": (dec, 0)})
        text = dict(widgets)
        expected = text.get("prompt") or text.get("text") or text.get("user_prompt") or \
            text.get("bert")
        for editor_only in (False, True):
            p = _parse(g, editor_only=editor_only)
            assert (p.prompt, p.negative_prompt) == (expected, ""), (encoder, editor_only)
            assert (p.model, p.width, p.height) == (f"{clip_type}.safetensors", 848, 480)


def test_api_node_generates_by_itself() -> None:
    g = Graph()
    img = g.add("LoadImage", [("image", "girl.png"), "image"])
    gen = g.add("FluxKontextProImageNode", [("prompt", "pop art poster"), ("aspect_ratio", "1:1"),
                                            ("guidance", 3.0), ("steps", 50),
                                            ("seed", 300619098965942), "randomize",
                                            ("prompt_upsampling", False)],
                {"input_image": (img, 0)})
    g.add("SaveImage", [("filename_prefix", "x")], {"images": (gen, 0)})
    for editor_only in (False, True):
        p = _parse(g, editor_only=editor_only)
        assert (p.prompt, p.seed, p.steps) == ("pop art poster", 300619098965942, 50)


def test_custom_sampler_in_an_old_editor_file_is_found_by_its_values() -> None:
    g = Graph()
    ck = g.add("CheckpointLoaderSimple", [("ckpt_name", "flux.safetensors")])
    pos = g.add("CLIPTextEncode", [("text", "a harbour")], {"clip": (ck, 1)},
                outputs=["CONDITIONING"])
    neg = g.add("CLIPTextEncode", [("text", "")], {"clip": (ck, 1)}, outputs=["CONDITIONING"])
    pipe = g.add("ToBasicPipe", [], {"model": (ck, 0), "clip": (ck, 1), "vae": (ck, 2),
                                     "positive": (pos, 0), "negative": (neg, 0)},
                 outputs=["BASIC_PIPE"])
    lat = g.add("EmptyLatentImage", [("width", 512), ("height", 640), ("batch_size", 1)])
    ks = g.add("MyPack KSampler Pipe", [("seed", 859616247521329), "fixed", ("steps", 20),
                                        ("cfg", 1.0), ("sampler_name", "euler"),
                                        ("scheduler", "simple"), ("denoise", 1.0)],
               {"basic_pipe": (pipe, 0), "latent_image": (lat, 0)},
               outputs=["BASIC_PIPE", "LATENT", "VAE"])
    g.add("PreviewBridgeLatent", [], {"latent": (ks, 1)})
    p = _parse(g, editor_only=True)
    assert (p.prompt, p.seed, p.steps, p.sampler, p.model) == (
        "a harbour", 859616247521329, 20, "euler", "flux.safetensors")
    assert (p.width, p.height) == (512, 640)


# --- hostile editor graphs -----------------------------------------------------------------

_ids = st.one_of(st.integers(-30, 30), st.text(max_size=3), st.none(), st.floats())
_link = st.lists(st.one_of(_ids, st.integers(0, 3)), min_size=0, max_size=7)
_values = st.lists(st.one_of(st.integers(), st.text(max_size=5), st.booleans(), st.none(),
                             st.sampled_from(["randomize", "euler", "normal"])), max_size=9)
_types = st.sampled_from(["KSampler", "CLIPTextEncode", "PrimitiveNode", "Reroute",
                          "workflow>G", "workflow/G", "sg-1", "sg-2", "SamplerCustomAdvanced",
                          "RandomNoise", "Unknown", "SaveImage", "UNETLoader"])
_input = st.fixed_dictionaries({"name": st.sampled_from(["model", "positive", "seed", "text",
                                                         "noise", "images", "latent_image"]),
                                "link": _ids}, optional={"widget": st.just({"name": "seed"}),
                                                         "type": st.sampled_from(["INT", "*"])})
_node = st.fixed_dictionaries({"id": _ids, "type": _types}, optional={
    "inputs": st.one_of(st.lists(_input, max_size=4), st.integers()),
    "outputs": st.one_of(st.lists(st.fixed_dictionaries({"type": st.sampled_from(
        ["LATENT", "IMAGE", "MODEL", "*"])}), max_size=3), st.text()),
    "widgets_values": st.one_of(_values, st.dictionaries(st.text(max_size=3), st.integers())),
    "mode": st.sampled_from([0, 2, 4, "x"]), "index": _ids})
_links = st.lists(st.one_of(_link, st.fixed_dictionaries(
    {"id": _ids, "origin_id": _ids, "origin_slot": _ids, "target_id": _ids,
     "target_slot": _ids})), max_size=8)
_graph = st.fixed_dictionaries({"nodes": st.lists(_node, max_size=6), "links": _links},
                               optional={
    "definitions": st.fixed_dictionaries({"subgraphs": st.lists(st.fixed_dictionaries({
        "id": st.sampled_from(["sg-1", "sg-2"]), "nodes": st.lists(_node, max_size=4),
        "links": _links, "inputs": st.lists(st.fixed_dictionaries(
            {"name": st.sampled_from(["seed", "model"]), "type": st.sampled_from(
                ["INT", "MODEL"])}), max_size=2)}), max_size=2)}),
    "extra": st.fixed_dictionaries({"groupNodes": st.fixed_dictionaries({"G": st.fixed_dictionaries(
        {"nodes": st.lists(_node, max_size=4), "links": st.lists(_link, max_size=4),
         "config": st.one_of(st.none(), st.dictionaries(st.text(max_size=2), st.integers()))})})})})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workflow=_graph)
def test_hostile_editor_graphs_never_crash(workflow: dict[str, Any]) -> None:
    try:
        flat = flatten(workflow)
    except GenDataError:
        return
    assert isinstance(flat.api, dict)
    text = json.dumps(workflow)
    raw = RawMetadata("png", [RawEntry("png", "tEXt", "workflow", text, len(text))])
    try:
        p = comfyui.parse(raw)
        comfyui.edit(raw, p.edited(seed=(p.seed or 0) + 1, prompt="x"))
    except GenDataError:
        pass
