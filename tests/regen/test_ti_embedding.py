"""Regen with an embedding that went through gendata's own TI tools: a random embedding is put
into a card with `gendata ti embed`, taken out again with `gendata ti extract`, and used by
`gendata regen` from --embeddings-dir like any shared .safetensors embedding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from regen_cli import invoke, make_png, pixels, report

from gendata.containers import safetensors as st

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")

pytest.importorskip("torch")
pytest.importorskip("diffusers")

TOKEN = "wolfstyle"
# `TI hashes` names the embedding, so a run that cannot find it must report it as missing.
TEXT = (f"a (red:1.2) cat, {TOKEN}, dog\nNegative prompt: ugly\nSteps: 3, Sampler: Euler, "
        f'CFG scale: 6, Seed: 42, Size: 64x64, TI hashes: "{TOKEN}: 0123456789ab", '
        "Version: v1.10.1")




def test_embedding_from_ti_extract_loads_and_changes_result(tiny_model: Path,
                                                            tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    # The tiny CLIP is 32 wide; 3 vectors of large values so the effect is unmistakable.
    vec = (rng.standard_normal((3, 32)) * 3).astype(np.float32)
    raw = tmp_path / "raw.safetensors"
    raw.write_bytes(st.dumps({"emb_params": vec}, {"step": "7"}))
    cover = tmp_path / "cover.png"
    Image.fromarray(rng.integers(0, 256, size=(48, 48, 3), dtype=np.uint8)).save(cover)

    card = tmp_path / "card.png"
    code, out = invoke("ti", "embed", str(raw), "--into", str(cover), "-o", str(card),
                       "--name", TOKEN)
    assert code == 0, out
    embs = tmp_path / "embeddings"
    embs.mkdir()
    code, out = invoke("ti", "extract", str(card), "-o", f"{embs}/")
    assert code == 0, out
    extracted = embs / f"{TOKEN}.safetensors"
    assert extracted.is_file()
    assert st.load(extracted)[0]["emb_params"].tobytes() == vec.tobytes()

    src = make_png(tmp_path / "src.png", TEXT)
    without, with_emb = tmp_path / "without.png", tmp_path / "with.png"
    code, out = invoke("regen", str(src), "--model", str(tiny_model), "-o", str(without))
    assert code == 0, out
    assert "missing-embedding" in [d["code"] for d in report(without)["deviations"]]
    code, out = invoke("regen", str(src), "--model", str(tiny_model), "-o", str(with_emb),
                       "--embeddings-dir", str(embs))
    assert code == 0, out

    rep = report(with_emb)
    assert "missing-embedding" not in [d["code"] for d in rep["deviations"]]
    assert [e["name"] for e in rep["plan"]["embeddings"]] == [TOKEN]
    assert rep["plan"]["embeddings"][0]["path"] == str(extracted)
    assert not np.array_equal(pixels(without), pixels(with_emb))
    with Image.open(with_emb) as im, Image.open(src) as s:
        assert im.text["parameters"] == s.text["parameters"]
