"""Service layer: one file -> the rows the index holds of it. Runs in the worker processes
of an index run, so that the process writing the index only writes.
"""

from __future__ import annotations

import json
import os
from typing import Any

from ..batch import read_one
from .schema import scalar_columns
from .text import has_split_script, split_script

__all__ = ["COLUMNS", "NEGATIVE_AT", "PROMPT_AT", "row_for", "row_from"]

_INT64 = (-(2**63), 2**63 - 1)


COLUMNS = scalar_columns()
# Where the prompts sit in a row's `images` values (container, error, big_ints, *typed).
PROMPT_AT = 3 + COLUMNS.index("prompt")
NEGATIVE_AT = 3 + COLUMNS.index("negative_prompt")


def _json(value: Any) -> str | None:
    return json.dumps(value, ensure_ascii=False) if value else None


_PLAIN = frozenset({str, float, type(None)})


def _sql_value(name: str, value: Any, big: dict[str, str]) -> Any:
    """A value SQLite can store: an integer past 64 bits is kept as REAL in its column and
    exactly, as decimal text, in `big_ints` (ComfyUI seeds reach 2^64 - 1)."""
    if type(value) is int and not _INT64[0] <= value <= _INT64[1]:
        big[name] = str(value)
        try:
            return float(value)
        except OverflowError:
            return None
    if isinstance(value, (str, int, float)):
        return value
    return json.dumps(value, ensure_ascii=False)


def row_for(path: str, stealth: bool | None = None) -> tuple[Any, ...]:
    """Read one file and return what its rows hold (`row_from`), or `(path,)` when it
    vanished. The stat is taken before the read, so a file that changes while it is read
    is read again by the next update."""
    try:
        st = os.stat(path)
    except OSError:
        return (path,)
    rec = read_one(path, stealth)
    return row_from(rec.to_json(), (st.st_size, st.st_mtime_ns, st.st_ino), rec.extras)


def row_from(obj: dict[str, Any], stat: tuple[int, int, int],
             extras: dict[str, Any] | None = None) -> tuple[Any, ...]:
    """The rows of one `show --json` object: (path, size, mtime_ns, inode, images values
    after those, image_data values, loras, embeddings, images_cjk values or None, error)."""
    big: dict[str, str] = {}
    get = obj.get
    typed = [get(c) for c in COLUMNS]
    for i, value in enumerate(typed):  # values are validated: only huge ints need care
        if value.__class__ not in _PLAIN:
            typed[i] = _sql_value(COLUMNS[i], value, big)
    error = obj.get("error")
    values = (obj.get("container"), error, _json(big), *typed)
    data = (_json(obj.get("samplers")), _json(obj.get("extra")), _json(obj.get("notes")),
            _json(extras), _json(obj.get("warnings")), _json(obj.get("raw")))
    loras = [(lo.get("name") or "", _num(lo.get("weight")), _num(lo.get("unet_weight")),
              lo.get("hash"), lo.get("kind")) for lo in obj.get("loras") or ()]
    embeddings = [(e.get("name") or "", e.get("hash")) for e in obj.get("embeddings") or ()]
    prompt, negative = obj.get("prompt") or "", obj.get("negative_prompt") or ""
    cjk = None
    if has_split_script(prompt) or has_split_script(negative):
        cjk = (split_script(prompt), split_script(negative))
    return (obj["path"], *stat, values, data, loras, embeddings, cjk, error)


def _num(value: Any) -> Any:
    return value if isinstance(value, (int, float)) and abs(value) < 1e300 else None
