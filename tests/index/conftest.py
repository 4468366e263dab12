"""Fixtures for the index tests: real image files written with the library, and indexes."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from gendata import write_text


def infotext(prompt: str, negative: str = "", **settings: Any) -> str:
    """An A1111 infotext; `settings` are `Key: value` pairs (underscores for spaces)."""
    base = {"Steps": 20, "Sampler": "Euler a", "CFG scale": 7, "Seed": 1, "Size": "64x64"}
    for key, value in settings.items():
        base[key.replace("_", " ")] = value
    line = ", ".join(f"{k}: {v}" for k, v in base.items())
    neg = f"\nNegative prompt: {negative}" if negative else ""
    return f"{prompt}{neg}\n{line}"


def blank(path: Path, kind: str | None = None) -> Path:
    """A tiny real image of the container its suffix names (or `kind`)."""
    kind = kind or {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}[
        path.suffix.lower()]
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (40, 90, 200)).save(buf, kind)
    path.write_bytes(buf.getvalue())
    return path


def make_image(path: Path, prompt: str, negative: str = "", **settings: Any) -> Path:
    """A real PNG/JPEG/WebP at `path` holding an A1111 infotext."""
    blank(path)
    write_text(path, infotext(prompt, negative, **settings))
    return path


def comfy_png(path: Path, seed: int, prompt: str = "a comfy fox") -> Path:
    """A PNG with a ComfyUI API graph (KSampler + CLIPTextEncode + checkpoint loader)."""
    from gendata.containers import write_raw
    from gendata.containers.raw import Changes

    graph = {
        "3": {"class_type": "KSampler", "inputs": {
            "seed": seed, "steps": 20, "cfg": 8.0, "sampler_name": "euler",
            "scheduler": "normal", "denoise": 1.0, "model": ["4", 0],
            "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
        "4": {"class_type": "CheckpointLoaderSimple",
              "inputs": {"ckpt_name": "sd_xl_base_1.0.safetensors"}},
        "5": {"class_type": "EmptyLatentImage",
              "inputs": {"width": 1024, "height": 1024, "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": prompt, "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
        "9": {"class_type": "SaveImage", "inputs": {"images": ["8", 0]}},
    }
    blank(path)
    write_raw(path, path, Changes(set={"prompt": json.dumps(graph)}))
    return path


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "index" / "gendata.sqlite"


@pytest.fixture(autouse=True)
def _no_user_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the user's own index: the default location points into tmp_path."""
    monkeypatch.setenv("GENDATA_INDEX", str(tmp_path / "default-index.sqlite"))


def assert_fts_in_step(db: Path) -> None:
    """The FTS indexes hold exactly the words of the rows: images_fts is compared, word by
    word and place by place, with an FTS5 table built afresh from `images`, and images_cjk
    with one built from the rows' text split by script."""
    import sqlite3

    from gendata.indexing.text import FTS_TOKENIZE, has_split_script, split_script

    conn = sqlite3.connect(db)
    try:
        conn.execute(f"CREATE VIRTUAL TABLE temp.fresh USING fts5(prompt, negative_prompt, "
                     f"tokenize='{FTS_TOKENIZE}')")
        conn.execute("CREATE VIRTUAL TABLE temp.fresh_cjk USING fts5(prompt, negative_prompt, "
                     f"tokenize='{FTS_TOKENIZE}')")
        for image_id, prompt, negative in conn.execute(
                "SELECT id, prompt, negative_prompt FROM images").fetchall():
            conn.execute("INSERT INTO fresh (rowid, prompt, negative_prompt) VALUES (?, ?, ?)",
                         (image_id, prompt, negative))
            if has_split_script(prompt or "") or has_split_script(negative or ""):
                conn.execute("INSERT INTO fresh_cjk (rowid, prompt, negative_prompt) "
                             "VALUES (?, ?, ?)", (image_id, split_script(prompt or ""),
                                                  split_script(negative or "")))
        for table, fresh in (("images_fts", "fresh"), ("images_cjk", "fresh_cjk")):
            conn.execute(f"CREATE VIRTUAL TABLE temp.v_{table} USING fts5vocab(main, {table}, "
                         "'instance')")
            conn.execute(f"CREATE VIRTUAL TABLE temp.v_{fresh} USING fts5vocab(temp, {fresh}, "
                         "'instance')")
            have = set(conn.execute(f"SELECT * FROM v_{table}"))
            want = set(conn.execute(f"SELECT * FROM v_{fresh}"))
            assert have == want, (table, sorted(have ^ want)[:10])
    finally:
        conn.close()
