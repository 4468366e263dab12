"""Service layer: the CSV encoder shared by `export` and the front ends' `--csv` output.

RFC 4180 as `csv.writer` writes it with QUOTE_MINIMAL (tests check the two agree): a cell is
quoted when it holds a comma, a quote, CR or LF. Lines are returned without their end, so
callers choose it (CRLF in everything gendata writes). Written by hand rather than with
`csv.writer` because export encodes every row of a library through it, in the workers, and
building the string directly is the faster path there (docs/batch.md, "Speed").

Formula guard (on unless `guard=False`): a spreadsheet runs a cell that starts with `=`,
`+`, `-` or `@` (or a tab or CR before one) as a formula, and a file's metadata is anyone's
text, so such a cell gets a `'` in front, as OWASP recommends ("CSV Injection"). A cell
that is a plain decimal number (`-1.5`, `+3`, `-2e-05`) is left alone: it is no formula,
and a negative CFG scale must stay a number (docs/batch.md, "Formula guard").
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

__all__ = ["csv_line", "csv_quote", "csv_text", "csv_value", "guard_formula"]

# The first characters that make a spreadsheet read a cell as a formula (OWASP).
_FIRST = "=+-@\t\r"
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?").fullmatch


def guard_formula(text: str) -> str:
    """`text`, with a `'` in front when a spreadsheet would run it as a formula."""
    if text and text[0] in _FIRST and _NUMBER(text) is None:
        return "'" + text
    return text


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


def csv_quote(text: str, guard: bool = True) -> str:
    """One cell's text, formula-guarded (unless `guard` is False) and quoted when it needs
    to be."""
    if guard and text and text[0] in _FIRST and _NUMBER(text) is None:
        text = "'" + text
    if "," in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_line(cells: Sequence[str], guard: bool = True) -> str:
    """One CSV line (without its line end) from the cells' texts."""
    if len(cells) == 1 and not cells[0]:
        return '""'  # a lone empty cell must not read back as a blank (skipped) line
    return ",".join([csv_quote(c, guard) for c in cells])


_NEEDS_QUOTE = re.compile('[,"\n\r]').search


def csv_text(value: Any, guard: bool = True) -> str:
    """`csv_quote(csv_value(value), guard)`: one encoded cell, with the common types tried
    first (this is export's per-cell hot path)."""
    cls = value.__class__
    if cls is str:
        text = value
    elif value is None:
        return ""
    elif cls is int:
        return repr(value)  # digits, with at most a leading '-': never a formula
    elif cls is float:
        text = repr(value)  # digits, '.', 'e', signs; of the words, only '-inf' needs a guard
        return "'-inf" if guard and text == "-inf" else text
    else:
        text = csv_value(value)
    if guard and text and text[0] in _FIRST and _NUMBER(text) is None:
        text = "'" + text
    if _NEEDS_QUOTE(text) is not None:
        return '"' + text.replace('"', '""') + '"'
    return text
