"""The TUI follows the disk and never silently overwrites another program's edit: files
changed, added or deleted elsewhere show in the list; a form whose file changed asks to
reload, overwrite or cancel before writing (tui.stamps keeps each file's identity and hands
it to the library's writers as `expect`)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from gendata import api
from gendata.errors import FileChangedError
from gendata.tui import stamps
from gendata.tui.screens import ChoiceScreen, EditScreen
from gendata.tui.watch import scan

from .conftest import detail_text, drive, rows, sha, until

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def set_seed_elsewhere(path: Path, seed: int) -> None:
    """Another program edits the file (gendata's library, as any other writer would)."""
    api.write(path, api.read(path).params.edited(seed=seed))


def touch_in_place(path: Path) -> None:
    """An edit that keeps the inode: append a byte after IEND, bump the mtime."""
    with open(path, "ab") as f:
        f.write(b"\0")
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))


# --- the stamp check ---------------------------------------------------------------------

def test_a_stamp_tells_every_kind_of_change(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    shutil.copy(FIXTURES / "a1111_basic.png", path)
    first = stamps.stamp(path)
    assert first is not None and stamps.change_reason(path, first) is None
    touch_in_place(path)
    assert "size changed" in stamps.change_reason(path, first)
    second = stamps.stamp(path)
    set_seed_elsewhere(path, 7)  # a new file renamed over it: a new inode
    assert "replaced by another file" in stamps.change_reason(path, second)
    third = stamps.stamp(path)
    path.unlink()
    assert "deleted or moved" in stamps.change_reason(path, third)
    assert stamps.stamp(tmp_path) is None  # not a regular file


def test_write_checked_refuses_a_changed_file_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    shutil.copy(FIXTURES / "a1111_basic.png", path)
    seen = stamps.stamp(path)
    params = api.read(path).params
    set_seed_elsewhere(path, 7)
    digest = sha(path)
    with pytest.raises(FileChangedError, match="changed on disk since it was read"):
        stamps.write_checked(path, params.edited(steps=5), seen)
    assert sha(path) == digest
    now = stamps.write_checked(path, api.read(path).params.edited(steps=5),
                               stamps.stamp(path))
    assert now == stamps.stamp(path) and api.read(path).params.steps == 5


def test_scan_finds_new_changed_and_removed_files(tmp_path: Path) -> None:
    for name in ("a.png", "b.png"):
        shutil.copy(FIXTURES / "a1111_basic.png", tmp_path / name)
    known = {str(tmp_path / n): stamps.stamp(tmp_path / n) for n in ("a.png", "b.png")}
    assert not scan([str(tmp_path)], known)
    set_seed_elsewhere(tmp_path / "a.png", 7)
    (tmp_path / "b.png").unlink()
    shutil.copy(FIXTURES / "a1111.jpg", tmp_path / "c.jpg")
    (tmp_path / ".c.jpg.tmp").write_bytes(b"x")  # hidden: never listed
    changes = scan([str(tmp_path)], known)
    assert [it.name for it in changes.updated] == ["a.png"]
    assert changes.updated[0].params.seed == 7
    assert [it.name for it in changes.added] == ["c.jpg"]
    assert changes.removed == [str(tmp_path / "b.png")]


# --- the list follows the disk -----------------------------------------------------------

def test_the_list_follows_files_changed_added_and_deleted(tmp_path: Path) -> None:
    for i in (1, 2):
        shutil.copy(FIXTURES / "seed_sweep" / f"astronaut_{i}.png", tmp_path / f"a{i}.png")
    (tmp_path / "sub").mkdir()

    async def body(app, pilot) -> None:
        assert rows(app) == ["a1.png", "a2.png"]
        set_seed_elsewhere(tmp_path / "a1.png", 424242)
        await until(pilot, lambda: "424242" in detail_text(app))
        shutil.copy(FIXTURES / "a1111.jpg", tmp_path / "sub" / "new.jpg")
        await until(pilot, lambda: "sub/new.jpg" in rows(app))
        app.marked.add(str(tmp_path / "a2.png"))
        (tmp_path / "a2.png").unlink()
        await until(pilot, lambda: "a2.png" not in rows(app))
        assert app.marked == set()
        assert "2 images" in app.sub_title
        shutil.rmtree(tmp_path / "sub")
        await until(pilot, lambda: rows(app) == ["a1.png"])

    drive([tmp_path], body)


def test_a_watched_file_named_on_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "one.png"
    shutil.copy(FIXTURES / "a1111_basic.png", path)
    shutil.copy(FIXTURES / "a1111_basic.png", tmp_path / "other.png")

    async def body(app, pilot) -> None:
        set_seed_elsewhere(path, 555)
        await until(pilot, lambda: "555" in detail_text(app))
        assert rows(app) == ["one.png"]  # its folder's other files are not listed

    drive([path], body)


def test_watching_costs_start_up_nothing(tmp_path: Path) -> None:
    """The watcher starts in a worker once the list has been read to its end, so the first
    rows never wait for it."""
    data = (FIXTURES / "seed_sweep" / "astronaut_1.png").read_bytes()
    for i in range(200):
        (tmp_path / f"img_{i:03d}.png").write_bytes(data)

    async def body(app, pilot) -> None:
        [watcher] = [w for w in app.workers if w.group.startswith("watch")]
        assert app.loaded_at is not None and watcher._created_time >= app.loaded_at
        assert app.batches >= 2  # the first rows were shown before the rest was read

    drive([tmp_path], body)

    async def unwatched(app, pilot) -> None:
        assert not [w for w in app.workers if w.group.startswith("watch")]

    drive([tmp_path], unwatched, watch=False)


# --- the edit form and another program ---------------------------------------------------

def test_save_over_a_file_changed_elsewhere_asks_and_cancel_writes_nothing(folder: Path
                                                                          ) -> None:
    path = folder / "a1111_basic.png"

    async def body(app, pilot) -> None:
        form = app.screen
        form.set_focus(form.query_one("#f-steps"))
        await pilot.press("ctrl+u", "9")
        set_seed_elsewhere(path, 777)  # meanwhile, another program
        digest = sha(path)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        assert "changed on disk after you opened it" in app.screen.message
        assert app.focused.id == "answer-cancel"  # no single key overwrites
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is form)
        assert sha(path) == digest  # nothing written
        assert form.changed_fields() == {"steps"}  # the edit is still in the form
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await pilot.press("left", "enter")  # Overwrite
        await until(pilot, lambda: app.screen is form and not form.changed_fields())

    drive([path], body, edit=path, watch=False)  # the check at save time, on its own
    after = api.read(path).params
    assert after.steps == 9
    assert after.seed == 3141592653  # overwritten, as asked: the form's data wins


def test_reload_takes_the_other_programs_data_and_undo_brings_mine_back(folder: Path
                                                                        ) -> None:
    path = folder / "a1111_basic.png"

    async def body(app, pilot) -> None:
        form = app.screen
        form.set_focus(form.query_one("#f-steps"))
        await pilot.press("ctrl+u", "9")
        set_seed_elsewhere(path, 777)
        await until(pilot, lambda: form.disk_note is not None)  # the watcher saw it
        banner = form.query_one("#edit-disk")
        assert banner.display and "changed on disk" in str(banner.content)
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen))
        await pilot.press("left", "left", "enter")  # Reload from disk
        await until(pilot, lambda: app.screen is form and form.raw["seed"] == "777")
        assert form.changed_fields() == set() and not banner.display
        await pilot.press("ctrl+z")
        assert form.raw["steps"] == "9" and form.changed_fields() == {"steps"}
        await pilot.press("ctrl+s")  # now the form was filled from the current file
        await until(pilot, lambda: not form.changed_fields())

    drive([path], body, edit=path)
    after = api.read(path).params
    assert (after.seed, after.steps) == (777, 9)  # both edits kept


def test_a_form_without_edits_just_shows_the_new_data(folder: Path) -> None:
    path = folder / "a1111_basic.png"

    async def body(app, pilot) -> None:
        form = app.screen
        set_seed_elsewhere(path, 31337)
        await until(pilot, lambda: form.raw["seed"] == "31337")
        assert form.disk_note is None and form.changed_fields() == set()
        before = time.monotonic()
        await pilot.press("ctrl+s")  # nothing to save, nothing asked
        assert not isinstance(app.screen, ChoiceScreen) and time.monotonic() - before < 5

    drive([path], body, edit=path)


def test_a_deleted_file_is_never_recreated_from_the_form(folder: Path) -> None:
    path = folder / "a1111_basic.png"

    async def body(app, pilot) -> None:
        form = app.screen
        await pilot.press("x")
        path.unlink()
        await until(pilot, lambda: form.disk_note is not None)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, EditScreen)
        assert not path.exists()
        assert "deleted or moved" in list(app._notifications)[-1].message

    drive([path], body, edit=path)


def test_events_naming_image_files_are_settled_without_a_walk(tmp_path: Path) -> None:
    from gendata.tui.watch import scan_events

    (tmp_path / "sub").mkdir()
    for name in ("a.png", "sub/b.png"):
        shutil.copy(FIXTURES / "a1111_basic.png", tmp_path / name)
    given = str(tmp_path)
    known = {os.path.join(given, n): stamps.stamp(tmp_path / n) for n in ("a.png", "sub/b.png")}
    set_seed_elsewhere(tmp_path / "sub" / "b.png", 9)
    shutil.copy(FIXTURES / "a1111.jpg", tmp_path / "sub" / "new.JPG")
    (tmp_path / "a.png").unlink()
    (tmp_path / "notes.txt").write_text("a sidecar")
    events = [str(tmp_path / n) for n in ("a.png", "sub/b.png", "sub/new.JPG", "notes.txt",
                                          "sub/.b.png.x1y2.tmp")]
    changes = scan_events([given], known, events)
    assert changes is not None
    assert changes.removed == [os.path.join(given, "a.png")]
    assert [(it.name, it.params.seed) for it in changes.updated] == [("sub/b.png", 9)]
    assert [it.name for it in changes.added] == ["sub/new.JPG"]
    # a folder appearing, or a path outside the folders as given: only a walk can tell
    (tmp_path / "more").mkdir()
    assert scan_events([given], known, [str(tmp_path / "more")]) is None
    assert scan_events([given], known, ["/elsewhere/x.png"]) is None
