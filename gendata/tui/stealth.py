"""Front end (TUI): generation data hidden in pixels (stealth pnginfo), as a mixin of the app.

The list reads chunks only, so that a folder lists at once; a file whose chunks hold nothing
may still hide its data in its pixels. Such a file is checked when it is shown, and, once the
list is read, all of them in a background worker, so that the generator column, the title's
count and the filter know them too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.worker import get_current_worker

from .. import api
from .library import Item

if TYPE_CHECKING:
    from textual.app import App

    _Base = App[None]
else:
    _Base = object

BATCH = 32  # files handed to the list at once by the sweep


class PixelData(_Base):
    """Mixin for the app. The app provides `items`, `item_changed(item)` and `rebuild()`."""

    items: list[Item]

    if TYPE_CHECKING:  # the app's
        def item_changed(self, item: Item) -> None: ...
        def rebuild(self, search: bool = True) -> None: ...
        def _list_gone(self) -> bool: ...

    @work(thread=True, exclusive=True, group="stealth")
    def _look_for_stealth(self, item: Item) -> None:
        """The file shown, at once."""
        rec = api.read_safe(item.path)
        if rec.params is not None:
            self.call_from_thread(self._stealth_found, [(item, rec)])

    def sweep_pixels(self) -> None:
        """Check the pixels of every listed file whose chunks hold nothing, in a worker."""
        todo = [it for it in self.items if it.params is None and it.record.error is None]
        if todo:
            self.run_worker(lambda: self._sweep(todo), name="stealth sweep",
                            group="stealth-sweep", description=f"{len(todo)} files",
                            exclusive=True, thread=True)

    def _sweep(self, todo: list[Item]) -> None:
        worker = get_current_worker()
        found: list[tuple[Item, api.Record]] = []
        for item in todo:
            if worker.is_cancelled:
                return
            rec = api.read_safe(item.path)
            if rec.params is not None:
                found.append((item, rec))
            if len(found) >= BATCH:
                self.call_from_thread(self._stealth_found, found)
                found = []
        if found and not worker.is_cancelled:
            self.call_from_thread(self._stealth_found, found)

    def _stealth_found(self, found: list[tuple[Item, api.Record]]) -> None:
        if self._list_gone():  # answered while the app closes
            return
        for item, rec in found:
            if item.params is None:  # not read again meanwhile
                item.record = rec
                item.refresh()
                self.item_changed(item)
        if len(found) > 1:
            self.rebuild()  # the filter and the sort may place them now
