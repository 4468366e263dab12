"""Front end (TUI): the detail view, one file's prompts, parameters and networks.

The rows and words are gendata.present's, as in `gendata show`; here they are drawn in one
narrow column with rich renderables, which Textual displays. Every text that came out of the
file goes through `shown`, which spells control characters out (`values.visible`) and marks
them, so a file's metadata can neither drive the terminal nor pass for other text.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from .. import api
from ..errors import GenDataError
from ..present import (
    HIRES_FIELDS,
    MAIN_FIELDS,
    extra_rows,
    field_rows,
    format_summary,
    network_rows,
    no_data_message,
    remarks,
    sampler_pass_rows,
    sampler_pass_title,
    summary_parts,
    visible,
    visible_parts,
)
from ..richview import prompt_panels
from .library import Item

ESCAPE_STYLE = "reverse"  # a spelled-out control character, e.g. \x1b


def shown(text: str, style: str = "", keep: str = "") -> Text:
    """`text` from a file, safe to draw: control characters (but those in `keep`) spelled
    out and drawn in ESCAPE_STYLE."""
    out = Text(style=style)
    for part, escaped in visible_parts(text, keep):
        out.append(part, ESCAPE_STYLE if escaped else None)
    return out


def safe_prompts(p: Any) -> Any:
    """The prompts of `p` with control characters spelled out, for richview's panels."""
    return SimpleNamespace(prompt=visible(p.prompt or ""),
                           negative_prompt=visible(p.negative_prompt or ""))


class DetailView(VerticalScroll):
    """Prompt, negative prompt (highlighted), parameter tables and networks of one file."""

    def compose(self) -> ComposeResult:
        yield Static(id="detail-body")

    def show(self, item: Item | None) -> None:
        body = self.query_one("#detail-body", Static)
        if item is None:
            body.update(Text("no image selected", style="dim"))
            return
        body.update(detail_view(item))
        self.scroll_home(animate=False)


def detail_view(item: Item) -> RenderableType:
    """One column, so it stays readable in the narrow pane of an 80-column terminal; the
    name is shown as listed (relative), never the absolute path."""
    rec = item.record
    p = rec.params
    head = shown(item.name, style="bold")
    sub = summary_parts(rec, p)
    parts: list[RenderableType] = [head]
    if sub:
        parts.append(shown(" · ".join(sub), style="dim"))
    if rec.error:
        parts.append(shown(rec.error.replace(rec.path, item.name), style="red"))
    if p is None:
        if not rec.error:
            parts.append(shown(no_data_message(rec), style="yellow"))
        return Group(*parts)
    parts.append(format_line(item))
    parts.extend(prompt_panels(safe_prompts(p)))
    table = Table(show_header=False, box=None, padding=(0, 1), expand=False)
    table.add_column("key", style="cyan", no_wrap=True, max_width=24)
    table.add_column("value", overflow="fold")
    for label, value in field_rows(p, MAIN_FIELDS + HIRES_FIELDS) + extra_rows(p):
        table.add_row(shown(label), shown(value))
    parts.append(Text("Parameters", style="bold"))
    parts.append(table)
    networks = network_rows(p, weight_sep="/")
    if networks:
        nets = Table(show_header=True, box=None, padding=(0, 1), header_style="bold")
        nets.add_column("network", style="magenta", overflow="fold")
        nets.add_column("weight", justify="right", no_wrap=True)
        nets.add_column("hash", overflow="fold")
        for net in networks:
            nets.add_row(shown(f"{net.kind}: {net.name}"), shown(net.weight), shown(net.hash))
        parts.append(Text(""))
        parts.append(Text("LoRAs and embeddings", style="bold"))
        parts.append(nets)
    if len(p.samplers) > 1:
        parts.extend(sampler_passes(p.samplers))
    parts.extend(shown(line, style="yellow") for line in remarks(rec, p))
    return Group(*parts)


def format_line(item: Item) -> Text:
    """The dialect of the file's data and where it is stored, and whether an edit keeps it
    (every edit is written back in the dialect it was read in, or not at all)."""
    rec = item.record
    text = shown(format_summary(rec, rec.params) or "", style="dim")
    try:
        api.editable_params(rec)
    except GenDataError:
        text.append(" · cannot be edited in place yet", style="dim yellow")
    else:
        text.append(" · edits keep this format", style="dim")
    return text


def sampler_passes(passes: list[Any]) -> list[RenderableType]:
    """Each sampling pass of a graph (ComfyUI's KSamplers: base, hires, refiner), its values
    labelled: "Pass 2 of 2 · node 12: sampler euler · steps 10 · denoise 0.5"."""
    out: list[RenderableType] = [Text(""), Text(f"Sampler passes ({len(passes)})",
                                                style="bold")]
    for i, s in enumerate(passes, 1):
        line = shown(sampler_pass_title(i, s, len(passes)), style="bold")
        line.append(":")
        rows = sampler_pass_rows(s)
        for n, (label, value) in enumerate(rows):
            if n:
                line.append(" ·", style="dim")
            line.append(f" {label} ", style="cyan")
            line.append_text(shown(value))
        if not rows:
            line.append(" (values not known)", style="dim")
        out.append(line)
    return out
