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

__all__ = ["PROMPT_STYLES", "prompt_panels", "prompt_text"]

# present.Span kind -> rich style
PROMPT_STYLES = {"network": "magenta", "bracket": "yellow", "weight": "yellow",
                 "keyword": "bold red"}


def prompt_text(text: str) -> Text:
    """Prompt with extra-network tags, emphasis brackets, weights and BREAK/AND picked out."""
    out = Text(text)
    for span in prompt_spans(text):
        out.stylize(PROMPT_STYLES[span.kind], span.start, span.end)
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
