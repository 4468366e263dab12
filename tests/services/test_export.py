"""`gendata export` and the batch service: walking, parallel reading, JSON/JSONL/CSV output."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from gendata.cli import main

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"

GOOD = ["a1111_basic.png", "a1111.jpg", "a1111.webp", "a1111_unicode.png",
        "a1111_lossless.webp", "a1111_unicode.jpg", "a1111_after_idat.png", "no_metadata.png"]


def _chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I4s", len(data), ctype) + data + struct.pack(
        ">I", zlib.crc32(data, zlib.crc32(ctype)))


_IDAT = _chunk(b"IDAT", zlib.compress(b"\0\0\0\0"))
_IHDR = _chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))


def tiny_png(text: str) -> bytes:
    """A valid 1x1 PNG with `text` as its `parameters` (tEXt, or iTXt when not Latin-1)."""
    try:
        body = _chunk(b"tEXt", b"parameters\0" + text.encode("latin-1"))
    except UnicodeEncodeError:
        body = _chunk(b"iTXt", b"parameters\0\0\0\0\0" + text.encode("utf-8"))
    return b"\x89PNG\r\n\x1a\n" + _IHDR + body + _IDAT + _chunk(b"IEND", b"")


def make_corpus(folder: Path, n: int, per_dir: int = 500) -> None:
    for i in range(n):
        sub = folder / f"d{i // per_dir:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        extra = f", Style {i % 7}: on" if i % 3 == 0 else ""
        text = (f"a photo of a cat number {i}, sharp focus\nNegative prompt: blurry\n"
                f"Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: {i}, Size: 512x512{extra}")
        (sub / f"img{i:05d}.png").write_bytes(tiny_png(text))


@pytest.fixture
def mixed(tmp_path: Path) -> tuple[Path, list[str], list[str]]:
    """A folder of good PNG/JPEG/WebP images, bad files and non-images, nested."""
    root = tmp_path / "lib"
    (root / "sub" / "deeper").mkdir(parents=True)
    good: list[str] = []
    for i, name in enumerate(GOOD):
        folder = root / "sub" / "deeper" if i % 3 == 0 else root / "sub" if i % 2 else root
        dst = folder / name
        shutil.copy(FIXTURES / name, dst)
        good.append(str(dst))
    bad = []
    broken = root / "sub" / "truncated.png"
    broken.write_bytes((FIXTURES / "a1111_basic.png").read_bytes()[:200])
    fake = root / "not_an_image.png"
    shutil.copy(FIXTURES / "not_an_image.png", fake)
    empty = root / "sub" / "deeper" / "empty.webp"
    empty.write_bytes(b"")
    prompt_only = root / "prompt_only.png"
    shutil.copy(FIXTURES / "prompt_only.png", prompt_only)
    bad = [str(broken), str(fake), str(empty), str(prompt_only)]
    (root / "notes.txt").write_text("not an image and not named like one\n")
    (root / "sub" / "meta.json").write_text("{}\n")
    return root, good, bad


def show_json(path: str) -> dict[str, Any]:
    res = CliRunner().invoke(main, ["show", "--json", path])
    return json.loads(res.stdout)


def run(args: list[str], input: str | None = None) -> Any:
    return CliRunner().invoke(main, args, input=input)


# --- the done-means checks ---------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_export_mixed_folder_json_matches_show(mixed, fmt: str) -> None:
    root, good, bad = mixed
    res = run(["export", "-r", "-f", fmt, str(root)])
    assert res.exit_code == 1, res.stderr
    if fmt == "json":
        records = json.loads(res.stdout)
    else:
        records = [json.loads(line) for line in res.stdout.splitlines()]
    by_path = {r["path"]: r for r in records}
    assert sorted(by_path) == sorted(good + bad)  # one record each; .txt/.json not read
    for path in good:
        assert by_path[path] == show_json(path)
        assert by_path[path]["error"] is None
    for path in bad:
        assert by_path[path]["error"], path
        assert path in res.stderr  # listed at the end with its reason
    assert f"{len(bad)} of {len(good) + len(bad)} files failed" in res.stderr


def _csv_value(column: str, cell: str, ref: dict[str, Any]) -> Any:
    """Turn a CSV cell back into the show --json value, by the rules in docs/batch.md."""
    from gendata.export import lora_cell

    if column == "loras":
        assert cell == lora_cell(ref["loras"])
        return ref["loras"]
    if column == "embeddings":
        names = cell.split("; ") if cell else []
        assert names == [e["name"] for e in ref["embeddings"]]
        return ref["embeddings"]
    if column in ("notes", "warnings"):
        return cell.split("\n") if cell else []
    if column == "samplers":
        return json.loads(cell) if cell else []
    value = ref.get(column) if not column.startswith("extra.") else ref["extra"].get(column[6:])
    if cell == "":
        return "" if value == "" else None
    if isinstance(value, bool):
        return cell == "true"
    if isinstance(value, int):
        return int(cell)
    if isinstance(value, float):
        return float(cell)
    return cell


def test_export_mixed_folder_csv_matches_show(mixed, tmp_path: Path) -> None:
    root, good, bad = mixed
    out = tmp_path / "out.csv"
    res = run(["export", "-r", "-f", "csv", "-o", str(out), str(root)])
    assert res.exit_code == 1
    with out.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    from gendata.export import CSV_COLUMNS

    header = list(rows[0])
    assert header[: len(CSV_COLUMNS)] == list(CSV_COLUMNS)
    extra_cols = header[len(CSV_COLUMNS):]
    assert extra_cols == sorted(extra_cols, key=lambda k: (k.casefold(), k))
    assert {c[6:] for c in extra_cols} == {k for p in good for k in show_json(p)["extra"]}
    by_path = {r["path"]: r for r in rows}
    assert sorted(by_path) == sorted(good + bad)
    for path in good:
        ref = show_json(path)
        row = by_path[path]
        for column in CSV_COLUMNS:
            assert _csv_value(column, row[column], ref) == ref[column], (path, column)
        for column in extra_cols:
            assert _csv_value(column, row[column], ref) == ref["extra"].get(column[6:])
    for path in bad:
        assert by_path[path]["error"]


def test_export_csv_reads_in_pandas(mixed, tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    root, good, bad = mixed
    out = tmp_path / "out.csv"
    run(["export", "-r", "-f", "csv", "-o", str(out), str(root)])
    frame = pd.read_csv(out, keep_default_na=False, dtype=str)
    assert len(frame) == len(good) + len(bad)
    for path in good:
        ref = show_json(path)
        row = frame[frame["path"] == path].iloc[0]
        assert row["prompt"] == (ref["prompt"] or "")  # null is an empty cell
        assert row["seed"] == ("" if ref["seed"] is None else str(ref["seed"]))


def test_csv_quotes_commas_quotes_newlines_and_unicode(tmp_path: Path) -> None:
    prompt = 'a "quoted" word, a comma\nsecond line, 猫, émoji 🦊, trailing "'
    text = prompt + "\nNegative prompt: x, \"y\"\nSteps: 5, Sampler: Euler, Seed: 1, Size: 8x8"
    (tmp_path / "q.png").write_bytes(tiny_png(text))
    for extra in ("columns", "json"):
        res = run(["export", "-f", "csv", "--csv-extra", extra, str(tmp_path)])
        assert res.exit_code == 0, res.stderr
        rows = list(csv.DictReader(io.StringIO(res.stdout, newline="")))
        assert rows[0]["prompt"] == prompt
        assert rows[0]["negative_prompt"] == 'x, "y"'


@given(st.lists(st.text(alphabet=st.sampled_from('ab ,"\n\r猫\t'), max_size=8), min_size=1,
                max_size=5))
def test_csv_line_agrees_with_csv_module(cells: list[str]) -> None:
    from gendata.csvenc import csv_line

    buf = io.StringIO(newline="")
    csv.writer(buf).writerow(cells)
    mine = csv_line(cells, guard=False) + "\r\n"  # the formula guard is tested apart
    assert next(csv.reader(io.StringIO(mine, newline=""))) == next(
        csv.reader(io.StringIO(buf.getvalue(), newline="")))


@given(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                 st.text(alphabet=st.sampled_from('ab ,"\n\r猫'), max_size=6),
                 st.lists(st.integers(), max_size=2)))
def test_csv_text_is_quoted_csv_value(value: object) -> None:
    from gendata.csvenc import csv_quote, csv_text, csv_value

    assert csv_text(value) == csv_quote(csv_value(value))


def test_fields_select_and_order(mixed) -> None:
    root, _, _ = mixed
    res = run(["export", "-r", "-f", "jsonl", "--fields", "seed,path",
               "--fields", "extra.Custom key", str(root / "sub")])
    recs = [json.loads(line) for line in res.stdout.splitlines()]
    assert all(list(r) == ["seed", "path", "extra"] for r in recs)
    res = run(["export", "-r", "-f", "csv", "--fields", "path,seed,extra", str(root)])
    header = next(csv.reader(io.StringIO(res.stdout)))
    assert header[:2] == ["path", "seed"] and all(h.startswith("extra.") for h in header[2:])
    res = run(["export", "--fields", "nonsense", str(root)])
    assert res.exit_code == 2 and "unknown field" in res.stderr


def test_stdin_globs_and_missing(mixed) -> None:
    root, good, _ = mixed
    res = run(["export", "-f", "jsonl", "--fields", "path,error", "-"],
              input="\n".join(good[:3]) + "\n")
    assert [json.loads(x)["path"] for x in res.stdout.splitlines()] == good[:3]
    assert res.exit_code == 0
    res = run(["export", "-f", "jsonl", "--fields", "path", str(root / "**" / "*.webp")])
    assert sorted(json.loads(x)["path"] for x in res.stdout.splitlines()) == sorted(
        str(p) for p in root.rglob("*.webp"))
    res = run(["export", "-f", "json", str(root / "nope.png"), str(root / "zz*.png")])
    assert res.exit_code == 1
    assert [r["error"] for r in json.loads(res.stdout)] == [
        f"{root / 'nope.png'}: no such file", f"{root / 'zz*.png'}: no files match this pattern"]


def test_folder_without_recursion_reads_only_its_own_files(mixed) -> None:
    root, _, _ = mixed
    res = run(["export", "-f", "jsonl", "--fields", "path", str(root)])
    paths = [json.loads(x)["path"] for x in res.stdout.splitlines()]
    assert paths == sorted(paths) and all(Path(p).parent == root for p in paths)


def test_no_progress_output_on_a_pipe(mixed) -> None:
    root, _, bad = mixed
    res = run(["export", "-r", "-f", "jsonl", str(root)])
    assert "files/s" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == len(bad) + 1


# --- the process pool ----------------------------------------------------------------------

def test_pool_keeps_order_and_unordered_gives_the_same_records(tmp_path: Path) -> None:
    from gendata.batch import expand_paths
    from gendata.export import ExportOptions, export

    make_corpus(tmp_path, 300, per_dir=70)
    files = list(expand_paths([tmp_path], recursive=True))
    assert len(files) == 300 and files == sorted(files)
    outs = {}
    for ordered in (True, False):
        buf = io.StringIO(newline="")
        from gendata import batch

        old = batch.IN_PROCESS_BELOW
        batch.IN_PROCESS_BELOW = 0
        try:
            export(files, buf, ExportOptions(fmt="jsonl"), jobs=2, ordered=ordered)
        finally:
            batch.IN_PROCESS_BELOW = old
        outs[ordered] = [json.loads(x) for x in buf.getvalue().splitlines()]
    assert [r["path"] for r in outs[True]] == files
    assert sorted(outs[False], key=lambda r: r["path"]) == outs[True]
    assert [r["seed"] for r in outs[True]] == [int(Path(f).stem[3:]) for f in files]


def test_map_files_in_pool_matches_in_process(tmp_path: Path) -> None:
    from functools import partial

    from gendata.batch import map_files, read_one

    make_corpus(tmp_path, 50)
    files = sorted(str(p) for p in tmp_path.rglob("*.png"))
    pooled = list(map_files(partial(read_one), files, jobs=2, chunksize=7,
                            in_process_below=0))
    local = [read_one(f) for f in files]
    assert [r.to_json() for r in pooled] == [r.to_json() for r in local]


def test_stopping_early_leaves_valid_json_and_stops_the_pool(tmp_path: Path) -> None:
    from gendata.export import ExportOptions, ExportSummary, export

    make_corpus(tmp_path, 600)
    files = sorted(str(p) for p in tmp_path.rglob("*.png"))
    buf = io.StringIO(newline="")
    summary = ExportSummary()
    export(files, buf, ExportOptions(fmt="json"), jobs=2,
           should_stop=lambda: summary.count >= 10, summary=summary)
    assert summary.interrupted and summary.count == 10
    assert [r["path"] for r in json.loads(buf.getvalue())] == files[:10]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_ctrl_c_closes_the_json_array(tmp_path: Path) -> None:
    make_corpus(tmp_path, 100)
    files = sorted(str(p) for p in tmp_path.rglob("*.png"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "gendata", "export", "-j", "1", "-f", "json", "-"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=_env())
    assert proc.stdin is not None
    proc.stdin.write("\n".join(files[:50]) + "\n")
    proc.stdin.flush()
    time.sleep(3.0)  # start up and read the first 50 (generous: CI machines can be busy)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    out, err = proc.communicate("\n".join(files[50:]) + "\n", timeout=30)
    assert proc.returncode == 130, err
    records = json.loads(out)
    assert 50 <= len(records) < 100
    assert [r["path"] for r in records] == files[: len(records)]
    assert "interrupted" in err and "Traceback" not in err


def _peak_rss_kib(args: list[str]) -> int:
    """Peak RSS of `gendata export` (and of its workers: the larger) in a fresh parent."""
    code = ("import resource, subprocess, sys\n"
            "subprocess.run(sys.argv[1:], check=False, stdout=subprocess.DEVNULL)\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    res = subprocess.run([sys.executable, "-c", code, sys.executable, "-m", "gendata",
                          "export", *args], capture_output=True, text=True, env=_env(),
                         check=True)
    return int(res.stdout.strip())


def test_memory_does_not_grow_with_file_count(tmp_path: Path) -> None:
    small, big = tmp_path / "small", tmp_path / "big"
    make_corpus(small, 1000)
    make_corpus(big, 4000)
    for fmt in ("csv", "json"):
        peaks = {}
        for name, folder in (("small", small), ("big", big)):
            out = tmp_path / f"{name}.{fmt}"
            peaks[name] = _peak_rss_kib(["-r", "-f", fmt, "-j", "2", "-o", str(out),
                                         str(folder)])
            assert out.stat().st_size > 0
        # 4x the files: same peak, give or take allocator noise (a few MiB)
        assert peaks["big"] < peaks["small"] * 1.10 + 4096, (fmt, peaks)
    rows = list(csv.DictReader((tmp_path / "big.csv").open(encoding="utf-8", newline="")))
    assert len(rows) == 4000 and rows[3]["extra.Style 3"] == "on"


# --- library API -------------------------------------------------------------------------------

def test_library_iter_records(mixed) -> None:
    import gendata
    from gendata import api, batch
    from gendata.batch import attach_extras

    root, good, bad = mixed
    recs = list(batch.iter_records([root], recursive=True))
    assert sorted(r.path for r in recs) == sorted(good + bad)
    assert sum(1 for r in recs if r.error) == len(bad)
    # plain file paths give read_safe's Records, plus the sections show adds
    expected = []
    for path in good:
        rec = api.read_safe(path)
        attach_extras(rec)
        expected.append(rec.to_json())
    assert [r.to_json() for r in batch.iter_records(good)] == expected
    assert gendata.iter_records is batch.iter_records


def test_csv_extra_columns_keep_their_own_values_across_many_rows(tmp_path: Path) -> None:
    """Rows spilled to disk must come back intact: repeated values (small ints and single
    characters are shared objects in Python) once made later rows read other rows' cells."""
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(60):
        varying = "".join(f", Key {j}: v{i}-{j}" for j in range(i % 4))
        text = (f"prompt {i}\nSteps: 20, Sampler: Euler, Seed: {i}{varying}, Flag A: 1, "
                f"Flag B: 1, Flag C: {'x' if i % 2 else '1'}, Note {i % 5}: 1")
        (folder / f"p{i:03d}.png").write_bytes(tiny_png(text))
    out = tmp_path / "out.csv"
    res = run(["export", "-f", "csv", "-o", str(out), "-j", "1", str(folder)])
    assert res.exit_code == 0, res.output
    with out.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 60
    for row in rows:
        i = int(row["seed"])
        assert (row["extra.Flag A"], row["extra.Flag B"]) == ("1", "1")
        assert row["extra.Flag C"] == ("x" if i % 2 else "1")
        for n in range(5):
            assert row[f"extra.Note {n}"] == ("1" if i % 5 == n else "")
        for j in range(3):
            assert row[f"extra.Key {j}"] == (f"v{i}-{j}" if j < i % 4 else "")


def test_csv_extra_columns_keep_each_rows_values(tmp_path: Path) -> None:
    # Rows whose extras repeat a value (one-character strings are shared objects) must not
    # read back another row's cells from the spill file.
    texts = ["a cat\nSteps: 20, Seed: 1, Size: 8x8, Foo: x, Bar: yy",
             "a dog\nSteps: 20, Seed: 2, Size: 8x8, Foo: 1, Bar: 1, Baz: 1",
             "a fox\nSteps: 20, Seed: 3, Size: 8x8, Baz: 1, Foo: 1"]
    for i, text in enumerate(texts):
        (tmp_path / f"{i}.png").write_bytes(tiny_png(text))
    res = run(["export", "-f", "csv", str(tmp_path)])
    assert res.exit_code == 0, res.stderr
    rows = list(csv.DictReader(io.StringIO(res.stdout, newline="")))
    got = [(r["extra.Foo"], r["extra.Bar"], r["extra.Baz"]) for r in rows]
    assert got == [("x", "yy", ""), ("1", "1", "1"), ("1", "", "1")]


# --- reading ahead on a cold page cache --------------------------------------------------------

def test_read_ahead_yields_every_path_in_order_and_never_blocks(tmp_path: Path,
                                                               monkeypatch) -> None:
    from gendata import batch
    from gendata.walk import Unreadable

    make_corpus(tmp_path, 40)
    files = sorted(str(p) for p in tmp_path.rglob("*.png"))
    fifo = tmp_path / "fifo.png"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer
    paths = [*files[:10], str(fifo), str(tmp_path / "missing.png"), Unreadable("x", "gone"),
             *files[10:]]
    asked: list[str] = []
    real_ask = batch._ask_for
    monkeypatch.setattr(batch, "_in_memory", lambda p: False)  # as on a cold cache
    monkeypatch.setattr(batch, "_ask_for", lambda p: (asked.append(p), real_ask(p)))
    assert list(batch.read_ahead(paths)) == paths
    assert asked == paths  # each asked for once, ahead of its turn


def test_read_ahead_tells_a_cold_file_from_a_warm_one(tmp_path: Path) -> None:
    from gendata import batch

    if not hasattr(os, "RWF_NOWAIT"):
        pytest.skip("no RWF_NOWAIT here")
    p = tmp_path / "a.png"
    p.write_bytes(tiny_png("a\nSteps: 20, Seed: 1, Size: 8x8") * 2000)
    os.sync()
    fd = os.open(p, os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)
    if batch._in_memory(str(p)):
        pytest.skip("this file system keeps the file in memory (tmpfs)")
    batch._ask_for(str(p))
    deadline = time.monotonic() + 5
    while not batch._in_memory(str(p)) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert batch._in_memory(str(p))
