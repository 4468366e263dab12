"""Killing `gendata set` mid-write leaves the original intact and no temporary file behind
(issue 11): SIGTERM, SIGHUP and SIGINT with a named temporary file, SIGTERM and SIGKILL with
an anonymous one (O_TMPFILE)."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gendata.containers import tempfiles
from gendata.containers.png import make_chunk

from ..helpers import build_png, tiny_png_chunks

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

ROOT = Path(__file__).resolve().parents[2]
TEXT = "a cat\nSteps: 20, Sampler: Euler a, Seed: 5, Size: 8x8"
# Big enough that the copy takes a while, built from few large chunks (cheap to make).
BLOCK = 32 << 20
BLOCKS = 4


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("signals")
    path = folder / "big.png"
    chunks = tiny_png_chunks()
    chunks.insert(1, (b"tEXt", b"parameters\0" + TEXT.encode()))
    head = build_png(chunks)
    iend = head.rindex(b"IEND") - 4
    filler = make_chunk(b"gdTs", bytes(BLOCK))  # an ancillary chunk nobody reads
    digest = hashlib.sha256()
    with open(path, "wb") as f:
        for part in (head[:iend], *[filler] * BLOCKS, head[iend:]):
            f.write(part)
            digest.update(part)
    return path, digest.hexdigest()


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
    return h.hexdigest()


def _start(path: Path, *, named: bool) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if named:
        env["GENDATA_NO_TMPFILE"] = "1"
    else:
        env.pop("GENDATA_NO_TMPFILE", None)
    return subprocess.Popen([sys.executable, "-m", "gendata", "set", str(path), "--seed", "6"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def _anonymous_temp_open(pid: int, folder: Path) -> bool:
    fds = f"/proc/{pid}/fd"
    try:
        names = os.listdir(fds)
    except OSError:
        return False
    for fd in names:
        try:
            target = os.readlink(f"{fds}/{fd}")
        except OSError:
            continue
        if target.startswith(f"{folder}/#") and target.endswith("(deleted)"):
            return True
    return False


def _wait_for_write(proc: subprocess.Popen[bytes], folder: Path, named: bool) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            pytest.fail(f"gendata set finished before it could be interrupted: {err}")
        if named:
            if any(tempfiles.is_temp_name(n) for n in os.listdir(folder)):
                return
        elif _anonymous_temp_open(proc.pid, folder):
            return
        time.sleep(0.001)
    pytest.fail("no write started within 60 s")


@pytest.mark.parametrize("named,signum,status", [
    (True, signal.SIGTERM, -signal.SIGTERM),
    (True, signal.SIGHUP, -signal.SIGHUP),
    (True, signal.SIGINT, 130),
    (False, signal.SIGTERM, -signal.SIGTERM),
    (False, signal.SIGKILL, -signal.SIGKILL),
], ids=["named-TERM", "named-HUP", "named-INT", "tmpfile-TERM", "tmpfile-KILL"])
def test_killed_mid_write(big: tuple[Path, str], named: bool, signum: int,
                          status: int) -> None:
    path, digest = big
    if not named and not tempfiles._tmpfile_usable():
        pytest.skip("no O_TMPFILE here")
    inode = path.stat().st_ino
    proc = _start(path, named=named)
    try:
        _wait_for_write(proc, path.parent, named)
        proc.send_signal(signum)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == status
    assert os.listdir(path.parent) == ["big.png"]
    assert path.stat().st_ino == inode
    assert _digest(path) == digest
