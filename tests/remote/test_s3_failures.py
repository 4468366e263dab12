"""Objects that fail: a file that is not an image, an object the server refuses every time
(503 SlowDown) and one it refuses once; an export killed half way and resumed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from gendata.cli import main

from . import images
from .conftest import BUCKET, Library, put
from .s3server import CountingMotoServer

pq = pytest.importorskip("pyarrow.parquet")

ROOT = Path(__file__).resolve().parents[2]
# botocore retries 5xx answers itself; leave the retrying to gendata's policy, whose retries
# --stats counts
NO_SDK_RETRIES = 'config_kwargs={"retries": {"total_max_attempts": 1}}'


def test_failing_objects_become_error_rows(s3: CountingMotoServer, tmp_path: Path) -> None:
    text, seed = images.infotext(1)
    for name in ("ok.png", "flaky.png", "refused.png"):
        put(f"bad/{name}", images.png(text))
    put("bad/garbage.png", b"this is not an image at all" * 100)
    s3.counter.fail_always.add(f"{BUCKET}/bad/refused.png")
    s3.counter.fail_once.add(f"{BUCKET}/bad/flaky.png")
    out = tmp_path / "bad.parquet"
    result = CliRunner().invoke(main, ["export", f"s3://{BUCKET}/bad/", "-f", "parquet",
                                       "-o", str(out), "-j", "1", "--stats", "-q",
                                       "--retries", "2", "--storage-option", NO_SDK_RETRIES])
    assert result.exit_code == 1, result.output
    rows = {r["path"].rsplit("/", 1)[1]: r for r in pq.read_table(out).to_pylist()}
    assert sorted(rows) == ["flaky.png", "garbage.png", "ok.png", "refused.png"]
    assert rows["ok.png"]["error"] is None and int(rows["ok.png"]["seed"]) == seed
    assert rows["flaky.png"]["error"] is None and int(rows["flaky.png"]["seed"]) == seed
    assert "not a PNG, JPEG or WebP" in rows["garbage.png"]["error"]
    assert rows["refused.png"]["error"].startswith(f"s3://{BUCKET}/bad/refused.png: ")
    assert rows["refused.png"]["prompt"] is None
    # the refused object was tried again, and every try reached the server
    assert s3.counter.requests[f"{BUCKET}/bad/refused.png"] >= 2
    assert "gendata: 2 of 4 files failed" in result.output
    assert " retries" in result.output and ", 0 retries" not in result.output


def _parts(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("part-*.parquet"))


def test_resume_after_a_killed_run(s3: CountingMotoServer, library: Library,
                                   tmp_path: Path) -> None:
    """A run killed with SIGKILL (its workers too) leaves whole parts only; --resume writes
    the rest, and every image is in exactly one row."""
    out = tmp_path / "parts"
    cmd = [sys.executable, "-m", "gendata", "export", "-r", library.prefix, "-f", "parquet",
           "-o", str(out), "--batch-size", "10", "--concurrency", "2", "-j", "2", "-q"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    s3.counter.delay = 0.02  # slow enough to be killed half way
    try:
        proc = subprocess.Popen(cmd, env=env, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 120
        while len(_parts(out)) < 4 if out.exists() else True:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        s3.counter.delay = 0.0
    killed_with = _parts(out)
    assert 4 <= len(killed_with) < len(library.names) // 10
    result = subprocess.run([*cmd, "--resume", "--stats"], env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert f"{len(killed_with)} kept from an earlier run" in result.stderr
    assert set(killed_with) <= set(_parts(out))
    assert not [p for p in out.iterdir() if ".tmp-" in p.name]
    paths = pq.read_table(out).column("path").to_pylist()
    assert len(paths) == len(set(paths)) == len(library.names)
