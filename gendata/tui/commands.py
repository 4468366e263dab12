"""Front end (TUI): the command palette's entries (ctrl+p), every action by name, for the
screen it is opened over."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from textual.app import SystemCommand
from textual.screen import Screen

from .screens import DiffScreen, EditScreen

# (action, title, help) for each screen; the action is `action_<name>` of that screen.
Command = tuple[str, str, str]

EDIT_COMMANDS: tuple[Command, ...] = (
    ("save", "Save", "Write the edited data to the file (ctrl+s)"),
    ("undo", "Undo edit", "Undo the last unsaved edit (ctrl+z)"),
    ("discard", "Discard edits", "Back to the file's data (ctrl+r)"),
    ("copy_infotext", "Copy infotext", "Copy the form as infotext (f2)"),
    ("paste_infotext", "Paste infotext", "Fill the form from an infotext (f3)"),
    ("revert_file", "Revert file", "Restore the data as at session start (f5)"),
    ("close", "Back to the file list", "Leave the editor (escape)"),
)
DIFF_COMMANDS: tuple[Command, ...] = (
    ("apply_value", "Apply value to all",
     "Set the current cell's value in every marked file (a)"),
    ("set_base", "Set base row", "Word diff against this row (b)"),
    ("close", "Back to the file list", "Leave the diff (escape)"),
)
# The browser's, run on the app.
BROWSER_COMMANDS: tuple[Command, ...] = (
    ("filter", "Filter", "Filter files by name and prompt text (type, or /)"),
    ("sort", "Sort", "Cycle sort: name, date, seed, steps (ctrl+o)"),
    ("reverse_sort", "Reverse sort", "Sort the other way round (ctrl+r)"),
    ("mark", "Mark file", "Mark or unmark the current file (space)"),
    ("mark_folder", "Mark folder", "Mark every file in the current folder (ctrl+g)"),
    ("mark_all", "Mark all shown", "Mark every file in the list (ctrl+a)"),
    ("clear_marks", "Clear marks", "Unmark all files (ctrl+u)"),
    ("diff", "Batch diff", "Compare the marked files (ctrl+d)"),
    ("set_field", "Set a field on marked files",
     "Set one field to one value in every marked file (ctrl+s)"),
    ("edit", "Edit", "Edit the current file's generation data (enter)"),
    ("copy_infotext", "Copy infotext", "Copy the current file's infotext (ctrl+c)"),
    ("toggle_thumbnail", "Toggle preview", "Show or hide the image preview (ctrl+t)"),
    ("reload", "Reload", "Read all files again (f5)"),
    ("help", "Help", "Keys and what they do (?)"),
)


def for_screen(app: Any, screen: Screen) -> Iterator[SystemCommand]:
    """The palette entries for `screen`: the edit form's, the diff's, or the browser's."""
    target: Any
    table: tuple[Command, ...]
    if isinstance(screen, EditScreen):
        target, table = screen, EDIT_COMMANDS
    elif isinstance(screen, DiffScreen):
        target, table = screen, DIFF_COMMANDS
    else:
        target, table = app, BROWSER_COMMANDS
    for name, title, help_ in table:
        yield SystemCommand(title, help_, getattr(target, f"action_{name}"))
