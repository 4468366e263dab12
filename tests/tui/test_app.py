"""The terminal UI driven as a user would (Textual pilot): browse, edit, save, diff, apply."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from gendata import api
from gendata.tui.app import create_app
from gendata.tui.screens import (
    ChoiceScreen,
    ConfirmScreen,
    DiffScreen,
    EditScreen,
    HelpScreen,
    PasteScreen,
)
from gendata.tui.widgets import FileList

from .conftest import burst, detail_text, drive, goto, plain, png_chunks, rows, settle, sha, until

BASIC_TEXT = (Path(__file__).resolve().parents[2] / "fixtures" / "a1111_basic.txt")


def test_lists_only_images_with_generator(folder: Path) -> None:
    async def body(app, pilot) -> None:
        names = rows(app)
        assert "a1111_basic.txt" not in names  # not named like an image
        assert names[:4] == ["a1111.jpg", "a1111.webp", "a1111_after_idat.png",
                             "a1111_basic.png"]
        assert "seed_sweep/astronaut_3.png" in names  # folders are recursive
        gens = {it.name: it.generator for it in app.query_one(FileList).items}
        assert gens["a1111_basic.png"] == "a1111"
        assert gens["no_metadata.png"] == "—"
        assert gens["prompt_only.png"] == "error"
        assert gens["not_an_image.png"] == "error"  # named like one: listed, and says why
        assert "14 images" in app.sub_title

    drive([folder], body)


def test_folders_by_extension_named_files_by_content(tmp_path: Path) -> None:
    """gendata.walk's rule, the one `gendata export` follows: in a folder the extension
    decides (any case) and hidden entries are skipped; a file named explicitly is listed
    whatever its name, and its bytes decide what it is."""
    fixture = Path(__file__).resolve().parents[2] / "fixtures" / "a1111_basic.png"
    (tmp_path / "renamed.dat").write_bytes(fixture.read_bytes())
    (tmp_path / "fake.png").write_text("not an image")
    (tmp_path / "Upper.PNG").write_bytes(fixture.read_bytes())
    (tmp_path / ".hidden.png").write_bytes(fixture.read_bytes())
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "thumb.png").write_bytes(fixture.read_bytes())

    async def in_folder(app, pilot) -> None:
        assert rows(app) == ["fake.png", "Upper.PNG"]
        gens = {it.name: it.generator for it in app.query_one(FileList).items}
        assert gens == {"fake.png": "error", "Upper.PNG": "a1111"}

    drive([tmp_path], in_folder, size=(80, 24))

    async def named(app, pilot) -> None:
        assert rows(app) == [".hidden.png", "renamed.dat"]  # in the name sort shown
        gens = {it.name: it.generator for it in app.query_one(FileList).items}
        assert gens == {".hidden.png": "a1111", "renamed.dat": "a1111"}

    drive([tmp_path / "renamed.dat", tmp_path / ".hidden.png"], named, size=(80, 24))


def test_lists_what_export_reads(folder: Path) -> None:
    """One walker: the TUI lists exactly the files `gendata export -r` reads, in its order."""
    from gendata.batch import expand_paths
    from gendata.tui.library import discover

    (folder / ".hidden").mkdir()
    (folder / ".hidden" / "a.png").write_bytes((folder / "a1111_basic.png").read_bytes())
    (folder / "B_upper.PNG").write_bytes((folder / "a1111_basic.png").read_bytes())
    listed = [path for path, _ in discover([folder])]
    assert listed == list(expand_paths([folder], recursive=True))
    assert str(folder / "B_upper.PNG") in listed


def test_moving_through_files_updates_detail(folder: Path) -> None:
    async def body(app, pilot) -> None:
        for _ in range(3):
            await pilot.press("down")
        await pilot.pause()
        text = detail_text(app)
        assert "a1111_basic.png" in text
        assert "(a red fox:1.2) sitting in snow" in text
        assert "3141592653" in text
        assert "lowres, bad anatomy" in text
        assert "foxStyle_v2" in text  # the LoRA table
        # past a1111_lossless.webp ... not_an_image.png, prompt_only.png
        await pilot.press("down", "down", "down", "down", "down", "down", "down")
        text = detail_text(app)
        assert "astronaut_1.png" in text and "1001" in text
        await pilot.press("down")
        assert "1002" in detail_text(app)

    drive([folder], body)


def test_filter_and_sort(folder: Path) -> None:
    async def body(app, pilot) -> None:
        await pilot.press("slash", *"astronaut", "enter")
        await pilot.pause()
        assert rows(app) == [f"seed_sweep/astronaut_{i}.png" for i in range(1, 5)]
        assert app.focused is app.query_one(FileList)
        # prompt text matches too: only the fox images mention snow
        app.query_one("#filter").value = "snow"
        await until(pilot, lambda: "a1111_basic.png" in rows(app))  # after a pause in typing
        assert "a1111_basic.png" in rows(app)
        assert all("astronaut" not in n for n in rows(app))
        app.query_one("#filter").value = ""
        await until(pilot, lambda: any("astronaut" in n for n in rows(app)))
        await pilot.press("ctrl+o", "ctrl+o", "ctrl+o")  # name -> date -> seed -> steps
        assert app.sort == "steps"
        await pilot.press("ctrl+o", "ctrl+o", "ctrl+o")  # -> name -> date -> seed
        assert app.sort == "seed"
        names = rows(app)
        sweep = [n for n in names if "astronaut" in n]
        assert sweep == [f"seed_sweep/astronaut_{i}.png" for i in range(1, 5)]
        assert names.index("seed_sweep/astronaut_1.png") < names.index("a1111_basic.png")
        assert names[-1] in ("no_metadata.png", "prompt_only.png")  # no seed: last

    drive([folder], body)


def test_keys_typed_in_a_burst_after_slash_go_to_the_filter(folder: Path) -> None:
    async def body(app, pilot) -> None:
        before = rows(app)
        burst(app, ["slash", *"fox", "space", *"jpg"])  # "f" once marked a folder
        await until(pilot, lambda: rows(app) != before)
        assert app.query_one("#filter").value == "fox jpg"
        assert app.marked == set()
        assert app.sort == "name"
        assert rows(app) == ["a1111.jpg"]  # the fox prompt, as a JPEG
        burst(app, ["escape", "escape"])  # back to the list, then clear the filter
        await pilot.pause()
        assert app.focused is app.query_one(FileList)
        assert app.query_one("#filter").value == ""
        assert rows(app) == before

    drive([folder], body)


def test_typing_on_the_list_starts_the_filter(folder: Path) -> None:
    async def body(app, pilot) -> None:
        burst(app, list("seed"))  # no "/" at all, in one burst
        await pilot.pause()
        assert app.query_one("#filter").value == "seed"
        await pilot.press("ctrl+u")  # clears the box, not the marks
        await pilot.press(*"astronaut_3", "down")  # down: filter now, back to the list
        assert app.focused is app.query_one(FileList)
        assert rows(app) == ["seed_sweep/astronaut_3.png"]
        await pilot.press("space", "question_mark")  # keys that stay bindings
        assert app.marked == {str(folder / "seed_sweep" / "astronaut_3.png")}
        assert isinstance(app.screen, HelpScreen)

    drive([folder], body)


def test_edit_steps_and_seed_then_save(folder: Path) -> None:
    path = folder / "a1111_basic.png"
    before_chunks = png_chunks(path)
    with Image.open(path) as im:
        before_pixels = im.tobytes()
    original = api.read(path).params.origin.text

    async def body(app, pilot) -> None:
        await goto(pilot, "a1111_basic.png")
        await pilot.press("ctrl+e")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, EditScreen)
        screen.query_one("#f-steps").focus()
        await pilot.press("ctrl+u", "3", "0")
        screen.query_one("#f-seed").focus()
        await pilot.press("ctrl+u", *"42")
        await pilot.pause()
        assert screen.changed_fields() == {"steps", "seed"}
        assert "● Steps" in str(screen.query_one("#label-steps").content)
        assert "2 unsaved changes" in plain(screen.query_one("#edit-title").content)
        assert api.read(path).params.steps == 28  # nothing written before ctrl+s
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen.changed_fields() == set()
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, EditScreen)
        assert "Steps               30" in detail_text(app) or "30" in detail_text(app)

    drive([folder], body)
    rec = api.read(path)
    assert rec.params.steps == 30
    assert rec.params.seed == 42
    # Only those two values changed in the text; everything else word for word.
    assert rec.params.origin.text == original.replace("Steps: 28", "Steps: 30").replace(
        "Seed: 3141592653", "Seed: 42")
    with Image.open(path) as im:
        assert im.tobytes() == before_pixels
    after_chunks = png_chunks(path)
    def others(chunks):
        return [c for c in chunks if not (c[0] in (b"tEXt", b"iTXt") and
                                          c[1].startswith(b"parameters\0"))]
    assert others(after_chunks) == others(before_chunks)


def test_edit_typed_in_one_burst_lands_in_the_right_fields(folder: Path) -> None:
    path = folder / "a1111_basic.png"
    before = api.read(path).params

    async def body(app, pilot) -> None:
        screen = app.screen
        assert isinstance(screen, EditScreen)
        # prompt -> negative prompt -> steps, retype it and save, all queued at once
        burst(app, ["tab", "tab", "ctrl+u", "3", "0", "ctrl+s"])
        await until(pilot, lambda: screen.raw["steps"] == "30" and not screen.changed_fields())

    drive([path], body, edit=path)
    after = api.read(path).params
    assert after.steps == 30
    assert (after.prompt, after.negative_prompt, after.seed) == (
        before.prompt, before.negative_prompt, before.seed)


def test_invalid_input_shows_error_and_writes_nothing(folder: Path) -> None:
    path = folder / "a1111_basic.png"
    digest = sha(path)

    async def body(app, pilot) -> None:
        screen = app.screen
        assert isinstance(screen, EditScreen)
        screen.query_one("#f-steps").focus()
        await pilot.press("ctrl+u", *"abc")
        screen.query_one("#f-cfg_scale").focus()
        await pilot.press("ctrl+u", *"-x")
        await pilot.pause()
        err = screen.query_one("#err-steps")
        assert err.display
        assert "steps must be a positive integer, got 'abc'" in plain(err.content)
        assert "cfg_scale must be a number" in plain(screen.query_one("#err-cfg_scale").content)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, EditScreen)
        # fixing one field clears its error, the other still blocks saving
        screen.query_one("#f-steps").focus()
        await pilot.press("ctrl+u", "0")
        await pilot.pause()
        assert "positive integer, got '0'" in plain(screen.query_one("#err-steps").content)
        await pilot.press("ctrl+s")

    drive([path], body, edit=path)
    assert sha(path) == digest


def test_undo_and_discard(folder: Path) -> None:
    path = folder / "a1111_basic.png"
    digest = sha(path)

    async def body(app, pilot) -> None:
        screen = app.screen
        seed = screen.query_one("#f-seed")
        seed.focus()
        await pilot.press("ctrl+u", *"7")
        screen._last_edit = ("", 0.0)  # the next edit is a new undo step
        screen.query_one("#f-model").focus()
        await pilot.press("ctrl+u", *"other")
        await pilot.pause()
        assert screen.changed_fields() == {"seed", "model"}
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert screen.changed_fields() == {"seed"}
        assert screen.query_one("#f-model").value == "dreamFox_v10"
        await pilot.press("ctrl+z")
        await pilot.pause()
        assert seed.value == "3141592653"
        assert screen.changed_fields() == set()
        await pilot.press("ctrl+u", *"99")
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert screen.changed_fields() == set()
        assert seed.value == "3141592653"

    drive([path], body, edit=path)
    assert sha(path) == digest


def test_revert_file_restores_session_original(folder: Path) -> None:
    path = folder / "a1111_basic.png"
    original = api.read(path).params.origin.text

    async def body(app, pilot) -> None:
        screen = app.screen
        screen.query_one("#f-steps").focus()
        await pilot.press("ctrl+u", "9", "ctrl+s")
        await pilot.pause()
        assert api.read(path).params.steps == 9
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        assert screen.query_one("#f-steps").value == "28"

    drive([path], body, edit=path)
    assert api.read(path).params.origin.text == original


def test_copy_and_paste_infotext(folder: Path) -> None:
    path = folder / "seed_sweep" / "astronaut_1.png"
    digest = sha(path)
    pasted = "a cat\nNegative prompt: dog\nSteps: 50, Sampler: Euler a, CFG scale: 3, Seed: 77"

    async def body(app, pilot) -> None:
        await goto(pilot, "seed_sweep/astronaut_1.png")
        await pilot.press("ctrl+c")
        assert app.clipboard == api.read(path).params.origin.text
        await pilot.press("ctrl+e")
        await pilot.pause()
        screen = app.screen
        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(app.screen, PasteScreen)
        app.screen.query_one("#paste-text").load_text(pasted)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        assert screen.query_one("#f-steps").value == "50"
        assert screen.query_one("#f-prompt").text == "a cat"
        assert {"prompt", "negative_prompt", "steps", "seed"} <= screen.changed_fields()
        assert sha(path) == digest  # pasting writes nothing
        await pilot.press("f2")
        assert app.clipboard.startswith("a cat\nNegative prompt: dog\n")
        assert "Seed: 77" in app.clipboard
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ChoiceScreen)  # unsaved edits: ask first
        await pilot.press("y")
        await pilot.pause()
        assert not isinstance(app.screen, (EditScreen, ChoiceScreen))

    drive([folder], body)
    assert sha(path) == digest


def test_batch_diff_on_seed_sweep_shows_only_seed(folder: Path) -> None:
    async def body(app, pilot) -> None:
        await pilot.press("ctrl+a", "ctrl+d")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, DiffScreen)
        assert screen.result.varying == ["seed"]
        table = screen.query_one("#diff-table")
        assert [c.label.plain for c in table.columns.values()] == ["File", "seed"]
        assert [str(table.get_row_at(i)[1]) for i in range(4)] == [
            "1001", "1002", "1003", "1004"]
        assert "prompt" in screen.result.constant

    drive([folder / "seed_sweep"], body)


def test_word_diff_of_two_prompts(folder: Path) -> None:
    a, b = folder / "seed_sweep" / "astronaut_1.png", folder / "seed_sweep" / "astronaut_2.png"
    params = api.read(b).params
    api.write(b, params.edited(prompt="portrait of a diver, studio lighting"))

    async def body(app, pilot) -> None:
        await pilot.press("space", "space", "ctrl+d")
        await pilot.pause()
        screen = app.screen
        assert screen.result.varying == ["prompt", "seed"]
        await pilot.press("down")
        await pilot.pause()
        left = screen.query_one("#wd-left").content
        right = screen.query_one("#wd-right").content
        deleted = [left.plain[s.start:s.end] for s in left.spans if "strike" in str(s.style)]
        inserted = [right.plain[s.start:s.end] for s in right.spans
                    if "green" in str(s.style)]
        assert deleted == ["an", "astronaut"]
        assert inserted == ["a", "diver"]
        assert "studio lighting" in left.plain and "studio lighting" in right.plain

    drive([a, b], body)


def test_apply_to_all_changes_exactly_the_marked_files(folder: Path) -> None:
    sweep = folder / "seed_sweep"
    paths = [sweep / f"astronaut_{i}.png" for i in range(1, 5)]
    digest4 = sha(paths[3])
    pixels = {}
    for p in paths:
        with Image.open(p) as im:
            pixels[p] = im.tobytes()

    async def body(app, pilot) -> None:
        await pilot.press("space", "space", "space")  # marks 1, 2, 3
        assert app.marked == {str(p) for p in paths[:3]}
        await pilot.press("ctrl+d")
        await pilot.pause()
        screen = app.screen
        table = screen.query_one("#diff-table")
        table.move_cursor(row=2, column=1)  # astronaut_3's seed: 1003
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        assert "in 2 of 3 marked files" in confirm.message
        await pilot.press("y")
        await settle(pilot)
        assert app.screen is screen
        assert screen.result.varying == []

    drive([sweep], body)
    assert [api.read(p).params.seed for p in paths] == [1003, 1003, 1003, 1004]
    assert sha(paths[3]) == digest4  # not marked: untouched
    for p in paths:
        with Image.open(p) as im:
            assert im.tobytes() == pixels[p]


def test_cannot_edit_file_without_readable_data(folder: Path) -> None:
    async def body(app, pilot) -> None:
        await goto(pilot, "prompt_only.png")
        await pilot.press("ctrl+e")
        await pilot.pause()
        assert not isinstance(app.screen, EditScreen)
        await goto(pilot, "no_metadata.png")  # no data yet: an empty form to fill in
        await pilot.press("ctrl+e")
        await pilot.pause()
        assert isinstance(app.screen, EditScreen)

    drive([folder], body)


def test_comfyui_file_is_edited_in_its_own_graph(tmp_path: Path) -> None:
    """A ComfyUI file opens in the form and saves back into its graph, still ComfyUI."""
    import json

    from PIL.PngImagePlugin import PngInfo

    graph = {
        "3": {"class_type": "KSampler", "inputs": {
            "seed": 5, "steps": 20, "cfg": 7, "sampler_name": "euler", "scheduler": "normal",
            "denoise": 1, "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0],
            "latent_image": ["5", 0]}},
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "m.safetensors"}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 8, "height": 8,
                                                           "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a comfy cat", "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}}}
    info = PngInfo()
    info.add_text("prompt", json.dumps(graph))
    Image.new("RGB", (8, 8)).save(tmp_path / "comfy.png", pnginfo=info)
    before = sha(tmp_path / "comfy.png")

    async def body(app, pilot) -> None:
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, EditScreen))
        screen = app.screen
        screen.query_one("#f-seed").focus()
        await pilot.press("ctrl+u", *"6", "ctrl+s")
        await until(pilot, lambda: sha(tmp_path / "comfy.png") != before)

    drive([tmp_path], body, size=(80, 24))
    rec = api.read(tmp_path / "comfy.png")
    assert rec.params is not None
    assert (rec.params.generator, rec.params.seed, rec.params.steps) == ("comfyui", 6, 20)
    assert json.loads(rec.raw.text("prompt"))["3"]["inputs"]["seed"] == 6


def test_help_and_command_palette_entries(folder: Path) -> None:
    async def body(app, pilot) -> None:
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Filter", "Sort", "Mark file", "Mark folder", "Batch diff", "Edit",
                "Copy infotext", "Help"} <= titles
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("ctrl+e")
        await pilot.pause()
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Save", "Undo edit", "Revert file", "Paste infotext"} <= titles

    drive([folder], body, size=(80, 24))


def test_mark_folder(folder: Path) -> None:
    async def body(app, pilot) -> None:
        await goto(pilot, "seed_sweep/astronaut_2.png")
        await pilot.press("ctrl+g")
        assert app.marked == {str(folder / "seed_sweep" / f"astronaut_{i}.png")
                              for i in range(1, 5)}
        await pilot.press("ctrl+u")
        assert app.marked == set()

    drive([folder], body)


def test_list_fills_in_batches(tmp_path: Path) -> None:
    data = (Path(__file__).resolve().parents[2] / "fixtures" / "seed_sweep"
            / "astronaut_1.png").read_bytes()
    for i in range(300):
        (tmp_path / f"img_{i:04d}.png").write_bytes(data)

    async def body(app, pilot) -> None:
        assert len(rows(app)) == 300
        assert app.batches >= 2  # the first rows were shown before the rest was read
        assert app.first_rows_at is not None

    drive([tmp_path], body, size=(80, 24))


def test_preview_is_drawn_in_a_worker(tmp_path: Path) -> None:
    img = Image.new("RGB", (8, 8), (255, 0, 0))
    img.paste((0, 0, 255), (0, 4, 8, 8))
    img.save(tmp_path / "redblue.png")

    async def body(app, pilot) -> None:
        text = app.query_one("#thumb").content
        assert "▀" in text.plain
        styles = {str(s.style) for s in text.spans}
        assert any("rgb(255,0,0)" in s for s in styles)
        assert any("on rgb(0,0,255)" in s for s in styles)
        await pilot.resize_terminal(80, 24)  # too narrow: off until asked for
        assert not app.query_one("#thumb").display
        await pilot.press("ctrl+t")
        assert app.query_one("#thumb").display

    drive([tmp_path], body, thumbnails=True)


def test_picture_preview_widget_gets_a_downscaled_image(tmp_path: Path) -> None:
    """The path a graphics terminal takes (textual-image), run with its half-cell renderer
    so that it needs no terminal; the default stays half-block, drawn by gendata."""
    widget = pytest.importorskip("textual_image.widget")
    Image.new("RGB", (2000, 1000), (0, 200, 0)).save(tmp_path / "wide.png")

    async def body(app, pilot) -> None:
        picture = app.query_one("#thumb-image").image
        assert picture.size == (768, 384)
        assert picture.getpixel((10, 10)) == (0, 200, 0)

    drive([tmp_path], body, size=(120, 30), thumbnails=True, graphics=widget.HalfcellImage)
    assert create_app([tmp_path]).graphics is None
