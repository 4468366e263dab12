"""Presentation, neutral: values as the text a person reads (the same in every front end)."""

from __future__ import annotations

import functools
import re
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


# Characters a terminal acts on instead of drawing, or that reorder or hide the text around
# them: C0 and C1 controls and DEL (ESC starts CSI/OSC sequences: colours, cursor moves,
# OSC 52 clipboard writes; C1 CSI is ESC's one-byte form), the Unicode bidi controls (they
# make "gpj.exe" read as "exe.jpg"), the line and paragraph separators, and lone surrogates
# (what a file name that is not UTF-8 decodes to, which no terminal can encode).
_CONTROL_CLASS = ("\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
                  "\u2028\u2029\ud800-\udfff")


@functools.lru_cache(maxsize=8)
def _control_re(keep: str) -> re.Pattern[str]:
    if not keep:
        return re.compile(f"[{_CONTROL_CLASS}]")
    kept = "".join(re.escape(c) for c in keep)
    return re.compile(f"(?![{kept}])[{_CONTROL_CLASS}]")


def escape_char(char: str) -> str:
    """`\\x1b` for ESC, `\\u202e` for RIGHT-TO-LEFT OVERRIDE: the Python spelling, which a
    reader can look up and a terminal will not act on."""
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, keep: str = "\n\t") -> str:
    """`text` with every control character spelled out (`\\x1b`, `\\x9b`, `\\u202e`), so
    that metadata read from a file can be printed to a terminal without the terminal acting
    on it: no colours, cursor moves, clipboard writes (OSC 52) or reordered text. The
    characters in `keep` stay as they are (by default newline and tab, which a multi-line
    prompt needs; pass "" for one-line cells). Plain text comes back unchanged, itself.

    Front ends apply it to everything that came out of a file (values, keys, file names,
    error messages quoting them) and only there: it is for display, and JSON output escapes
    these characters anyway."""
    pattern = _control_re(keep)
    if pattern.search(text) is None:
        return text
    return pattern.sub(lambda m: escape_char(m.group()), text)


def visible_parts(text: str, keep: str = "\n\t") -> list[tuple[str, bool]]:
    """`visible(text)` in pieces, (text, True) for each escape: a front end that has styles
    can make an escape stand out from text that merely looks like one."""
    parts: list[tuple[str, bool]] = []
    pos = 0
    for m in _control_re(keep).finditer(text):
        if m.start() > pos:
            parts.append((text[pos:m.start()], False))
        parts.append((escape_char(m.group()), True))
        pos = m.end()
    if pos < len(text) or not parts:
        parts.append((text[pos:], False))
    return parts
