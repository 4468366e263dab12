"""The command line, through click's runner and as a real subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import gendata
from gendata.cli import main

from ..helpers import pixels


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(main, list(args), input=input)


def test_show_prints_prompt_parameters_and_networks(fixtures: Path) -> None:
    r = run("show", str(fixtures / "a1111_basic.png"))
    assert r.exit_code == 0, r.output
    for text in ("a red fox", "Negative prompt", "3141592653", "DPM++ 2M", "Hires fix",
                 "R-ESRGAN 4x+", "foxStyle_v2", "1a2b3c4d5e6f", "easynegative",
                 "ADetailer prompt", "Custom key"):
        assert text in r.output, text


def test_show_json_schema(fixtures: Path) -> None:
    r = run("show", "--json", str(fixtures / "a1111_basic.png"), str(fixtures / "a1111.jpg"))
    assert r.exit_code == 0
    objs = [json.loads(line) for line in r.output.splitlines()]
    assert len(objs) == 2
    o = objs[0]
    for key in ("path", "container", "generator", "prompt", "negative_prompt", "steps", "sampler",
                "scheduler", "cfg_scale", "seed", "width", "height", "model", "model_hash",
                "loras", "embeddings", "extra", "raw", "error"):
        assert key in o
    assert (o["container"], o["generator"], o["steps"], o["seed"]) == ("png", "a1111", 28,
                                                                       3141592653)
    assert o["loras"][0] == {"name": "foxStyle_v2", "weight": 0.8, "unet_weight": None,
                             "hash": "1a2b3c4d5e6f", "kind": "lora"}
    assert o["raw"]["parameters"].startswith("masterpiece")
    assert o["error"] is None
    assert objs[1]["container"] == "jpeg" and objs[1]["seed"] == 3141592653


def test_show_json_null_for_absent(fixtures: Path) -> None:
    o = json.loads(run("show", "--json", str(fixtures / "no_metadata.png")).output)
    assert o["generator"] is None and o["steps"] is None and o["prompt"] is None
    assert o["loras"] == [] and o["error"] is None


def test_show_raw_lists_every_chunk(fixtures: Path) -> None:
    r = run("show", "--raw", str(fixtures / "a1111_basic.png"))
    assert r.exit_code == 0
    assert "parameters" in r.output and "Comment" in r.output and "after IDAT" in r.output


def test_bad_files_are_reported_and_others_still_shown(fixtures: Path) -> None:
    r = run("show", str(fixtures / "not_an_image.png"), str(fixtures / "a1111_basic.png"),
            str(fixtures / "prompt_only.png"), "missing.png")
    assert r.exit_code == 1
    assert "a red fox" in r.stdout
    err = r.stderr
    assert "not_an_image.png: not a PNG, JPEG or WebP image" in err
    assert "prompt_only.png: parameters text has no settings line" in err
    assert "missing.png: no such file" in err
    assert "Traceback" not in r.output + err


def test_set_in_place_and_to_output(tmp_path: Path, fixtures: Path) -> None:
    p = tmp_path / "a.png"
    shutil.copy(fixtures / "a1111_basic.png", p)
    r = run("set", str(p), "--steps", "30", "--seed", "42", "--prompt", "a new prompt",
            "--negative", "ugly", "--param", "Hires upscale=2", "--unset", "Clip skip")
    assert r.exit_code == 0, r.output
    params = gendata.read(p).params
    assert (params.steps, params.seed, params.prompt, params.negative_prompt) == (
        30, 42, "a new prompt", "ugly")
    assert params.hires_upscale == 2.0 and params.clip_skip is None
    assert params.extra["Custom key"] == "kept as is"
    out = tmp_path / "out.png"
    r = run("set", str(p), "--cfg", "4.5", "-o", str(out))
    assert r.exit_code == 0
    assert gendata.read(out).params.cfg_scale == 4.5
    assert gendata.read(p).params.cfg_scale == 6.5


def test_set_rejects_bad_values_and_writes_nothing(tmp_path: Path, fixtures: Path) -> None:
    p = tmp_path / "a.png"
    shutil.copy(fixtures / "a1111_basic.png", p)
    before = p.read_bytes()
    r = run("set", str(p), "--steps", "abc")
    assert r.exit_code == 1
    assert "steps must be a positive integer, got 'abc'" in r.stderr
    r = run("set", str(p), "--size", "big")
    assert r.exit_code == 1 and "Size must be WIDTHxHEIGHT" in r.stderr
    assert p.read_bytes() == before
    assert run("set", str(p)).exit_code == 2
    assert run("set", str(p), "--param", "novalue").exit_code == 2


def test_set_dry_run(fixtures: Path) -> None:
    r = run("set", str(fixtures / "a1111_basic.png"), "--steps", "5", "--dry-run")
    assert r.exit_code == 0 and "Steps: 5," in r.output


def test_set_on_file_without_metadata(tmp_path: Path, fixtures: Path) -> None:
    p = tmp_path / "n.png"
    shutil.copy(fixtures / "no_metadata.png", p)
    assert run("set", str(p), "--prompt", "x", "--steps", "20", "--seed", "3").exit_code == 0
    params = gendata.read(p).params
    assert (params.prompt, params.steps, params.seed, params.width) == ("x", 20, 3, 32)


def test_strip_dry_run_and_real(tmp_path: Path, fixtures: Path) -> None:
    p = tmp_path / "a.jpg"
    shutil.copy(fixtures / "a1111.jpg", p)
    r = run("strip", "--dry-run", str(p))
    assert "would remove EXIF UserComment" in r.output
    assert gendata.read(p).params is not None
    r = run("strip", str(p))
    assert r.exit_code == 0 and gendata.read(p).params is None
    assert pixels(p) == pixels(fixtures / "a1111.jpg")


def test_copy_command(tmp_path: Path, fixtures: Path) -> None:
    d = tmp_path / "d.webp"
    shutil.copy(fixtures / "a1111.webp", d)
    r = run("copy", str(fixtures / "a1111_unicode.png"), str(d))
    assert r.exit_code == 0
    assert gendata.read(d).params.prompt.startswith("1girl")
    r = run("copy", str(fixtures / "no_metadata.png"), str(d))
    assert r.exit_code == 1 and "no generation data" in r.stderr


def test_write_from_text_and_json(tmp_path: Path, fixtures: Path) -> None:
    p = tmp_path / "a.png"
    shutil.copy(fixtures / "no_metadata.png", p)
    r = run("write", str(p), "--from", str(fixtures / "a1111_basic.txt"))
    assert r.exit_code == 0
    assert gendata.read(p).params.origin.text == (fixtures / "a1111_basic.txt").read_text(
        encoding="utf-8").rstrip("\n")
    obj = json.loads(run("show", "--json", str(fixtures / "a1111_unicode.png")).output)
    obj["seed"] = 7
    j = tmp_path / "p.json"
    j.write_text(json.dumps(obj), encoding="utf-8")
    assert run("write", str(p), "--from", str(j)).exit_code == 0
    params = gendata.read(p).params
    assert (params.seed, params.prompt) == (7, obj["prompt"])
    r = run("write", str(p), "--from", "-", input="a\nSteps: 3, Sampler: Euler, Seed: 4\n")
    assert r.exit_code == 0 and gendata.read(p).params.steps == 3
    bad = tmp_path / "bad.json"
    bad.write_text('{"steps": ', encoding="utf-8")
    r = run("write", str(p), "--from", str(bad))
    assert r.exit_code == 1 and "broken JSON" in r.stderr


def test_real_subprocess(tmp_path: Path, fixtures: Path) -> None:
    cmd = [sys.executable, "-m", "gendata"]
    r = subprocess.run([*cmd, "show", "--json", str(fixtures / "a1111_basic.png")],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["seed"] == 3141592653
    p = tmp_path / "a.png"
    shutil.copy(fixtures / "a1111_basic.png", p)
    r = subprocess.run([*cmd, "set", str(p), "--steps", "12"], capture_output=True, text=True,
                       check=False)
    assert r.returncode == 0 and gendata.read(p).params.steps == 12
    r = subprocess.run([*cmd, "show", str(fixtures / "not_an_image.png")], capture_output=True,
                       text=True, check=False)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.strip().startswith("gendata: error:")
    assert subprocess.run([*cmd, "bogus"], capture_output=True, check=False).returncode == 2


@pytest.mark.parametrize("module", ["click", "rich", "textual", "torch", "numpy"])
def test_import_gendata_stays_light(module: str) -> None:
    code = ("import sys, gendata; gendata.read; import gendata.api; "
            f"print({module!r} in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"


def test_set_stealth_on_jpeg_is_refused_before_writing(tmp_path: Path, fixtures: Path) -> None:
    p = tmp_path / "a.jpg"
    shutil.copy(fixtures / "a1111.jpg", p)
    before = p.read_bytes()
    r = run("set", str(p), "--steps", "3", "--stealth")
    assert r.exit_code == 1 and "stealth copies need a lossless PNG" in r.stderr
    assert p.read_bytes() == before


def test_set_stealth_survives_strip(tmp_path: Path, fixtures: Path) -> None:
    p = tmp_path / "a.png"
    shutil.copy(fixtures / "a1111_unicode.png", p)
    assert run("set", str(p), "--seed", "77", "--stealth").exit_code == 0
    assert run("strip", str(p)).exit_code == 0
    rec = gendata.read(p)
    assert rec.params is not None and rec.params.seed == 77
    assert any(e.location.startswith("stealth:") for e in rec.raw.entries)
