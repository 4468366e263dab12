"""The writing commands behave like a careful editor: --force where it is needed, warnings
for what was kept, nothing written when a step is refused, export never eating its inputs,
and concurrent `set` runs that all land (issue 11)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import gendata
from gendata.cli import main
from gendata.containers import open_raw
from gendata.containers.exif import encode_user_comment

from ..containers.exif_blocks import build
from ..helpers import build_png, tiny_png_chunks

TEXT = "a cat\nNegative prompt: ugly\nSteps: 20, Sampler: Euler a, Seed: 5, Size: 8x8"
ROOT = Path(__file__).resolve().parents[2]


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def _png(path: Path, *texts: str, size: tuple[int, int] = (8, 8),
         extra: list[tuple[bytes, bytes]] | None = None) -> Path:
    chunks = tiny_png_chunks(size)
    for text in reversed(texts):
        chunks.insert(1, (b"tEXt", b"parameters\0" + text.encode("latin-1")))
    for chunk in extra or []:
        chunks.insert(1, chunk)
    path.write_bytes(build_png(chunks))
    return path


def test_force_is_needed_for_read_only_and_hard_linked_files(tmp_path: Path) -> None:
    p = _png(tmp_path / "a.png", TEXT)
    p.chmod(0o444)
    for cmd in (["set", p, "--seed", "6"], ["strip", p], ["write", p, "--from", "-"]):
        r = CliRunner().invoke(main, [str(c) for c in cmd], input=TEXT)
        assert r.exit_code == 1 and "read-only" in r.stderr and "--force" in r.stderr, cmd
    assert gendata.read(p).params.seed == 5
    assert run("set", p, "--seed", "6", "--force").exit_code == 0
    assert gendata.read(p).params.seed == 6 and stat.S_IMODE(p.stat().st_mode) == 0o444
    q = _png(tmp_path / "b.png", TEXT)
    os.link(q, tmp_path / "b-link.png")
    assert "hard links" in run("set", q, "--seed", "7").stderr
    assert run("set", q, "--seed", "7", "--force").exit_code == 0
    assert gendata.read(tmp_path / "b-link.png").params.seed == 7


def test_copy_and_convert_take_force(tmp_path: Path, fixtures: Path) -> None:
    dst = tmp_path / "d.jpg"
    shutil.copyfile(fixtures / "a1111.jpg", dst)
    dst.chmod(0o444)
    src = _png(tmp_path / "s.png", TEXT)
    assert run("copy", src, dst).exit_code == 1
    assert run("copy", src, dst, "--force").exit_code == 0
    assert gendata.read(dst).params.seed == 5
    src.chmod(0o444)
    assert run("convert", src).exit_code == 1
    assert run("convert", src, "--force").exit_code == 0
    fifo = tmp_path / "out.png"
    os.mkfifo(fifo)
    for extra in ([], ["--replace"]):
        r = run("convert", src, "-o", fifo, *extra)
        assert r.exit_code == 1 and "FIFO" in r.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_output_onto_a_fifo_or_device_is_refused(tmp_path: Path) -> None:
    p = _png(tmp_path / "a.png", TEXT)
    fifo = tmp_path / "f.png"
    os.mkfifo(fifo)
    for out in (fifo, Path(os.devnull)):
        r = run("set", p, "--seed", "6", "-o", out, "--force")
        assert r.exit_code == 1 and "not a regular file" in r.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_duplicate_keys_warn_which_was_edited(tmp_path: Path) -> None:
    p = _png(tmp_path / "a.png", TEXT, TEXT.replace("5", "6"), TEXT.replace("5", "7"))
    r = run("set", p, "--steps", "9")
    assert r.exit_code == 0
    assert "warning: 3 text chunks are named 'parameters'; the first" in r.stderr
    texts = [e.text for e in open_raw(p).entries if e.key == "parameters"]
    assert texts[1:] == [TEXT.replace("5", "6"), TEXT.replace("5", "7")]
    assert "Steps: 9" in texts[0]


def test_differing_copies_are_refused_by_set(tmp_path: Path) -> None:
    other = "x\nSteps: 1, Sampler: DDIM, Seed: 1"
    block = build({"IFD0": {}, "Exif": {0x9286: (7, encode_user_comment(other))}}, "MM")
    p = _png(tmp_path / "a.png", TEXT, extra=[(b"eXIf", block)])
    before = p.read_bytes()
    r = run("set", p, "--seed", "8")
    assert r.exit_code == 1
    assert "'parameters'" in r.stderr and "EXIF UserComment" in r.stderr
    assert p.read_bytes() == before
    assert run("set", p, "--seed", "8", "--force").exit_code == 0
    raw = open_raw(p)
    assert raw.text("parameters") == raw.text("UserComment")


def test_stealth_on_a_too_small_image_writes_nothing(tmp_path: Path) -> None:
    p = _png(tmp_path / "tiny.png", TEXT, size=(4, 4))
    before = p.read_bytes()
    r = run("set", p, "--seed", "99", "--stealth")
    assert r.exit_code == 1 and "too small" in r.stderr
    assert p.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["tiny.png"]


def test_stealth_write_that_fits_sets_both(tmp_path: Path) -> None:
    p = _png(tmp_path / "big.png", TEXT, size=(64, 64))
    assert run("set", p, "--seed", "99", "--stealth").exit_code == 0
    assert gendata.read(p).params.seed == 99
    assert sorted(os.listdir(tmp_path)) == ["big.png"]


def test_a_key_spelled_in_another_case_is_edited_not_doubled(tmp_path: Path) -> None:
    original = "a cat\nSteps: 20, Sampler: Euler a, CFG Scale: 8.0, Seed: 5, Size: 8x8"
    p = _png(tmp_path / "a.png", original)
    assert run("set", p, "--seed", "6").exit_code == 0
    assert run("set", p, "--seed", "5").exit_code == 0
    assert open_raw(p).text("parameters") == original
    assert run("set", p, "--cfg", "7").exit_code == 0
    text = open_raw(p).text("parameters")
    assert text == original.replace("CFG Scale: 8.0", "CFG Scale: 7")
    assert gendata.read(p).params.cfg_scale == 7.0


def test_export_refuses_an_output_that_is_an_input(tmp_path: Path) -> None:
    p = _png(tmp_path / "v.png", TEXT)
    q = _png(tmp_path / "w.png", TEXT)
    before = p.read_bytes(), q.read_bytes()
    r = run("export", p, "-o", p)
    assert r.exit_code == 2 and "is also the output file" in r.stderr
    r = run("export", "-f", "csv", tmp_path, "-o", tmp_path / "w.png")
    assert r.exit_code == 2 and "w.png" in r.stderr
    link = tmp_path / "elsewhere.json"
    link.symlink_to(p)
    assert run("export", tmp_path, "-o", link).exit_code == 2
    assert (p.read_bytes(), q.read_bytes()) == before
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".")]


def test_export_refuses_non_regular_outputs(tmp_path: Path) -> None:
    p = _png(tmp_path / "v.png", TEXT)
    fifo = tmp_path / "out.jsonl"
    os.mkfifo(fifo)
    proc = _gendata("export", p, "-o", fifo)  # a process: opening a FIFO would block
    try:
        _out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 1 and b"FIFO" in err
    assert run("export", p, "-o", os.devnull).exit_code == 0
    out = tmp_path / "new.jsonl"
    assert run("export", p, "-o", out).exit_code == 0
    assert json.loads(out.read_text())["seed"] == 5
    assert run("export", p, "-o", out).exit_code == 0  # an earlier output is replaced


def _gendata(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "gendata", *map(str, args)], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_concurrent_set_runs_both_land(tmp_path: Path) -> None:
    p = _png(tmp_path / "a.png", TEXT)
    for round_ in range(3):
        a = _gendata("set", p, "--seed", str(1000 + round_))
        b = _gendata("set", p, "--steps", str(30 + round_))
        for proc in (a, b):
            _out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
        params = gendata.read(p).params
        assert (params.seed, params.steps) == (1000 + round_, 30 + round_)
    assert sorted(os.listdir(tmp_path)) == ["a.png"]


def test_set_waits_for_the_lock(tmp_path: Path) -> None:
    p = _png(tmp_path / "a.png", TEXT)
    with gendata.api.editing(p):
        proc = _gendata("set", p, "--seed", "42")
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=1.5)
        gendata.write_text(p, TEXT.replace("Steps: 20", "Steps: 21"))
    proc.communicate(timeout=60)
    assert proc.returncode == 0
    params = gendata.read(p).params
    assert (params.seed, params.steps) == (42, 21)


def test_a_set_that_changes_nothing_leaves_the_file_alone(tmp_path: Path) -> None:
    """Setting what the file already holds writes nothing (same inode, same mtime) and says
    "unchanged"; a --node that is not in the graph is refused even then."""
    from ..conftest import FIXTURES
    from ..index.conftest import comfy_png

    img = tmp_path / "a.png"
    shutil.copy(FIXTURES / "a1111_basic.png", img)
    seed = gendata.read(img).params.seed
    before = os.stat(img)
    result = run("set", str(img), "--seed", str(seed))
    assert result.exit_code == 0 and "a.png: unchanged" in result.stderr
    after = os.stat(img)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    result = run("set", str(img), "--seed", str(seed + 1))
    assert result.exit_code == 0 and "a.png: updated" in result.stderr
    graph = comfy_png(tmp_path / "c.png", seed=42)
    result = run("set", str(graph), "--seed", "42", "--node", "nope")
    assert result.exit_code != 0 and "node nope is not a sampler" in result.stderr
    assert run("set", str(graph), "--seed", "42", "--node", "3").exit_code == 0


def test_strip_says_when_data_is_left_in_the_pixels(tmp_path: Path) -> None:
    from PIL import Image

    img = tmp_path / "s.png"
    Image.new("RGBA", (64, 64), (10, 20, 30, 255)).save(img)
    assert run("set", str(img), "--seed", "7", "--prompt", "a fox", "--stealth").exit_code == 0
    result = run("strip", str(img))
    assert result.exit_code == 0 and "removed" in result.stdout
    assert "still hidden in its pixels" in result.stderr
    result = run("strip", str(img))
    assert "no generation data in its chunks" in result.stdout
    assert "still hidden in its pixels" in result.stderr
    plain = tmp_path / "p.png"
    shutil.copy(img, plain)
    Image.new("RGB", (8, 8)).save(plain)
    assert "still hidden" not in run("strip", str(plain)).stderr
