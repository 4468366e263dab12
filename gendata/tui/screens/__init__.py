"""Front end (TUI): the screens pushed over the browser, one module per job: the edit form,
the batch diff, the small dialogs and the help page."""

from __future__ import annotations

from .dialogs import ConfirmScreen, PasteScreen
from .diff import DiffScreen
from .edit import EditScreen
from .help import HelpScreen

__all__ = ["ConfirmScreen", "DiffScreen", "EditScreen", "HelpScreen", "PasteScreen"]
