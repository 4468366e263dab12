"""Front end (TUI): small dialogs over any screen: a question with a few answers, a yes/no
question, and an infotext paste.

Every question starts on its safe answer: enter right after a dialog opens (a key typed one
beat late, a burst) never discards or overwrites anything.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static, TextArea

from ...present import visible


class ChoiceScreen(ModalScreen[Any]):
    """A question and its answers, as buttons: left/right or tab move, enter picks, escape
    (or the `cancel` answer) gives None. `choices` are (id, label) pairs; `keys` maps a key
    to an answer's id, for answers that are safe to give by one key; `default` is the answer
    focused when it opens. The message may quote a file's metadata: it is shown as text, its
    control characters spelled out."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "answer(None)", "Cancel"),
        Binding("left,shift+tab", "app.focus_previous", "Previous", show=False),
        Binding("right,tab", "app.focus_next", "Next", show=False),
    ]

    def __init__(self, message: str, choices: list[tuple[str, str]], *, default: str,
                 keys: dict[str, str] | None = None) -> None:
        super().__init__()
        self.message = message
        self.choices = choices
        self.default = default
        self.keys = keys or {}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(visible(self.message, "\n"), classes="dialog-text", markup=False)
            with Horizontal(classes="dialog-buttons"):
                for answer, label in self.choices:
                    yield Button(label, id=f"answer-{answer}", compact=False,
                                 variant="primary" if answer == self.default else "default")

    def on_mount(self) -> None:
        self.set_focus(self.query_one(f"#answer-{self.default}", Button))

    def on_key(self, event) -> None:  # type: ignore[no-untyped-def]
        answer = self.keys.get(event.key)
        if answer is not None:
            event.stop()
            self.action_answer(answer)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_answer((event.button.id or "").removeprefix("answer-"))

    def action_answer(self, answer: str | None) -> None:
        self.dismiss(None if answer == "cancel" else answer)


class ConfirmScreen(ChoiceScreen):
    """Yes or no; "No" has the focus, so enter alone never says yes. `y` and `n` answer too.
    The result, through `dismiss`, is True or False."""

    def __init__(self, message: str, yes: str = "Yes") -> None:
        super().__init__(message, [("yes", f"{yes} (y)"), ("no", "No (n)")], default="no",
                         keys={"y": "yes", "n": "no"})
        self.yes = yes

    def action_answer(self, answer: str | None) -> None:
        self.dismiss(answer == "yes")


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
        self.set_focus(self.query_one(TextArea))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "apply":
            self.action_apply()
        else:
            self.dismiss(None)

    def action_apply(self) -> None:
        self.dismiss(self.query_one(TextArea).text)

    def action_cancel(self) -> None:
        self.dismiss(None)
