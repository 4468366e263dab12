"""Service layer: the CSV encoder shared by `export` and the front ends' `--csv` output.

RFC 4180 as `csv.writer` writes it with QUOTE_MINIMAL (tests check the two agree): a cell is
quoted when it holds a comma, a quote, CR or LF. Lines are returned without their end, so
callers choose it (CRLF in everything gendata writes). Written by hand rather than with
`csv.writer` because export encodes every row of a library through it, in the workers, and
building the string directly is the faster path there (docs/batch.md, "Speed").
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

__all__ = ["csv_line", "csv_quote", "csv_text", "csv_value"]


def csv_value(value: Any) -> str:
    """The text of a value in a CSV cell: empty for None, `true`/`false`, numbers as Python
    writes them (`repr`, so a float reads back exactly), text as is, anything else as JSON."""
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(value, ensure_ascii=False)


def csv_quote(text: str) -> str:
    """One cell's text, quoted when it needs to be."""
    if "," in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_line(cells: Sequence[str]) -> str:
    """One CSV line (without its line end) from the cells' texts."""
    if len(cells) == 1 and not cells[0]:
        return '""'  # a lone empty cell must not read back as a blank (skipped) line
    return ",".join(csv_quote(c) for c in cells)


_NEEDS_QUOTE = re.compile('[,"\n\r]').search


def csv_text(value: Any) -> str:
    """`csv_quote(csv_value(value))`: one encoded cell, with the common types tried first
    (this is export's per-cell hot path)."""
    cls = value.__class__
    if cls is str:
        text = value
    elif value is None:
        return ""
    elif cls is int or cls is float:
        return repr(value)
    else:
        text = csv_value(value)
    if _NEEDS_QUOTE(text) is not None:
        return '"' + text.replace('"', '""') + '"'
    return text
