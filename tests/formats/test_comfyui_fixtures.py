"""The ComfyUI fixtures (scripts/make_fixtures.py): one file per model family and layout the
readers must know, read and edited in place without the shared corpus."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from gendata import containers
from gendata.formats import comfyui

from .comfyui_graphs import family_fixtures

FIXTURES = family_fixtures()


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture_holds_the_graphs_it_was_built_from(fixtures: Path, name: str) -> None:
    """The files need not match byte for byte (encoders differ between Pillow versions);
    their graphs must, so the expectations below describe the files."""
    built, _ = FIXTURES[name]
    api_now, wf_now, _ = comfyui.find_graphs(containers.open_raw(fixtures / name))
    assert (api_now, wf_now) == _graphs_of(built, Path(name).suffix)


def _graphs_of(data: bytes, suffix: str) -> tuple[Any, Any]:
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=suffix) as f:
        f.write(data)
        f.flush()
        api, wf, _ = comfyui.find_graphs(containers.open_raw(f.name))
    return api, wf


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_fixture_reads_and_edits_in_place(fixtures: Path, tmp_path: Path, name: str) -> None:
    _, expected = FIXTURES[name]
    path = tmp_path / Path(name).name
    shutil.copyfile(fixtures / name, path)
    original = {e.key: e.text for e in containers.open_raw(path).entries}
    before = comfyui.parse(containers.open_raw(path))
    assert before.generator == "comfyui"
    assert {k: getattr(before, k) for k in expected} == expected

    def edit(**changes: Any) -> Any:
        raw = containers.open_raw(path)
        containers.write_raw(path, path, comfyui.edit(raw, comfyui.parse(raw).edited(**changes)))
        return comfyui.parse(containers.open_raw(path))

    after = edit(seed=before.seed + 1, prompt="something else entirely")
    assert (after.seed, after.prompt) == (before.seed + 1, "something else entirely")
    _, wf, _ = comfyui.find_graphs(containers.open_raw(path))
    assert "something else entirely" in json.dumps(wf)
    edit(seed=before.seed, prompt=before.prompt)
    assert {e.key: e.text for e in containers.open_raw(path).entries} == original
