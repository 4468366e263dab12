"""Bad text in arguments, in `write --from` and in file names gives one error line (or a
documented escape), never a traceback, an endless read or a half-written file."""

from __future__ import annotations

import json
import os
import shutil
import sys
import zlib
from pathlib import Path

import pytest

import gendata
from gendata.errors import ValidationError

from . import builders
from .runner import run_gendata

ROOT = Path(__file__).resolve().parents[2]
BASIC = ROOT / "fixtures" / "a1111_basic.png"


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "a.png"
    shutil.copyfile(BASIC, path)
    return path


def _one_error(r: object, code: int, words: str) -> None:
    assert r.returncode == code, r.stderr  # type: ignore[attr-defined]
    lines = r.stderr.splitlines()  # type: ignore[attr-defined]
    assert len(lines) == 1 and lines[0].startswith("gendata: error: "), lines
    assert words in lines[0]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX argv bytes")
@pytest.mark.parametrize("args", [
    (b"--prompt", b"a\xff cat"), (b"--param", b"K\xfe=v"), (b"--param", b"Key=\xed\xa0\x80"),
    (b"--unset", b"\xff"), (b"--dry-run", b"--sampler", b"Euler\xff"),
])
def test_undecodable_arguments(image: Path, args: tuple[bytes, ...]) -> None:
    before = image.read_bytes()
    r = run_gendata("set", image, *args)
    _one_error(r, 2, "lone surrogate")
    assert image.read_bytes() == before and r.stdout == b""


@pytest.mark.parametrize("source, words", [
    ('{"prompt": "a\\ud800 cat", "steps": 3}', "lone surrogate"),
    ('{"prompt": "x", "extra": {"K\\udcff": "v"}}', "lone surrogate"),
    ('{"prompt": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    ('{"prompt": "x", "steps": 3', "broken JSON"),
    ("", "is empty"),
], ids=["surrogate", "surrogate-key", "deep", "broken", "empty"])
def test_bad_json_or_text_for_write(image: Path, source: str, words: str) -> None:
    src = image.parent / "s.json"
    src.write_text(source, encoding="utf-8")
    before = image.read_bytes()
    _one_error(run_gendata("write", image, "--from", src), 1, words)
    _one_error(run_gendata("write", image, "--from", "-", stdin=source.encode()), 1, words)
    assert image.read_bytes() == before


def test_write_from_reads_a_capped_amount(image: Path) -> None:
    before = image.read_bytes()
    with open(os.devnull if not os.path.exists("/dev/zero") else "/dev/zero", "rb") as zero:
        r = run_gendata("write", image, "--from", "-", stdin=zero, timeout=20)
    _one_error(r, 1, "more than 64 MiB")
    _one_error(run_gendata("write", image, "--from", "-", stdin=b"a\xffb\nSteps: 1"), 1,
               "not UTF-8 text (byte 0xff at offset 1)")
    assert image.read_bytes() == before
    r = run_gendata("write", image, "--from", "-", stdin=b"a cat\nSteps: 3, Seed: 4")
    assert r.returncode == 0 and gendata.read(image).params.seed == 4


def test_library_refuses_lone_surrogates(image: Path) -> None:
    before = image.read_bytes()
    with pytest.raises(ValidationError, match="lone surrogate"):
        gendata.write_text(image, "a\udcff\nSteps: 1")
    assert image.read_bytes() == before


def _bad_name(folder: Path) -> Path:
    try:
        path = Path(os.fsdecode(os.fsencode(str(folder)) + b"/\xffbad.png"))
        shutil.copyfile(BASIC, path)
    except (OSError, UnicodeError):
        pytest.skip("this file system takes only UTF-8 names")
    return path


def test_export_escapes_names_that_are_not_utf8(tmp_path: Path) -> None:
    bad = _bad_name(tmp_path)
    shutil.copyfile(BASIC, tmp_path / "good.png")
    r = run_gendata("export", tmp_path)
    assert r.returncode == 0, r.stderr
    paths = [json.loads(line)["path"] for line in r.stdout.decode("utf-8").splitlines()]
    assert sorted(os.fsencode(p) for p in paths) == sorted(
        [os.fsencode(bad), os.fsencode(tmp_path / "good.png")])
    assert b"\\udcffbad.png" in r.stdout
    r = run_gendata("export", "-f", "json", tmp_path)
    assert r.returncode == 0 and len(json.loads(r.stdout.decode("utf-8"))) == 2
    r = run_gendata("export", "-f", "csv", tmp_path)
    assert r.returncode == 0 and "\\udcffbad.png" in r.stdout.decode("utf-8")
    out = tmp_path / "out.jsonl"
    r = run_gendata("export", tmp_path / "good.png", bad, "-o", out)
    assert r.returncode == 0 and len(out.read_text(encoding="utf-8").splitlines()) == 2
    assert run_gendata("show", "--json", bad).returncode == 0
    assert run_gendata("show", bad).returncode == 0


def test_lone_surrogates_from_file_json_are_escaped(tmp_path: Path) -> None:
    params = 'a cat\nSteps: 20, Seed: 1, Note: "\\ud800 \\u001b]52;c;"'
    path = tmp_path / "s.png"
    path.write_bytes(builders.png(builders.ztxt("parameters", zlib.compress(params.encode()))))
    r = run_gendata("export", path)
    assert r.returncode == 0, r.stderr
    row = json.loads(r.stdout.decode("utf-8"))
    assert row["extra"]["Note"] == "\ud800 \x1b]52;c;"
    r = run_gendata("export", "-f", "csv", path)
    assert r.returncode == 0 and "\\ud800" in r.stdout.decode("utf-8")
    for args in (("show", path), ("show", "--json", path), ("diff", path, BASIC)):
        r = run_gendata(*args)
        assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
