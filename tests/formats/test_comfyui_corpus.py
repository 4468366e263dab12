"""Every ComfyUI image of ../shared/corpus (MANIFEST.tsv and MANIFEST-new.tsv): it reads
with a generator and a prompt, and `set --seed`, setting the seed back and `set --prompt`
work in place at the dialect level (comfyui.edit + containers.write_raw):

- same generator, the values read back, the other fields unchanged;
- the editor workflow's widgets hold the new value;
- pixels and every chunk but the edited texts are untouched;
- set then set back gives the original texts, except a workflow widget that already
  disagreed with the executed graph (the workflow was changed after the image was made):
  setting the value back leaves the widget on the executed graph's value;
- a refusal names the field and the nodes, and `node` then picks one.

Skips when ../shared is absent.
"""

from __future__ import annotations

import csv
import json
import shutil
import struct
from pathlib import Path
from typing import Any

import pytest

from gendata import containers
from gendata.errors import UsageError
from gendata.formats import comfyui
from gendata.formats.comfyui.editing import entry_key, widget_paths
from gendata.formats.comfyui.reading import walk_graphs
from gendata.formats.comfyui.walker import Site

from ..conftest import CORPUS

# path -> (a note gendata gives, why the image has no prompt)
NO_PROMPT = {
    "ComfyUI_examples/3d/stable_zero123_example.png": (
        "no prompt text reachable",
        "Stable Zero123 conditions on an input image; the graph has no text encoder"),
    "ComfyUI-extension-tutorials/ComfyUI-Inspire-Pack/workflow/IPAdapterModelHelper-Kolors.png": (
        "no prompt text reachable",
        "a canvas screenshot whose two ChatGLM3 encoders hold empty texts"),
}


def _rows() -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for name in ("MANIFEST.tsv", "MANIFEST-new.tsv"):
        manifest = CORPUS / name
        if manifest.exists():
            with manifest.open(encoding="utf-8", newline="") as f:
                rows += [r for r in csv.DictReader(f, delimiter="\t")
                         if "comfyui" in r["generator"].lower()]
    return rows


ROWS = _rows()


def _id(row: dict[str, str]) -> str:
    return row["path"]


def _params(path: Path) -> Any:
    return comfyui.parse(containers.open_raw(path))


def _fields(p: Any) -> dict[str, Any]:
    data = p.model_dump()
    for key in ("notes", "samplers", "extra"):
        data.pop(key)
    return data


def _edit(path: Path, node: str | None = None, **changes: Any) -> None:
    raw = containers.open_raw(path)
    params = comfyui.parse(raw).edited(**changes)
    containers.write_raw(path, path, comfyui.edit(raw, params, node=node))


def _untouched_parts(path: Path) -> list[bytes]:
    """Every part of the file but its metadata texts: PNG chunks other than text and eXIf,
    WebP chunks other than EXIF/VP8X, JPEG segments other than EXIF plus the scan data."""
    data = path.read_bytes()
    out: list[bytes] = []
    if data.startswith(b"\x89PNG"):
        pos = 8
        while pos < len(data):
            (n,) = struct.unpack(">I", data[pos:pos + 4])
            kind = data[pos + 4:pos + 8]
            if kind not in (b"tEXt", b"zTXt", b"iTXt", b"eXIf"):
                out.append(data[pos:pos + 12 + n])
            pos += 12 + n
    elif data.startswith(b"RIFF"):
        pos = 12
        while pos + 8 <= len(data):
            n = int.from_bytes(data[pos + 4:pos + 8], "little")
            if data[pos:pos + 4] not in (b"EXIF", b"VP8X"):
                out.append(data[pos:pos + 8 + n])
            pos += 8 + n + (n & 1)
    else:
        pos = 2
        while pos + 4 <= len(data) and data[pos] == 0xFF and data[pos + 1] != 0xDA:
            (n,) = struct.unpack(">H", data[pos + 2:pos + 4])
            if not (data[pos + 1] == 0xE1 and data[pos + 4:pos + 10] == b"Exif\0\0"):
                out.append(data[pos:pos + 2 + n])
            pos += 2 + n
        out.append(data[pos:])
    return out


def _graph_texts(path: Path) -> dict[str, str]:
    api, wf = comfyui.graph_documents(containers.open_raw(path))
    return {entry_key(d.entry): d.entry.text or "" for d in (api, wf) if d is not None}


def _widget_paths(path: Path, site: Site) -> list[tuple[Any, ...]]:
    return widget_paths(containers.open_raw(path), site)


def _at(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _workflow_data(path: Path) -> Any:
    _, wf = comfyui.graph_documents(containers.open_raw(path))
    assert wf is not None
    return json.loads(wf.entry.text[wf.start:].rstrip("\0"))  # type: ignore[index]


@pytest.fixture
def copy(tmp_path: Path, corpus: Path, request: pytest.FixtureRequest) -> Path:
    row = request.param
    dst = tmp_path / Path(row["path"]).name
    shutil.copyfile(corpus / row["path"], dst)  # the corpus is read-only
    return dst


@pytest.mark.parametrize("copy", ROWS, ids=_id, indirect=True)
def test_reads_generator_and_prompt(copy: Path, request: pytest.FixtureRequest) -> None:
    path = request.node.callspec.params["copy"]["path"]
    p = _params(copy)
    assert p.generator == "comfyui"
    if path in NO_PROMPT:
        note, _why = NO_PROMPT[path]
        assert not p.prompt and any(note in n for n in p.notes), p.notes
    else:
        assert p.prompt.strip(), p.notes


@pytest.mark.parametrize("copy", ROWS, ids=_id, indirect=True)
def test_set_seed_and_set_it_back(copy: Path) -> None:
    before = _params(copy)
    if before.seed is None:
        pytest.skip("the graph holds no seed")
    original = copy.read_bytes()
    texts, parts = _graph_texts(copy), _untouched_parts(copy)
    node: str | None = None
    try:
        _edit(copy, seed=before.seed + 1)
    except UsageError as exc:
        assert str(exc).startswith("seed: ") and "node" in str(exc) and "--node" in str(exc)
        assert copy.read_bytes() == original
        node = before.samplers[0].node
        _edit(copy, node=node, seed=before.seed + 1)
    after = _params(copy)
    assert after.generator == "comfyui"
    expected = {**_fields(before), "seed": before.seed + 1}
    assert _fields(after) == expected
    assert _untouched_parts(copy) == parts
    # the editor graph shows the new seed where the sampler's seed sits
    api, wf = comfyui.graph_documents(containers.open_raw(copy))
    wf_paths: list[tuple[Any, ...]] = []
    if wf is not None:
        walked = walk_graphs(api.data if api else None, wf.data)
        ps = next(ps for ps in walked.result.passes if node in (None, ps.node.id))
        site = ps.sites["seed"]
        assert isinstance(site, Site)
        wf_paths = _widget_paths(copy, site)
        assert wf_paths, f"no widget found for {site}"
        data = _workflow_data(copy)
        assert all(_at(data, p) == before.seed + 1 for p in wf_paths)
    # and back
    _edit(copy, node=node, seed=before.seed)
    assert _fields(_params(copy)) == _fields(before)
    restored = _graph_texts(copy)
    if restored != texts:
        # only a widget that disagreed with the executed graph may differ: it now agrees
        orig_copy = copy.with_name("orig" + copy.suffix)
        orig_copy.write_bytes(original)
        old_wf = _workflow_data(orig_copy)
        differing = [p for p in wf_paths if _at(old_wf, p) != before.seed]
        assert differing, "texts changed although the workflow agreed with the prompt"
        for p in differing:
            _at(old_wf, p[:-1])[p[-1]] = before.seed
        assert _workflow_data(copy) == old_wf
        assert {k: v for k, v in restored.items() if v != texts[k]}.keys() <= {
            entry_key(comfyui.graph_documents(containers.open_raw(copy))[1].entry)}  # type: ignore[union-attr]
    assert _untouched_parts(copy) == parts


@pytest.mark.parametrize("copy", ROWS, ids=_id, indirect=True)
def test_set_prompt(copy: Path, request: pytest.FixtureRequest) -> None:
    path = request.node.callspec.params["copy"]["path"]
    before = _params(copy)
    parts = _untouched_parts(copy)
    new = "a new prompt, with ünïcode and \"quotes\"\nand a second line"
    try:
        _edit(copy, prompt=new)
    except UsageError as exc:
        msg = str(exc)
        assert msg.startswith("prompt: "), msg
        if path in NO_PROMPT:
            return
        assert "joins the texts of nodes" in msg
        texts = [f"{t} (edited)" for t in before.extra["ComfyUI prompts"]]
        _edit(copy, extra={**before.extra, "ComfyUI prompts": texts})
        new = "\n".join(texts)
    after = _params(copy)
    assert after.prompt == new
    expected = {**_fields(before), "prompt": new}
    if before.negative_prompt == before.prompt:  # may be one encoder feeding both
        expected["negative_prompt"] = after.negative_prompt
        assert after.negative_prompt in (before.negative_prompt, new)
    assert _fields(after) == expected
    assert _untouched_parts(copy) == parts


@pytest.mark.parametrize("name, want", [
    ("comfyui-prompt-reader-node/images/example_workflow.png",
     {"sampler": "dpmpp_2m", "scheduler": "karras", "seed": None, "width": 512, "height": 512,
      "model": "xxmix9realistic_v40.safetensors"}),
    ("comfyui-prompt-reader-node/workflows/sdxl_example.png",
     {"sampler": "dpmpp_2m", "scheduler": "karras", "seed": 40346610113952, "steps": 50,
      "cfg_scale": 8.0, "width": 1024, "height": 1024}),
])
def test_sd_prompt_reader_parameter_generator(name: str, want: dict[str, Any]) -> None:
    """SD Prompt Reader's generator hands on its widgets by output name (its slots moved
    between versions): the sampler is its sampler widget, not the checkpoint name; a seed of
    -1 is drawn at run time (none to read); a size preset computes the size."""
    path = CORPUS / name
    if not path.exists():
        pytest.skip("the corpus is not beside the repository")
    import gendata

    params = gendata.read(path).params
    assert params is not None
    assert {k: getattr(params, k) for k in want} == want
