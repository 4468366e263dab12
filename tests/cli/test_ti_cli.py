"""`gendata ti` through click: output, exit codes, one-line errors."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image, PngImagePlugin

from gendata import ti
from gendata.cli import main
from gendata.containers import safetensors as st


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    rng = np.random.default_rng(11)
    cover = tmp_path / "cover.png"
    Image.fromarray(rng.integers(20, 256, size=(64, 48, 3), dtype=np.uint8)).save(cover)
    emb = tmp_path / "emb.safetensors"
    vec = rng.standard_normal((4, 1024)).astype(np.float32)
    emb.write_bytes(st.dumps({"emb_params": vec}, {"step": "120"}))
    return {"cover": cover, "emb": emb, "dir": tmp_path}


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def _embed(files: dict[str, Path], *args: str) -> tuple[int, str, str]:
    """`gendata ti embed` of the fixture embedding into the fixture cover, plus `args`."""
    return _run("ti", "embed", str(files["emb"]), "--into", str(files["cover"]), *args)


def test_embed_info_extract(files: dict[str, Path]) -> None:
    card = files["dir"] / "card.png"
    code, out, err = _embed(files, "-o", str(card), "--name", "wolf")
    assert code == 0, err
    assert "<wolf> 4 vectors × 1024 (SD2)" in out

    code, out, err = _run("ti", "info", str(card))
    assert code == 0 and err == ""
    assert "embedding <wolf>" in out and "step        120" in out
    assert "text chunk + pixel blocks (agree)" in out

    code, out, _ = _run("ti", "info", str(card), "--json")
    data = json.loads(out)
    assert data["token"] == "wolf" and data["vectors"] == 4 and data["width"] == 1024
    assert data["family"] == "SD2" and data["agree"] is True

    target = files["dir"] / "wolf.safetensors"
    code, out, err = _run("ti", "extract", str(card), "-o", str(target))
    assert code == 0, err
    assert out.startswith(f"wrote {target}")
    assert (
        st.load(target)[0]["emb_params"].tobytes()
        == st.load(files["emb"])[0]["emb_params"].tobytes()
    )

    code, _, err = _run("ti", "extract", str(card), "-o", str(target))
    assert code == 1 and err.count("\n") == 1 and "--force" in err
    assert _run("ti", "extract", str(card), "-o", str(target), "--force")[0] == 0


def test_errors_are_one_line_with_exit_codes(files: dict[str, Path]) -> None:
    code, out, err = _run("ti", "info", str(files["cover"]))
    assert code == 1 and out == "" and err.startswith("gendata: error: ") and err.count("\n") == 1
    assert "no textual-inversion embedding" in err
    code, out, _ = _run("ti", "info", str(files["cover"]), "--json")
    assert code == 0 and json.loads(out) is None

    code, _, err = _embed(files, "-o", str(files["dir"] / "c.png"), "--name", "../../x")
    assert code == 1 and "path separators" in err and "Traceback" not in err
    assert not (files["dir"] / "c.png").exists()

    code, _, err = _run("ti", "extract", str(files["cover"]), "-o", "x.pt")
    assert code == 1 and "no sd-ti-embedding chunk" in err

    code, _, err = _embed(files, "-o", "c.jpg")
    assert code == 2 and "must be a .png" in err

    code, _, err = _run("ti", "embed", str(files["emb"]))
    assert code == 2  # click usage error: missing --into / -o


def test_disagreement_is_a_warning_on_stderr(files: dict[str, Path]) -> None:
    card = files["dir"] / "card.png"
    code, _, _ = _embed(files, "-o", str(card))
    assert code == 0
    with Image.open(card) as im:
        pixels = np.asarray(im.convert("RGB"))
    # Same pixels, but a text chunk holding other vectors.
    replacement = ti.TIEmbedding(tensors=(("*", np.zeros((4, 1024), np.float32)),), name="emb")
    info = PngImagePlugin.PngInfo()
    info.add_text(ti.TEXT_KEY, base64.b64encode(ti.dumps_json(replacement)).decode())
    other = files["dir"] / "other.png"
    Image.fromarray(pixels).save(other, pnginfo=info)
    code, out, err = _run("ti", "extract", str(other), "-o", str(files["dir"] / "o.safetensors"))
    assert code == 0
    assert "gendata: warning: text chunk and pixel blocks disagree" in err
    assert "vector values differ" in err
    assert "DISAGREE" in out


def test_show_json_reports_the_embedding(files: dict[str, Path]) -> None:
    card = files["dir"] / "card.png"
    code, _, _ = _embed(files, "-o", str(card), "--name", "fox")
    assert code == 0
    code, out, err = _run("show", "--json", str(card))
    assert code == 0, err
    section = json.loads(out)["textual_inversion"]
    assert section["token"] == "fox" and section["vectors"] == 4 and section["width"] == 1024
    assert section["step"] == 120 and section["family"] == "SD2"
