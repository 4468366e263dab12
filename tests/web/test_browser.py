"""The gallery in a real headless Chromium (Debian's, driven by Playwright from PyPI), served
by the real `gendata serve` process: search, thumbnails, the detail page, the keys."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from gendata import read

from .conftest import Library
from .server import IMAGES_LOADED, serving, wait_until

pytest.importorskip("starlette", reason="the serve extra is not installed "
                    "(pip install 'gendata[serve]')")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed "
                               "(pip install 'gendata[test]')")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium on PATH (Debian: apt-get install -y chromium)")


@pytest.fixture(scope="module")
def server(library: Library) -> Iterator[str]:
    with serving(library.db, library.cache) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    p = context.new_page()
    problems: list[str] = []
    # a refused query is answered 400, which Chromium notes on the console; nothing else may be
    p.on("console", lambda m: problems.append(m.text) if m.type == "error"
         and "status of 400" not in m.text else None)
    p.on("pageerror", lambda e: problems.append(str(e)))
    yield p
    context.close()
    assert problems == []  # no script error, no CSP violation


def natural_widths(page: Any) -> list[int]:
    return page.evaluate("Array.from(document.querySelectorAll('#grid img'))"
                         ".map(i => i.naturalWidth)")


def test_search_box_finds_and_thumbnails_load(page: Any, server: str,
                                              library: Library) -> None:
    page.goto(server)
    page.keyboard.press("/")
    assert page.evaluate("document.activeElement.id") == "q"
    page.keyboard.type("fox lora:foxStyle*")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"\?q=fox"))
    assert wait_until(page, IMAGES_LOADED)
    ids = [int(i) for i in page.eval_on_selector_all(
        "#grid .cell", "cells => cells.map(c => c.dataset.id)")]
    assert ids == [library.ids["fox_forest.png"], library.ids["fox_snow.png"]]
    widths = natural_widths(page)
    assert len(widths) == 2 and all(w == 256 for w in widths)
    assert "2 matches" in page.inner_text(".total")


def test_every_thumbnail_of_a_page_loads(page: Any, server: str) -> None:
    page.goto(server)
    page.evaluate("document.querySelectorAll('#grid img').forEach(i => i.loading = 'eager')")
    assert wait_until(page, IMAGES_LOADED, timeout=60)
    widths = natural_widths(page)
    assert len(widths) == 60
    assert all(w > 0 for w in widths)  # the bomb and the junk files get the placeholder


def test_keyboard_moves_opens_and_comes_back(page: Any, server: str, library: Library) -> None:
    page.goto(server + "?q=castle")
    order = page.eval_on_selector_all("#grid .cell", "cells => cells.map(c => c.dataset.id)")
    assert len(order) == 2
    focused = "document.activeElement.dataset.id"
    page.keyboard.press("ArrowRight")
    assert page.evaluate(focused) == order[0]
    page.keyboard.press("j")
    assert page.evaluate(focused) == order[1]
    page.keyboard.press("k")
    assert page.evaluate(focused) == order[0]
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/image/{order[1]}\?q=castle"))
    page.keyboard.press("ArrowLeft")
    page.wait_for_url(re.compile(rf"/image/{order[0]}\?q=castle"))
    page.keyboard.press("Escape")
    page.wait_for_url(re.compile(rf"/\?q=castle&start={order[0]}"))
    assert page.evaluate(focused) == order[0]


def test_arrows_move_by_rows_and_pages(page: Any, server: str) -> None:
    page.goto(server)
    cells = page.eval_on_selector_all("#grid .cell", "cells => cells.map(c => c.dataset.id)")
    columns = page.evaluate("getComputedStyle(document.getElementById('grid'))"
                            ".gridTemplateColumns.split(' ').length")
    assert columns > 1
    focused = "document.activeElement.dataset.id"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    assert page.evaluate(focused) == cells[columns]
    page.keyboard.press("ArrowUp")
    assert page.evaluate(focused) == cells[0]
    page.keyboard.press("k")  # before the first cell of the first page: nowhere to go
    assert page.evaluate(focused) == cells[0]
    page.focus(f'.cell[data-id="{cells[-1]}"]')
    page.keyboard.press("j")  # past the last cell: the next page
    page.wait_for_url(re.compile(r"start="))
    assert page.eval_on_selector_all("#grid .cell", "c => c.length") == 60


def test_detail_page_shows_the_picture_and_copies_parameters(browser: Any, server: str,
                                                             library: Library) -> None:
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.rstrip("/"))
    page = context.new_page()
    try:
        page.goto(server + "?q=fox")
        page.click(f'.cell[data-id="{library.ids["fox_snow.png"]}"]')
        page.wait_for_url(re.compile(r"/image/"))
        assert wait_until(page, "document.getElementById('picture').naturalWidth") == 384
        assert page.inner_text("h1") == "fox_snow.png"
        assert page.inner_text("#path") == str(library.root / "fox_snow.png")
        assert "<lora:foxStyle_v2:0.8>" in page.inner_text("#prompt")
        texts = "e => e.map(x => x.innerText)"
        rows = dict(zip(page.eval_on_selector_all("table.fields th", texts),
                        page.eval_on_selector_all("table.fields td", texts), strict=True))
        assert rows["Seed"] == "1001" and rows["Model"] == "dreamshaper_8"
        page.click("#copy")
        assert wait_until(page, "document.getElementById('copied').textContent") == "Copied."
        stored = read(library.root / "fox_snow.png").raw
        assert stored is not None
        assert page.evaluate("navigator.clipboard.readText()") == stored.text("parameters")
    finally:
        context.close()


def test_bad_query_and_hostile_text_in_the_browser(page: Any, server: str,
                                                   library: Library) -> None:
    page.goto(server + "?q=fox+colour:red")
    assert page.inner_text("mark") == "colour:red"
    assert "unknown field 'colour'" in page.inner_text(".problem")
    page.goto(f"{server}image/{library.ids['hostile.png']}")
    # the prompt's <script> is text on the page, not a script that ran
    assert "<script>alert('x')</script>" in page.inner_text("#prompt")
    assert page.evaluate("document.scripts.length") == 1
    assert "\\x1b[31mred" in page.inner_text("#prompt")
    assert html.escape("<script>") in page.content()
