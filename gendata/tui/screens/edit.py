"""Front end (TUI): the edit form, every field of one file, saved losslessly on ctrl+s.

What each field shows and how its text maps back to a value is gendata.present.form's; this
screen holds the widgets, the undo history and the file.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, Label, Static, TextArea

from ... import api
from ...errors import GenDataError, ValidationError
from ...model import GenParams
from ...present.form import (
    FORM_FIELDS,
    MULTILINE_FIELDS,
    form_text,
    infotext_form_texts,
    typed_value,
)
from .. import library
from ..library import Item
from .dialogs import ConfirmScreen, PasteScreen

if TYPE_CHECKING:
    from ..app import GenDataApp


class EditScreen(Screen[bool]):
    """Every field of one file in a form. Nothing is written until ctrl+s; the result is True
    when the file was written."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save"),
        Binding("ctrl+z", "undo", "Undo"),
        Binding("ctrl+r", "discard", "Discard edits"),
        Binding("f2", "copy_infotext", "Copy infotext"),
        Binding("f3", "paste_infotext", "Paste infotext"),
        Binding("f5", "revert_file", "Revert file"),
        Binding("escape", "close", "Back"),
        # Priority: moved as the app takes the key off its queue, so that keys typed right
        # behind a tab (a paste, a fast typist) land in the next field, not this one.
        Binding("tab", "app.focus_next", "Next field", show=False, priority=True),
        Binding("shift+tab", "app.focus_previous", "Previous field", show=False,
                priority=True),
    ]

    def __init__(self, item: Item, base: GenParams, original: str | bool | None) -> None:
        super().__init__()
        self.item = item
        self.base = base
        self.original = original  # False: no session copy of the original block
        self.raw: dict[str, str] = {}
        self.errors: dict[str, str] = {}
        self.history: list[tuple[str, str]] = []
        self._last_edit: tuple[str, float] = ("", 0.0)
        self.saved = False

    def compose(self) -> ComposeResult:
        yield Static(id="edit-title")
        with VerticalScroll(id="form"):
            for name, label in FORM_FIELDS:
                value = form_text(self.base, name)
                self.raw[name] = value
                with Horizontal(classes="form-row", id=f"row-{name}"):
                    yield Label(label, classes="form-label", id=f"label-{name}")
                    with Vertical(classes="form-field"):
                        if name in MULTILINE_FIELDS:
                            yield TextArea(value, id=f"f-{name}", compact=True,
                                           classes=f"textarea-{name}")
                        else:
                            yield Input(value, id=f"f-{name}", compact=True,
                                        select_on_focus=False)
                        yield Static("", classes="form-error", id=f"err-{name}")
        yield Static(id="edit-status")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = self.item.name
        self._update_status()
        self.query_one("#f-prompt").focus()

    # --- reading the form ------------------------------------------------------------------

    def _widget_value(self, name: str) -> str:
        w = cast("TextArea | Input", self.query_one(f"#f-{name}"))
        return w.text if isinstance(w, TextArea) else w.value

    def _set_widget(self, name: str, value: str) -> None:
        self.raw[name] = value
        w = cast("TextArea | Input", self.query_one(f"#f-{name}"))
        if isinstance(w, TextArea):
            if w.text != value:
                w.load_text(value)
        elif w.value != value:
            w.value = value

    def _typed(self, name: str, raw: str) -> Any:
        """The model value a form string stands for; ValidationError with a sentence."""
        return typed_value(self.base, name, raw)

    def changes(self) -> dict[str, Any]:
        """Fields whose form value differs from the file's (unchanged ones are not passed, so
        the rest of the infotext is written back word for word)."""
        out: dict[str, Any] = {}
        for name, _ in FORM_FIELDS:
            raw = self.raw[name]
            if raw == form_text(self.base, name):
                continue
            try:
                typed = self._typed(name, raw)
            except GenDataError:
                continue
            if typed != getattr(self.base, name):
                out[name] = typed
        return out

    def changed_fields(self) -> set[str]:
        return {name for name, _ in FORM_FIELDS if self.raw[name] != form_text(self.base, name)}

    def _validate(self, name: str) -> None:
        try:
            self._typed(name, self.raw[name])
        except GenDataError as exc:
            self.errors[name] = str(exc)
        else:
            self.errors.pop(name, None)
        err = self.query_one(f"#err-{name}", Static)
        err.update(Text(self.errors.get(name, ""), style="bold red"))
        err.display = name in self.errors

    def _update_status(self) -> None:
        changed = self.changed_fields()
        for name, label in FORM_FIELDS:
            lab = self.query_one(f"#label-{name}", Label)
            lab.update(("● " if name in changed else "  ") + label)
            lab.set_class(name in changed, "changed")
            lab.set_class(name in self.errors, "invalid")
        title = Text(f"Edit {self.item.name}", style="bold")
        if changed:
            title.append(f"  ● {len(changed)} unsaved change{'s' * (len(changed) != 1)}",
                         style="bold yellow")
        else:
            title.append("  no unsaved changes", style="dim")
        self.query_one("#edit-title", Static).update(title)
        status = self.query_one("#edit-status", Static)
        if self.errors:
            status.update(Text(f"{len(self.errors)} invalid field(s); fix before saving: "
                               + "; ".join(self.errors.values()), style="red"))
        else:
            status.update(Text("ctrl+s saves to the file (pixels untouched)", style="dim"))

    @on(Input.Changed)
    @on(TextArea.Changed)
    def _changed(self, event: Input.Changed | TextArea.Changed) -> None:
        widget = event.input if isinstance(event, Input.Changed) else event.text_area
        if not widget.id or not widget.id.startswith("f-"):
            return
        self._take(widget.id[2:])

    def _take_all(self) -> None:
        """Catch up with what the fields hold: their Changed messages may still be queued
        behind the key that asked to save or copy."""
        for name, _ in FORM_FIELDS:
            self._take(name)

    def _take(self, name: str) -> None:
        new = self._widget_value(name)
        old = self.raw.get(name, "")
        if new == old:
            return
        now = time.monotonic()
        last_name, last_time = self._last_edit
        if not (self.history and last_name == name and now - last_time < 1.0):
            self.history.append((name, old))
        self._last_edit = (name, now)
        self.raw[name] = new
        self._validate(name)
        self._update_status()

    # --- actions ---------------------------------------------------------------------------

    def action_undo(self) -> None:
        if not self.history:
            self.notify("nothing to undo")
            return
        name, value = self.history.pop()
        self._last_edit = ("", 0.0)
        self._set_widget(name, value)
        self._validate(name)
        self._update_status()
        self.query_one(f"#f-{name}").focus()

    def action_discard(self) -> None:
        self._load(self.base)
        self.history.clear()
        self.notify("unsaved edits discarded")

    def _load(self, params: GenParams, only_typed: bool = False) -> None:
        for name, _ in FORM_FIELDS:
            self._set_widget(name, form_text(params, name))
            self._validate(name)
        self._update_status()

    def current(self) -> GenParams:
        """The edited model; ValidationError when a field is invalid."""
        if self.errors:
            raise ValidationError("; ".join(self.errors.values()))
        return self.base.edited(**self.changes())

    def action_save(self) -> None:
        self._take_all()
        try:
            new = self.current()
        except GenDataError as exc:
            self.notify(str(exc), title="Not saved", severity="error")
            return
        if not self.changed_fields():
            self.notify("no changes to save")
            return
        try:
            api.write(self.item.path, new)
        except GenDataError as exc:
            self.notify(str(exc), title="Not saved", severity="error")
            return
        self.saved = True
        self._reload_from_disk()
        self.notify(f"saved {self.item.name}")

    def _reload_from_disk(self) -> None:
        self.item.record = api.read_safe(self.item.path)
        self.item.refresh()
        try:
            self.base = api.editable_params(self.item.record)
        except GenDataError as exc:
            self.notify(str(exc), severity="error")
        self.history.clear()
        self._load(self.base)
        cast("GenDataApp", self.app).item_changed(self.item)

    def action_copy_infotext(self) -> None:
        self._take_all()
        try:
            text = api.dump_a1111(self.current())
        except GenDataError as exc:
            self.notify(str(exc), severity="error")
            return
        self.app.copy_to_clipboard(text)
        self.notify(f"copied infotext ({len(text)} characters)")

    def action_paste_infotext(self) -> None:
        def done(text: str | None) -> None:
            if not text:
                return
            try:
                pasted = infotext_form_texts(text)
            except GenDataError as exc:
                self.notify(str(exc), severity="error")
                return
            for name, value in pasted.items():
                if value != self.raw[name]:
                    self.history.append((name, self.raw[name]))
                    self._set_widget(name, value)
                self._validate(name)
            self._last_edit = ("", 0.0)
            self._update_status()
            self.notify("infotext pasted into the form; ctrl+s saves it")

        self.app.push_screen(PasteScreen(self.app.clipboard), done)

    def action_revert_file(self) -> None:
        if self.original is False:
            self.notify("no original copy of this file's data was kept", severity="warning")
            return

        def done(ok: bool | None) -> None:
            if not ok:
                return
            try:
                library.revert(self.item.path, self.original)  # type: ignore[arg-type]
            except GenDataError as exc:
                self.notify(str(exc), severity="error")
                return
            self.saved = True
            self._reload_from_disk()
            self.notify(f"reverted {self.item.name} to its data at session start")

        what = ("remove the generation data it did not have" if self.original is None
                else "write back its generation data")
        self.app.push_screen(ConfirmScreen(
            f"Revert {self.item.name}: {what} as it was when this session opened it? "
            "Unsaved edits are lost too."), done)

    def action_close(self) -> None:
        self._take_all()
        changed = self.changed_fields()
        if not changed:
            self.dismiss(self.saved)
            return

        def done(ok: bool | None) -> None:
            if ok:
                self.dismiss(self.saved)

        self.app.push_screen(ConfirmScreen(
            f"Discard {len(changed)} unsaved change(s) to {self.item.name}?"), done)
