"""Front end (TUI): the batch diff, the fields that vary across the marked files, a word diff
of two rows' prompts, and one field's value applied to all of them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from ... import api
from ...present import format_value, shorten, visible
from .. import library
from ..library import Item
from .dialogs import ConfirmScreen

if TYPE_CHECKING:
    from ..app import GenDataApp


def word_diff_texts(a: str, b: str) -> tuple[Text, Text]:
    """Left: `a` with deleted words struck out red; right: `b` with inserted words green."""
    from ...diff import word_diff

    left, right = Text(), Text()
    for op, chunk in word_diff(a, b):
        if op == "equal":
            left.append(chunk)
            right.append(chunk)
        elif op == "delete":
            left.append(chunk, style="bold red strike")
        else:
            right.append(chunk, style="bold green underline")
    return left, right


class DiffScreen(Screen[bool]):
    """Only the fields that vary across the marked files; a word diff of the prompts of the
    base row and the highlighted row; one field's value applied to all of them."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "apply_value", "Apply value to all"),
        Binding("b", "set_base", "Set base row"),
        Binding("escape", "close", "Back"),
    ]

    def __init__(self, items: list[Item]) -> None:
        super().__init__()
        self.items = items
        self.base_index = 0
        self.result: Any = None
        self.changed = False

    def compose(self) -> ComposeResult:
        yield Static(id="diff-title")
        yield DataTable(id="diff-table", cursor_type="cell")
        with Horizontal(id="word-diff"):
            with VerticalScroll(classes="wd-side"):
                yield Static(id="wd-left")
            with VerticalScroll(classes="wd-side"):
                yield Static(id="wd-right")
        yield Footer()

    def on_mount(self) -> None:
        self._compute()
        self.set_focus(self.query_one(DataTable))

    def _compute(self) -> None:
        from ...diff import batch_diff

        self.result = batch_diff([it.record for it in self.items])
        res = self.result
        table = self.query_one(DataTable)
        table.clear(columns=True)
        table.add_column("File", key="__file__")
        for name in res.varying:
            table.add_column(visible(name, ""), key=name)
        names = {it.path: it.shown_name for it in self.items}
        for path, values in res.rows:
            cells: list[Any] = [Text(names.get(path, visible(path, "")), no_wrap=True)]
            for name in res.varying:
                cells.append(Text(shorten(visible(format_value(values.get(name)), ""), 40),
                                  no_wrap=True))
            table.add_row(*cells, key=path)
        title = Text(f"{len(self.items)} files", style="bold")
        if res.varying:
            title.append(f" · {len(res.varying)} field(s) vary: ", style="bold")
            title.append(visible(", ".join(res.varying), ""), style="yellow")
            title.append(f" · {len(res.constant)} the same in all", style="dim")
        else:
            title.append(f" · no field varies: all {len(res.constant)} are the same in all",
                         style="bold green")
        self.query_one("#diff-title", Static).update(title)
        self._show_word_diff()

    def _row_values(self, index: int) -> tuple[str, dict[str, Any]]:
        return self.result.rows[index]

    def _current(self) -> tuple[int, str | None]:
        table = self.query_one(DataTable)
        if table.row_count == 0:
            return 0, None
        row = table.cursor_coordinate.row
        key = table.coordinate_to_cell_key(table.cursor_coordinate).column_key.value
        return row, key

    def _show_word_diff(self) -> None:
        left_w = self.query_one("#wd-left", Static)
        right_w = self.query_one("#wd-right", Static)
        if not self.result or len(self.result.rows) < 2:
            left_w.update("")
            right_w.update("")
            return
        row, _ = self._current()
        base = self._record(self.base_index)
        other = self._record(row if row != self.base_index else
                             (1 if self.base_index == 0 else 0))
        left, right = Text(), Text()
        for label, attr in (("prompt", "prompt"), ("negative prompt", "negative_prompt")):
            a = visible(getattr(base.params, attr, "") if base.params else "")
            b = visible(getattr(other.params, attr, "") if other.params else "")
            if attr == "negative_prompt" and a == b:
                continue
            la, ra = word_diff_texts(a, b)
            left.append(f"{label}:\n", style="bold cyan")
            right.append(f"{label}:\n", style="bold cyan")
            left.append_text(la if a != b else Text(a))
            right.append_text(ra if a != b else Text("(same)", style="dim"))
            left.append("\n")
            right.append("\n")
        names = {it.path: it.shown_name for it in self.items}
        left_w.update(Text(f"base: {names.get(base.path, base.path)}\n", style="bold")
                      + left)
        right_w.update(Text(f"{names.get(other.path, other.path)}\n", style="bold") + right)

    def _record(self, index: int) -> api.Record:
        path = self.result.rows[index][0]
        return next(it.record for it in self.items if it.path == path)

    @on(DataTable.CellHighlighted)
    def _highlighted(self) -> None:
        self._show_word_diff()

    def action_set_base(self) -> None:
        self.base_index, _ = self._current()
        self._show_word_diff()

    def action_apply_value(self) -> None:
        row, name = self._current()
        if name is None or name == "__file__":
            self.notify("move to a field column first (left/right)", severity="warning")
            return
        _, values = self._row_values(row)
        value = values.get(name)
        paths = [it.path for it in self.items]
        todo = library.plan_apply(paths, name, value)
        if not todo:
            self.notify(f"all {len(paths)} files already have {name} = {format_value(value)!r}")
            return

        def done(ok: bool | None) -> None:
            if ok:
                self._apply(todo, name, value)

        shown = visible(shorten(format_value(value), 60), "")
        self.app.push_screen(ConfirmScreen(
            f"Set {visible(name, '')} to {shown!r} in {len(todo)} of {len(paths)} marked files? "
            f"({len(paths) - len(todo)} already {'has' if len(paths) - len(todo) == 1 else 'have'} "
            "it.) Pixels and other metadata are "
            "left untouched.", yes=f"Change {len(todo)} files"), done)

    @work(thread=True, exclusive=True, group="apply")
    def _apply(self, paths: list[str], name: str, value: Any) -> None:
        _, failed = library.apply_to_files(paths, name, value)
        self.app.call_from_thread(self._applied, paths, failed)

    def _applied(self, paths: list[str], failed: list[str]) -> None:
        self.changed = True
        for it in self.items:
            if it.path in paths:
                it.record = api.read_safe(it.path)
                it.refresh()
                cast("GenDataApp", self.app).item_changed(it)
        self._compute()
        if failed:
            self.notify("\n".join(failed[:5]), title=f"{len(failed)} file(s) not changed",
                        severity="error")
        else:
            self.notify(f"changed {len(paths)} file(s)")

    def action_close(self) -> None:
        self.dismiss(self.changed)
