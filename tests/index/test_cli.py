"""`gendata index` and `gendata search` through the real command line."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from gendata.cli import main
from gendata.indexing import build

from .conftest import make_image

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def lib(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    make_image(root / "fox.png", "a red fox in snow <lora:foxStyle:0.8>", "blurry", Seed=101,
               Steps=30, Model="dreamFox_v10")
    make_image(root / "cat.jpg", "a black cat", "lowres", Seed=102, Steps=20, Model="catMix")
    make_image(root / "sub" / "owl.webp", "an owl, 夜の森, 부엉이가 있다", Seed=103, Steps=40,
               Model="owlXL")
    return root


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=stdin)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def test_index_and_search_formats(lib: Path, db: Path) -> None:
    code, _, err = run("index", str(lib), "--db", str(db))
    assert code == 0 and "3 added" in err
    code, out, _ = run("search", "fox", "--db", str(db), "--paths")
    assert (code, out) == (0, f"{lib / 'fox.png'}\n")
    code, out, _ = run("search", "steps>=30", "--db", str(db), "--jsonl", "--sort", "seed:desc")
    objs = [json.loads(line) for line in out.splitlines()]
    assert [o["seed"] for o in objs] == [103, 101]
    assert objs[1]["loras"][0]["name"] == "foxStyle" and objs[1]["error"] is None
    code, out, _ = run("search", "--db", str(db), "--json", "--limit", "2")
    assert [o["seed"] for o in json.loads(out)] == [102, 101]  # by path: cat, fox
    code, out, _ = run("search", "model:*mix", "--db", str(db), "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["seed"] for r in rows] == ["102"] and "extra.Lora hashes" not in rows[0]
    code, out, _ = run("search", "부엉이", "--db", str(db))
    assert code == 0 and "owl.webp" in out and "1 image" in out
    code, out, _ = run("search", "森", "-neg:lowres", "--db", str(db), "--paths", "-0")
    assert out == f"{lib / 'sub' / 'owl.webp'}\0"


def test_search_exit_status(lib: Path, db: Path) -> None:
    run("index", str(lib), "--db", str(db))
    assert run("search", "zebra", "--db", str(db))[0] == 1
    assert run("search", "zebra", "--db", str(db), "--jsonl")[:2] == (1, "")
    code, _, err = run("search", "colour:red", "--db", str(db))
    assert code == 2 and err.count("\n") == 1 and "'colour:red'" in err
    code, _, err = run("search", "fox", "--db", str(db.parent / "none.sqlite"))
    assert code == 2 and "no index" in err
    assert run("search", "--sort", "nope", "--db", str(db))[0] == 2


def test_errors_rebuild_and_default_location(lib: Path, db: Path, tmp_path: Path) -> None:
    (lib / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    code, _, err = run("index", str(lib))  # the default database ($GENDATA_INDEX here)
    assert code == 0 and "1 with errors" in err
    assert Path(os.environ["GENDATA_INDEX"]).exists()
    code, out, _ = run("index", "--errors")
    assert out.startswith(f"{lib / 'broken.png'}: ") and out.count("\n") == 1
    code, _, err = run("index", "--rebuild", "-q")
    assert code == 0 and err == ""
    assert run("search", "fox", "--paths")[1] == f"{lib / 'fox.png'}\n"
    code, _, err = run("index", str(tmp_path / "missing"), "--db", str(db))
    assert code == 1 and "missing" in err
    help_text = run("index", "--help")[1]
    assert "GENDATA_INDEX" in help_text and "index.sqlite" in help_text


def test_search_paths_feed_export_and_diff(lib: Path, db: Path) -> None:
    run("index", str(lib), "--db", str(db))
    listed = run("search", "steps<=30", "--db", str(db), "--paths")[1]
    code, out, _ = run("export", "-", "-f", "jsonl", stdin=listed)
    assert code == 0 and [json.loads(x)["seed"] for x in out.splitlines()] == [102, 101]
    code, out, _ = run("diff", "-", "--json", stdin=listed)
    assert code == 0 and "changes" in json.loads(out)
    three = run("search", "--db", str(db), "--paths", "-0")[1]
    code, out, _ = run("diff", "-", "-0", "--jsonl", stdin=three)
    assert code == 0 and len(out.splitlines()) == 3
    assert run("diff", "-", stdin="")[0] == 2


def test_search_starts_without_the_model_or_rich(lib: Path, db: Path) -> None:
    run("index", str(lib), "--db", str(db))
    probe = (
        "import sys\n"
        "from gendata.cli import main\n"
        f"sys.argv = ['gendata', 'search', 'fox', '--db', {str(db)!r}, sys.argv[1]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('pydantic', 'rich', 'gendata.api', 'gendata.formats', "
        "'platformdirs') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for flag in ("--paths", "--jsonl"):
        out = subprocess.run([sys.executable, "-c", probe, flag], capture_output=True,
                             text=True, env=env, check=True).stdout
        assert out.splitlines()[-1] == "HEAVY []", (flag, out)


def test_dash_terms_are_query_terms_not_options(lib: Path, db: Path) -> None:
    run("index", str(lib), "--db", str(db))
    code, out, _ = run("search", "-fox", "-neg:lowres", "--db", str(db), "--paths")
    assert out == f"{lib / 'sub' / 'owl.webp'}\n"
    code, out, _ = run("search", "-f", "jsonl", "-n", "1", "-cat", "--db", str(db))
    assert [json.loads(x)["seed"] for x in out.splitlines()] == [101]
    code, _, err = run("search", "fox", "--jsn", "--db", str(db))
    assert code == 2 and "--jsn" in err
    assert run("search", "--db", str(db), "--paths", "--", "-fox")[1].count("\n") == 2


def test_a_folder_a_file_or_a_glob_that_is_gone_leaves_the_index(tmp_path: Path,
                                                                  db: Path) -> None:
    """What was indexed and is not there now leaves the index with its files, but stays a
    root (a drive not mounted, a folder renamed for a while) and comes back with its folder;
    `--forget` stops indexing a root; a PATH named that is gone is forgotten."""
    one = make_image(tmp_path / "one" / "a.png", "alpha", Seed=1).parent
    two = make_image(tmp_path / "two" / "b.png", "beta", Seed=2)
    make_image(tmp_path / "solo" / "c.png", "gamma", Seed=3)
    kept = make_image(tmp_path / "solo" / "d.png", "delta", Seed=4)
    code, _, err = run("index", str(one), str(two), str(tmp_path / "solo" / "*.png"),
                       "--db", str(db))
    assert code == 0 and "4 files: 4 added" in err
    roots = build.roots(db)
    one.rename(tmp_path / "one_away")  # unmounted, or renamed for a while
    two.unlink()
    (tmp_path / "solo" / "c.png").unlink()
    code, _, err = run("index", "--db", str(db))
    assert code == 0, err
    assert f"{one} is not there now" in err and f"{two} is not there now" in err
    assert "--forget" in err
    assert "1 file: 0 added, 0 updated, 1 unchanged; 3 removed" in err
    assert run("search", "--db", str(db), "--paths")[1] == f"{kept}\n"
    assert build.roots(db) == roots  # still roots
    (tmp_path / "one_away").rename(one)  # back again: indexed again
    code, _, err = run("index", "--db", str(db))
    assert code == 0 and "1 added" in err and "alpha" not in err
    assert run("search", "alpha", "--db", str(db), "--paths")[1] == f"{one / 'a.png'}\n"
    code, _, err = run("index", "--forget", str(two), str(one), "--db", str(db))
    assert code == 0 and "2 forgotten; 1 file left the index" in err
    assert build.roots(db) == [str(tmp_path / "solo" / "*.png")]
    code, _, err = run("index", "--db", str(db))
    assert code == 0 and "not there" not in err and "1 unchanged; 0 removed" in err
    # named: a typo is an error and not remembered; a named folder that is gone is forgotten
    code, _, err = run("index", str(tmp_path / "never"), "--db", str(db))
    assert code == 1 and "never: No such file or directory" in err
    code, _, err = run("index", str(tmp_path / "none" / "*.png"), "--db", str(db))
    assert code == 1 and "no files match this pattern" in err
    assert build.roots(db) == [str(tmp_path / "solo" / "*.png")]
    code, _, err = run("index", str(one), "--db", str(db))
    shutil.rmtree(one)
    code, _, err = run("index", str(one), "--db", str(db))
    assert code == 0 and f"{one} no longer exists" in err and "1 removed" in err
    assert build.roots(db) == [str(tmp_path / "solo" / "*.png")]
    # a glob root left empty stays, and says so; named, it is forgotten
    kept.unlink()
    code, _, err = run("index", "--db", str(db))
    assert code == 0 and "*.png matches no file now" in err and "1 removed" in err
    assert "--forget '" in err  # the suggested command quotes the glob
    code, _, err = run("index", str(tmp_path / "solo" / "*.png"), "--db", str(db))
    assert code == 0 and "no longer exists" in err and build.roots(db) == []


def test_forget_takes_roots_only(tmp_path: Path, db: Path) -> None:
    """--forget names roots; anything else is an error and nothing is removed. A glob
    root's files go, those of folders it named included (as `index GLOB` walks them)."""
    lib = tmp_path / "lib"
    make_image(lib / "a.png", "alpha", Seed=1)
    make_image(lib / "sub" / "b.png", "beta", Seed=2)
    make_image(tmp_path / "g" / "c.png", "gamma", Seed=3)
    make_image(tmp_path / "g" / "dir.png" / "inner.png", "delta", Seed=4)
    run("index", str(lib), str(tmp_path / "g" / "*.png"), "--db", str(db))
    assert len(run("search", "--db", str(db), "--paths")[1].split()) == 4
    code, _, err = run("index", "--forget", str(lib / "sub"), str(tmp_path / "never"),
                       "--db", str(db))
    assert code == 1 and "sub: not a folder, file or glob indexed as a root" in err
    assert "0 forgotten; 0 files left the index" in err
    assert len(run("search", "--db", str(db), "--paths")[1].split()) == 4
    code, _, err = run("index", "--forget", str(tmp_path / "g" / "*.png"), "--db", str(db))
    assert code == 0 and "1 forgotten; 2 files left the index" in err
    assert build.roots(db) == [str(lib)]


def test_a_gone_folder_whose_name_looks_like_a_glob(tmp_path: Path, db: Path) -> None:
    folder = make_image(tmp_path / "photos [2023]" / "a.png", "alpha", Seed=1).parent
    run("index", str(folder), "--db", str(db))
    shutil.rmtree(folder)
    code, _, err = run("index", "--db", str(db))
    assert code == 0 and "1 removed" in err
    assert run("search", "--db", str(db), "--paths")[0] == 1  # nothing left


def test_sort_puts_images_without_the_value_last(tmp_path: Path, db: Path) -> None:
    make_image(tmp_path / "lib" / "a.png", "x", Seed=5)
    make_image(tmp_path / "lib" / "b.png", "x", Seed=9)
    (tmp_path / "lib" / "c.png").write_bytes((tmp_path / "lib" / "a.png").read_bytes())
    from gendata import api

    api.write(tmp_path / "lib" / "c.png", api.read(tmp_path / "lib" / "c.png").params.edited(
        seed=None))
    run("index", str(tmp_path / "lib"), "--db", str(db))
    (tmp_path / "lib" / "d.png").write_bytes((tmp_path / "lib" / "a.png").read_bytes())
    from gendata import api as _api

    _api.write(tmp_path / "lib" / "d.png", _api.read(tmp_path / "lib" / "d.png").params.edited(
        prompt=""))
    run("index", str(tmp_path / "lib"), "--db", str(db))
    _, out, _ = run("search", "--db", str(db), "--paths", "--sort", "prompt")
    assert Path(out.split()[-1]).stem == "d"  # an empty prompt counts as none: last
    for sort, want in (("seed", "adbc"), ("seed:desc", "badc"), ("path:desc", "dcba")):
        _, out, _ = run("search", "--db", str(db), "--paths", "--sort", sort)
        assert "".join(Path(p).stem for p in out.split()) == want, sort


def test_the_table_is_one_line_an_image(tmp_path: Path, db: Path) -> None:
    """The table a person reads: one line an image however long its path or prompt (cut to
    the terminal, the path from its start so the file name shows), wide characters counted
    as two cells, control characters spelled out, "N of M" when -n cuts the matches."""
    from rich.cells import cell_len

    deep = tmp_path / ("very_long_folder_name_" * 4) / "sub"
    make_image(deep / "00001-42.png", "a fox " * 60, Seed=42)
    make_image(deep / "00002-43.png", "雪の中の狐 " * 40, Seed=43, Sampler="DPM++ 2M")
    make_image(deep / "00003-44.png", "a \x1b[31mred\x1b[0m fox", Seed=44)
    run("index", str(tmp_path), "--db", str(db))
    result = CliRunner().invoke(main, ["search", "--db", str(db)], env={"COLUMNS": "90"},
                                terminal_width=90)
    lines = result.stdout.splitlines()
    assert result.exit_code == 0 and lines[0] == "3 images"
    assert lines[1].split()[:3] == ["path", "seed", "steps"]
    assert len(lines) == 5 and all(cell_len(line) <= 90 for line in lines)
    assert [line.split()[0] for line in lines[2:]] == [
        "…" + line.split()[0][1:] for line in lines[2:]]  # cut from the start
    assert lines[2].split()[0].endswith("sub/00001-42.png") and " 42 " in lines[2]
    assert "雪の中の狐" in lines[3] and "\\x1b[31mred" in lines[4] and "\x1b" not in lines[4]
    result = CliRunner().invoke(main, ["search", "--db", str(db), "-n", "2", "--sort", "seed"])
    assert result.stdout.splitlines()[0] == "2 of 3 images"
