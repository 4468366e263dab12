"""Front end: rich renderables for a Record (`show`, `show --raw`, `diff`).

The words, rows and sections come from gendata.present, which the TUI shares; only how they
are drawn (tables, panels, colours) is decided here.

Everything that came out of a file is drawn as rich `Text` (never as a string, which rich
would read as markup: `[/]` in a prompt would stop the view) with its control characters
spelled out (`present.values.visible`: `\x1b`, bidi overrides), whether or not the output is
a terminal, so a file's metadata cannot colour, move, clear or write to the reader's
terminal (OSC 52 writes the clipboard).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from types import SimpleNamespace
from typing import Any

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
from ..present.values import visible
from ..richview import MAX_SHOWN_CHARS, PROMPT_STYLES, clip, more_note, prompt_panels, prompt_text

# Names other CLI modules import from here (cli/diff.py).
GENERATOR_NAMES = GENERATOR_DISPLAY_NAMES

__all__ = [
    "GENERATOR_NAMES", "HIRES_FIELDS", "MAIN_FIELDS", "MAX_SHOWN_CHARS", "MAX_SHOWN_ROWS",
    "PROMPT_STYLES", "SECTION_TITLES", "add_rows", "clip", "field_value", "fmt",
    "no_data_message", "prompt_panels", "prompt_text", "raw_view", "record_view", "safe_text",
    "summary_parts",
]

MAX_SHOWN_ROWS = 1_000  # the most rows a table draws; see richview.MAX_SHOWN_CHARS


def safe_text(text: str, style: str = "", *, keep: str = "") -> Text:
    """Text from a file, drawn as it is: no markup, control characters spelled out
    (`keep`: those left alone, e.g. newline and tab in a multi-line value)."""
    return Text(visible(text, keep), style=style)


def add_rows(table: Table, rows: Iterable[Sequence[Any]], limit: int = MAX_SHOWN_ROWS,
             keep: Sequence[str] = ()) -> None:
    """Add `rows` to `table`, text cells clipped (`clip`) and drawn with `safe_text`, keeping
    `keep[i]` in column i; past `limit` rows, one row saying how many more there are (rich
    lays out about two thousand rows a second, and a graph can hold a million LoRAs)."""
    extra = 0
    for i, row in enumerate(rows):
        if i >= limit:
            extra += 1
            continue
        table.add_row(*(safe_text(clip(c), keep=keep[j] if j < len(keep) else "")
                        if isinstance(c, str) else c for j, c in enumerate(row)))
    if extra:
        table.add_row(Text(more_note(extra, "rows").strip(), style="dim"))


def _kv_table(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table(title=safe_text(title), title_justify="left", show_header=False, box=None,
                  padding=(0, 1), title_style="bold", min_width=len(title))
    table.add_column("key", style="cyan", no_wrap=True)
    table.add_column("value", overflow="fold")
    add_rows(table, rows, keep=("", "\n\t"))
    return table


def _visible_prompts(p: Any) -> Any:
    """`p` with its prompts' control characters spelled out, for the prompt panels."""
    return SimpleNamespace(**{**vars(p), "prompt": visible(p.prompt),
                              "negative_prompt": visible(p.negative_prompt)})


def record_view(rec: Record) -> RenderableType:
    parts: list[RenderableType] = []
    p = params_view(rec)
    head = safe_text(rec.path, "bold")
    sub = summary_parts(rec, p)
    if sub:
        head.append("  " + " · ".join(sub), style="dim")
    parts.append(head)
    if rec.error:
        parts.append(safe_text(f"error: {rec.error}", "red"))
    if p is None:
        if not rec.error:
            parts.append(safe_text(no_data_message(rec, hint="; see --raw"), "yellow"))
        parts.extend(_extras_views(rec))
        return Group(*parts)
    parts.extend(prompt_panels(_visible_prompts(p)))
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
        add_rows(t, sampler_rows(p))
        parts.append(t)
    nets = network_rows(p)
    if nets:
        t = Table(title="Networks", title_justify="left", title_style="bold")
        t.add_column("type")
        t.add_column("name", style="magenta")
        t.add_column("weight", justify="right")
        t.add_column("hash")
        add_rows(t, nets)
        parts.append(t)
    parts.extend(_extras_views(rec))
    parts.extend(safe_text(clip(line), "yellow") for line in remarks(rec, p)[:MAX_SHOWN_ROWS])
    return Group(*parts)


def _extras_views(rec: Record) -> list[RenderableType]:
    """Sections added by services, e.g. the embedding an A1111 embedding card carries."""
    return [_kv_table(title, rows) for title, rows in extras_sections(rec)]


def raw_view(rec: Record) -> RenderableType:
    if rec.raw is None:
        return safe_text(f"{rec.path}: {rec.error}", "red")
    t = Table(title=safe_text(raw_title(rec)), title_justify="left", title_style="bold")
    for col in RAW_COLUMNS:
        t.add_column(col, overflow="fold" if col == "text" else "ellipsis",
                     no_wrap=col != "text")
    add_rows(t, raw_rows(rec), keep=("\n\t",) * len(RAW_COLUMNS))
    if not rec.raw.entries:
        return Group(t, Text("no metadata chunks or tags", style="yellow"))
    return t
