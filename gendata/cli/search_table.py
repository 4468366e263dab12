"""Front end: `gendata search`'s table, one line an image, printed as the matches come.

A rich Table measures every row before it draws one, and wraps long cells over many lines: a
search over a library printed nothing for seconds and then rows five lines high. Here the
column widths are taken from the first rows, each row is one line cut to the terminal's
width (the path from its start, `…/2024-01-03/00042-123.png`, since its end names the file;
the prompt at its end), and lines are printed as they are found.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from ..present.values import visible

__all__ = ["print_table"]

SAMPLE = 100  # rows the widths are measured on
# (heading, show --json key, widest it may get); "size" is width x height
_COLUMNS = (("seed", "seed", 20), ("steps", "steps", 5), ("sampler", "sampler", 16),
            ("cfg", "cfg_scale", 5), ("size", None, 11), ("model", "model", 20))
_DROP_ORDER = ("model", "sampler", "size", "cfg", "steps")  # when the prompt has no room
_MIN_PROMPT = 16
BATCH = 64  # lines printed at once after the first (one print a line costs more than a row)
_GAP = "  "


def _cell(obj: dict[str, Any], key: str | None) -> str:
    if key is None:
        w, h = obj.get("width"), obj.get("height")
        return f"{w}x{h}" if w and h else ""
    value = obj.get(key)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return visible(" ".join(str(value).split()), "")


def _shown_path(path: str, here: str) -> str:
    return visible(path[len(here):] if path.startswith(here) else path, "")


def _left_cut(text: str, width: int) -> str:
    """`text` in `width` cells, cut from its start with "…"."""
    if text.isascii():  # a cell a character: the common case, quickly
        return text if len(text) <= width else "…" + text[len(text) - width + 1:]
    if cell_len(text) <= width:
        return text
    out = ""
    for ch in reversed(text):
        if cell_len(out) + cell_len(ch) + 1 > width:
            break
        out = ch + out
    return "…" + out


def _fit(text: str, width: int) -> str:
    """`text` in `width` cells, cut at its end with "…" (a wide character that would
    straddle the cut goes, and the cell it leaves is the padding's)."""
    if text.isascii():
        return text if len(text) <= width else text[:width - 1] + "…"
    if cell_len(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = cell_len(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out).rstrip() + "…"


def print_table(objs: Iterable[dict[str, Any]], console: Console, *, total: int,
                limit: int | None) -> int:
    """Print the matches as a table; the number printed. `total` is how many match (the
    title says "5 of 14 images" when `limit` cuts them)."""
    rows = iter(objs)
    first = list(islice(rows, SAMPLE))
    if not first:
        return 0
    shown = min(total, limit) if limit is not None else total
    title = f"{shown:,} of {total:,} images" if shown < total else \
        f"{total:,} image{'s' * (total != 1)}"
    console.print(Text(title, style="bold"))
    here = os.getcwd() + os.sep
    cells = [[_cell(o, key) for _, key, _ in _COLUMNS] for o in first]
    widths = {name: min(cap, max(len(name), *(cell_len(c[i]) for c in cells)))
              for i, (name, _, cap) in enumerate(_COLUMNS)}
    path_width = min(max(cell_len(_shown_path(o["path"], here)) for o in first),
                     max(24, console.width * 3 // 10))
    columns = [name for name, _, _ in _COLUMNS]

    def room() -> int:
        used = path_width + sum(widths[c] for c in columns) + len(_GAP) * (len(columns) + 1)
        return console.width - used

    for name in _DROP_ORDER:  # the prompt is what tells images apart: a quarter at least
        if room() >= max(_MIN_PROMPT, console.width // 4):
            break
        columns.remove(name)
    prompt_width = max(room(), 8)
    index = {name: i for i, (name, _, _) in enumerate(_COLUMNS)}
    numeric = {"seed", "steps", "cfg"}

    def line(path: str, values: list[str], prompt: str, header: bool = False) -> Text:
        text = Text(no_wrap=True, overflow="crop")
        text.append(_left_cut(path, path_width).ljust(path_width),
                    style="bold underline" if header else "bold")
        for name in columns:
            value = _fit(values[index[name]], max(widths[name], 1))
            pad = widths[name] - cell_len(value)
            cell = " " * pad + value if name in numeric else value + " " * pad
            text.append(_GAP + cell, style="underline" if header else "")
        text.append(_GAP + _fit(prompt, prompt_width),
                    style="underline" if header else "dim")
        return text

    console.print(line("path", [name for name, _, _ in _COLUMNS], "prompt", header=True),
                  crop=True)
    count = 0

    def all_rows() -> Iterator[tuple[dict[str, Any], list[str]]]:
        yield from zip(first, cells, strict=True)
        for o in rows:
            yield o, [_cell(o, key) for _, key, _ in _COLUMNS]

    pending: list[Text] = []
    for obj, values in all_rows():
        prompt = visible(" ".join((obj.get("prompt") or "").split()), "")
        pending.append(line(_shown_path(obj["path"], here), values, prompt))
        count += 1
        if count <= 1 or len(pending) >= BATCH:  # the first row at once, then in batches
            console.print(Text("\n").join(pending), no_wrap=True, overflow="crop", crop=True)
            pending = []
    if pending:
        console.print(Text("\n").join(pending), no_wrap=True, overflow="crop", crop=True)
    return count
