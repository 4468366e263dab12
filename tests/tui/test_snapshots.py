"""Snapshots of the main screens at 100x30 (pytest-textual-snapshot). Previews are off and
names are shown relative to the opened folder, so the pictures do not depend on the machine.
Update after an intended change with `pytest tests/tui --snapshot-update`."""

from __future__ import annotations

from pathlib import Path

import pytest

from gendata.tui.app import create_app

from .conftest import settle

pytest.importorskip("pytest_textual_snapshot")

SIZE = (100, 30)


async def _loaded(pilot) -> None:
    await settle(pilot)


def _goto(name: str):
    async def run_before(pilot) -> None:
        await _loaded(pilot)
        table = pilot.app.query_one("#files")
        names = [it.name for it in table.items]
        table.move_cursor(row=names.index(name))
        await pilot.pause()

    return run_before


def test_main_screen(snap_compare, folder: Path) -> None:
    app = create_app([folder], thumbnails=False)
    assert snap_compare(app, terminal_size=SIZE, run_before=_goto("a1111_basic.png"))


def test_main_screen_80x24(snap_compare, folder: Path) -> None:
    app = create_app([folder], thumbnails=False)
    assert snap_compare(app, terminal_size=(80, 24), run_before=_goto("a1111_basic.png"))


def test_edit_screen_with_error(snap_compare, folder: Path) -> None:
    path = folder / "a1111_basic.png"
    app = create_app([path], edit=path, thumbnails=False)

    async def run_before(pilot) -> None:
        await _loaded(pilot)
        pilot.app.screen.query_one("#f-steps").focus()
        await pilot.press("ctrl+u", *"abc")
        pilot.app.screen.query_one("#f-seed").focus()
        await pilot.press("ctrl+u", *"42")
        pilot.app.screen.query_one("#form").scroll_home(animate=False)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_diff_screen(snap_compare, folder: Path) -> None:
    app = create_app([folder / "seed_sweep"], thumbnails=False)

    async def run_before(pilot) -> None:
        await _loaded(pilot)
        await pilot.press("ctrl+a", "ctrl+d")
        await pilot.pause()
        await pilot.press("down", "right")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_help_screen(snap_compare, folder: Path) -> None:
    app = create_app([folder], thumbnails=False)

    async def run_before(pilot) -> None:
        await _loaded(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
