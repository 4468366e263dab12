"""Front end (TUI): the screens pushed over the browser, one module per job: the edit form,
the batch diff, setting a field on the marked files, the small dialogs and the help page."""

from __future__ import annotations

from .dialogs import ChoiceScreen, ConfirmScreen, PasteScreen
from .diff import DiffScreen
from .edit import EditScreen
from .help import HelpScreen
from .setfield import SetFieldScreen

__all__ = ["ChoiceScreen", "ConfirmScreen", "DiffScreen", "EditScreen", "HelpScreen",
           "PasteScreen", "SetFieldScreen"]
