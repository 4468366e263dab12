"""Front end (TUI): the help screen, every key on one page."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

HELP = """\
[b]gendata — browse, edit and compare generation data[/b]

[b]File list[/b] (follows the disk: files written, added or deleted elsewhere show at once)
  up/down, pgup/pgdn   move through files (mouse: click, wheel)
  type, or /           filter by name and prompt text as you type (every word
                       must match); with an index, the search language too:
                       red fox seed:42 lora:x* steps>=30 -word neg:word
                       (gendata search --help); enter, escape or up/down go
                       back to the list
  q                    quit, while the filter is empty (/ first to search for "q…")
  escape               clear the filter
  space                mark / unmark the file (for the batch diff and ctrl+s)
  ctrl+g               mark every file in the current file's folder
  ctrl+a               mark every file shown (after filtering);  ctrl+u  clear marks
  ctrl+s               set one field to one value in every marked file
  ctrl+d               batch diff of the marked files
  enter or ctrl+e      edit the file's generation data
  ctrl+o               sort by name → date → seed → steps;  ctrl+r  reverse it
  ctrl+c               copy the infotext to the clipboard (OSC 52)
  ctrl+t               show / hide the image preview
  f5                   read all files again
  ctrl+p               command palette (every action by name)
  ? or f1              this help;   ctrl+q  quit

[b]Edit[/b]
  tab / shift+tab      next / previous field; bad values are explained under the field
  up / down            previous / next field (in a text box: from its first / last line)
  ctrl+s               save (atomic, lossless: pixels and other chunks untouched); if
                       the file changed on disk since, asks: reload, overwrite or cancel
  ctrl+z               undo the last unsaved edit;  ctrl+r  discard all unsaved edits
  f2 / f3              copy the form as infotext / paste an infotext into the form
  f5                   revert the file to its data when this session opened it
  escape               back (asks before dropping unsaved edits: save and leave,
                       discard, or stay, the default)
  \\x1b, \\u202e         control characters from the file, spelled out; typed so,
                       they are written back as the character

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
