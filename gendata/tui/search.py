"""Front end (TUI): the filter box as a search of the index, as a mixin of the app.

Where an index exists, what is typed in the filter box is a query in the search language
(docs/index.md: `red fox*`, `seed:42`, `lora:detail*`, `steps>=30`, ...), and the list shows
the listed files that match it, as `gendata search` would. `gendata.indexing.live` answers
from the index for the files it holds as they are now, and from the list's own reads for the
others (never indexed, changed since, edited here), so the answer is right for every file
shown. Without an index the box filters by words in names and prompts (`library.matches`).

The search runs in a thread worker; until it answers, the list keeps the last answer.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.widgets import Input, Static
from textual.worker import get_current_worker

from ..errors import GenDataError
from . import library
from .library import Item

if TYPE_CHECKING:
    from textual.app import App

    from ..indexing.live import Listed, LiveSearch

    _Base = App[None]
else:
    _Base = object

TEXT_PLACEHOLDER = "type to filter"
# a term of the search language (seed:N, steps>=30) typed where the box only matches words
_FIELD_TERM = re.compile(r"(?:^|\s)-?[A-Za-z_]+(?::|>=|<=|>|<)")
_NO_INDEX_HINT = ("no index here: the box matches words in names and prompts "
                  "(`gendata index` makes fields like seed:N searchable)")
SEARCH_PLACEHOLDER = "search: red fox seed:42 lora:x …"


def by_name(query: str, names: list[tuple[str, str]]) -> set[str]:
    """The paths whose listed name holds every word of a query made only of plain words
    (`chroma`, `flux2 depth`): the names are on screen, and the word filter matched them, so
    typing one keeps finding it. Any other term makes the query the search language's."""
    from ..indexing.query import parse

    terms = parse(query)
    if not terms or any(t.kind != "words" or t.field != "prompt" or t.negated or " " in t.value
                        for t in terms):
        return set()
    words = [t.value.casefold() for t in terms]
    return {path for path, name in names if all(w in name for w in words)}


class IndexFilter(_Base):
    """Mixin for the app: which items the filter keeps. The app provides `items`,
    `query_text`, `rebuild(search=False)` and `_update_title()`."""

    items: list[Item]
    query_text: str
    live: LiveSearch | None
    matched: set[str]
    matched_query: str | None  # the query `matched` answers
    searching: bool

    if TYPE_CHECKING:  # the app's
        def rebuild(self, search: bool = True) -> None: ...
        def _update_title(self) -> None: ...

    def filter_placeholder(self) -> str:
        return SEARCH_PLACEHOLDER if self.live is not None else TEXT_PLACEHOLDER

    def kept(self, search: bool) -> list[Item]:
        """The items the filter keeps now. With an index, `search` asks the index again (in
        a worker, which rebuilds the list when it answers); meanwhile the last answer holds,
        and before the first one every item is kept."""
        query = self.query_text
        if not query:
            self._show_query_error(None)
            self.matched, self.matched_query = set(), None  # no last answer to fall back on
            return self.items
        if self.live is None:
            self._show_query_error(_NO_INDEX_HINT if _FIELD_TERM.search(query) else None,
                                   invalid=False)
            return [it for it in self.items if library.matches(it, query)]
        if search:
            self.searching = True
            listed = [(it.path, it.record, it.stamp) for it in self.items]
            names = [(it.path, it.name.casefold()) for it in self.items]
            # run_worker with a description: @work would describe the worker by the repr of
            # its arguments, every record of the list (two seconds at 10,000 files)
            self.run_worker(partial(self._search, query, listed, names), name="search",
                            group="search", description=f"search {query!r}", exclusive=True,
                            thread=True)
        if self.matched_query is None:
            return self.items
        return [it for it in self.items if it.path in self.matched]

    def _search(self, query: str, listed: list[Listed], names: list[tuple[str, str]]) -> None:
        from ..indexing.query import QueryError

        live = self.live
        if live is None:
            return
        try:
            found = live.match(query, listed) | by_name(query, names)
        except QueryError as exc:
            self._answer(self._search_failed, query, str(exc), False)
        except GenDataError as exc:  # the index is damaged, or was removed
            self._answer(self._search_failed, query, str(exc), True)
        else:
            self._answer(self._search_done, query, found)

    def _answer(self, callback: Callable[..., None], *args: Any) -> None:
        """Hand the answer to the app, unless a newer search replaced this one or the app
        is closing (its list is gone by then)."""
        if get_current_worker().is_cancelled:
            return
        with contextlib.suppress(RuntimeError):  # the app's loop has stopped
            self.call_from_thread(callback, *args)

    def _list_gone(self) -> bool:
        return not self.is_running or not self.default_screen.query("#files")

    def _search_done(self, query: str, found: set[str]) -> None:
        self.searching = False
        if self._list_gone() or query != self.query_text:
            return  # typing went on; that search answers
        self._show_query_error(None)
        self.matched, self.matched_query = found, query
        self.rebuild(search=False)

    def _search_failed(self, query: str, message: str, index_gone: bool) -> None:
        self.searching = False
        if self._list_gone():
            return
        if index_gone:
            self.live = None
            self.query_one("#filter", Input).placeholder = TEXT_PLACEHOLDER
            self.notify(f"{message}\nThe filter now matches words in names and prompts.",
                        title="Index unavailable", severity="error", timeout=8)
            self.rebuild()
            return
        if query != self.query_text:
            return
        self._show_query_error(message)
        self._update_title()

    def _show_query_error(self, message: str | None, *, invalid: bool = True) -> None:
        """Under the box, not as a toast: a query is often wrong only half-typed (`seed:`),
        and the list keeps the last answer meanwhile. `invalid`: mark the box too (not for
        a hint)."""
        box = self.query_one("#filter", Input)
        note = self.query_one("#filter-error", Static)
        box.set_class(message is not None and invalid, "-invalid")
        note.set_class(message is not None, "-shown")
        if message is not None:  # the first clause: a list of fields would fill the pane
            note.update(message.split("; ")[0])
