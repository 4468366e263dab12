"""Lossless writing: only the edited chunk/tag changes; pixels and everything else survive."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import gendata
from gendata import api
from gendata.containers import open_raw
from gendata.errors import UsageError, WriteError

from ..conftest import CORPUS, corpus_rows
from ..helpers import crc_ok, jpeg_scan_data, pixels, png_chunks, webp_image_chunks


def _edit(path: Path, **changes: object) -> None:
    rec = gendata.read(path)
    params = api.editable_params(rec)
    gendata.write(path, api.update(params, dict(changes)))


def _assert_png_lossless(before: bytes, after: bytes, edited_key: str = "parameters", *,
                         keys: set[str] | None = None) -> None:
    edited_keys = {k.encode() for k in (keys or {edited_key})}

    def non_edited(chunks):
        return [c for c in chunks
                if not (c[0] in (b"tEXt", b"iTXt", b"zTXt")
                        and c[1].split(b"\0", 1)[0] in edited_keys)]

    old, new = png_chunks(before), png_chunks(after)
    assert all(crc_ok(c) for c in new)
    assert non_edited(new) == non_edited(old)
    edited = [c for c in new if c not in non_edited(new)]
    assert len(edited) == len(edited_keys)
    first_idat = next(i for i, c in enumerate(new) if c[0] == b"IDAT")
    assert all(new.index(c) < first_idat for c in edited)


def _rgb(path: Path) -> bytes:
    from PIL import Image

    with Image.open(path) as im:
        return im.convert("RGB").tobytes()


def test_png_edit_is_lossless(tmp_path: Path, fixtures: Path) -> None:
    p = tmp_path / "a.png"
    shutil.copy(fixtures / "a1111_basic.png", p)
    before = p.read_bytes()
    _edit(p, steps=30, seed=42)
    _assert_png_lossless(before, p.read_bytes())
    assert pixels(p) == pixels(fixtures / "a1111_basic.png")
    rec = gendata.read(p)
    assert (rec.params.steps, rec.params.seed) == (30, 42)
    text = rec.params.origin.text
    original = gendata.read(fixtures / "a1111_basic.png").params.origin.text
    assert text == original.replace("Steps: 28", "Steps: 30").replace("Seed: 3141592653",
                                                                      "Seed: 42")


def test_parameters_after_idat_moves_before_idat(tmp_path: Path, fixtures: Path) -> None:
    p = tmp_path / "a.png"
    shutil.copy(fixtures / "a1111_after_idat.png", p)
    _edit(p, steps=31)
    entry = next(e for e in open_raw(p).entries if e.key == "parameters")
    assert not entry.after_idat and entry.location == "tEXt"
    assert gendata.read(p).params.steps == 31


def test_non_latin1_text_becomes_itxt_and_back(tmp_path: Path, fixtures: Path) -> None:
    p = tmp_path / "a.png"
    shutil.copy(fixtures / "a1111_basic.png", p)
    _edit(p, prompt="城の上の猫")
    assert next(e for e in open_raw(p).entries if e.key == "parameters").location == "iTXt"
    _edit(p, prompt="plain again")
    assert next(e for e in open_raw(p).entries if e.key == "parameters").location == "tEXt"


def _corpus_pngs() -> list[Path]:
    return [CORPUS / r["path"] for r in corpus_rows() if r["format"] == "PNG"]


@pytest.mark.parametrize("path", _corpus_pngs() or [None],
                         ids=lambda p: p.name if p else "no-corpus")
def test_set_on_every_corpus_png_is_lossless(tmp_path: Path, path: Path | None) -> None:
    if path is None:
        pytest.skip("../shared/corpus is not present")
    p = tmp_path / path.name
    shutil.copyfile(path, p)  # the corpus is read-only; its copy is ours to edit
    before = p.read_bytes()
    rec = gendata.read(p)
    from gendata.formats.a1111 import parse_text

    try:
        params = api.editable_params(rec)
    except UsageError:
        params = None
    if params is None:
        # data gendata cannot write back in its own dialect: writing a parameters block is
        # still lossless
        gendata.write_text(p, "x\nSteps: 30, Sampler: Euler, Seed: 1")
        _assert_png_lossless(before, p.read_bytes())
        assert parse_text(open_raw(p).text("parameters")).steps == 30
    else:
        # the file's own dialect takes the edit: only its entries change, in place
        steps = 31 if params.steps == 30 else 30  # a value the file does not hold already
        try:
            keys = set(api.edit_preview(p, api.update(params, {"steps": steps})))
            gendata.write(p, api.update(params, {"steps": steps}))
        except UsageError as exc:
            # a dialect that cannot hold this field refuses it by name, writing nothing
            assert "steps" in str(exc)
            assert p.read_bytes() == before
            return
        again = gendata.read(p).params
        assert again.steps == steps and again.generator == params.generator
        if any(e.location.startswith("stealth:") for e in rec.raw.entries):
            # data kept only in the pixels is rewritten there: colour and chunks stay
            kept = [c for c in png_chunks(p.read_bytes()) if c[0] not in (b"IHDR", b"IDAT")]
            assert kept == [c for c in png_chunks(before) if c[0] not in (b"IHDR", b"IDAT")]
            assert _rgb(p) == _rgb(path)
            return
        _assert_png_lossless(before, p.read_bytes(), keys=keys or {"parameters"})
    if path.stat().st_size < 3_000_000:
        assert pixels(p) == pixels(path)


@pytest.mark.parametrize("name", ["a1111.jpg", "a1111.webp", "a1111_lossless.webp",
                                  "a1111_unicode.jpg"])
def test_jpeg_webp_edit_keeps_image_data(tmp_path: Path, fixtures: Path, name: str) -> None:
    p = tmp_path / name
    shutil.copy(fixtures / name, p)
    before = p.read_bytes()
    _edit(p, steps=33, prompt="edited テスト")
    after = p.read_bytes()
    if name.endswith(".jpg"):
        assert jpeg_scan_data(after) == jpeg_scan_data(before)
    else:
        assert webp_image_chunks(after) == webp_image_chunks(before)
    rec = gendata.read(p)
    assert (rec.params.steps, rec.params.prompt) == (33, "edited テスト")
    assert pixels(p) == pixels(fixtures / name)


def test_webp_without_exif_gains_vp8x(tmp_path: Path) -> None:
    from PIL import Image

    for lossless in (False, True):
        p = tmp_path / f"plain{lossless}.webp"
        Image.new("RGB", (33, 17), (9, 9, 9)).save(p, "WEBP", lossless=lossless)
        before = p.read_bytes()
        assert b"VP8X" not in before
        gendata.write_text(p, "a\nSteps: 1, Sampler: Euler, Seed: 2")
        after = p.read_bytes()
        assert after[12:16] == b"VP8X"
        assert webp_image_chunks(after) == webp_image_chunks(before)
        with Image.open(p) as im:
            assert im.size == (33, 17)
        assert gendata.read(p).params.seed == 2


def test_interrupted_write_leaves_original(tmp_path: Path, fixtures: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("a1111_basic.png", "a1111.jpg", "a1111.webp"):
        p = tmp_path / name
        shutil.copy(fixtures / name, p)
        before = p.read_bytes()

        def boom(fd: int) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(os, "fsync", boom)
        with pytest.raises(WriteError, match="original left unchanged"):
            _edit(p, steps=99)
        monkeypatch.undo()
        assert p.read_bytes() == before
        assert sorted(x.name for x in tmp_path.iterdir()) == sorted(
            x for x in os.listdir(tmp_path) if not x.startswith("."))


def test_strip_removes_generation_data_only(tmp_path: Path, fixtures: Path) -> None:
    p = tmp_path / "a.png"
    shutil.copy(fixtures / "a1111_basic.png", p)
    planned = gendata.strip(p, dry_run=True)
    entry = next(e for e in open_raw(p).entries if e.key == "parameters")
    assert planned == [f"tEXt parameters ({entry.size} bytes)"]
    assert gendata.read(p).params is not None
    gendata.strip(p)
    rec = gendata.read(p)
    assert rec.params is None
    assert [e.key for e in rec.raw.entries] == ["ICC profile", "Comment"]
    assert pixels(p) == pixels(fixtures / "a1111_basic.png")
    for name in ("a1111.jpg", "a1111.webp"):
        q = tmp_path / name
        shutil.copy(fixtures / name, q)
        gendata.strip(q)
        assert gendata.read(q).params is None
        assert pixels(q) == pixels(fixtures / name)


@pytest.mark.parametrize("src,dst", [("a1111_basic.png", "a1111.jpg"),
                                     ("a1111_unicode.png", "a1111.webp"),
                                     ("a1111.jpg", "no_metadata.png"),
                                     ("a1111_lossless.webp", "a1111_after_idat.png")])
def test_copy_across_containers(tmp_path: Path, fixtures: Path, src: str, dst: str) -> None:
    d = tmp_path / dst
    shutil.copy(fixtures / dst, d)
    gendata.copy(fixtures / src, d)
    a, b = gendata.read(fixtures / src).params, gendata.read(d).params
    assert b.origin.text == a.origin.text
    assert pixels(d) == pixels(fixtures / dst)


def test_output_must_keep_the_container(tmp_path: Path, fixtures: Path) -> None:
    with pytest.raises(UsageError, match="does not re-encode"):
        gendata.write_text(fixtures / "a1111_basic.png", "x", output=tmp_path / "out.jpg")
    assert not (tmp_path / "out.jpg").exists()


def test_write_to_output_leaves_source(tmp_path: Path, fixtures: Path) -> None:
    src = fixtures / "a1111_basic.png"
    before = src.read_bytes()
    out = tmp_path / "out.png"
    gendata.write(src, gendata.read(src).params.edited(seed=1), output=out)
    assert src.read_bytes() == before
    assert gendata.read(out).params.seed == 1
