"""Helpers for the terminal UI tests: a private copy of fixtures/ and a way to read what a
widget shows as plain text."""

from __future__ import annotations

import io
import shutil
import struct
import zlib
from pathlib import Path

import pytest
from rich.console import Console

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    dst = tmp_path / "images"
    shutil.copytree(FIXTURES, dst, ignore=shutil.ignore_patterns("comfyui"))
    return dst


def plain(renderable, width: int = 100) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None, legacy_windows=False)
    console.print(renderable)
    return console.file.getvalue()


def png_chunks(path: Path) -> list[tuple[bytes, bytes]]:
    """(type, data) of every chunk, read independently of gendata's own reader."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    out = []
    i = 8
    while i < len(data):
        (length,) = struct.unpack(">I", data[i:i + 4])
        ctype = data[i + 4:i + 8]
        body = data[i + 8:i + 8 + length]
        (crc,) = struct.unpack(">I", data[i + 8 + length:i + 12 + length])
        assert zlib.crc32(ctype + body) == crc
        out.append((ctype, body))
        i += 12 + length
    return out


async def settle(pilot) -> None:
    """Wait for the loading worker (and any other) and for the UI to catch up. A preview
    worker replaced by a newer one ends as cancelled, which is expected here."""
    from textual.worker import WorkerCancelled

    for _ in range(3):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:
            continue
        await pilot.pause()


async def until(pilot, condition, timeout: float = 10.0) -> None:
    """Wait until `condition()` holds: the filter applies after a pause in typing and the
    machine may be busy, so a fixed sleep would make the tests flaky."""
    import time

    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("condition not reached in time")
        await pilot.pause(0.05)
