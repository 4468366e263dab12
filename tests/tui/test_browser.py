"""The browser: typing goes to the filter and `q` quits only on an empty filter, a field is
set on all marked files from the list, sort reverses, the title names the folder, and the
detail view labels sampler passes and names the dialect."""

from __future__ import annotations

import json
import os
from pathlib import Path

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from gendata import api
from gendata.tui.app import folder_title
from gendata.tui.screens import ConfirmScreen, SetFieldScreen
from gendata.tui.widgets import FileList

from .conftest import detail_text, drive, png_chunks, rows, sha, until


def test_q_quits_on_an_empty_filter_and_types_otherwise(folder: Path) -> None:
    async def body(app, pilot) -> None:
        await pilot.press(*"seed")
        await until(pilot, lambda: app.query_one("#filter").value == "seed")
        await pilot.press("escape", "q")  # back on the list, the filter still holds text
        assert app.query_one("#filter").value == "seedq"
        assert app.is_running
        await pilot.press("escape", "escape")  # to the list, then clear the filter
        assert app.query_one("#filter").value == ""
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)

    drive([folder], body)


def test_typing_over_the_detail_pane_goes_to_the_filter(folder: Path) -> None:
    async def body(app, pilot) -> None:
        app.screen.set_focus(app.query_one("#detail"))
        await pilot.press(*"astronaut_2", "enter")
        await until(pilot, lambda: rows(app) == ["seed_sweep/astronaut_2.png"])
        assert app.focused is app.query_one(FileList)

    drive([folder], body)


def test_set_a_field_on_all_marked_files_from_the_list(folder: Path) -> None:
    sweep = folder / "seed_sweep"
    paths = [sweep / f"astronaut_{i}.png" for i in range(1, 5)]
    untouched = sha(paths[3])
    chunks = {p: png_chunks(p) for p in paths}
    pixels = {}
    for p in paths:
        with Image.open(p) as im:
            pixels[p] = im.tobytes()
    before = {p: api.read(p).params for p in paths}

    async def body(app, pilot) -> None:
        await pilot.press("space", "space", "space")  # marks 1, 2, 3; nothing opened
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, SetFieldScreen))
        dialog = app.screen
        assert dialog.query_one("#sf-field").value == "model"
        await pilot.press(*"fixedModel_v2")
        await until(pilot, lambda: "sets Model to 'fixedModel_v2'"
                    in str(dialog.query_one("#sf-note").content))
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Set Model to 'fixedModel_v2' in 3 of 3 marked files?" in app.screen.message
        await pilot.press("y")
        await until(pilot, lambda: not isinstance(app.screen, (SetFieldScreen, ConfirmScreen)))
        await pilot.press("up")  # the cursor is on the 4th, which is not marked
        await until(pilot, lambda: "fixedModel_v2" in detail_text(app))

    drive([sweep], body)
    for p in paths[:3]:
        rec = api.read(p)
        assert rec.params.model == "fixedModel_v2"
        old = before[p]
        # only the model changed (and the hash of the old model went with it, as the
        # library does); every other character of the text is as it was
        assert rec.params.origin.text == old.origin.text.replace(
            f"Model: {old.model}", "Model: fixedModel_v2").replace(
            f"Model hash: {old.model_hash}, ", "")
        others = [c for c in png_chunks(p) if c[0] not in (b"tEXt", b"iTXt")]
        assert others == [c for c in chunks[p] if c[0] not in (b"tEXt", b"iTXt")]
        with Image.open(p) as im:
            assert im.tobytes() == pixels[p]
    assert sha(paths[3]) == untouched


def test_set_field_checks_the_value_and_needs_marks(folder: Path) -> None:
    async def body(app, pilot) -> None:
        await pilot.press("ctrl+s")  # nothing marked: a hint, no dialog
        assert not isinstance(app.screen, SetFieldScreen)
        assert "mark the files to change first" in list(app._notifications)[-1].message
        await pilot.press("space", "ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, SetFieldScreen))
        dialog = app.screen
        dialog.query_one("#sf-field").value = "steps"
        await pilot.press(*"abc", "enter")
        await until(pilot, lambda: "steps must be a positive integer"
                    in str(dialog.query_one("#sf-note").content))
        assert app.screen is dialog  # nothing asked, nothing written
        await pilot.press("escape")
        assert not isinstance(app.screen, SetFieldScreen)

    digest = sha(folder / "seed_sweep" / "astronaut_1.png")
    drive([folder / "seed_sweep"], body)
    assert sha(folder / "seed_sweep" / "astronaut_1.png") == digest


def test_sort_reverses_and_files_without_the_value_stay_last(folder: Path) -> None:
    async def body(app, pilot) -> None:
        names = rows(app)
        await pilot.press("ctrl+r")
        assert rows(app) == names[::-1]
        assert "sort: name ↓" in app.sub_title
        await pilot.press("ctrl+o", "ctrl+o")  # -> date -> seed, still reversed
        assert "sort: seed ↓" in app.sub_title
        sweep = [n for n in rows(app) if "astronaut" in n]
        assert sweep == [f"seed_sweep/astronaut_{i}.png" for i in (4, 3, 2, 1)]
        assert rows(app)[-1] in ("no_metadata.png", "prompt_only.png")  # no seed: last

    drive([folder], body)


def test_title_shows_the_folder(folder: Path) -> None:
    async def body(app, pilot) -> None:
        assert app.title.startswith("gendata · ")
        assert app.title.endswith(folder.name)

    drive([folder], body)
    home = os.path.expanduser("~")
    assert folder_title([os.path.join(home, "pics")]) == "~/pics"
    assert folder_title(["a", "b", "c"]) == "a and 2 more"
    assert folder_title(["/" + "x" * 60]).startswith("…")
    assert folder_title(["evil\x1b]0;x\x07"]) == "evil\\x1b]0;x\\x07"


def _comfy_two_passes(path: Path) -> None:
    graph = {
        "3": {"class_type": "KSampler", "inputs": {
            "seed": 5, "steps": 20, "cfg": 7, "sampler_name": "euler", "scheduler": "normal",
            "denoise": 1, "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0],
            "latent_image": ["5", 0]}},
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "m.safetensors"}},
        "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 8, "height": 8,
                                                           "batch_size": 1}},
        "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a comfy cat",
                                                         "clip": ["4", 1]}},
        "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
        "8": {"class_type": "LatentUpscaleBy", "inputs": {
            "samples": ["3", 0], "upscale_method": "nearest-exact", "scale_by": 1.5}},
        "9": {"class_type": "KSampler", "inputs": {
            "seed": 6, "steps": 10, "cfg": 5, "sampler_name": "dpmpp_2m",
            "scheduler": "karras", "denoise": 0.5, "model": ["4", 0], "positive": ["6", 0],
            "negative": ["7", 0], "latent_image": ["8", 0]}},
        "10": {"class_type": "VAEDecode", "inputs": {"samples": ["9", 0], "vae": ["4", 2]}},
        "11": {"class_type": "SaveImage", "inputs": {"images": ["10", 0]}}}
    info = PngInfo()
    info.add_text("prompt", json.dumps(graph))
    Image.new("RGB", (8, 8)).save(path, pnginfo=info)


def test_detail_labels_sampler_passes_and_names_the_dialect(tmp_path: Path) -> None:
    _comfy_two_passes(tmp_path / "comfy.png")
    passes = api.read(tmp_path / "comfy.png").params.samplers
    assert len(passes) == 2

    async def body(app, pilot) -> None:
        text = " ".join(detail_text(app).split())
        assert "ComfyUI metadata in PNG tEXt prompt" in text
        assert "Sampler passes (2)" in text
        for i, s in enumerate(passes, 1):
            assert f"Pass {i} of 2 · node {s.node}:" in text
            assert f"steps {s.steps}" in text and f"seed {s.seed}" in text
        assert "denoise 0.5" in text and "sampler dpmpp_2m" in text

    drive([tmp_path], body, size=(140, 40))


def test_detail_says_whether_edits_keep_the_format(folder: Path) -> None:
    async def body(app, pilot) -> None:
        text = " ".join(detail_text(app).split())
        assert "A1111 infotext in JPEG EXIF UserComment · edits keep this format" in text

    drive([folder], body)
