"""FIFOs, sockets and devices are never opened for reading: named, they give one error line at
once; in a folder, an error row. Each command runs in a child process with a timeout, so a
reader that blocks fails the test instead of hanging it."""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gendata.containers.files import NotRegularFile, open_regular
from gendata.errors import ContainerError
from gendata.tui import thumbs
from gendata.walk import Unreadable, iter_image_paths

from .runner import run_gendata

ROOT = Path(__file__).resolve().parents[2]
BASIC = ROOT / "fixtures" / "a1111_basic.png"
QUICK = 15.0  # seconds; a blocked open never returns

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "x.png"
    os.mkfifo(path)
    yield path


@pytest.fixture
def sock(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "s.png"
    s = socket.socket(socket.AF_UNIX)
    try:
        s.bind(str(path))
    except OSError as exc:  # a path too long for AF_UNIX
        pytest.skip(f"cannot make a socket here: {exc}")
    yield path
    s.close()


@pytest.mark.parametrize("args", [
    ("show", "{f}"), ("show", "--json", "{f}"), ("set", "{f}", "--steps", "3"), ("strip", "{f}"),
    ("diff", "{f}", str(BASIC)), ("diff", str(BASIC), "{f}"), ("ti", "info", "{f}"),
    ("ti", "extract", "{f}", "-o", "{d}/out.safetensors"), ("copy", "{f}", "{d}/c.png"),
    ("export", "{f}"), ("write", "{d}/c.png", "--from", "{f}"), ("convert", "{f}"),
])
def test_a_fifo_named_like_an_image_is_refused_at_once(fifo: Path, args: tuple[str, ...]
                                                       ) -> None:
    shutil.copyfile(BASIC, fifo.parent / "c.png")
    before = (fifo.parent / "c.png").read_bytes()
    r = run_gendata(*(a.format(f=fifo, d=fifo.parent) for a in args), timeout=QUICK)
    assert r.returncode is not None, "blocked on the FIFO"
    assert r.returncode in (1, 2) and "Traceback" not in r.stderr
    assert "a FIFO" in r.stderr
    assert (fifo.parent / "c.png").read_bytes() == before
    assert sorted(p.name for p in fifo.parent.iterdir()) == ["c.png", "x.png"]


def test_export_of_a_folder_makes_special_files_error_rows(fifo: Path, sock: Path) -> None:
    folder = fifo.parent
    shutil.copyfile(BASIC, folder / "a.png")
    (folder / "link.png").symlink_to(fifo)
    os.mkfifo(folder / "notes.txt")  # not an image name: not listed
    r = run_gendata("export", folder, timeout=QUICK)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    rows = {Path(o["path"]).name: o for o in map(json.loads, r.stdout.decode().splitlines())}
    assert sorted(rows) == ["a.png", "link.png", "s.png", "x.png"]
    assert rows["a.png"]["error"] is None and rows["a.png"]["seed"] is not None
    assert "a FIFO" in rows["x.png"]["error"]
    assert "a FIFO" in rows["link.png"]["error"]
    assert "socket" in rows["s.png"]["error"]
    assert "gendata: 3 of 4 files failed" in r.stderr


def test_devices_are_refused() -> None:
    if not os.path.exists("/dev/null"):
        pytest.skip("no /dev/null")
    r = run_gendata("show", "/dev/null", timeout=QUICK)
    assert r.returncode == 1 and "/dev/null: is a character device, not a file" in r.stderr
    r = run_gendata("write", str(BASIC), "--from", "/dev/zero", timeout=QUICK)
    assert r.returncode == 1 and "character device" in r.stderr


def _within(seconds: float, call: Callable[[], object]) -> object:
    """`call()` on a thread; fails the test instead of hanging when it blocks."""
    box: list[object] = []
    t = threading.Thread(target=lambda: box.append(_catch(call)), daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), "blocked"
    return box[0]


def _catch(call: Callable[[], object]) -> object:
    try:
        return call()
    except Exception as exc:
        return exc


def test_library_readers_refuse_without_blocking(fifo: Path, sock: Path) -> None:
    assert isinstance(_within(QUICK, lambda: open_regular(fifo)), NotRegularFile)
    assert isinstance(_within(QUICK, lambda: open_regular(sock)), (NotRegularFile, OSError))
    from gendata import api, ti
    from gendata.containers import stealth

    for call in (lambda: api.read(fifo), lambda: stealth.read_stealth(fifo),
                 lambda: ti.read_card(fifo), lambda: ti.read_embedding(fifo),
                 lambda: thumbs.downscaled(str(fifo))):
        result = _within(QUICK, call)
        assert isinstance(result, ContainerError) and "FIFO" in str(result), result
    assert "no preview" in str(_within(QUICK, lambda: thumbs.render(str(fifo), 10, 5)))
    assert isinstance(_within(QUICK, lambda: open_regular(fifo.parent)), IsADirectoryError)


def test_the_walk_names_special_files(fifo: Path, sock: Path) -> None:
    found = list(iter_image_paths([fifo.parent], recursive=False))
    assert found == [str(sock), str(fifo)]
    assert all(isinstance(p, Unreadable) for p in found)
    assert [p.reason for p in found] == ["is a socket, not a file",  # type: ignore[attr-defined]
                                         "is a FIFO, not a file"]
