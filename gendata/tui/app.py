"""The gendata terminal app: a file browser with a detail view, an edit form and a batch diff.

`create_app` is what `gendata tui` / `gendata edit` and the tests call. Metadata is read in a
thread worker (api.read_safe per file) and handed to the list in batches, so the first files
of a huge folder show at once and the UI never waits on the disk. Then a second worker
watches the folders (`watch`), and the list follows what other programs write, add and delete.
Where each key goes is `keys`' job.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, cast

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
from ..present import visible
from . import commands, library
from .browser import ListControls
from .detail import DetailView
from .keys import KeyRouting
from .library import Item
from .screens import DiffScreen, EditScreen, HelpScreen, SetFieldScreen
from .search import IndexFilter
from .stamps import FileStamp
from .stealth import PixelData
from .watch import DiskChanges, FolderWatch
from .widgets import FileList, GraphicThumbnail, Thumbnail, fit

if TYPE_CHECKING:
    from ..indexing.live import LiveSearch

FIRST_BATCH = 20  # rows shown before the first refresh, so something appears at once
# Later batches are handed over at most this often: every hand-over redraws the list, and on a
# 10,000-image folder frequent redraws cost more than the reading itself.
BATCH_SECONDS = 0.6
PREVIEW_MIN_WIDTH = 100  # terminal columns
TITLE_PATH_WIDTH = 28  # cells of the folder shown in the title; longer paths lose their start


BROWSER_ACTIONS = frozenset({
    "filter", "sort", "reverse_sort", "mark", "diff", "edit", "set_field", "copy_infotext",
    "mark_folder", "mark_all", "clear_marks", "toggle_thumbnail", "reload", "clear_filter",
    "help"})


class GenDataApp(KeyRouting, ListControls, IndexFilter, PixelData, FolderWatch, App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "gendata"

    # Letters, digits and punctuation on the browser go to the filter ("type-to-filter"), so
    # the browser's own keys are ctrl keys, space and `?` (which rarely begins a search), and
    # `q` on an empty filter (browser_key).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash,ctrl+f", "filter", "Filter", key_display="/"),  # see browser_key
        Binding("space", "mark", "Mark", show=True),
        Binding("ctrl+d", "diff", "Diff"),
        Binding("ctrl+e", "edit", "Edit"),
        Binding("ctrl+s", "set_field", "Set…"),  # a field on the marked files
        Binding("ctrl+o", "sort", "Sort"),
        Binding("ctrl+r", "reverse_sort", "Reverse", show=False),
        Binding("ctrl+c", "copy_infotext", "Copy", show=False),  # footer: no room at 80 columns
        Binding("ctrl+g", "mark_folder", "Mark folder", show=False),
        Binding("ctrl+a", "mark_all", "Mark all shown", show=False),
        Binding("ctrl+u", "clear_marks", "Clear marks", show=False),
        Binding("ctrl+t", "toggle_thumbnail", "Preview", show=False),
        Binding("f5", "reload", "Reload", show=False),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("question_mark,f1", "help", "Help", key_display="?"),
        Binding("ctrl+q", "quit", "Quit"),
    ]

    def __init__(self, paths: Sequence[str | os.PathLike[str]], *, edit: str | None = None,
                 thumbnails: bool = True, graphics: type | None = None,
                 watch: bool = True, index: str | os.PathLike[str] | None = None,
                 source: str | None = None, notices: Sequence[str] = ()) -> None:
        super().__init__()
        self.graphics = graphics  # textual-image widget for real pictures, or None
        self.paths = [os.fspath(p) for p in paths] or ["."]
        self.edit_path = os.fspath(edit) if edit is not None else None
        self.thumbnails = thumbnails  # previews wanted (--no-preview: not)
        self.watching = watch
        self.thumb_override: bool | None = None  # ctrl+t: shown or hidden whatever the width
        self.items: list[Item] = []
        self.by_path: dict[str, Item] = {}
        self.shown: list[Item] = []
        self.marked: set[str] = set()
        self.sort = "name"
        self.reverse = False
        self.query_text = ""
        # Each file's record as first read this session: what "revert file" goes back to.
        self.originals: dict[str, api.Record] = {}
        self.loading = False
        self.load_started = 0.0
        self.first_rows_at: float | None = None
        self.loaded_at: float | None = None  # when the list was read to its end
        self._rebuild_pending = False
        self._showing: str | None = None
        self._filter_timer: Timer | None = None
        self.batches = 0  # list updates made while loading (the list fills as it goes)
        self.source = source  # what the title names instead of the paths ("standard input")
        self.notices = list(notices)  # shown once the app is up
        self.live: LiveSearch | None = None
        if index is not None:
            from ..indexing.live import LiveSearch

            self.live = LiveSearch(index)
        self.matched: set[str] = set()
        self.matched_query: str | None = None
        self.searching = False

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The browser's keys act (and show in the footer) only on the browser itself, not
        over the edit form or the diff screen."""
        return not (action in BROWSER_ACTIONS and len(self.screen_stack) > 1)

    # --- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="")
        with Horizontal(id="main"):
            with Vertical(id="sidebar"):
                yield Input(placeholder=self.filter_placeholder(), id="filter",
                            compact=True, select_on_focus=False)
                yield Static("", id="filter-error", markup=False)
                yield Static(Text("   Gen     Name", style="bold"), id="list-header")
                yield FileList(self.marked, id="files")
            with Horizontal(id="detail-pane"):
                yield DetailView(id="detail")
                if self.graphics is not None:
                    yield GraphicThumbnail(self.graphics, id="thumb")
                else:
                    yield Thumbnail(id="thumb")
        yield Footer(compact=True)  # every browser key fits at 80 columns

    def on_mount(self) -> None:
        self.title = f"gendata · {self.source or folder_title(self.paths)}"
        for notice in self.notices:
            self.notify(notice, severity="warning", timeout=8)
        self._sync_thumb()
        self.query_one(FileList).focus()
        self._update_title()
        if self.edit_path is not None:
            self.hold_keys(10.0)  # keys typed while the file loads belong to the form
        self.load()

    def notify(self, message: str, *, title: str = "", severity: Any = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Every message may quote a file name or a value from a file: never read as markup,
        and with control characters spelled out."""
        super().notify(visible(message), title=visible(title), severity=severity,
                       timeout=timeout, markup=False)

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
        fresh = [item for item in batch if not self._update_item(item)]
        for item in fresh:
            self.items.append(item)
            self.by_path[item.path] = item
            self._keep_original(item)
        if self.sort == "name" and not self.reverse and not self.query_text \
                and len(fresh) == len(batch) \
                and library.in_name_order(batch, self.shown[-1] if self.shown else None):
            self.shown.extend(batch)
            files.extend(batch)
        elif not self.shown:
            self.rebuild()  # the first rows: at once, in order
        else:
            self._schedule_rebuild()
        if batch and self.first_rows_at is None:
            self.first_rows_at = time.monotonic() - self.load_started
        if done:
            self.loading = False
            self.loaded_at = time.monotonic()
        self._update_title()
        if self._showing is None and self.shown:
            self._show_current()
        if done and self.edit_path is not None:
            self._open_edit_on_start()
        if done:
            self.start_watching()
            self.sweep_pixels()

    def _keep_original(self, item: Item) -> None:
        if item.path not in self.originals and item.record.error is None:
            self.originals[item.path] = item.record

    def _update_item(self, fresh: Item) -> bool:
        """Take a new read of a listed file into its item; False when it is not listed."""
        item = self.by_path.get(fresh.path)
        if item is None:
            return False
        item.take(fresh)
        self._keep_original(item)
        return True

    def _open_edit_on_start(self) -> None:
        path, self.edit_path = self.edit_path, None
        if path is None:
            self.call_later(self.release_keys)
            return
        item = self.by_path.get(path) or (self.items[0] if len(self.items) == 1 else None)
        if item is None:
            self.notify(f"{path}: not an image gendata can read", severity="error")
        elif self.open_editor(item):
            return
        self.call_later(self.release_keys)

    # --- following the disk ---------------------------------------------------------------

    def known_stamps(self) -> dict[str, FileStamp | None]:
        return {path: item.stamp for path, item in self.by_path.items()}

    def apply_disk_changes(self, changes: DiskChanges) -> None:
        """Files another program wrote, added or deleted: update their rows, and tell an
        open edit form that its file changed underneath it."""
        for fresh in changes.added + changes.updated:
            if not self._update_item(fresh):
                self.items.append(fresh)
                self.by_path[fresh.path] = fresh
                self._keep_original(fresh)
        gone = set(changes.removed)
        if gone:
            self.items = [it for it in self.items if it.path not in gone]
            for path in gone:
                self.by_path.pop(path, None)
            self.marked.difference_update(gone)
        self.rebuild()
        touched = gone | {it.path for it in changes.updated}
        for screen in self.screen_stack:
            if isinstance(screen, EditScreen) and screen.item.path in touched:
                screen.disk_changed()

    def _schedule_rebuild(self) -> None:
        if not self._rebuild_pending:
            self._rebuild_pending = True
            self.set_timer(0.3, self.rebuild)

    def rebuild(self, search: bool = True) -> None:
        """Re-filter and re-sort the list, keeping the cursor on the same file. `search`:
        ask the index again (see `search`); False when its answer is what calls this."""
        self._rebuild_pending = False
        self._filter_timer = None
        if self._list_gone():  # a timer that fires while the app closes
            return
        files = self.query_one(FileList)
        current = files.current_path()
        self.shown = library.sort_items(self.kept(search), self.sort, self.reverse)
        files.set_items(self.shown, keep=current, row=files.cursor)
        self._update_title()
        self._show_current()

    def _update_title(self) -> None:
        with_data = sum(1 for it in self.items if it.params is not None)
        count = f"{len(self.items)} image{'s' * (len(self.items) != 1)}"
        parts = [f"{len(self.shown)} of {count}" if self.query_text else count,
                 f"{with_data} with data"]
        if self.marked:
            parts.append(f"{len(self.marked)} marked")
        parts.append(f"sort: {self.sort_label()}")
        if self.loading:
            parts.append("loading…")
        elif self.searching:
            parts.append("searching…")
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

    @on(FileList.Highlighted)
    def _row_highlighted(self, event: FileList.Highlighted) -> None:
        if event.path != self._showing or event.path is None:
            self._show_current()

    @on(FileList.Selected)
    async def _row_selected(self, event: FileList.Selected) -> None:
        await self.action_edit()

    def item_changed(self, item: Item) -> None:
        """A file was written or re-read: refresh its row and, if shown, the detail."""
        self.query_one(FileList).refresh_item(item.path)
        if self._showing == item.path:
            self._show_current()
        self._update_title()

    # --- actions on files -----------------------------------------------------------------

    async def action_diff(self) -> None:
        items = self.marked_items()
        if len(items) < 2:
            self.notify("mark at least two files (space, ctrl+g for a folder, ctrl+a for all "
                        "shown) to compare", severity="warning")
            return

        def done(changed: bool | None) -> None:
            self._show_current()

        await self.push_screen(DiffScreen(items), done)

    async def action_set_field(self) -> None:
        items = self.marked_items()
        if not items:
            self.notify("mark the files to change first (space, ctrl+g for a folder, ctrl+a "
                        "for all shown)", severity="warning")
            return

        def done(changed: list[str] | None) -> None:
            for path in changed or ():
                item = self.by_path.get(path)
                if item is not None:
                    item.take(Item.load(item.path, item.name))
                    self.item_changed(item)
            self.rebuild()

        await self.push_screen(SetFieldScreen(items), done)

    async def action_edit(self) -> None:
        item = self.current_item()
        mounted = self.open_editor(item) if item is not None else None
        if mounted is not None:
            await mounted

    def open_editor(self, item: Item) -> Any:
        """Push the edit form for `item` (awaitable: it is mounted, its first field focused,
        when the await returns); None, with the reason shown, when it cannot be edited."""
        try:
            base = api.editable_params(item.record)
        except GenDataError as exc:
            self.notify(library.cannot_edit_message(item, exc), title=f"Cannot edit {item.name}",
                        severity="error", timeout=10)
            return None
        first = self.originals.get(item.path)
        original = library.original_text(first) if first is not None else False

        def done(saved: bool | None) -> None:
            self.item_changed(item)

        return self.push_screen(EditScreen(item, base, original), done)

    async def action_quit(self) -> None:
        """Quit; over an edit form with unsaved edits, ask first (as leaving the form does)."""
        forms = [s for s in self.screen_stack if isinstance(s, EditScreen) and s.unsaved()]
        if not forms:
            self.exit()
        elif self.screen is not forms[0]:
            self.notify("finish the open dialog first", severity="warning")
        else:
            forms[0].action_close(then=self.exit)

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

    async def action_help(self) -> None:
        await self.push_screen(HelpScreen())

    # --- command palette ------------------------------------------------------------------

    def get_system_commands(self, screen: Screen) -> Iterator[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from commands.for_screen(self, screen)


def folder_title(paths: Sequence[str]) -> str:
    """What the title says the app shows: the folder (or file) as given, the current folder
    spelled out, home as `~`, the start cut when long; "and N more" for several."""
    first = paths[0] if paths else "."
    if first in (".", "./", ""):
        first = os.getcwd()
    home = os.path.expanduser("~")
    if home not in ("", "/") and (first == home or first.startswith(home + os.sep)):
        first = "~" + first[len(home):]
    text = fit(visible(first, ""), TITLE_PATH_WIDTH)
    return text + (f" and {len(paths) - 1} more" if len(paths) > 1 else "")


def create_app(paths: Sequence[str | os.PathLike[str]] = (), *, edit: str | None = None,
               thumbnails: bool = True, graphics: type | None = None,
               watch: bool = True, index: str | os.PathLike[str] | None = None,
               source: str | None = None, notices: Sequence[str] = ()) -> GenDataApp:
    """The app for `paths` (files or folders; the current folder when empty). With `edit`,
    the edit form for that file opens as soon as it is read. `graphics`: the widget for real
    pictures (`thumbs.graphics_widget()`); half-block previews without it. `watch`: follow
    changes on disk (a watcher worker; see `watch`). `index`: the index database the filter
    box searches (see `search`); without it the box filters by words. `source`: what the
    title names instead of the paths; `notices`: warnings shown once the app is up."""
    if edit is not None and not paths:
        paths = [edit]
    return GenDataApp([Path(p) for p in paths], edit=edit, thumbnails=thumbnails,
                      graphics=graphics, watch=watch, index=index, source=source,
                      notices=notices)
