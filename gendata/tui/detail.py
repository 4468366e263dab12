"""Front end (TUI): the detail view, one file's prompts, parameters and networks.

The rows and words are gendata.present's, as in `gendata show`; here they are drawn in one
narrow column with rich renderables, which Textual displays.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from ..present import (
    HIRES_FIELDS,
    MAIN_FIELDS,
    extra_rows,
    field_rows,
    network_rows,
    no_data_message,
    remarks,
    sampler_pass_summary,
    summary_parts,
)
from ..richview import prompt_panels
from .library import Item


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
    head = Text(item.name, style="bold")
    sub = summary_parts(rec, p)
    parts: list[RenderableType] = [head]
    if sub:
        parts.append(Text(" · ".join(sub), style="dim"))
    if rec.error:
        parts.append(Text(rec.error.replace(rec.path, item.name), style="red"))
    if p is None:
        if not rec.error:
            parts.append(Text(no_data_message(rec), style="yellow"))
        return Group(*parts)
    parts.extend(prompt_panels(p))
    table = Table(show_header=False, box=None, padding=(0, 1), expand=False)
    table.add_column("key", style="cyan", no_wrap=True, max_width=24)
    table.add_column("value", overflow="fold")
    for label, value in field_rows(p, MAIN_FIELDS + HIRES_FIELDS) + extra_rows(p):
        table.add_row(label, value)
    parts.append(Text("Parameters", style="bold"))
    parts.append(table)
    networks = network_rows(p, weight_sep="/")
    if networks:
        nets = Table(show_header=True, box=None, padding=(0, 1), header_style="bold")
        nets.add_column("network", style="magenta", overflow="fold")
        nets.add_column("weight", justify="right", no_wrap=True)
        nets.add_column("hash", overflow="fold")
        for net in networks:
            nets.add_row(f"{net.kind}: {net.name}", net.weight, net.hash)
        parts.append(Text(""))
        parts.append(Text("LoRAs and embeddings", style="bold"))
        parts.append(nets)
    if len(p.samplers) > 1:
        parts.append(Text(""))
        parts.append(Text(f"{len(p.samplers)} sampler passes", style="bold"))
        for i, s in enumerate(p.samplers, 1):
            parts.append(Text(f" {i}. {sampler_pass_summary(s)}"))
    parts.extend(Text(line, style="yellow") for line in remarks(rec, p))
    return Group(*parts)
