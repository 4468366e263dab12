"""The edit form people trust: keys typed in a burst land where and in the order typed, the
counts follow the typing, the focused field stands out, up/down move between fields, and
leaving asks with "No" as the default."""

from __future__ import annotations

import asyncio
from pathlib import Path

from gendata import api
from gendata.tui.app import create_app
from gendata.tui.screens import ChoiceScreen, EditScreen

from .conftest import burst, drive, plain, settle, sha, until


def title(screen: EditScreen) -> str:
    return plain(screen.query_one("#edit-title").content)


def test_keys_typed_right_behind_enter_land_in_the_prompt(folder: Path) -> None:
    path = folder / "a1111_basic.png"
    before = api.read(path).params.prompt

    async def body(app, pilot) -> None:
        burst(app, ["enter", *"hello, world "])  # opens the form and types, in one read
        await until(pilot, lambda: isinstance(app.screen, EditScreen)
                    and app.screen.raw["prompt"].startswith("hello, world "))
        form = app.screen
        assert form.query_one("#f-prompt").text == "hello, world " + before
        assert app.query_one("#filter").value == ""  # nothing went to the list's filter
        await until(pilot, lambda: "● 1 unsaved change" in title(form))

    drive([path], body)


def test_keys_typed_while_gendata_edit_opens_land_in_the_form(folder: Path) -> None:
    path = folder / "a1111_basic.png"

    async def go() -> None:
        app = create_app([path], edit=path, thumbnails=False)
        async with app.run_test(size=(100, 30)) as pilot:
            burst(app, list("typed early "))  # before the file is even read
            await settle(pilot)
            await until(pilot, lambda: isinstance(app.screen, EditScreen)
                        and app.screen.raw["prompt"].startswith("typed early "))

    asyncio.run(go())


def test_a_burst_with_corrections_lands_in_order_in_a_text_area(folder: Path) -> None:
    path = folder / "a1111_basic.png"

    async def body(app, pilot) -> None:
        form = app.screen
        prompt = form.query_one("#f-prompt")
        prompt.load_text("")
        await until(pilot, lambda: form.raw["prompt"] == "")
        # backspace and enter are bindings and inserts in a text area; they used to overtake
        # the characters typed before them
        burst(app, [*"ab", "backspace", "c", "enter", *"de", "left", "backspace", "x",
                    "tab", "tab", "ctrl+u", *"31"])  # on to the negative prompt, then steps
        await until(pilot, lambda: form.raw["steps"] == "31")
        assert prompt.text == "ac\nxe"
        assert "● 2 unsaved changes" in title(form)

    drive([path], body, edit=path)


def test_counts_and_markers_follow_the_typing(folder: Path) -> None:
    path = folder / "a1111_basic.png"

    async def body(app, pilot) -> None:
        form = app.screen
        assert "no unsaved changes" in title(form)
        await pilot.press("x")
        await until(pilot, lambda: "● 1 unsaved change" in title(form))
        assert "● Prompt" in str(form.query_one("#label-prompt").content)
        await pilot.press("backspace")  # back to the file's text: nothing unsaved
        await until(pilot, lambda: "no unsaved changes" in title(form))

    drive([path], body, edit=path)


def test_up_and_down_move_between_fields(folder: Path) -> None:
    path = folder / "a1111_basic.png"

    async def body(app, pilot) -> None:
        form = app.screen
        prompt = form.query_one("#f-prompt")
        prompt.load_text("first line\nsecond line")
        prompt.move_cursor((0, 0))
        assert app.focused is prompt
        assert [r.id for r in form.query(".form-row.focused")] == ["row-prompt"]
        await pilot.press("down")  # first line -> second line, same field
        assert app.focused is prompt and prompt.cursor_location[0] == 1
        await pilot.press("down")  # last line -> next field
        assert app.focused is form.query_one("#f-negative_prompt")
        await pilot.press("down", "down")  # a one-line text area, then a one-line box
        assert app.focused is form.query_one("#f-sampler")
        assert [r.id for r in form.query(".form-row.focused")] == ["row-sampler"]
        await pilot.press("up")
        assert app.focused is form.query_one("#f-steps")
        burst(app, ["up", "up", *"zz"])  # in a burst too: up, up, then typing
        await until(pilot, lambda: "zz" in form.raw["prompt"])  # on its last line
        assert app.focused is prompt
        assert form.raw["prompt"].startswith("first line\n")

    drive([path], body, edit=path)


def test_leaving_with_unsaved_edits_defaults_to_staying(folder: Path) -> None:
    path = folder / "a1111_basic.png"
    digest = sha(path)

    async def body(app, pilot) -> None:
        form = app.screen
        await pilot.press("x", "escape")
        dialog = app.screen
        assert isinstance(dialog, ChoiceScreen)
        assert app.focused.id == "answer-cancel"  # "No, keep editing" has the focus
        await pilot.press("enter")  # a stray enter keeps the edits
        await until(pilot, lambda: app.screen is form)
        assert form.changed_fields() == {"prompt"}
        assert sha(path) == digest
        await pilot.press("escape", "s")  # save and leave
        await until(pilot, lambda: not isinstance(app.screen, (EditScreen, ChoiceScreen)))

    drive([path], body, edit=path)
    assert api.read(path).params.prompt.startswith("xmasterpiece")


def test_quit_over_unsaved_edits_asks_first(folder: Path) -> None:
    path = folder / "a1111_basic.png"
    digest = sha(path)

    async def body(app, pilot) -> None:
        form = app.screen
        await pilot.press("x", "ctrl+q")
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("n")
        await until(pilot, lambda: app.screen is form)
        assert app.is_running

    drive([path], body, edit=path)
    assert sha(path) == digest


def test_form_says_which_dialect_and_that_saving_keeps_it(folder: Path) -> None:
    async def body(app, pilot) -> None:
        await pilot.press("enter")  # a1111.jpg: A1111 text in EXIF
        await until(pilot, lambda: isinstance(app.screen, EditScreen))
        line = plain(app.screen.query_one("#edit-format").content)
        assert "A1111 infotext in JPEG EXIF UserComment" in line
        assert "saving keeps this format" in line

    drive([folder], body)

    async def empty(app, pilot) -> None:
        line = plain(app.screen.query_one("#edit-format").content)
        assert "No generation data yet: saving writes A1111 infotext (PNG tEXt parameters)" \
            in line

    path = folder / "no_metadata.png"
    drive([path], empty, edit=path)
