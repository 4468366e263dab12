"""Editing ComfyUI files in place (formats.comfyui.edit): both graphs, every field the issue
names, refusals that name the field and the nodes, and exact round trips. Real PNG, WebP
and JPEG files are written and read back through the containers."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from gendata import containers
from gendata.containers.exif import read_tags
from gendata.errors import UsageError
from gendata.formats import comfyui
from gendata.model import Lora

from .comfyui_graphs import Graph, comfy_png, comfy_webp, png_with, sdxl_graph


def write(tmp_path: Path, data: bytes, name: str = "a.png") -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def edit(path: Path, *, node: str | None = None, **changes: Any) -> Any:
    raw = containers.open_raw(path)
    params = comfyui.parse(raw).edited(**changes)
    containers.write_raw(path, path, comfyui.edit(raw, params, node=node))
    return comfyui.parse(containers.open_raw(path))


def graphs(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    api, workflow, _ = comfyui.find_graphs(containers.open_raw(path))
    return api, workflow


def widgets(workflow: dict[str, Any], node_id: int) -> list[Any]:
    return next(n for n in workflow["nodes"] if n["id"] == node_id)["widgets_values"]


def texts(path: Path) -> dict[str, str | None]:
    return {e.location + " " + e.key: e.text for e in containers.open_raw(path).entries}


# --- the fields, in both graphs ------------------------------------------------------------

def test_seed_sets_the_sampler_in_both_graphs_and_keeps_the_control_value(tmp_path: Path
                                                                           ) -> None:
    p = write(tmp_path, comfy_png(sdxl_graph(seed=111)))
    assert edit(p, seed=2**64 - 1).seed == 2**64 - 1
    api, wf = graphs(p)
    assert api["3"]["inputs"]["seed"] == 2**64 - 1
    assert widgets(wf, 3)[:3] == [2**64 - 1, "randomize", 28]


def test_every_field_lands_on_the_node_that_feeds_it(tmp_path: Path) -> None:
    p = write(tmp_path, comfy_png(sdxl_graph()))
    after = edit(p, steps=30, cfg_scale=4.5, sampler="euler_ancestral", scheduler="normal",
                 denoising_strength=0.6, prompt="a blue cat", negative_prompt="text",
                 model="other.safetensors", width=1024, height=768, clip_skip=1)
    api, wf = graphs(p)
    assert widgets(wf, 3)[2:] == [30, 4.5, "euler_ancestral", "normal", 0.6]
    assert api["3"]["inputs"]["denoise"] == 0.6
    assert (api["6"]["inputs"]["text"], widgets(wf, 6)) == ("a blue cat", ["a blue cat"])
    assert widgets(wf, 7) == ["text"]
    assert widgets(wf, 4) == ["other.safetensors"]
    assert widgets(wf, 5) == [1024, 768, 1]
    assert widgets(wf, 11) == [-1] and api["11"]["inputs"]["stop_at_clip_layer"] == -1
    assert (after.prompt, after.negative_prompt, after.model) == ("a blue cat", "text",
                                                                   "other.safetensors")
    assert (after.steps, after.cfg_scale, after.width, after.height) == (30, 4.5, 1024, 768)
    assert after.clip_skip == 1  # stop_at_clip_layer -1 is A1111's clip skip 1


def test_lora_names_and_strengths(tmp_path: Path) -> None:
    p = write(tmp_path, comfy_png(sdxl_graph()))
    before = comfyui.parse(containers.open_raw(p)).loras
    assert [(lo.name, lo.weight, lo.unet_weight) for lo in before] == [
        ("fox_style.safetensors", 0.6, 0.8)]
    after = edit(p, loras=[Lora(name="wolf.safetensors", weight=0.5, unet_weight=0.9)])
    assert [(lo.name, lo.weight, lo.unet_weight) for lo in after.loras] == [
        ("wolf.safetensors", 0.5, 0.9)]
    assert widgets(graphs(p)[1], 10) == ["wolf.safetensors", 0.9, 0.5]
    with pytest.raises(UsageError, match=r"loras: .* 1 LoRA"):
        edit(p, loras=[])


def test_set_and_set_back_gives_the_original_file(tmp_path: Path) -> None:
    original = comfy_png(sdxl_graph(seed=42))
    p = write(tmp_path, original)
    edit(p, seed=7, prompt="changed", steps=3, loras=[Lora(name="x", weight=1.0)])
    edit(p, seed=42, prompt="a red fox in snow", steps=28,
         loras=[Lora(name="fox_style.safetensors", weight=0.6, unet_weight=0.8)])
    assert p.read_bytes() == original


def test_separators_and_indentation_of_the_original_are_kept(tmp_path: Path) -> None:
    g = sdxl_graph()
    compact = json.dumps(g.workflow(), separators=(",", ":"), ensure_ascii=False)
    indented = json.dumps(g.api(), indent=2)
    p = write(tmp_path, png_with({"prompt": indented, "workflow": compact}))
    edit(p, seed=99)
    new = texts(p)
    assert new["tEXt prompt"] == indented.replace('"seed": 123456789', '"seed": 99')
    assert new["tEXt workflow"] == compact.replace("[123456789,", "[99,")
    edit(p, seed=123456789)
    assert texts(p) == {"tEXt prompt": indented, "tEXt workflow": compact}


def test_non_ascii_text_follows_the_document(tmp_path: Path) -> None:
    p = write(tmp_path, comfy_png(sdxl_graph()))
    edit(p, prompt="城の上の猫")
    t = texts(p)
    assert "\\u57ce" in t["tEXt prompt"] and t["tEXt prompt"].isascii()  # json.dumps style
    assert comfyui.parse(containers.open_raw(p)).prompt == "城の上の猫"


# --- primitives, subgraphs, group nodes, editor-only files ------------------------------------

def test_primitive_wired_to_two_samplers_sets_both(tmp_path: Path) -> None:
    g = sdxl_graph(seed=5)
    second = g.add("KSampler", [("seed", 5), "fixed", ("steps", 10), ("cfg", 6.5),
                                ("sampler_name", "dpmpp_2m"), ("scheduler", "karras"),
                                ("denoise", 0.5)],
                   {"model": (10, 0), "positive": (6, 0), "negative": (7, 0),
                    "latent_image": (3, 0)}, id=20)
    dec = g.add("VAEDecode", [], {"samples": (second, 0), "vae": (4, 2)}, id=21)
    g.add("SaveImage", [("filename_prefix", "hires")], {"images": (dec, 0)}, id=22)
    prim = g.primitive(5, [(3, "seed"), (20, "seed")], control="fixed")
    p = write(tmp_path, comfy_png(g))
    edit(p, seed=77)
    api, wf = graphs(p)
    assert api["3"]["inputs"]["seed"] == api["20"]["inputs"]["seed"] == 77
    assert widgets(wf, prim) == [77, "fixed"]
    assert widgets(wf, 3)[0] == widgets(wf, 20)[0] == 77


def test_editor_only_file_is_edited_in_the_workflow(tmp_path: Path) -> None:
    p = write(tmp_path, comfy_png(sdxl_graph(), prompt=False))
    after = edit(p, seed=9, prompt="only the editor graph")
    assert (after.seed, after.prompt) == (9, "only the editor graph")
    assert any("editor graph" in n for n in after.notes)
    wf = graphs(p)[1]
    assert widgets(wf, 3)[0] == 9 and widgets(wf, 6) == ["only the editor graph"]


def _subgraph_file(promoted: bool) -> bytes:
    """A KSampler inside a subgraph (prompt ids "50:3"); its seed either in the definition
    or promoted to the instance's widgets."""
    g = sdxl_graph(seed=31)
    api = g.api()
    inner = api.pop("3")
    api["50:3"] = inner
    api["8"]["inputs"]["samples"] = ["50:3", 0]
    wf = g.workflow()
    ks = next(n for n in wf["nodes"] if n["id"] == 3)
    wf["nodes"].remove(ks)
    sub_id = "2c6f0e1a-0000-4000-8000-000000000001"
    links = [lk for lk in wf["links"] if lk[3] == 3 or lk[1] == 3]
    wf["links"] = [lk for lk in wf["links"] if lk not in links]
    inner_links, sg_inputs, instance_inputs = [], [], []
    for lk in links:
        if lk[3] == 3:  # into the sampler: becomes a subgraph input
            slot = len(sg_inputs)
            sg_inputs.append({"id": f"in{slot}", "name": f"in{slot}", "type": lk[5],
                              "linkIds": [100 + slot]})
            inner_links.append({"id": 100 + slot, "origin_id": -10, "origin_slot": slot,
                                "target_id": 3, "target_slot": lk[4], "type": lk[5]})
            ks["inputs"][lk[4]]["link"] = 100 + slot
            instance_inputs.append({"name": f"in{slot}", "type": lk[5], "link": lk[0]})
            wf["links"].append([lk[0], lk[1], lk[2], 50, slot, lk[5]])
        else:  # out of the sampler: the subgraph's output
            inner_links.append({"id": 199, "origin_id": 3, "origin_slot": 0, "target_id": -20,
                                "target_slot": 0, "type": "LATENT"})
            ks["outputs"][0]["links"] = [199]
            wf["links"].append([lk[0], 50, 0, lk[3], lk[4], lk[5]])
    instance: dict[str, Any] = {"id": 50, "type": sub_id, "mode": 0, "inputs": instance_inputs,
                                "outputs": [{"name": "LATENT", "type": "LATENT", "links": [
                                    lk[0] for lk in links if lk[1] == 3]}],
                                "widgets_values": []}
    if promoted:
        slot = len(sg_inputs)
        sg_inputs.append({"id": "seed", "name": "seed", "type": "INT", "linkIds": [150]})
        inner_links.append({"id": 150, "origin_id": -10, "origin_slot": slot, "target_id": 3,
                            "target_slot": len(ks["inputs"]), "type": "INT"})
        ks["inputs"].append({"name": "seed", "type": "INT", "widget": {"name": "seed"},
                             "link": 150})
        instance["widgets_values"] = [31]
        ks["widgets_values"][0] = 0  # the definition's own value is not the one used
    wf["nodes"].append(instance)
    wf["definitions"] = {"subgraphs": [{"id": sub_id, "name": "Sampler", "inputs": sg_inputs,
                                        "outputs": [{"name": "LATENT", "type": "LATENT"}],
                                        "nodes": [ks], "links": inner_links}]}
    return png_with({"prompt": json.dumps(api), "workflow": json.dumps(wf)})


@pytest.mark.parametrize("promoted", [False, True])
def test_sampler_inside_a_subgraph(tmp_path: Path, promoted: bool) -> None:
    p = write(tmp_path, _subgraph_file(promoted))
    before = comfyui.parse(containers.open_raw(p))
    assert (before.seed, before.samplers[0].node) == (31, "50:3")
    edit(p, seed=32, steps=12)
    api, wf = graphs(p)
    assert (api["50:3"]["inputs"]["seed"], api["50:3"]["inputs"]["steps"]) == (32, 12)
    inner = wf["definitions"]["subgraphs"][0]["nodes"][0]["widgets_values"]
    instance = widgets(wf, 50)
    if promoted:
        assert instance == [32] and inner[0] == 0
    else:
        assert inner[0] == 32
    assert inner[2] == 12
    # the editor graph alone reads the same
    assert comfyui.params_from_graphs(None, wf).seed == 32


@pytest.mark.parametrize("kind", ["workflow>", "workflow/"])
def test_group_node_values_live_on_the_instance(tmp_path: Path, kind: str) -> None:
    """`workflow>NAME` instances give their inner nodes `instance:index` ids in the prompt
    graph; older `workflow/NAME` ones gave them plain new ids."""
    g = sdxl_graph(seed=8)
    api = g.api()
    inner_id = "60:1" if kind == "workflow>" else "15"
    api[inner_id] = api.pop("3")
    api["8"]["inputs"]["samples"] = [inner_id, 0]
    wf = g.workflow()
    ks = next(n for n in wf["nodes"] if n["id"] == 3)
    wf["nodes"].remove(ks)
    group_nodes = [
        {"index": 0, "type": "Reroute", "inputs": [{"name": "", "type": "*", "link": None}],
         "outputs": [{"name": "", "type": "*", "links": []}], "widgets_values": None},
        {**ks, "index": 1, "id": 1, "widgets_values": [0, "fixed", 1, 1, "euler", "normal", 1]},
    ]
    wf["extra"]["groupNodes"] = {"Sampler": {"nodes": group_nodes, "links": [
        [0, 0, 1, 3, 1, "LATENT"]], "external": [[1, 0, "LATENT"]], "config": {}}}
    outer = {lk[0]: lk for lk in wf["links"] if 3 in (lk[1], lk[3])}
    for lk in outer.values():
        if lk[3] == 3:
            lk[3] = 60
        else:
            lk[1] = 60
    wf["nodes"].append({
        "id": 60, "type": f"{kind}Sampler", "mode": 0,
        "inputs": [{"name": i["name"], "type": i["type"], "link": i["link"]}
                   for i in ks["inputs"] if i["name"] != "latent_image"]
        + [{"name": "latent_image", "type": "LATENT",
            "link": next(i["link"] for i in ks["inputs"] if i["name"] == "latent_image")}],
        "outputs": ks["outputs"], "widgets_values": list(ks["widgets_values"])})
    p = write(tmp_path, png_with({"prompt": json.dumps(api), "workflow": json.dumps(wf)}))
    assert comfyui.parse(containers.open_raw(p)).seed == 8
    edit(p, seed=9, cfg_scale=2.5)
    api2, wf2 = graphs(p)
    assert api2[inner_id]["inputs"]["seed"] == 9
    assert widgets(wf2, 60)[:4] == [9, "randomize", 28, 2.5]
    assert wf2["extra"]["groupNodes"]["Sampler"]["nodes"][1]["widgets_values"][0] == 0


# --- refusals ----------------------------------------------------------------------------------

def _two_samplers(seed_b: int) -> Graph:
    g = sdxl_graph(seed=1)
    b = g.add("KSampler", [("seed", seed_b), "randomize", ("steps", 28), ("cfg", 6.5),
                           ("sampler_name", "dpmpp_2m"), ("scheduler", "karras"),
                           ("denoise", 0.4)],
              {"model": (10, 0), "positive": (6, 0), "negative": (7, 0),
               "latent_image": (3, 0)}, id=30)
    d = g.add("VAEDecode", [], {"samples": (b, 0), "vae": (4, 2)}, id=31)
    g.add("SaveImage", [("filename_prefix", "b")], {"images": (d, 0)}, id=32)
    return g


def test_samplers_that_disagree_need_a_node(tmp_path: Path) -> None:
    p = write(tmp_path, comfy_png(_two_samplers(seed_b=2)))
    original = p.read_bytes()
    with pytest.raises(UsageError, match=r"^seed: .*node 3 \(KSampler\): 1.*node 30 "
                                         r"\(KSampler\): 2.*--node"):
        edit(p, seed=5)
    assert p.read_bytes() == original
    edit(p, seed=5, node="30")
    api, wf = graphs(p)
    assert (api["3"]["inputs"]["seed"], api["30"]["inputs"]["seed"]) == (1, 5)
    assert widgets(wf, 30)[0] == 5
    with pytest.raises(UsageError, match="node 99 is not a sampler"):
        edit(p, seed=6, node="99")


def test_samplers_that_agree_are_set_together(tmp_path: Path) -> None:
    p = write(tmp_path, comfy_png(_two_samplers(seed_b=1)))
    edit(p, seed=4)
    api = graphs(p)[0]
    assert api["3"]["inputs"]["seed"] == api["30"]["inputs"]["seed"] == 4


def test_value_computed_by_a_custom_node_is_refused(tmp_path: Path) -> None:
    g = sdxl_graph()
    api = g.api()
    api["40"] = {"class_type": "MathExpression|pysssss", "inputs": {"expression": "a*2",
                                                                     "a": ["41", 0]}}
    api["41"] = {"class_type": "CR Seed", "inputs": {"seed": 3}}
    api["3"]["inputs"]["seed"] = ["40", 0]
    p = write(tmp_path, png_with({"prompt": json.dumps(api), "workflow": json.dumps(
        g.workflow())}))
    with pytest.raises(UsageError, match=r"^seed: .*node 40 \(MathExpression\|pysssss\)"):
        edit(p, seed=5)


def test_link_to_a_missing_node_is_refused(tmp_path: Path) -> None:
    api = sdxl_graph().api()
    api["6"]["inputs"]["text"] = ["77", 0]
    p = write(tmp_path, png_with({"prompt": json.dumps(api)}))
    with pytest.raises(UsageError, match=r"^prompt: .*missing node 77"):
        edit(p, prompt="x")


def test_joined_prompts_are_set_line_by_line_or_by_node(tmp_path: Path) -> None:
    g = sdxl_graph(prompt="a house")
    extra = g.add("CLIPTextEncode", [("text", "a garden")], {"clip": (11, 0)}, id=12)
    comb = g.add("ConditioningCombine", [], {"conditioning_1": (6, 0),
                                             "conditioning_2": (extra, 0)}, id=13)
    g.nodes[3].links["positive"] = (comb, 0)
    p = write(tmp_path, comfy_png(g))
    assert comfyui.parse(containers.open_raw(p)).prompt == "a house\na garden"
    with pytest.raises(UsageError, match=r"^prompt: .*nodes 12, 6.*--node"):
        edit(p, prompt="one text")
    assert edit(p, prompt="a castle\na garden").prompt == "a castle\na garden"
    edit(p, prompt="a moat", node="12")
    assert widgets(graphs(p)[1], 12) == ["a moat"]


def test_an_unchanged_model_changes_nothing(tmp_path: Path) -> None:
    g = Graph()
    g.add("LoadImage", [("image", "a.png"), "image"], id=1)
    g.add("SaveImage", [("filename_prefix", "x")], {"images": (1, 0)}, id=2)
    for data in (comfy_png(g), comfy_png(sdxl_graph())):
        raw = containers.open_raw(write(tmp_path, data))
        assert dict(comfyui.edit(raw, comfyui.parse(raw)).set) == {}


def test_fields_a_graph_cannot_hold_are_refused(tmp_path: Path) -> None:
    p = write(tmp_path, comfy_png(sdxl_graph()))
    with pytest.raises(UsageError, match=r"^model_hash: "):
        edit(p, model_hash="abc123")
    with pytest.raises(UsageError, match=r"^hires_steps: "):
        edit(p, hires_steps=10)
    for field in ("seed", "width", "model", "sampler"):
        with pytest.raises(UsageError, match=rf"^{field}: .*give a value"):
            edit(p, **{field: None})


# --- other containers --------------------------------------------------------------------------

def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    out, pos = [], 12
    while pos + 8 <= len(data):
        n = int.from_bytes(data[pos + 4:pos + 8], "little")
        out.append((data[pos:pos + 4], data[pos + 8:pos + 8 + n]))
        pos += 8 + n + (n & 1)
    return out


def test_webp_graphs_in_exif_make_and_model(tmp_path: Path) -> None:
    original = comfy_webp(sdxl_graph(seed=3), frames=3)
    p = write(tmp_path, original, "a.webp")
    before = texts(p)
    assert edit(p, seed=4, prompt="moving fox").seed == 4
    t = texts(p)
    assert t["EXIF:Model Model"].startswith("prompt:{")
    assert json.loads(t["EXIF:Model Model"][7:])["3"]["inputs"]["seed"] == 4
    edit(p, seed=3, prompt="a red fox in snow")
    assert texts(p) == before
    keep = [c for c in _chunks(original) if c[0] not in (b"EXIF", b"VP8X")]
    assert [c for c in _chunks(p.read_bytes()) if c[0] not in (b"EXIF", b"VP8X")] == keep


def test_jpeg_saveimageplus_user_comment_keeps_its_ascii_tag_in_ifd0(tmp_path: Path) -> None:
    g = sdxl_graph()
    blob = json.dumps({"prompt": g.api(), "workflow": g.workflow()})
    # SaveImagePlus: raw JSON as an ASCII UserComment in IFD0 (docs/formats.md#exif-usercomment)
    info = Image.Exif()
    info[0x9286] = blob
    buf = io.BytesIO()
    Image.new("RGB", (40, 30)).save(buf, "JPEG", exif=info.tobytes())
    p = write(tmp_path, buf.getvalue(), "a.jpg")
    edit(p, seed=10)
    data = p.read_bytes()
    tags = read_tags(data[data.index(b"Exif\0\0"):])
    ifd, typ, value = tags[0x9286]
    assert (ifd, typ) == ("IFD0", 2)
    saved = json.loads(value.rstrip(b"\0"))
    assert saved["prompt"]["3"]["inputs"]["seed"] == 10
    assert next(n for n in saved["workflow"]["nodes"] if n["id"] == 3)["widgets_values"][0] == 10
    edit(p, seed=123456789)
    assert texts(p)["EXIF:UserComment UserComment"] == blob


def test_saver_text_beside_the_graph_follows(tmp_path: Path) -> None:
    g = sdxl_graph(seed=5)
    saver = ("a red fox in snow\nNegative prompt: blurry, lowres\nSteps: 28, Sampler: "
             "dpmpp_2m, CFG Scale: 6.5, Seed: 5, Size: 832x1216, Model: sdxl_base, "
             "Version: ComfyUI")
    p = write(tmp_path, png_with({"parameters": saver, "prompt": json.dumps(g.api()),
                                  "workflow": json.dumps(g.workflow())}))
    edit(p, seed=6, cfg_scale=7.0)
    assert texts(p)["tEXt parameters"] == saver.replace("Seed: 5", "Seed: 6").replace(
        "CFG Scale: 6.5", "CFG Scale: 7")
    edit(p, seed=5, cfg_scale=6.5)
    assert texts(p)["tEXt parameters"] == saver


def test_saver_text_alone_is_edited_as_infotext(tmp_path: Path) -> None:
    saver = "a cat\nSteps: 20, Sampler: euler, CFG Scale: 8.0, Seed: 0, Version: ComfyUI"
    p = write(tmp_path, png_with({"parameters": saver}))
    after = edit(p, seed=12)
    assert (after.generator, after.seed) == ("comfyui", 12)
    assert texts(p)["tEXt parameters"] == saver.replace("Seed: 0", "Seed: 12")


def test_all_in_one_loader_holding_both_prompts(tmp_path: Path) -> None:
    """Efficiency Nodes' loader keeps both prompts as its own widgets and hands out
    CONDITIONING+ / CONDITIONING-; a custom node gendata's table does not know, so the
    editor widget is found by the value the prompt graph holds."""
    g = Graph()
    loader = g.add("Efficient Loader", [
        ("ckpt_name", "dreamshaper_8.safetensors"), ("vae_name", "Baked VAE"),
        ("clip_skip", -2), ("lora_name", "None"), ("lora_model_strength", 1.0),
        ("lora_clip_strength", 1.0), ("positive", "a lighthouse"), ("negative", "blurry"),
        ("token_normalization", "none"), ("weight_interpretation", "comfy"),
        ("empty_latent_width", 512), ("empty_latent_height", 768), ("batch_size", 1)],
        outputs=["MODEL", "CONDITIONING", "CONDITIONING", "LATENT", "VAE", "CLIP"], id=4)
    g.add("KSampler (Efficient)", [("seed", 9), "randomize", ("steps", 25), ("cfg", 7.0),
                                   ("sampler_name", "euler"), ("scheduler", "normal"),
                                   ("denoise", 1.0), ("preview_method", "auto"),
                                   ("vae_decode", "true")],
          {"model": (loader, 0), "positive": (loader, 1), "negative": (loader, 2),
           "latent_image": (loader, 3), "optional_vae": (loader, 4)},
          outputs=["MODEL", "CONDITIONING", "CONDITIONING", "LATENT", "VAE", "IMAGE"], id=3)
    p = write(tmp_path, comfy_png(g))
    before = comfyui.parse(containers.open_raw(p))
    assert (before.prompt, before.negative_prompt, before.model, before.seed) == (
        "a lighthouse", "blurry", "dreamshaper_8.safetensors", 9)
    after = edit(p, prompt="a windmill", negative_prompt="text", seed=10)
    assert (after.prompt, after.negative_prompt, after.seed) == ("a windmill", "text", 10)
    assert widgets(graphs(p)[1], 4)[6:8] == ["a windmill", "text"]
    assert widgets(graphs(p)[1], 3)[0] == 10


def test_hires_layout_maps_fields_to_their_pass(tmp_path: Path) -> None:
    g = sdxl_graph(seed=21)
    up = g.add("LatentUpscaleBy", [("upscale_method", "nearest-exact"), ("scale_by", 1.5)],
               {"samples": (3, 0)}, id=40)
    second = g.add("KSampler", [("seed", 21), "randomize", ("steps", 12), ("cfg", 6.5),
                                ("sampler_name", "dpmpp_2m"), ("scheduler", "karras"),
                                ("denoise", 0.5)],
                   {"model": (10, 0), "positive": (6, 0), "negative": (7, 0),
                    "latent_image": (up, 0)}, id=41)
    g.nodes[8].links["samples"] = (second, 0)
    p = write(tmp_path, comfy_png(g))
    before = comfyui.parse(containers.open_raw(p))
    assert (before.steps, before.hires_steps, before.denoising_strength) == (28, 12, 0.5)
    after = edit(p, steps=30, hires_steps=15, denoising_strength=0.4, seed=22)
    assert (after.steps, after.hires_steps, after.denoising_strength) == (30, 15, 0.4)
    api, wf = graphs(p)
    assert (api["3"]["inputs"]["steps"], api["41"]["inputs"]["steps"]) == (30, 15)
    assert api["3"]["inputs"]["denoise"] == 1.0 and api["41"]["inputs"]["denoise"] == 0.4
    assert api["3"]["inputs"]["seed"] == api["41"]["inputs"]["seed"] == 22
    assert widgets(wf, 41) == [22, "randomize", 15, 6.5, "dpmpp_2m", "karras", 0.4]
