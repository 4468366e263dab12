"""Screens pushed over the browser: edit form, batch diff, confirmations, paste, help."""

from __future__ import annotations

import json
import time
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Footer, Input, Label, Static, TextArea

from .. import api
from ..cli.render import fmt
from ..errors import GenDataError, ValidationError
from ..model import GenParams
from . import library
from .library import Item

# model field -> label; the order of the edit form
FORM_FIELDS: list[tuple[str, str]] = [
    ("prompt", "Prompt"), ("negative_prompt", "Negative prompt"),
    ("steps", "Steps"), ("sampler", "Sampler"), ("scheduler", "Schedule type"),
    ("cfg_scale", "CFG scale"), ("seed", "Seed"), ("width", "Width"), ("height", "Height"),
    ("model", "Model"), ("model_hash", "Model hash"), ("vae", "VAE"), ("vae_hash", "VAE hash"),
    ("denoising_strength", "Denoising strength"), ("clip_skip", "Clip skip"),
    ("hires_upscale", "Hires upscale"), ("hires_steps", "Hires steps"),
    ("hires_upscaler", "Hires upscaler"), ("hires_width", "Hires width"),
    ("hires_height", "Hires height"), ("variation_seed", "Variation seed"),
    ("variation_seed_strength", "Variation seed strength"), ("version", "Version"),
    ("extra", "Other parameters"),
]
TEXTAREAS = {"prompt", "negative_prompt", "extra"}
LABELS = dict(FORM_FIELDS)


def _extra_text(extra: dict[str, Any]) -> str:
    return "\n".join(f"{k}: {v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)}"
                     for k, v in extra.items())


def _parse_extra(text: str, base: dict[str, Any]) -> dict[str, Any]:
    """`Key: value` lines back to a dict; values written as before stay the objects they were."""
    from ..formats import a1111

    before = {k: (v, _extra_text({k: v})) for k, v in base.items()}
    out: dict[str, Any] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        key = key.strip()
        if not sep or not key:
            raise ValidationError(f"line {n} must be 'Key: value', got {line!r}")
        if key in a1111.TYPED:
            raise ValidationError(f"line {n}: {key} has a field of its own above")
        old = before.get(key)
        out[key] = old[0] if old is not None and old[1] == line.rstrip() else value.strip()
    return out


def raw_value(params: GenParams, name: str) -> str:
    """What the form shows for a field."""
    if name == "extra":
        return _extra_text(params.extra)
    return fmt(getattr(params, name))


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
                value = raw_value(self.base, name)
                self.raw[name] = value
                with Horizontal(classes="form-row", id=f"row-{name}"):
                    yield Label(label, classes="form-label", id=f"label-{name}")
                    with Vertical(classes="form-field"):
                        if name in TEXTAREAS:
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
        w = self.query_one(f"#f-{name}")
        return w.text if isinstance(w, TextArea) else w.value

    def _set_widget(self, name: str, value: str) -> None:
        self.raw[name] = value
        w = self.query_one(f"#f-{name}")
        if isinstance(w, TextArea):
            if w.text != value:
                w.load_text(value)
        elif w.value != value:
            w.value = value

    def _typed(self, name: str, raw: str) -> Any:
        """The model value a form string stands for; ValidationError with a sentence."""
        if name == "extra":
            if raw == raw_value(self.base, "extra"):
                return self.base.extra
            return _parse_extra(raw, self.base.extra)
        if name in ("prompt", "negative_prompt"):
            return raw
        value: Any = raw.strip()
        if value == "":
            value = None
        return getattr(self.base.edited(**{name: value}), name)

    def changes(self) -> dict[str, Any]:
        """Fields whose form value differs from the file's (unchanged ones are not passed, so
        the rest of the infotext is written back word for word)."""
        out: dict[str, Any] = {}
        for name, _ in FORM_FIELDS:
            raw = self.raw[name]
            if raw == raw_value(self.base, name):
                continue
            try:
                typed = self._typed(name, raw)
            except GenDataError:
                continue
            if typed != getattr(self.base, name):
                out[name] = typed
        return out

    def changed_fields(self) -> set[str]:
        return {name for name, _ in FORM_FIELDS if self.raw[name] != raw_value(self.base, name)}

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
            self._set_widget(name, raw_value(params, name))
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
        self.app.item_changed(self.item)

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
            from ..formats import a1111

            try:
                pasted = a1111.parse_text(text)
            except GenDataError as exc:
                self.notify(str(exc), severity="error")
                return
            for name, _ in FORM_FIELDS:
                value = raw_value(pasted, name)
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


class ConfirmScreen(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, message: str, yes: str = "Yes") -> None:
        super().__init__()
        self.message = message
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.message, classes="dialog-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.yes} (y)", variant="primary", id="yes")
                yield Button("No (n)", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class PasteScreen(ModalScreen[str | None]):
    """Paste an infotext (terminal paste into the box; starts with what the app last copied)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "apply", "Apply"), Binding("escape", "cancel", "Cancel")]

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Static("Paste an infotext below (your terminal's paste key), then ctrl+s "
                         "to fill the form, escape to cancel.", classes="dialog-text")
            yield TextArea(self.text, id="paste-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Apply (ctrl+s)", variant="primary", id="apply")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "apply":
            self.action_apply()
        else:
            self.dismiss(None)

    def action_apply(self) -> None:
        self.dismiss(self.query_one(TextArea).text)

    def action_cancel(self) -> None:
        self.dismiss(None)


def word_diff_texts(a: str, b: str) -> tuple[Text, Text]:
    """Left: `a` with deleted words struck out red; right: `b` with inserted words green."""
    from ..diff import word_diff

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
        self.query_one(DataTable).focus()

    def _compute(self) -> None:
        from ..diff import batch_diff

        self.result = batch_diff([it.record for it in self.items])
        res = self.result
        table = self.query_one(DataTable)
        table.clear(columns=True)
        table.add_column("File", key="__file__")
        for name in res.varying:
            table.add_column(name, key=name)
        names = {it.path: it.name for it in self.items}
        for path, values in res.rows:
            cells: list[Any] = [Text(names.get(path, path), no_wrap=True)]
            for name in res.varying:
                value = fmt(values.get(name))
                cells.append(Text(value if len(value) <= 40 else value[:39] + "…",
                                  no_wrap=True))
            table.add_row(*cells, key=path)
        title = Text(f"{len(self.items)} files", style="bold")
        if res.varying:
            title.append(f" · {len(res.varying)} field(s) vary: ", style="bold")
            title.append(", ".join(res.varying), style="yellow")
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
            a = getattr(base.params, attr, "") if base.params else ""
            b = getattr(other.params, attr, "") if other.params else ""
            if attr == "negative_prompt" and a == b:
                continue
            la, ra = word_diff_texts(a, b)
            left.append(f"{label}:\n", style="bold cyan")
            right.append(f"{label}:\n", style="bold cyan")
            left.append_text(la if a != b else Text(a))
            right.append_text(ra if a != b else Text("(same)", style="dim"))
            left.append("\n")
            right.append("\n")
        names = {it.path: it.name for it in self.items}
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
            self.notify(f"all {len(paths)} files already have {name} = {fmt(value)!r}")
            return

        def done(ok: bool | None) -> None:
            if ok:
                self._apply(todo, name, value)

        shown = fmt(value)
        shown = shown if len(shown) <= 60 else shown[:59] + "…"
        self.app.push_screen(ConfirmScreen(
            f"Set {name} to {shown!r} in {len(todo)} of {len(paths)} marked files? "
            f"({len(paths) - len(todo)} already have it.) Pixels and other metadata are "
            "left untouched.", yes=f"Change {len(todo)} files"), done)

    @work(thread=True, exclusive=True, group="apply")
    def _apply(self, paths: list[str], name: str, value: Any) -> None:
        failed: list[str] = []
        for path in paths:
            try:
                library.apply_to_file(path, name, value)
            except GenDataError as exc:
                failed.append(str(exc))
        self.app.call_from_thread(self._applied, paths, failed)

    def _applied(self, paths: list[str], failed: list[str]) -> None:
        self.changed = True
        for it in self.items:
            if it.path in paths:
                it.record = api.read_safe(it.path)
                it.refresh()
                self.app.item_changed(it)
        self._compute()
        if failed:
            self.notify("\n".join(failed[:5]), title=f"{len(failed)} file(s) not changed",
                        severity="error")
        else:
            self.notify(f"changed {len(paths)} file(s)")

    def action_close(self) -> None:
        self.dismiss(self.changed)


HELP = """\
[b]gendata — browse, edit and compare generation data[/b]

[b]File list[/b]
  up/down, pgup/pgdn   move through files (mouse: click, wheel)
  type, or /           filter by name and prompt text as you type (every word must
                       match); enter, escape or up/down go back to the list
  escape               clear the filter
  space                mark / unmark the file (for the batch diff)
  ctrl+g               mark every file in the current file's folder
  ctrl+a               mark every file shown (after filtering);  ctrl+u  clear marks
  ctrl+d               batch diff of the marked files
  enter or ctrl+e      edit the file's generation data
  ctrl+o               sort by name → date → seed → steps
  ctrl+c               copy the infotext to the clipboard (OSC 52)
  ctrl+t               show / hide the image preview
  ctrl+r               reload all files from disk
  ctrl+p               command palette (every action by name)
  ? or f1              this help;   ctrl+q  quit

[b]Edit[/b]
  tab / shift+tab      next / previous field; bad values are explained under the field
  ctrl+s               save (atomic, lossless: pixels and other chunks untouched)
  ctrl+z               undo the last unsaved edit;  ctrl+r  discard all unsaved edits
  f2 / f3              copy the form as infotext / paste an infotext into the form
  f5                   revert the file to its data when this session opened it
  escape               back (asks before dropping unsaved edits)

[b]Batch diff[/b]
  arrows               move between files (rows) and varying fields (columns);
                       the panes show a word diff of the prompts: base row vs current row
  b                    make the current row the base of the word diff
  a                    apply the current cell's value to all marked files (asks first)
  escape               back
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "close", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog wide", id="help"):
            yield Static(Text.from_markup(HELP))

    def action_close(self) -> None:
        self.dismiss(None)

