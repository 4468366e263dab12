"""A short slice of scripts/fuzz.py: structured mutations of the fixtures (and the corpus when
present) through the readers, every dialect and the writers, with no uncaught exception, no
source changed, no file left behind and no case slower than the issue's 20 s."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _fuzz_module():  # scripts/ is not a package
    spec = importlib.util.spec_from_file_location("gendata_fuzz", ROOT / "scripts" / "fuzz.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_fuzz_slice() -> None:
    fuzz = _fuzz_module()
    report = fuzz.fuzz_random(runs=400, seconds=45, seed=20261130, slow=20.0, verbose=False)
    assert report.runs >= 50, report.line()
    assert not report.uncaught, report.line() + f": {dict(report.uncaught)}"
    assert report.slow == 0, report.line()
    safety = {k: n for k, n in report.broken.items() if k in (
        "source changed", "files left", "unreadable output", "read-back png")}
    assert not safety, report.line()
