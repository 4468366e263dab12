"""Front-end support: the rich renderables that `gendata show` and the TUI draw alike.

Both front ends draw with rich (Textual displays rich renderables), and neither may import the
other; what they share is drawn here, over the words and spans of gendata.present.
"""

from __future__ import annotations

from typing import Any

from rich.console import RenderableType
from rich.panel import Panel
from rich.text import Text

from .present import prompt_spans

__all__ = ["MAX_SHOWN_CHARS", "PROMPT_STYLES", "clip", "more_note", "prompt_panels",
           "prompt_text"]

# present.Span kind -> rich style
PROMPT_STYLES = {"network": "magenta", "bracket": "yellow", "weight": "yellow",
                 "keyword": "bold red"}
# The most of one text a view draws (docs/guide.md#limits): rich lays out about half a
# million characters a second, and a file may hold 64 MiB of text. `--json` has it all.
MAX_SHOWN_CHARS = 100_000


def more_note(n: int, what: str) -> str:
    """" … 1,234 more characters (--json shows all)": what a view left out."""
    return f" … {n:,} more {what} (--json shows all)"


def clip(text: str, limit: int = MAX_SHOWN_CHARS) -> str:
    """`text`, cut after `limit` characters with a note of how many more there are."""
    return text if len(text) <= limit else text[:limit] + more_note(len(text) - limit,
                                                                    "characters")


def prompt_text(text: str) -> Text:
    """Prompt with extra-network tags, emphasis brackets, weights and BREAK/AND picked out
    (its first MAX_SHOWN_CHARS characters)."""
    shown = text[:MAX_SHOWN_CHARS]
    out = Text(shown)
    for span in prompt_spans(shown):
        out.stylize(PROMPT_STYLES[span.kind], span.start, span.end)
    if len(shown) < len(text):
        out.append(more_note(len(text) - len(shown), "characters"), style="dim")
    return out


def prompt_panels(p: Any) -> list[RenderableType]:
    """The prompt, and the negative prompt when there is one, highlighted in frames."""
    panels: list[RenderableType] = [
        Panel(prompt_text(p.prompt) if p.prompt else Text("(empty)", style="dim"),
              title="Prompt", title_align="left", border_style="green")]
    if p.negative_prompt:
        panels.append(Panel(prompt_text(p.negative_prompt), title="Negative prompt",
                            title_align="left", border_style="red"))
    return panels
