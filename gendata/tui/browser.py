"""Front end (TUI): the browser's filter, sort and marks, as a mixin of the app.

Typing anywhere on the browser goes to the filter (see `browser_key`); the list is filtered
after a short pause in typing, sorted by name, date, seed or steps either way, and the marks
say which files the batch diff and "set a field on the marked files" work on.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual import events
from textual.timer import Timer
from textual.widgets import Input

from . import library
from .library import Item
from .widgets import FileList

if TYPE_CHECKING:
    from textual.app import App

    _Base = App[None]
else:
    _Base = object

FILTER_DELAY = 0.25  # seconds of no typing before the list is filtered


class ListControls(_Base):
    """Mixin for the app: filter, sort and marks over `items`/`shown`. The app provides
    `rebuild()` (filter and sort again) and `_update_title()`."""

    items: list[Item]
    shown: list[Item]
    by_path: dict[str, Item]
    marked: set[str]
    sort: str
    reverse: bool
    query_text: str
    _filter_timer: Timer | None

    if TYPE_CHECKING:  # the app's
        async def action_edit(self) -> None: ...
        def rebuild(self) -> None: ...
        def _update_title(self) -> None: ...
        def current_item(self) -> Item | None: ...

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

    def on_input_changed(self, event: Input.Changed) -> None:
        # A handler by name: `@on` registers only on Textual's own classes, not a mixin.
        if event.input.id != "filter" or event.value.strip() == self.query_text:
            return
        self.query_text = event.value.strip()
        if self._filter_timer is not None:
            self._filter_timer.stop()
        self._filter_timer = self.set_timer(FILTER_DELAY, self.rebuild)

    def _apply_filter_now(self) -> None:
        if self._filter_timer is not None:
            self._filter_timer.stop()
            self.rebuild()

    async def browser_key(self, event: events.Key) -> bool:
        """A key on the browser, handled as the app takes it off its queue (see `keys`).

        Typing anywhere but in the filter box goes to the filter box, except space (marks),
        `?` (help) and `q` while the filter is empty (quits; `/` first to search for a word
        that starts with q). Other keys run their binding now, so a key that opens a screen
        has it open before the next key is routed."""
        focused = self.focused
        box = self.query_one("#filter", Input)
        files = self.query_one(FileList)
        if focused is box:
            if event.key not in ("escape", "enter", "up", "down"):
                return False  # typed into the box (keys._text_key_now)
            self._apply_filter_now()
            self.screen.set_focus(files)
            if event.key in ("up", "down"):
                files.action_move(1 if event.key == "down" else -1)
            return True
        char = event.character
        if event.is_printable and char is not None and char not in (" ", "?"):
            if char == "q" and not box.value:
                await self.action_quit()
                return True
            self._focus_filter()
            if char != "/":
                box.insert_text_at_cursor(char)
            return True
        if event.key == "enter" and focused is files:
            await self.action_edit()  # the list's own binding would only post a message
            return True
        active = self.screen.active_bindings.get(event.key)
        if active is None or not active.enabled or active.binding.priority:
            return False
        return bool(await self.run_action(active.binding.action, active.node))

    def sort_label(self) -> str:
        """"name ↑", "date ↓": the sort and its direction (↓: descending, newest first)."""
        return f"{self.sort} {'↓' if self.reverse else '↑'}"

    def action_sort(self) -> None:
        self.sort = library.SORTS[(library.SORTS.index(self.sort) + 1) % len(library.SORTS)]
        self.rebuild()
        self.notify(f"sorted by {self.sort_label()}; ctrl+r reverses", timeout=1.5)

    def action_reverse_sort(self) -> None:
        self.reverse = not self.reverse
        self.rebuild()
        self.notify(f"sorted by {self.sort_label()}", timeout=1.5)

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

    def marked_items(self) -> list[Item]:
        """The marked files that are still listed, in the list's order."""
        order = {it.path: i for i, it in enumerate(self.shown)}
        return sorted((self.by_path[p] for p in self.marked if p in self.by_path),
                      key=lambda it: order.get(it.path, len(order)))
