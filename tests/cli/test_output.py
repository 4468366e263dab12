"""The output options `show`, `export` and `diff` share (-f/--format, --json, --jsonl,
--csv), their older spellings, and `emit`."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gendata import api
from gendata.cli import main

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
SWEEP = sorted(str(p) for p in (FIXTURES / "seed_sweep").glob("*.png"))
FILES = [str(FIXTURES / n) for n in ("a1111_basic.png", "a1111.jpg", "a1111_unicode.png",
                                      "no_metadata.png")]


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def ok(*args: str) -> str:
    res = run(*args)
    assert res.exit_code == 0, res.output
    return res.stdout_bytes.decode("utf-8")  # as written: Result.stdout turns CRLF into LF


# --- show ----------------------------------------------------------------------------------

def test_show_json_keeps_printing_json_lines() -> None:
    lines = ok("show", "--json", *FILES)
    assert lines == ok("show", "--jsonl", *FILES) == ok("show", "-f", "jsonl", *FILES)
    assert lines == ok("show", "--format", "jsonl", "--json", *FILES)
    objs = [json.loads(line) for line in lines.splitlines()]
    assert [o["path"] for o in objs] == FILES
    assert objs[0] == api.read(FILES[0]).to_json()


def test_show_format_json_is_one_array() -> None:
    text = ok("show", "-f", "json", *FILES)
    assert text.startswith("[\n{") and text.endswith("}\n]\n")
    lines = ok("show", "--jsonl", *FILES)
    assert json.loads(text) == [json.loads(line) for line in lines.splitlines()]
    assert text == ok("export", "-q", "-j", "1", "-f", "json", *FILES)
    one = ok("show", "-f", "json", FILES[0])
    assert json.loads(one) == [json.loads(ok("show", "--json", FILES[0]))]


def test_show_csv_is_exports_csv() -> None:
    text = ok("show", "--csv", *FILES)
    assert text == ok("show", "-f", "csv", *FILES)
    assert text == ok("export", "-q", "-j", "1", "-f", "csv", *FILES)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [r["path"] for r in rows] == FILES
    assert rows[0]["seed"] == "3141592653" and rows[0]["extra.Custom key"] == "kept as is"
    assert rows[3]["prompt"] == "" and rows[3]["extra.Custom key"] == ""
    assert "\r\n" in text


def test_show_raw_entries_in_every_json_form() -> None:
    rec = api.read(FILES[0])
    want = [e.to_json() for e in rec.raw.entries]
    assert list(want[0]) == ["container", "location", "key", "size", "offset", "after_idat",
                             "text"]
    params = next(e for e in want if e["key"] == "parameters")
    assert params["location"] == "tEXt" and params["text"] == rec.raw.text("parameters")
    for args in (("--json",), ("--jsonl",), ("-f", "json")):
        text = ok("show", "--raw", *args, FILES[0])
        obj = json.loads(text)
        obj = obj[0] if isinstance(obj, list) else obj
        assert obj["raw_entries"] == want


def test_show_errors_keep_the_record_and_exit_1() -> None:
    bad = str(FIXTURES / "not_an_image.png")
    for args in (("--json",), ("-f", "json"), ("--csv",)):
        res = run("show", *args, FILES[0], bad)
        assert res.exit_code == 1
        assert "not_an_image.png" in res.stderr
        if args == ("--csv",):
            rows = list(csv.DictReader(io.StringIO(res.stdout, newline="")))
        elif args == ("--json",):
            rows = [json.loads(line) for line in res.stdout.splitlines()]
        else:
            rows = json.loads(res.stdout)
        assert [r["path"] for r in rows] == [FILES[0], bad]
        assert rows[1]["error"]


def test_show_table_is_the_default() -> None:
    text = ok("show", FILES[0])
    assert text == ok("show", "-f", "table", FILES[0])
    assert "Negative prompt" in text


@pytest.mark.parametrize("args", [("--json", "--csv"), ("-f", "json", "--jsonl"),
                                  ("--jsonl", "--csv"), ("-f", "csv", "--raw"),
                                  ("-f", "yaml")])
def test_show_usage_errors(args: tuple[str, ...]) -> None:
    res = run("show", *args, FILES[0])
    assert res.exit_code == 2
    assert "exclusive" in res.stderr or "raw" in res.stderr or "yaml" in res.stderr


# --- export --------------------------------------------------------------------------------

def test_export_flags_are_format_shortcuts() -> None:
    common = ("-q", "-j", "1", str(FIXTURES / "seed_sweep"))
    assert ok("export", "--json", *common) == ok("export", "-f", "json", *common)
    assert ok("export", "--csv", *common) == ok("export", "-f", "csv", *common)
    jsonl = ok("export", *common)
    assert jsonl == ok("export", "--jsonl", *common) == ok("export", "-f", "jsonl", *common)
    assert len(jsonl.splitlines()) == 4
    assert ok("export", "--csv", "-f", "csv", *common) == ok("export", "--csv", *common)
    res = run("export", "-f", "csv", "--json", *common)
    assert res.exit_code == 2 and "-f csv and --json are exclusive" in res.stderr
    assert run("export", "-f", "table", *common).exit_code == 2


# --- diff ----------------------------------------------------------------------------------

def test_diff_batch_formats() -> None:
    doc = ok("diff", "--json", *SWEEP)
    assert doc == ok("diff", "-f", "json", *SWEEP)
    rows = json.loads(doc)["rows"]
    jsonl = ok("diff", "--jsonl", *SWEEP)
    assert jsonl == ok("diff", "-f", "jsonl", *SWEEP)
    assert [json.loads(line) for line in jsonl.splitlines()] == rows
    text = ok("diff", "--csv", *SWEEP)
    assert text == ok("diff", "-f", "csv", *SWEEP)
    assert text == "path,seed\r\n" + "".join(f"{p},{1001 + i}\r\n" for i, p in enumerate(SWEEP))
    assert ok("diff", *SWEEP) == ok("diff", "-f", "table", *SWEEP)


def test_diff_pair_formats() -> None:
    a, b = FILES[0], FILES[2]
    assert ok("diff", "--json", a, b) == ok("diff", "-f", "json", a, b)
    assert ok("diff", a, b) == ok("diff", "--format", "table", a, b)
    for args in (("--csv",), ("--jsonl",), ("-f", "csv")):
        res = run("diff", *args, a, b)
        assert res.exit_code == 2 and "is for batch diffs" in res.stderr
    res = run("diff", "--json", "--csv", *SWEEP)
    assert res.exit_code == 2 and "--json and --csv are exclusive" in res.stderr


# --- emit and the decorator ----------------------------------------------------------------

def test_emit_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    from gendata.cli.output import emit

    emit([], "json")
    assert capsys.readouterr().out == "[]\n"
    emit([{"a": 1, "b": "x,y"}, {"c": None, "a": [1]}], "csv")
    assert capsys.readouterr().out == 'a,b,c\r\n1,"x,y",\r\n[1],,\r\n'
    with pytest.raises(ValueError):
        emit([], "table")


def test_output_options_refuses_unknown_formats() -> None:
    from gendata.cli.output import output_options

    with pytest.raises(ValueError):
        output_options(formats=("json", "xml"))
    with pytest.raises(ValueError):
        output_options(formats=("json",), default="table")


def test_record_formats_stay_light(tmp_path: Path) -> None:
    """Printing records never imports pydantic or rich for plain A1111 files."""
    from ..services.test_export import tiny_png

    for i in range(2):
        (tmp_path / f"{i}.png").write_bytes(tiny_png(f"a cat\nSteps: 20, Seed: {i}, Size: 8x8"))
    calls = [["show", "-f", "json", str(tmp_path / "0.png")],
             ["show", "--jsonl", str(tmp_path / "1.png")],
             ["show", "--csv", str(tmp_path / "0.png"), str(tmp_path / "1.png")],
             ["export", "--csv", "-j", "1", str(tmp_path)]]
    code = (
        "import sys; from click.testing import CliRunner; from gendata.cli import main; "
        f"rs = [CliRunner().invoke(main, c) for c in {calls!r}]; "
        "assert all(r.exit_code == 0 and 'cat' in r.stdout for r in rs), [r.output for r in rs];"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'rich')))"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
