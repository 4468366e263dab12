"""Front end (TUI): the edit form, every field of one file, saved losslessly on ctrl+s.

What each field shows and how its text maps back to a value is gendata.present.form's; this
screen holds the widgets, the undo history and the file. The form remembers the stamp of the
file it was filled from (`stamps`): a save checks it, and when another program changed the
file in the meantime the form asks whether to reload, overwrite or cancel, and never
overwrites silently. The app's folder watcher tells the form as soon as it happens
(`disk_changed`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Input, Label, Static, TextArea

from ... import api
from ...errors import FileChangedError, GenDataError, ValidationError
from ...model import GenParams
from ...present import dialect_label, format_summary, new_data_location, visible
from ...present.form import (
    FORM_FIELDS,
    MULTILINE_FIELDS,
    form_text,
    infotext_form_texts,
    typed_value,
)
from .. import library, stamps
from ..library import Item
from .dialogs import ChoiceScreen, ConfirmScreen, PasteScreen

FIELD_NAMES = [name for name, _ in FORM_FIELDS]

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
        # Up/down leave a one-line box, and a text area from its first or last line.
        Binding("up", "move_field(-1)", "Previous field", show=False, priority=True),
        Binding("down", "move_field(1)", "Next field", show=False, priority=True),
    ]

    def __init__(self, item: Item, base: GenParams,
                 original: str | api.Snapshot | bool | None) -> None:
        super().__init__()
        self.item = item
        self.base = base
        self.stamp = item.stamp  # the file the form was filled from
        self.original = original  # False: no session copy of the original block
        self.raw: dict[str, str] = {}
        self.errors: dict[str, str] = {}
        self.history: list[tuple[str, str]] = []
        self._last_edit: tuple[str, float] = ("", 0.0)
        self.saved = False
        self.disk_note: str | None = None  # why the file on disk is no longer the form's

    def compose(self) -> ComposeResult:
        yield Static(id="edit-title")
        yield Static(id="edit-format")
        yield Static(id="edit-disk")
        with VerticalScroll(id="form") as form:
            form.can_focus = False  # tab and up/down go from field to field, not to the frame
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
        self.sub_title = self.item.shown_name
        self._update_status()
        self._update_format()
        self._update_disk_note()
        # Focus now, not deferred: keys typed right behind the one that opened the form
        # are waiting in the app's queue (or held by it) and belong in this field.
        self.set_focus(self.query_one("#f-prompt"))
        release = getattr(self.app, "release_keys", None)
        if release is not None:
            self.app.call_later(release)

    # --- reading the form ------------------------------------------------------------------

    def _field(self, name: str) -> Input | TextArea:
        return cast("Input | TextArea", self.query_one(f"#f-{name}"))

    def _widget_value(self, name: str) -> str:
        w = self._field(name)
        return w.text if isinstance(w, TextArea) else w.value

    def _set_widget(self, name: str, value: str) -> None:
        self.raw[name] = value
        w = self._field(name)
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
        for name in FIELD_NAMES:
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
        return {name for name in FIELD_NAMES if self.raw[name] != form_text(self.base, name)}

    def unsaved(self) -> bool:
        self._take_all()
        return bool(self.changed_fields())

    def _validate(self, name: str) -> None:
        try:
            self._typed(name, self.raw[name])
        except GenDataError as exc:
            self.errors[name] = visible(str(exc), "")
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
        title = Text(f"Edit {self.item.shown_name}", style="bold")
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

    def _update_format(self) -> None:
        """Which dialect the file's data is in, and that saving keeps it: an edit is written
        back in the dialect it was read in, changing only the fields edited."""
        rec = self.item.record
        line = Text()
        summary = format_summary(rec, rec.params)
        if summary is None:
            line.append("No generation data yet: saving writes "
                        f"{dialect_label(self.base.generator)} "
                        f"({new_data_location(rec.container)})", style="dim")
        else:
            line.append(visible(summary, ""), style="dim")
            line.append(" · saving keeps this format; only the fields you edit change",
                        style="dim")
        self.query_one("#edit-format", Static).update(line)

    def _update_disk_note(self) -> None:
        banner = self.query_one("#edit-disk", Static)
        banner.display = self.disk_note is not None
        if self.disk_note is not None:
            banner.update(Text(f"⚠ {self.item.shown_name} changed on disk after it was opened "
                               f"({visible(self.disk_note, '')}). ctrl+s asks whether to "
                               "reload it, overwrite it or cancel.", style="bold"))

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
        for name in FIELD_NAMES:
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

    # --- moving between fields -------------------------------------------------------------

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Mark the row of the focused field (styled in app.tcss), so the field being edited
        stands out even where a terminal draws the cursor faintly."""
        for row in self.query(".form-row"):
            row.set_class(event.widget in row.query("*"), "focused")

    def action_move_field(self, delta: int) -> None:
        """Up/down: the previous/next field; inside a text area, a line up/down until the
        first/last line."""
        w: Widget | None = self.focused
        if isinstance(w, TextArea):
            nav = w.navigator
            edge = nav.is_first_wrapped_line(w.cursor_location) if delta < 0 \
                else nav.is_last_wrapped_line(w.cursor_location)
            if not edge:
                (w.action_cursor_up if delta < 0 else w.action_cursor_down)()
                return
        name = (w.id or "")[2:] if w is not None else ""
        if name not in FIELD_NAMES:
            return
        index = FIELD_NAMES.index(name) + delta
        if 0 <= index < len(FIELD_NAMES):
            self.set_focus(self._field(FIELD_NAMES[index]))

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
        self.set_focus(self._field(name))

    def action_discard(self) -> None:
        self._load(self.base)
        self.history.clear()
        self.notify("unsaved edits discarded")

    def _load(self, params: GenParams) -> None:
        for name in FIELD_NAMES:
            self._set_widget(name, form_text(params, name))
            self._validate(name)
        self._update_status()

    def current(self) -> GenParams:
        """The edited model; ValidationError when a field is invalid."""
        if self.errors:
            raise ValidationError("; ".join(self.errors.values()))
        return self.base.edited(**self.changes())

    def action_save(self, then: Callable[[], Any] | None = None) -> None:
        """Save; `then` runs once the file is written (not if saving fails or is cancelled)."""
        self._take_all()
        try:
            new = self.current()
        except GenDataError as exc:
            self.notify(str(exc), title="Not saved", severity="error")
            return
        if not self.changed_fields():
            self.notify("no changes to save")
            if then is not None:
                then()
            return
        why = stamps.change_reason(self.item.path, self.stamp)
        if why is not None:
            self._ask_conflict(why, new, then)
            return
        self._write(new, self.stamp, then)

    def _write(self, new: GenParams, expected: stamps.FileStamp | None,
               then: Callable[[], Any] | None) -> None:
        try:
            stamps.write_checked(self.item.path, new, expected)
        except FileChangedError:  # changed between the check above and the lock
            self._ask_conflict(stamps.change_reason(self.item.path, expected)
                               or "it changed", new, then)
            return
        except GenDataError as exc:
            self.notify(str(exc), title="Not saved", severity="error")
            return
        self.saved = True
        self._reload_from_disk()
        self.notify(f"saved {self.item.name}")
        if then is not None:
            then()

    def _ask_conflict(self, why: str, new: GenParams, then: Callable[[], Any] | None) -> None:
        """The file changed since the form was filled: the user decides, and no single key
        can overwrite (the answers are buttons; escape cancels)."""
        self.disk_note = why
        self._update_disk_note()
        current = stamps.stamp(self.item.path)
        if current is None:
            self.notify(f"{self.item.name}: {why}; nothing was saved, and the form keeps "
                        "your edits", title="Not saved", severity="error", timeout=10)
            return

        def done(answer: str | None) -> None:
            if answer == "overwrite":
                self._write(new, current, then)
            elif answer == "reload":
                self.reload_keeping_undo()

        self.app.push_screen(ChoiceScreen(
            f"{self.item.name} changed on disk after you opened it: {why}.\n\n"
            "Reload: show the file as it is now (your edits are dropped; ctrl+z brings them "
            "back one by one).\nOverwrite: save your form over it, and the other changes "
            "are lost.\nCancel: keep editing; nothing is written.",
            [("reload", "Reload from disk"), ("overwrite", "Overwrite"),
             ("cancel", "Cancel")], default="cancel"), done)

    def reload_keeping_undo(self) -> None:
        """Fill the form from the file as it is now; each dropped edit becomes an undo step."""
        self._take_all()
        mine = {name: self.raw[name] for name in self.changed_fields()}
        self._reload_from_disk()
        for name, text in mine.items():
            if text != self.raw[name]:
                self.history.append((name, text))
        self.notify(f"reloaded {self.item.name} from disk"
                    + ("; ctrl+z brings your edits back" if mine else ""))

    def _reload_from_disk(self) -> None:
        self.item.take(Item.load(self.item.path, self.item.name))
        self.stamp = self.item.stamp
        self.disk_note = None
        self._update_disk_note()
        try:
            self.base = api.editable_params(self.item.record)
        except GenDataError as exc:
            self.notify(str(exc), severity="error")
        self.history.clear()
        self._load(self.base)
        self._update_format()
        cast("GenDataApp", self.app).item_changed(self.item)

    def disk_changed(self) -> None:
        """Called when the app saw the file change on disk: with no unsaved edits the form
        just shows the new data; with some, a banner says so and ctrl+s will ask."""
        why = stamps.change_reason(self.item.path, self.stamp)
        if why is None:
            return  # our own save, or changed and changed back
        if stamps.stamp(self.item.path) is not None and not self.unsaved():
            self._reload_from_disk()
            self.notify(f"{self.item.name} changed on disk; the form shows it as it is now")
            return
        self.disk_note = why
        self._update_disk_note()

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
        seen = stamps.stamp(self.item.path)
        why = stamps.change_reason(self.item.path, self.stamp)

        def done(ok: bool | None) -> None:
            if not ok:
                return
            try:
                library.revert(self.item.path, self.original, seen)  # type: ignore[arg-type]
            except GenDataError as exc:
                self.notify(str(exc), severity="error")
                return
            self.saved = True
            self._reload_from_disk()
            self.notify(f"reverted {self.item.name} to its data at session start")

        what = ("remove the generation data it did not have" if self.original is None
                else "write back its generation data")
        changed = (f" It changed on disk since the form was filled ({why}); those changes "
                   "are replaced too." if why else "")
        self.app.push_screen(ConfirmScreen(
            f"Revert {self.item.name}: {what} as it was when this session opened it? "
            f"Unsaved edits are lost too.{changed}"), done)

    def action_close(self, then: Callable[[], Any] | None = None) -> None:
        """Leave the form (then run `then`, e.g. quit); with unsaved edits, ask first:
        save and leave, discard and leave, or stay (the default)."""
        leave = then or (lambda: self.dismiss(self.saved))
        if not self.unsaved():
            leave()
            return
        count = len(self.changed_fields())

        def done(answer: str | None) -> None:
            if answer == "discard":
                leave()
            elif answer == "save":
                self.action_save(then=leave)

        self.app.push_screen(ChoiceScreen(
            f"{self.item.name} has {count} unsaved change{'s' * (count != 1)}. Leave the "
            "form?",
            [("save", "Save and leave (s)"), ("discard", "Discard (y)"),
             ("cancel", "No, keep editing (n)")],
            default="cancel", keys={"s": "save", "y": "discard", "d": "discard",
                                    "n": "cancel"}), done)
