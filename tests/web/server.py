"""The real `gendata serve`, run as a process for the browser tests and the screenshots."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_URL = re.compile(r"at (http://\S+/) ")


@contextmanager
def serving(db: Path, cache: Path, *, timeout: float = 60.0) -> Iterator[str]:
    """`gendata serve --db DB --port 0` on 127.0.0.1; yields its address, stops it after."""
    env = {**os.environ, "XDG_CACHE_HOME": str(cache),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.Popen([sys.executable, "-m", "gendata", "serve", "--db", str(db),
                             "--port", "0"], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        deadline = time.monotonic() + timeout
        line = ""
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line and proc.poll() is not None:
                raise RuntimeError(f"gendata serve exited with {proc.returncode}")
            m = _URL.search(line)
            if m:
                yield m.group(1)
                return
        raise RuntimeError(f"gendata serve did not start: {line!r}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_until(page: object, script: str, timeout: float = 20.0) -> object:
    """Poll `script` in the page until it is truthy. (Playwright's wait_for_function
    evaluates a string inside the page, which the gallery's CSP rightly forbids.)"""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(script)  # type: ignore[attr-defined]
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


IMAGES_LOADED = "Array.from(document.images).every(i => i.complete)"
