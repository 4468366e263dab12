"""api.snapshot / api.restore: what the TUI's "revert file" puts back, in any dialect; and
api.copy of another dialect's data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import gendata
from gendata import api

from ..conftest import FIXTURES
from ..formats.edit_check import carried


@pytest.mark.parametrize("name", ["novelai_legacy.png", "invokeai_v5.png", "fooocus.jpg",
                                  "novelai_stealth.png"])
def test_restore_puts_back_what_an_edit_changed(tmp_path: Path, name: str) -> None:
    p = tmp_path / name
    shutil.copyfile(FIXTURES / "dialects" / name, p)
    rec = gendata.read(p)
    snap = api.snapshot(rec)
    gendata.write(p, api.update(api.editable_params(rec), {"seed": 5, "prompt": "changed"}))
    assert gendata.read(p).params.seed == 5
    api.restore(p, snap)
    again = gendata.read(p)
    assert again.raw_texts() == rec.raw_texts()
    assert again.params.generator == rec.params.generator
    original = (FIXTURES / "dialects" / name).read_bytes()
    if name.endswith(".png") and "stealth" not in name:
        assert p.read_bytes() == original
    elif "stealth" not in name:  # an EXIF value that had to move may stay where it went
        assert carried(p.read_bytes()) == carried(original)
    assert api.restore(p, snap) == []  # nothing left to put back


def test_copy_other_dialect_into_jpeg_writes_its_values(tmp_path: Path) -> None:
    dst = tmp_path / "a.jpg"
    shutil.copyfile(FIXTURES / "a1111.jpg", dst)
    api.copy(FIXTURES / "dialects" / "novelai_legacy.png", dst)
    params = gendata.read(dst).params
    assert (params.seed, params.prompt) == (1234567890, "masterpiece, 1girl, {red scarf}, snow")
