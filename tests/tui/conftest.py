"""Helpers for the terminal UI tests: a private copy of fixtures/, running the app with its
pilot, keys sent in one burst, and ways to read what a widget shows as plain text."""

from __future__ import annotations

import asyncio
import hashlib
import io
import shutil
import struct
import zlib
from pathlib import Path

import pytest
from rich.console import Console

from gendata.tui.app import create_app
from gendata.tui.widgets import FileList

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    dst = tmp_path / "images"
    shutil.copytree(FIXTURES, dst, ignore=shutil.ignore_patterns("dialects", "comfyui"))
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
    """Wait for the loading worker (and any other but the folder watcher, which runs until
    the app closes) and for the UI to catch up. A preview worker replaced by a newer one ends
    as cancelled, which is expected here."""
    from textual.worker import WorkerCancelled

    for _ in range(3):
        busy = [w for w in pilot.app.workers if not (w.group or "").startswith("watch")]
        try:
            if busy:  # (an empty list would mean all of them)
                await pilot.app.workers.wait_for_complete(busy)
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


def drive(paths: list[Path], body, *, size: tuple[int, int] = (100, 30), **options) -> None:
    """Open the app on `paths` (previews off unless `options` say otherwise), let it load,
    then hand it and its pilot to `body`."""

    async def go() -> None:
        app = create_app(paths, **{"thumbnails": False, **options})
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            await body(app, pilot)

    asyncio.run(go())


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def rows(app) -> list[str]:
    return [it.name for it in app.query_one(FileList).items]


def detail_text(app) -> str:
    return plain(app.query_one("#detail-body").content)


async def goto(pilot, name: str) -> None:
    names = rows(pilot.app)
    table = pilot.app.query_one(FileList)
    table.move_cursor(row=names.index(name))
    await pilot.pause()


def burst(app, keys: list[str]) -> None:
    """Queue key events all at once, as a terminal does when keys arrive in one read (a
    paste, tmux send-keys, a fast typist); pilot.press lets the app go idle between keys."""
    from textual import events

    for key in keys:
        char = {"space": " ", "slash": "/"}.get(key, key if len(key) == 1 else None)
        event = events.Key(key, char)
        event.set_sender(app)
        app._driver.send_message(event)
