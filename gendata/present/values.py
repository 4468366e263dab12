"""Presentation, neutral: values as the text a person reads (the same in every front end)."""

from __future__ import annotations

from typing import Any


def format_value(value: Any) -> str:
    """A value as shown: "" for none, 7 for 7.0 (generators write whole CFG scales either
    way), JSON for lists and objects so nested values stay readable and unambiguous."""
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value, ensure_ascii=False)
    return str(value)


def field_value(p: Any, name: str) -> Any:
    """A field of `p` (a GenParams or `record.params_view`), with "size" and "hires_size"
    combined as WIDTHxHEIGHT the way generators write them; None when not set."""
    if name == "size":
        return f"{p.width}x{p.height}" if p.width and p.height else None
    if name == "hires_size":
        return f"{p.hires_width}x{p.hires_height}" if p.hires_width and p.hires_height else None
    return getattr(p, name)


def shorten(text: str, width: int) -> str:
    """`text` cut to `width` characters with an ellipsis, for cells that must stay one line."""
    return text if len(text) <= width else text[:width - 1] + "…"
