"""Run the real `gendata` command in a child process, as a user would, within the limits the
issue sets for any input: a wall-clock timeout and an address-space cap of 1.5 GiB.

The cap is RLIMIT_AS, set in the child before it starts Python: an allocation past it fails
there (MemoryError, a traceback) instead of the machine swapping, so a test sees it.
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

ROOT = Path(__file__).resolve().parents[2]
MEMORY_LIMIT = int(1.5 * 1024**3)
# The bound is 20 s on any input; a loaded CI machine gets some slack, and a hang
# (what this catches) is far past it either way.
TIME_LIMIT = 30.0
# What the commands may write to standard error when all is well or one input failed: one
# line per error or warning, a summary, and the `set`/`write` confirmations.
_STDERR_LINE = re.compile(r"gendata: (error|warning): \S.*|gendata: \d+ of \d+ files failed"
                          r"|.+: (updated|written)")


@dataclass
class Result:
    args: list[str]
    returncode: int | None  # None: killed at the time limit
    stdout: bytes
    stderr: str
    seconds: float

    def problems(self) -> list[str]:
        """Why this run breaks the promise (exit 0 or one-line errors, no traceback, in time)."""
        out = []
        if self.returncode is None:
            out.append(f"still running after {TIME_LIMIT:.0f} s")
        elif self.returncode not in (0, 1):
            out.append(f"exit {self.returncode}")
        if "Traceback" in self.stderr or "MemoryError" in self.stderr:
            out.append("traceback: " + self.stderr[-600:])
        else:
            bad = [line for line in self.stderr.splitlines()
                   if line and not _STDERR_LINE.fullmatch(line)]
            if bad:
                out.append(f"stderr lines that are not one-line messages: {bad[:3]}")
        if self.returncode == 1 and "gendata: error: " not in self.stderr:
            out.append("exit 1 without an error line")
        return out


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_gendata(*args: str | bytes | os.PathLike[str], cwd: Path | None = None,
                stdin: bytes | BinaryIO | None = None, timeout: float = TIME_LIMIT) -> Result:
    """`gendata ARGS` in a child process; `stdin` is bytes to send, or an open file to read
    from (a device such as /dev/zero)."""
    import time

    argv = [os.fspath(a) for a in args]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "120", "NO_COLOR": "1"}
    start = time.monotonic()
    piped = isinstance(stdin, bytes)
    proc = subprocess.Popen([sys.executable, "-m", "gendata", *argv], cwd=cwd, env=env,
                            stdin=subprocess.PIPE if piped else stdin or subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=_limit_memory)
    try:
        out, err = proc.communicate(stdin if piped else None, timeout=timeout)
        code: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        code = None
    return Result([str(a) for a in argv], code, out, err.decode("utf-8", "replace"),
                  time.monotonic() - start)
