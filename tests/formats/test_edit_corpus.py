"""`set --seed`, the seed set back, and `set --prompt`, in place, on every real image of a
generator other than ComfyUI in ../shared/corpus (skipped when it is absent); ComfyUI's own
editing is tested with its dialect."""

from __future__ import annotations

from pathlib import Path

import pytest

import gendata
from gendata.errors import UsageError

from ..conftest import CORPUS, corpus_rows
from .edit_check import check_roundtrip


def _rows() -> list[dict[str, str]]:
    return [r for r in corpus_rows()
            if r["role"] == "positive" and not r["generator"].startswith("ComfyUI")]


@pytest.mark.parametrize("row", _rows() or [None],
                         ids=lambda r: r["path"].rsplit("/", 1)[-1] if r else "no-corpus")
def test_edit_in_place_round_trips(tmp_path: Path, row: dict[str, str] | None) -> None:
    if row is None:
        pytest.skip("../shared/corpus is not present")
    src = CORPUS / row["path"]
    rec = gendata.read(src)
    if rec.params is None:
        pytest.skip(f"{row['path']}: no generation data ({rec.error})")
    try:
        check_roundtrip(src, tmp_path)
    except UsageError as exc:
        from gendata.formats import comfyui

        if "ComfyUI graph" in str(exc) and not hasattr(comfyui, "edit"):
            pytest.skip(f"needs the ComfyUI dialect's edit: {exc}")
        raise


@pytest.mark.parametrize("row", _rows() or [None],
                         ids=lambda r: r["path"].rsplit("/", 1)[-1] if r else "no-corpus")
def test_every_positive_image_has_a_generator_and_a_prompt(row: dict[str, str] | None) -> None:
    if row is None:
        pytest.skip("../shared/corpus is not present")
    rec = gendata.read(CORPUS / row["path"])
    if rec.params is None and rec.raw is not None and rec.raw.text("sd-ti-embedding"):
        pytest.skip("a textual-inversion embedding card: `gendata ti` reads it")
    assert rec.params is not None, rec.error
    assert rec.params.generator and rec.params.prompt
