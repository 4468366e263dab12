"""The gendata terminal app: a file browser with a detail view, an edit form and a batch diff.

`create_app` is what `gendata tui` / `gendata edit` and the tests call. Metadata is read in a
thread worker (api.read_safe per file) and handed to the list in batches, so the first files
of a huge folder show at once and the UI never waits on the disk.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import ClassVar, cast

from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Input, Static
from textual.worker import get_current_worker

from .. import api
from ..errors import GenDataError
from . import commands, library
from .detail import DetailView
from .library import Item
from .screens import DiffScreen, EditScreen, HelpScreen
from .widgets import FileList, GraphicThumbnail, Thumbnail

FIRST_BATCH = 20  # rows shown before the first refresh, so something appears at once
# Later batches are handed over at most this often: every hand-over redraws the list, and on a
# 10,000-image folder frequent redraws cost more than the reading itself.
BATCH_SECONDS = 0.6
PREVIEW_MIN_WIDTH = 100  # terminal columns
FILTER_DELAY = 0.25  # seconds of no typing before the list is filtered


BROWSER_ACTIONS = frozenset({
    "filter", "sort", "mark", "diff", "edit", "copy_infotext", "mark_folder", "mark_all",
    "clear_marks", "toggle_thumbnail", "reload", "clear_filter", "help"})


class GenDataApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "gendata"

    # Letters, digits and punctuation on the list start the filter ("type-to-filter"), so the
    # browser's own keys are ctrl keys, space and `?` (which rarely begins a search).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash,ctrl+f", "filter", "Filter", key_display="/"),  # see _filter_key
        Binding("space", "mark", "Mark", show=True),
        Binding("ctrl+d", "diff", "Diff"),
        Binding("ctrl+e", "edit", "Edit"),
        Binding("ctrl+o", "sort", "Sort"),
        Binding("ctrl+c", "copy_infotext", "Copy", show=False),  # footer: no room at 80 columns
        Binding("ctrl+g", "mark_folder", "Mark folder", show=False),
        Binding("ctrl+a", "mark_all", "Mark all shown", show=False),
        Binding("ctrl+u", "clear_marks", "Clear marks", show=False),
        Binding("ctrl+t", "toggle_thumbnail", "Preview", show=False),
        Binding("ctrl+r,f5", "reload", "Reload", show=False),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("question_mark,f1", "help", "Help", key_display="?"),
        Binding("ctrl+q", "quit", "Quit"),
    ]

    def __init__(self, paths: Sequence[str | os.PathLike[str]], *, edit: str | None = None,
                 thumbnails: bool = True, graphics: type | None = None) -> None:
        super().__init__()
        self.graphics = graphics  # textual-image widget for real pictures, or None
        self.paths = [os.fspath(p) for p in paths] or ["."]
        self.edit_path = os.fspath(edit) if edit is not None else None
        self.thumbnails = thumbnails  # previews wanted (--no-preview: not)
        self.thumb_override: bool | None = None  # ctrl+t: shown or hidden whatever the width
        self.items: list[Item] = []
        self.by_path: dict[str, Item] = {}
        self.shown: list[Item] = []
        self.marked: set[str] = set()
        self.sort = "name"
        self.query_text = ""
        # Each file's record as first read this session: what "revert file" goes back to.
        self.originals: dict[str, api.Record] = {}
        self.loading = False
        self.load_started = 0.0
        self.first_rows_at: float | None = None
        self._rebuild_pending = False
        self._showing: str | None = None
        self._filter_timer: Timer | None = None
        self.batches = 0  # list updates made while loading (the list fills as it goes)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The browser's keys act (and show in the footer) only on the browser itself, not
        over the edit form or the diff screen."""
        return not (action in BROWSER_ACTIONS and len(self.screen_stack) > 1)

    # --- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="")
        with Horizontal(id="main"):
            with Vertical(id="sidebar"):
                yield Input(placeholder="type to filter", id="filter",
                            compact=True, select_on_focus=False)
                yield Static(Text("   Gen     Name", style="bold"), id="list-header")
                yield FileList(self.marked, id="files")
            with Horizontal(id="detail-pane"):
                yield DetailView(id="detail")
                if self.graphics is not None:
                    yield GraphicThumbnail(self.graphics, id="thumb")
                else:
                    yield Thumbnail(id="thumb")
        yield Footer()

    def on_mount(self) -> None:
        self._sync_thumb()
        self.query_one(FileList).focus()
        self._update_title()
        self.load()

    # --- loading --------------------------------------------------------------------------

    def load(self) -> None:
        self.items.clear()
        self.by_path.clear()
        self.shown.clear()
        self.query_one(FileList).set_items([])
        self.loading = True
        self.load_started = time.monotonic()
        self.first_rows_at = None
        self._load_worker(list(self.paths))

    @work(thread=True, exclusive=True, group="load")
    def _load_worker(self, paths: list[str]) -> None:
        worker = get_current_worker()
        batch: list[Item] = []
        last = time.monotonic()
        limit = FIRST_BATCH
        for path, name in library.discover(paths):
            if worker.is_cancelled:
                return
            batch.append(Item.load(path, name))
            now = time.monotonic()
            if len(batch) >= limit or now - last >= BATCH_SECONDS:
                self.call_from_thread(self._add_items, batch, False)
                batch, last, limit = [], time.monotonic(), 5000
        if not worker.is_cancelled:
            self.call_from_thread(self._add_items, batch, True)

    def _add_items(self, batch: list[Item], done: bool) -> None:
        self.batches += 1
        files = self.query_one(FileList)
        for item in batch:
            self.items.append(item)
            self.by_path[item.path] = item
            if item.path not in self.originals and item.record.error is None:
                self.originals[item.path] = item.record
        if self.sort == "name" and not self.query_text:
            self.shown.extend(batch)
            files.extend(batch)
        else:
            self._schedule_rebuild()
        if batch and self.first_rows_at is None:
            self.first_rows_at = time.monotonic() - self.load_started
        if done:
            self.loading = False
        self._update_title()
        if self._showing is None and self.shown:
            self._show_current()
        if done and self.edit_path is not None:
            self._open_edit_on_start()

    def _open_edit_on_start(self) -> None:
        path, self.edit_path = self.edit_path, None
        if path is None:
            return
        item = self.by_path.get(path) or (self.items[0] if len(self.items) == 1 else None)
        if item is None:
            self.notify(f"{path}: not an image gendata can read", severity="error")
            return
        self.open_editor(item)

    def _schedule_rebuild(self) -> None:
        if not self._rebuild_pending:
            self._rebuild_pending = True
            self.set_timer(0.3, self.rebuild)

    def rebuild(self) -> None:
        """Re-filter and re-sort the list, keeping the cursor on the same file."""
        self._rebuild_pending = False
        self._filter_timer = None
        files = self.query_one(FileList)
        current = files.current_path()
        shown = [it for it in self.items if library.matches(it, self.query_text)] \
            if self.query_text else list(self.items)
        shown.sort(key=library.sort_key(self.sort))
        self.shown = shown
        files.set_items(shown, keep=current)
        self._update_title()
        self._show_current()

    def _update_title(self) -> None:
        with_data = sum(1 for it in self.items if it.params is not None)
        parts = [f"{len(self.shown)} of {len(self.items)} images" if self.query_text
                 else f"{len(self.items)} images", f"{with_data} with data"]
        if self.marked:
            parts.append(f"{len(self.marked)} marked")
        parts.append(f"sort: {self.sort}")
        if self.loading:
            parts.append("loading…")
        self.sub_title = " · ".join(parts)
        self.query_one("#sidebar").border_title = f"Files ({len(self.shown)})"

    # --- detail ---------------------------------------------------------------------------

    def current_item(self) -> Item | None:
        path = self.query_one(FileList).current_path()
        return self.by_path.get(path) if path else None

    def _show_current(self) -> None:
        item = self.current_item()
        self._showing = item.path if item else None
        self.query_one(DetailView).show(item)
        if self.thumb_shown():
            cast("Thumbnail | GraphicThumbnail", self.query_one("#thumb")).show_image(
                item.path if item else None)
        if item is not None and item.params is None and item.record.error is None:
            self._look_for_stealth(item)

    @work(thread=True, exclusive=True, group="stealth")
    def _look_for_stealth(self, item: Item) -> None:
        """The list reads chunks only; a file without any gets the pixel check when shown."""
        rec = api.read_safe(item.path)
        if rec.params is not None:
            self.call_from_thread(self._stealth_found, item, rec)

    def _stealth_found(self, item: Item, rec: api.Record) -> None:
        item.record = rec
        item.refresh()
        self.item_changed(item)

    @on(FileList.Highlighted)
    def _row_highlighted(self, event: FileList.Highlighted) -> None:
        if event.path != self._showing or event.path is None:
            self._show_current()

    @on(FileList.Selected)
    def _row_selected(self, event: FileList.Selected) -> None:
        self.action_edit()

    def item_changed(self, item: Item) -> None:
        """A file was written or re-read: refresh its row and, if shown, the detail."""
        self.query_one(FileList).refresh_item(item.path)
        if self._showing == item.path:
            self._show_current()
        self._update_title()

    # --- filter and sort ------------------------------------------------------------------

    def action_filter(self) -> None:
        self._focus_filter()

    def _focus_filter(self) -> Input:
        """Focus the filter box now, not after the queued events (`Widget.focus` defers it):
        keys typed in one burst after `/` must land in the box, not on the list."""
        box = self.query_one("#filter", Input)
        if self.focused is not box:
            self.screen.set_focus(box)
            box.cursor_position = len(box.value)
        return box

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        if box.value or self.query_text:
            box.value = ""
            self.query_text = ""
            if self._filter_timer is not None:
                self._filter_timer.stop()
            self.rebuild()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        if event.value.strip() == self.query_text:
            return
        self.query_text = event.value.strip()
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._filter_timer = self.set_timer(FILTER_DELAY, self.rebuild)

    def _apply_filter_now(self) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self.rebuild()

    async def on_event(self, event: events.Event) -> None:
        """Keys that move between the list and the filter box are handled here, as the app
        takes them off its queue and before it hands them to the focused widget: a key handled
        further down (or a deferred `focus()`) would let the keys queued behind it, e.g. the
        rest of `/comfy` sent in one burst, reach the widget that had focus before."""
        if isinstance(event, events.Key) and not event.is_forwarded:
            if len(self.screen_stack) == 1 and self._filter_key(event):
                return
            if await self._input_key_now(event):
                return
        await super().on_event(event)

    async def _input_key_now(self, event: events.Key) -> bool:
        """Keys for a one-line box, handled as the app takes them off its queue. Textual lets
        the box type a character when the box's own queue gets to it, but runs a binding
        (ctrl+u, ctrl+s) only once the key has bubbled back up to the app, so in a burst the
        two cross: ctrl+u then `30` gave an empty box, `30` then ctrl+s saved the old value.
        Doing both here keeps a burst in the order it was typed."""
        box = self.focused
        if not isinstance(box, Input):
            return False
        if event.is_printable and event.character is not None:
            if box.selection.is_empty:
                box.insert_text_at_cursor(event.character)
            else:
                box.replace(event.character, *box.selection)
            return True
        active = self.screen.active_bindings.get(event.key)
        if active is None or not active.enabled or active.binding.priority:
            return False
        return bool(await self.run_action(active.binding.action, active.node))

    def _filter_key(self, event: events.Key) -> bool:
        focused = self.focused
        files = self.query_one(FileList)
        if focused is files:
            # type-to-filter: any printable key but space (marks) and `?` (help)
            char = event.character
            if not event.is_printable or char is None or char in (" ", "?"):
                return False
            box = self._focus_filter()
            if char != "/":
                box.insert_text_at_cursor(char)
            return True
        if focused is not None and focused.id == "filter" and event.key in (
                "escape", "enter", "up", "down"):
            self._apply_filter_now()
            self.screen.set_focus(files)
            if event.key in ("up", "down"):
                files.action_move(1 if event.key == "down" else -1)
            return True
        return False

    def action_sort(self) -> None:
        self.sort = library.SORTS[(library.SORTS.index(self.sort) + 1) % len(library.SORTS)]
        self.rebuild()
        self.notify(f"sorted by {self.sort}", timeout=1.5)

    # --- marks ----------------------------------------------------------------------------

    def _set_marks(self, paths: Iterable[str], on_: bool) -> None:
        files = self.query_one(FileList)
        for path in paths:
            if on_:
                self.marked.add(path)
            else:
                self.marked.discard(path)
            files.refresh_item(path)
        self._update_title()

    def action_mark(self) -> None:
        item = self.current_item()
        if item is None:
            return
        self._set_marks([item.path], item.path not in self.marked)
        files = self.query_one(FileList)
        files.set_cursor(files.cursor + 1)

    def action_mark_all(self) -> None:
        self._set_marks([it.path for it in self.shown], True)

    def action_mark_folder(self) -> None:
        item = self.current_item()
        if item is None:
            return
        folder = os.path.dirname(item.path)
        paths = [it.path for it in self.shown if os.path.dirname(it.path) == folder]
        self._set_marks(paths, True)
        self.notify(f"marked {len(paths)} files in {os.path.dirname(item.name) or 'this folder'}",
                    timeout=2)

    def action_clear_marks(self) -> None:
        self._set_marks(list(self.marked), False)

    # --- actions on files -----------------------------------------------------------------

    def action_diff(self) -> None:
        order = {it.path: i for i, it in enumerate(self.shown)}
        items = sorted((self.by_path[p] for p in self.marked if p in self.by_path),
                       key=lambda it: order.get(it.path, len(order)))
        if len(items) < 2:
            self.notify("mark at least two files (space, ctrl+g for a folder, ctrl+a for all "
                        "shown) to compare", severity="warning")
            return

        def done(changed: bool | None) -> None:
            self._show_current()

        self.push_screen(DiffScreen(items), done)

    def action_edit(self) -> None:
        item = self.current_item()
        if item is not None:
            self.open_editor(item)

    def open_editor(self, item: Item) -> None:
        try:
            base = api.editable_params(item.record)
        except GenDataError as exc:
            self.notify(library.cannot_edit_message(item, exc), title=f"Cannot edit {item.name}",
                        severity="error", timeout=10)
            return
        first = self.originals.get(item.path)
        original = library.original_text(first) if first is not None else False

        def done(saved: bool | None) -> None:
            self.item_changed(item)

        self.push_screen(EditScreen(item, base, original), done)

    def action_copy_infotext(self) -> None:
        item = self.current_item()
        if item is None or item.params is None:
            self.notify("no generation data to copy", severity="warning")
            return
        text = api.dump_a1111(item.params)  # an unedited model dumps to its exact text
        self.copy_to_clipboard(text)
        self.notify(f"copied infotext of {item.name} ({len(text)} characters); ctrl+q quits",
                    timeout=2)

    def thumb_shown(self) -> bool:
        """Under PREVIEW_MIN_WIDTH columns the preview would squeeze the detail view into a
        strip and be too small to recognise, so it is off there until ctrl+t asks for it."""
        if self.thumb_override is not None:
            return self.thumb_override
        return self.thumbnails and self.size.width >= PREVIEW_MIN_WIDTH

    def _sync_thumb(self) -> None:
        thumb = self.screen_stack[0].query_one("#thumb")  # a resize may come over the form
        shown = self.thumb_shown()
        if thumb.display != shown:
            thumb.display = shown
            if shown:
                self.call_after_refresh(self._show_current)

    def on_resize(self, event: events.Resize) -> None:
        self.call_after_refresh(self._sync_thumb)

    def action_toggle_thumbnail(self) -> None:
        self.thumb_override = not self.thumb_shown()
        self._sync_thumb()

    def action_reload(self) -> None:
        self.load()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    # --- command palette ------------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterator[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from commands.for_screen(self, screen)


def create_app(paths: Sequence[str | os.PathLike[str]] = (), *, edit: str | None = None,
               thumbnails: bool = True, graphics: type | None = None) -> GenDataApp:
    """The app for `paths` (files or folders; the current folder when empty). With `edit`,
    the edit form for that file opens as soon as it is read. `graphics`: the widget for real
    pictures (`thumbs.graphics_widget()`); half-block previews without it."""
    if edit is not None and not paths:
        paths = [edit]
    return GenDataApp([Path(p) for p in paths], edit=edit, thumbnails=thumbnails,
                      graphics=graphics)
