"""Injection and bad text at the command line: what `set` writes reads back or is refused
in one line; metadata cannot drive the reader's terminal; CSV cells cannot run as
spreadsheet formulas."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image, PngImagePlugin

from gendata.cli import main

BASE = ("a cat\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 5, "
        'Size: 8x8, Model hash: 45a21ea00a, Model: dreamFox, Hashes: {"model": "45a21ea00a"}')
# OSC 52 (write the clipboard), CSI (clear the screen, colours), C1 CSI, a bidi override,
# a NUL, and rich markup that would restyle or stop the view if it were read as markup.
HOSTILE = ("a \x1b]52;c;aGk=\x07 cat \x1b[2J [/] [red]x[/red] \x9b31m \u202egnp.exe\x00"
           "\nNegative prompt: \x1b[31mneg\nSteps: 20, Sampler: Euler\x1b[1m, Seed: 5, "
           "Size: 8x8, Note: \"\\u001b]0;title\\u0007\", Formula: =HYPERLINK(\"http://x\")")
RAW_CONTROLS = ("\x1b", "\x07", "\x9b", "\u202e", "\x00")


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env)


def png(path: Path, text: str = BASE) -> Path:
    info = PngImagePlugin.PngInfo()
    info.add_itxt("parameters", text)
    Image.new("RGB", (8, 8), (1, 2, 3)).save(path, pnginfo=info)
    return path


def show_json(path: Path) -> dict:
    r = run("show", "--json", str(path))
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


# --- set: what you set is what you read back ------------------------------------------------

def test_set_keeps_a_value_with_settings_in_it_one_value(tmp_path: Path) -> None:
    path = png(tmp_path / "a.png")
    r = run("set", str(path), "--sampler", "Euler a, Steps: 99",
            "--param", "Note=x, Seed: 1")
    assert r.exit_code == 0, r.output
    o = show_json(path)
    assert (o["sampler"], o["steps"], o["seed"]) == ("Euler a, Steps: 99", 20, 5)
    assert o["extra"]["Note"] == "x, Seed: 1"


@pytest.mark.parametrize("args", [
    ["--prompt", "x\nNegative prompt: evil"],
    ["--param", "a\nb=1"],
    ["--param", "a,b=1"],
    ["--seed", "-1"],
    ["--seed", str(2**64)],
    ["--steps", "20000"],
    ["--cfg", "inf"],
    ["--cfg", "nan"],
    ["--denoise", "1.5"],
    ["--width", "70000"],
    ["--clip-skip", "0"],
])
def test_set_refuses_in_one_line_and_writes_nothing(tmp_path: Path, args: list[str]) -> None:
    path = png(tmp_path / "a.png")
    before = path.read_bytes()
    r = run("set", str(path), *args)
    assert r.exit_code == 1, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gendata: error: "), r.stderr
    assert "Traceback" not in r.output
    assert path.read_bytes() == before


def test_set_minus_one_seed_says_why(tmp_path: Path) -> None:
    r = run("set", str(png(tmp_path / "a.png")), "--seed", "-1")
    assert "random" in r.stderr and "between 0 and 18446744073709551615" in r.stderr


def test_a_file_with_odd_values_is_read_and_edited(tmp_path: Path) -> None:
    text = "p\nSteps: 20000, Sampler: Euler, Seed: -1, Size: 8x8"
    path = png(tmp_path / "a.png", text)
    o = show_json(path)
    assert (o["steps"], o["seed"]) == (20000, -1)
    assert run("set", str(path), "--cfg", "5").exit_code == 0
    assert show_json(path)["raw"]["parameters"] == text + ", CFG scale: 5"


def test_renaming_the_model_warns_and_drops_the_old_hash(tmp_path: Path) -> None:
    path = png(tmp_path / "a.png")
    r = run("set", str(path), "--model", "otherModel")
    assert r.exit_code == 0, r.output
    assert "warning" in r.stderr and "45a21ea00a" in r.stderr and "--model-hash" in r.stderr
    o = show_json(path)
    assert (o["model"], o["model_hash"]) == ("otherModel", None)
    assert "Hashes" not in o["extra"]
    r = run("set", str(path), "--model", "third", "--model-hash", "0123456789")
    assert "warning" not in r.stderr
    assert show_json(path)["model_hash"] == "0123456789"


# --- show, diff: control characters are spelled out ----------------------------------------

@pytest.mark.parametrize("env", [None, {"FORCE_COLOR": "1", "COLUMNS": "200"}],
                         ids=["pipe", "terminal"])
@pytest.mark.parametrize("args", [["show"], ["show", "--raw"]], ids=["show", "raw"])
def test_show_spells_out_control_characters(tmp_path: Path, env: dict | None,
                                            args: list[str]) -> None:
    path = png(tmp_path / "evil.png", HOSTILE)
    r = run(*args, str(path), env=env)
    assert r.exit_code == 0, r.output
    out = r.stdout
    if env:  # rich's own colours: CSI sequences of SGR only, never OSC or a clear screen
        assert "\x1b]" not in out and "\x1b[2J" not in out
        out = _strip_sgr(out)
    for c in RAW_CONTROLS:
        assert c not in out, repr(c)
    assert "\\x1b]52;c;aGk=\\x07" in out.replace("\n", "").replace(" ", "") or args[-1] == "--raw"
    assert "\\u202e" in out and "[/]" in out and "[red]x[/red]" in out


def _strip_sgr(text: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def test_show_json_escapes_control_characters(tmp_path: Path) -> None:
    path = png(tmp_path / "evil.png", HOSTILE)
    r = run("show", "--json", str(path))
    for c in RAW_CONTROLS:
        assert c not in r.stdout
    assert json.loads(r.stdout)["prompt"].startswith("a \x1b]52;c;")


def test_diff_spells_out_control_characters(tmp_path: Path) -> None:
    a = png(tmp_path / "a.png", HOSTILE)
    b = png(tmp_path / "b.png", HOSTILE.replace("Seed: 5", "Seed: 6").replace(
        "blurry", "x").replace("cat", "dog"))
    c = png(tmp_path / "c.png")
    for args in ([str(a), str(b)], [str(a), str(b), str(c)]):
        r = run("diff", *args, env={"FORCE_COLOR": "1", "COLUMNS": "200"})
        assert r.exit_code == 0, r.output
        out = _strip_sgr(r.stdout)
        for ch in RAW_CONTROLS:
            assert ch not in out, (args, repr(ch))


def test_error_lines_spell_out_control_characters(tmp_path: Path) -> None:
    path = tmp_path / "bad\x1b[2Jname.png"
    path.write_bytes(b"not an image")
    r = run("show", str(path))
    assert r.exit_code == 1
    assert "\x1b" not in r.stderr and "bad\\x1b[2Jname.png" in r.stderr


# --- CSV: formula cells are guarded ---------------------------------------------------------

FORMULAS = ("=1+2", "+SUM(A1)", "-2+3", "@cmd", "\t=x", "\r=x")


def _formula_file(tmp_path: Path) -> Path:
    cells = ", ".join(f'F{i}: "{f}"' if f[0] in "\t\r" else f"F{i}: {f}"
                      for i, f in enumerate(FORMULAS))
    text = ("=HYPERLINK(\"http://evil\")\nNegative prompt: -x\n"
            f"Steps: 20, CFG scale: -3.5, Seed: 5, Size: 8x8, Eta: -0.25, {cells}")
    text = text.replace('"\t=x"', '"\\t=x"').replace('"\r=x"', '"\\r=x"')
    return png(tmp_path / "f.png", text)


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("command", [["export", "-f", "csv"], ["show", "--csv"]])
def test_csv_guards_formula_cells(tmp_path: Path, command: list[str]) -> None:
    path = _formula_file(tmp_path)
    r = run(*command, str(path))
    assert r.exit_code == 0, r.output
    (row,) = _rows(r.stdout)
    assert row["prompt"] == "'=HYPERLINK(\"http://evil\")"
    assert row["negative_prompt"] == "'-x"
    for i, f in enumerate(FORMULAS):
        assert row[f"extra.F{i}"] == "'" + f
    assert (row["cfg_scale"], row["extra.Eta"]) == ("-3.5", "-0.25")  # numbers stay numbers
    r = run(*command, "--no-formula-guard", str(path))
    (row,) = _rows(r.stdout)
    assert row["prompt"] == "=HYPERLINK(\"http://evil\")"
    assert [row[f"extra.F{i}"] for i in range(len(FORMULAS))] == list(FORMULAS)


def test_csv_extra_json_column_and_diff_csv_are_guarded(tmp_path: Path) -> None:
    path = _formula_file(tmp_path)
    r = run("export", "-f", "csv", "--csv-extra", "json", "--fields", "prompt,extra",
            str(path))
    (row,) = _rows(r.stdout)
    assert row["prompt"].startswith("'=")
    other = png(tmp_path / "g.png", BASE)
    third = png(tmp_path / "h.png", BASE.replace("a cat", "@dog"))
    r = run("diff", "--csv", str(path), str(other), str(third))
    assert r.exit_code == 0, r.output
    cells = [c for row in csv.reader(io.StringIO(r.stdout, newline="")) for c in row]
    assert "'@dog" in cells
    assert not [c for c in cells if c and c[0] in "=+-@\t\r" and not _number(c)]
    r = run("diff", "--csv", "--no-formula-guard", str(path), str(other), str(third))
    assert "@dog" in [c for row in csv.reader(io.StringIO(r.stdout, newline="")) for c in row]


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
