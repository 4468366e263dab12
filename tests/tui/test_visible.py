"""Control characters from a file's metadata are shown spelled out (gendata.present.values.
visible), in the TUI's list, detail view and edit form, and an edit writes back exactly the
characters the file had."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from gendata import api
from gendata.present import visible, visible_parts
from gendata.present.form import form_escape, form_text, form_unescape, typed_value
from gendata.tui.screens import EditScreen
from gendata.tui.widgets import FileList

from .conftest import detail_text, drive, until

# ESC-started CSI (colour, clear screen), an OSC 52 clipboard write ended by BEL, C1 CSI,
# a right-to-left override and its end, a line separator.
HOSTILE = ("red \x1b[31mRED\x1b[0m \x1b]52;c;aGVsbG8=\x07 c1 \x9b31m "
           "bidi \u202eevil\u202c ls\u2028end")
HOSTILE_SHOWN = ("red \\x1b[31mRED\\x1b[0m \\x1b]52;c;aGVsbG8=\\x07 c1 \\x9b31m "
                 "bidi \\u202eevil\\u202c ls\\u2028end")


def test_visible_spells_out_what_a_terminal_would_act_on() -> None:
    assert visible(HOSTILE) == HOSTILE_SHOWN
    assert visible("a\nb\tc\rd") == "a\nb\tc\\x0dd"  # newline and tab kept by default
    assert visible("a\nb\tc", keep="") == "a\\x0ab\\x09c"
    assert visible("\x7f\x00\x85") == "\\x7f\\x00\\x85"
    assert visible("name\udcff.png") == "name\\udcff.png"  # a non-UTF-8 file name
    plain = "a plain prompt, (weight:1.2), émoji 🦊, 日本語, zero\u200dwidth joiner"
    assert visible(plain) is plain
    assert visible_parts("x\x1by") == [("x", False), ("\\x1b", True), ("y", False)]
    assert "".join(p for p, _ in visible_parts(HOSTILE)) == HOSTILE_SHOWN


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab\\xu0f(\n\t\x1b\x9b\u202e\udcff")))
       | st.text(), st.sampled_from(["", "\n\t"]))
def test_form_texts_read_back_to_the_exact_characters(text: str, keep: str) -> None:
    shown = form_escape(text, keep)
    assert form_unescape(shown) == text
    assert visible(shown, keep) == shown  # nothing left for a terminal to act on


def test_form_shows_a1111_escapes_as_they_are() -> None:
    assert form_escape(r"\(masterpiece\), \[x\]") == r"\(masterpiece\), \[x\]"
    assert form_escape("\\x1b literally") == "\\\\x1b literally"
    assert form_unescape("\\x41 typed by hand") == "\\x41 typed by hand"  # no control: as is


def _hostile_png(path: Path) -> None:
    info = PngInfo()
    info.add_itxt("parameters", f"{HOSTILE}\nNegative prompt: x\n"
                  "Steps: 20, Sampler: Euler, Seed: 5, Model: m\x1b[2Jx")
    Image.new("RGB", (8, 8)).save(path, pnginfo=info)


def test_tui_never_sends_a_files_control_characters_to_the_terminal(tmp_path: Path) -> None:
    _hostile_png(tmp_path / "evil.png")
    _hostile_png(tmp_path / "name\x1b[7mREV.png")

    async def body(app, pilot) -> None:
        screen = app.export_screenshot()  # every cell the terminal would be sent
        assert "\x1b" not in screen and "\x9b" not in screen and "\u202e" not in screen
        text = detail_text(app)
        assert "\\x1b]52;c;aGVsbG8=\\x07" in text and "\\u202eevil\\u202c" in text
        assert "m\\x1b[2Jx" in text
        listed = [app.query_one(FileList).render_line(y).text for y in range(2)]
        assert any("name\\x1b[7mREV.png" in line for line in listed)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, EditScreen))
        form = app.screen
        assert form.query_one("#f-prompt").text.startswith("red \\x1b[31mRED")
        assert form.query_one("#f-model").value == "m\\x1b[2Jx"
        assert "\x1b" not in app.export_screenshot()

    drive([tmp_path], body)


def test_editing_another_field_keeps_the_control_characters_exactly(tmp_path: Path) -> None:
    path = tmp_path / "evil.png"
    _hostile_png(path)
    before = api.read(path).params

    async def body(app, pilot) -> None:
        form = app.screen
        assert isinstance(form, EditScreen)
        form.set_focus(form.query_one("#f-steps"))
        await pilot.press("ctrl+u", "3", "0")
        # and the prompt: one word appended after the spelled-out controls
        prompt = form.query_one("#f-prompt")
        form.set_focus(prompt)
        prompt.move_cursor(prompt.document.end)
        await pilot.press(*" more")
        await until(pilot, lambda: form.changed_fields() == {"steps", "prompt"})
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not form.changed_fields())

    drive([path], body, edit=path)
    after = api.read(path).params
    assert after.steps == 30
    assert after.prompt == HOSTILE + " more"
    assert after.model == before.model == "m\x1b[2Jx"


def test_a_spelled_control_typed_in_a_field_is_written_as_the_character(tmp_path: Path
                                                                         ) -> None:
    params = api.read(Path(__file__).resolve().parents[2] / "fixtures" / "a1111_basic.png"
                      ).params
    assert typed_value(params, "model", "a\\x09b") == "a\tb"
    assert form_text(params.edited(model="a\tb"), "model") == "a\\x09b"
