"""The registry and the dialects' declarations it is built from: the fast path, the keys
`strip` removes, display names, and one place that handles a dialect's failure."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from gendata import formats
from gendata.containers.raw import RawEntry, RawMetadata
from gendata.formats import DIALECTS, dialect

ROOT = Path(__file__).resolve().parents[2]
LINE = "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512"

# What `strip` removed before the dialects declared their keys (api.GENERATION_KEYS and,
# in files NovelAI wrote, NOVELAI_KEYS): the declarations must give exactly this.
GENERATION_KEYS = frozenset({
    "parameters", "prompt", "workflow", "Dream", "sd-metadata", "invokeai_metadata",
    "invokeai_graph", "sui_image_params", "generation_data", "parameters-json", "smproj",
    "fooocus_scheme", "postprocessing", "extras", "UserComment",
})
NOVELAI_KEYS = frozenset({"Title", "Description", "Software", "Source", "Generation time",
                          "Comment"})


def png(**texts: str) -> RawMetadata:
    return RawMetadata("png", [RawEntry("png", "tEXt", k, v, len(v)) for k, v in texts.items()])


@pytest.mark.parametrize("name", DIALECTS)
def test_every_dialect_declares_itself(name: str) -> None:
    mod = dialect(name)
    assert name == mod.NAME
    assert isinstance(mod.DISPLAY_NAME, str) and mod.DISPLAY_NAME
    assert isinstance(mod.KEYS, frozenset) and all(isinstance(k, str) for k in mod.KEYS)
    assert isinstance(mod.MARKERS, tuple) and all(isinstance(m, str) and m for m in mod.MARKERS)
    assert callable(mod.score) and callable(mod.parse)
    if hasattr(mod, "CONDITIONAL_KEYS"):
        assert isinstance(mod.CONDITIONAL_KEYS, frozenset) and callable(mod.owns)
    assert all(isinstance(k, str) and isinstance(v, str)
               for k, v in getattr(mod, "GENERATORS", {}).items())


def test_generation_keys_are_what_strip_always_removed() -> None:
    assert formats.generation_keys(png(parameters="x")) == GENERATION_KEYS
    assert formats.generation_keys(RawMetadata("jpeg")) == GENERATION_KEYS
    assert formats.generation_keys(png(Software="NovelAI")) == GENERATION_KEYS | NOVELAI_KEYS
    assert formats.generation_keys(png(Software="GIMP", Comment="hi")) == GENERATION_KEYS


def test_display_names() -> None:
    assert formats.display_name("a1111") == "AUTOMATIC1111"
    assert formats.display_name("forge") == "Forge"
    assert formats.display_name("comfyui") == "ComfyUI"
    assert formats.display_name("ruinedfooocus") == "RuinedFooocus"
    assert formats.display_name("something-new") == "something-new"
    assert list(formats.DIALECT_NAMES) == DIALECTS
    assert formats.DIALECT_NAMES["novelai"] == "NovelAI"


@pytest.fixture
def extra_dialect(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """A dialect added to the registry: it claims texts with the word Zebra in them."""
    mod = ModuleType("gendata.formats.zebra")
    mod.NAME = "zebra"
    mod.DISPLAY_NAME = "Zebra"
    mod.KEYS = frozenset({"zebra"})
    mod.MARKERS = ("Zebra",)
    mod.score = lambda raw: 0.9 if "Zebra" in (raw.text("parameters") or "") else 0.0
    mod.parse = lambda raw: dialect("a1111").parse(raw).model_copy(update={"generator": "zebra"})
    monkeypatch.setitem(formats._loaded, "zebra", mod)
    monkeypatch.setattr(formats, "DIALECTS", ["zebra", *DIALECTS])
    return mod


def test_a_new_dialect_takes_part_in_the_fast_path(extra_dialect: ModuleType) -> None:
    raw = png(parameters=f"a Zebra\n{LINE}")
    assert not formats._only_a1111(raw)
    assert formats.detect(raw).generator == "zebra"
    assert formats._only_a1111(png(parameters=f"a horse\n{LINE}"))
    assert "zebra" in formats.generation_keys(raw)
    assert formats.display_name("zebra") == "Zebra"


def test_a_failing_score_is_logged_and_skipped(extra_dialect: ModuleType,
                                               caplog: pytest.LogCaptureFixture) -> None:
    def broken(raw: RawMetadata) -> float:
        raise KeyError("oops")

    extra_dialect.score = broken
    with caplog.at_level(logging.WARNING, logger="gendata.formats"):
        params = formats.detect(png(parameters=f"a Zebra\n{LINE}"))
    assert params is not None and params.generator == "a1111"
    assert [r.name for r in caplog.records] == ["gendata.formats"]
    assert "zebra" in caplog.records[0].getMessage()
    assert caplog.records[0].exc_info is not None


def test_loading_every_dialect_does_not_import_pydantic() -> None:
    code = ("import sys; from gendata import formats; "
            "[formats.dialect(n) for n in formats.DIALECTS]; formats.generation_keys; "
            "formats.DIALECT_NAMES; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pydantic'))")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]", out.stdout
