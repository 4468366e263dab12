"""benchmarks/regen_gpu.py end to end on the CPU (`--cpu-smoke`), run the way a GPU session runs
it: a separate process, its exit status and the JSON it writes (docs/regen.md, "GPU
verification")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "regen_gpu.py"
DOC_JSON = ROOT / "docs" / "regen-gpu.json"
NO_CUDA = "skipped: no CUDA"


def _run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=ROOT)


def _doc_json() -> bytes | None:
    return DOC_JSON.read_bytes() if DOC_JSON.exists() else None


def test_cpu_smoke_runs_every_section(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("diffusers")
    before = _doc_json()
    out = tmp_path / "smoke.json"
    proc = _run("--cpu-smoke", "--json", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    r = json.loads(out.read_text())
    assert (r["device_kind"], r["complete"]) == ("cpu", False)
    assert "--cpu-smoke" in r["command"] and r["torch"] and r["cuda"] is None
    errors = {k: v["error"] for k, v in r.items() if isinstance(v, dict) and "error" in v}
    assert not errors
    for key in ("nv_vs_cuda_max_abs_diff", "rerun_bit_identical", "overhead_pct",
                "peak_gpu_memory_mib"):
        assert r[key] == NO_CUDA, key
    assert r["nv_noise"]["status"] == NO_CUDA
    assert r["nv_noise"]["a1111_docstring_max_abs"] < 1e-6
    for w in r["nv_noise"]["smoke"]["wave"]:  # a latent above the thread count changes layout
        assert w["threads_first"]["differing"] == 0 < w["plain_first"]["differing"]
    det = r["determinism"]
    assert det["default"]["fp32"]["rerun_identical"] is True
    assert det["default"]["fp32"]["processes_identical"] is True
    assert det["deterministic"]["fp32"]["rerun_identical"] is True
    assert det["fp16"] == NO_CUDA
    hashes = {run["float_sha256"] for p in det["processes"] for run in p["default"]["fp32"]["runs"]}
    assert len(hashes) == 1
    row = r["overhead"]["64"]
    assert row["bare_s"] > 0 and row["regen_s"] > 0 and row["peak_mib"]["regen"] == NO_CUDA
    assert _doc_json() == before


def test_a_cpu_run_never_writes_the_gpu_results() -> None:
    before = _doc_json()
    proc = _run("--cpu-smoke", "--json", "docs/regen-gpu.json", timeout=120)
    assert proc.returncode == 2 and "never writes" in proc.stderr
    assert _doc_json() == before


def test_budget_stops_measuring_and_writes_what_it_has(tmp_path: Path) -> None:
    out = tmp_path / "budget.json"
    proc = _run("--cpu-smoke", "--budget-s", "0", "--json", str(out), timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    r = json.loads(out.read_text())
    assert r["complete"] is False and r["environment"]["python"]
    for section in ("nv_noise", "nv_variation", "models", "overhead", "determinism"):
        assert r[section] == "skipped: budget", section


def test_without_cuda_the_full_run_refuses(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    proc = _run("--json", str(tmp_path / "x.json"), timeout=300)
    assert proc.returncode == 2 and "--cpu-smoke" in proc.stderr
    assert not (tmp_path / "x.json").exists()
