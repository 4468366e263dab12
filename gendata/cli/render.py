"""Front end: rich renderables for a Record (`show`, `show --raw`, `diff`).

The words, rows and sections come from gendata.present, which the TUI shares; only how they
are drawn (tables, panels, colours) is decided here.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ..api import Record
from ..present import (
    GENERATOR_DISPLAY_NAMES,
    HIRES_FIELDS,
    MAIN_FIELDS,
    RAW_COLUMNS,
    SAMPLER_COLUMNS,
    SECTION_TITLES,
    extra_rows,
    extras_sections,
    field_rows,
    field_value,
    hires_rows,
    network_rows,
    no_data_message,
    params_view,
    raw_rows,
    raw_title,
    remarks,
    sampler_rows,
    summary_parts,
)
from ..present import format_value as fmt
from ..richview import PROMPT_STYLES, prompt_panels, prompt_text

# Names other CLI modules import from here (cli/diff.py).
GENERATOR_NAMES = GENERATOR_DISPLAY_NAMES

__all__ = [
    "GENERATOR_NAMES", "HIRES_FIELDS", "MAIN_FIELDS", "PROMPT_STYLES", "SECTION_TITLES",
    "field_value", "fmt", "no_data_message", "prompt_panels", "prompt_text", "raw_view",
    "record_view", "summary_parts",
]

def _kv_table(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table(title=title, title_justify="left", show_header=False, box=None,
                  padding=(0, 1), title_style="bold", min_width=len(title))
    table.add_column("key", style="cyan", no_wrap=True)
    table.add_column("value", overflow="fold")
    for k, v in rows:
        table.add_row(k, v)
    return table


def record_view(rec: Record) -> RenderableType:
    parts: list[RenderableType] = []
    p = params_view(rec)
    head = Text(rec.path, style="bold")
    sub = summary_parts(rec, p)
    if sub:
        head.append("  " + " · ".join(sub), style="dim")
    parts.append(head)
    if rec.error:
        parts.append(Text(f"error: {rec.error}", style="red"))
    if p is None:
        if not rec.error:
            parts.append(Text(no_data_message(rec, hint="; see --raw"), style="yellow"))
        parts.extend(_extras_views(rec))
        return Group(*parts)
    parts.extend(prompt_panels(p))
    parts.append(_kv_table("Parameters", field_rows(p, MAIN_FIELDS)))
    hires = hires_rows(p)
    if hires:
        parts.append(_kv_table("Hires fix", hires))
    other = extra_rows(p, hires=False)
    if other:
        parts.append(_kv_table("Other parameters", other))
    if p.samplers and len(p.samplers) > 1:
        t = Table(title="Sampler passes", title_justify="left", title_style="bold")
        for col in SAMPLER_COLUMNS:
            t.add_column(col)
        for row in sampler_rows(p):
            t.add_row(*row)
        parts.append(t)
    nets = network_rows(p)
    if nets:
        t = Table(title="Networks", title_justify="left", title_style="bold")
        t.add_column("type")
        t.add_column("name", style="magenta")
        t.add_column("weight", justify="right")
        t.add_column("hash")
        for net in nets:
            t.add_row(*net)
        parts.append(t)
    parts.extend(_extras_views(rec))
    parts.extend(Text(line, style="yellow") for line in remarks(rec, p))
    return Group(*parts)


def _extras_views(rec: Record) -> list[RenderableType]:
    """Sections added by services, e.g. the embedding an A1111 embedding card carries."""
    return [_kv_table(title, rows) for title, rows in extras_sections(rec)]


def raw_view(rec: Record) -> RenderableType:
    if rec.raw is None:
        return Text(f"{rec.path}: {rec.error}", style="red")
    t = Table(title=raw_title(rec), title_justify="left", title_style="bold")
    for col in RAW_COLUMNS:
        t.add_column(col, overflow="fold" if col == "text" else "ellipsis",
                     no_wrap=col != "text")
    for row in raw_rows(rec):
        t.add_row(*row)
    if not rec.raw.entries:
        return Group(t, Text("no metadata chunks or tags", style="yellow"))
    return t
