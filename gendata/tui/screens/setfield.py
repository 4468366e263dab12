"""Front end (TUI): set one field to one value in every marked file, from the list, without
opening any of them (fix a wrong model name across 300 images).

The value is checked as the edit form checks it, as you type; then the files are read in a
worker to count what would change, a confirmation says so, and the writes run in a worker,
each one lossless, atomic and refused if its file changed between read and write. The
screen's result is the paths written.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Select, Static

from ...errors import GenDataError
from ...present import format_value, shorten, visible
from ...present.form import SET_FIELDS, set_value
from .. import library
from ..library import Item, SetPlan
from .dialogs import ConfirmScreen

LABELS = dict(SET_FIELDS)


class SetFieldScreen(ModalScreen[list[str] | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "apply", "Set"), Binding("escape", "cancel", "Cancel")]

    def __init__(self, items: list[Item]) -> None:
        super().__init__()
        self.items = items
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="set-field"):
            yield Static(Text(f"Set a field in {len(self.items)} marked "
                              f"file{'s' * (len(self.items) != 1)}", style="bold"),
                         classes="dialog-text")
            yield Select([(label, name) for name, label in SET_FIELDS], value="model",
                         allow_blank=False, id="sf-field", compact=True)
            yield Input(placeholder="new value (empty: remove the field)", id="sf-value",
                        compact=True, select_on_focus=False)
            yield Static("", id="sf-note")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Set… (ctrl+s)", variant="primary", id="sf-apply")
                yield Button("Cancel (esc)", id="sf-cancel")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#sf-value", Input))
        self._check()

    # --- the value ------------------------------------------------------------------------

    def field_name(self) -> str:
        return str(self.query_one("#sf-field", Select).value)

    def parsed(self) -> tuple[str, Any]:
        """(field, value) as gendata.diff names them; ValidationError when invalid."""
        return set_value(self.field_name(), self.query_one("#sf-value", Input).value)

    @on(Select.Changed)
    @on(Input.Changed)
    def _check(self) -> bool:
        note = self.query_one("#sf-note", Static)
        name = self.field_name()
        try:
            field, value = self.parsed()
        except GenDataError as exc:
            note.update(Text(visible(str(exc)), style="bold red"))
            return False
        what = repr(field.removeprefix("extra.")) if name == "extra" else LABELS[name]
        if value is None:
            note.update(Text(f"removes {visible(what)} from each file", style="yellow"))
        else:
            shown = visible(shorten(format_value(value), 60), "")
            note.update(Text(f"sets {visible(what)} to {shown!r}", style="dim"))
        return True

    # --- doing it -------------------------------------------------------------------------

    @on(Input.Submitted)
    @on(Button.Pressed, "#sf-apply")
    def action_apply(self) -> None:
        if self.busy or not self._check():
            return
        field, value = self.parsed()
        self.busy = True
        self.query_one("#sf-note", Static).update(Text("reading the marked files…", style="dim"))
        self._plan([it.path for it in self.items], field, value)

    @work(thread=True, exclusive=True, group="set-field")
    def _plan(self, paths: list[str], field: str, value: Any) -> None:
        plan = library.plan_set(paths, field, value)
        self.app.call_from_thread(self._confirm, plan, field, value)

    def _confirm(self, plan: SetPlan, field: str, value: Any) -> None:
        self.busy = False
        self._check()
        names = {it.path: it.name for it in self.items}
        what = field.removeprefix("extra.") if field.startswith("extra.") \
            else LABELS[self.field_name()]
        notes = []
        if plan.same:
            notes.append(f"{len(plan.same)} already {'has' if len(plan.same) == 1 else 'have'} it")
        if plan.cannot:
            listed = ", ".join(names.get(p, p) for p, _ in plan.cannot[:3])
            more = f" and {len(plan.cannot) - 3} more" if len(plan.cannot) > 3 else ""
            notes.append(f"{len(plan.cannot)} cannot be edited in place: {listed}{more}")
        tail = f" ({'; '.join(notes)})" if notes else ""
        if not plan.todo:
            self.notify(f"nothing to change{tail}", severity="warning")
            return
        shown = shorten(format_value(value), 60)
        action = f"Remove {what} from" if value is None else f"Set {what} to {shown!r} in"
        question = visible(
            f"{action} {len(plan.todo)} of {len(self.items)} marked files?{tail} Pixels and "
            "other metadata are left untouched.", "")

        def done(ok: bool | None) -> None:
            if ok:
                self.busy = True
                self._apply(plan.todo, field, value)

        self.app.push_screen(ConfirmScreen(question, yes=f"Change {len(plan.todo)} files"),
                             done)

    @work(thread=True, exclusive=True, group="set-field")
    def _apply(self, paths: list[str], field: str, value: Any) -> None:
        written, failed = library.apply_to_files(paths, field, value)
        self.app.call_from_thread(self._applied, written, failed)

    def _applied(self, written: list[str], failed: list[str]) -> None:
        if failed:
            self.notify("\n".join(failed[:5]), title=f"{len(failed)} file(s) not changed",
                        severity="error", timeout=10)
        self.notify(f"changed {len(written)} file(s)")
        self.dismiss(written)

    @on(Button.Pressed, "#sf-cancel")
    def action_cancel(self) -> None:
        if not self.busy:
            self.dismiss(None)
