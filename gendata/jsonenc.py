"""Service layer: JSON text for output (`show --json`, `export`, every `-f json|jsonl`).

`json.dumps(ensure_ascii=False)` escapes the C0 controls (ESC among them) but writes the C1
controls (U+0080-U+009F; U+009B is a one-character CSI to many terminals), the bidi controls
and the line separators as they are, so a file's metadata printed as JSON to a terminal could
still move the cursor or reorder what is shown. These come out as `\\uXXXX` escapes instead:
the same JSON value, and the rest of the text (every other non-ASCII character) stays
readable. Plain text, the common case, costs one regular-expression scan that finds nothing.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["json_text"]

# Outside strings JSON is ASCII, so these can only be inside strings, where \uXXXX is valid.
# Lone surrogates too (a file name's undecodable byte, a file's own `\ud800` escape): UTF-8
# cannot encode them, and as escapes `os.fsencode(json.loads(...))` gives a name's bytes back.
_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"
                     "\ud800-\udfff]")


def _escape(m: re.Match[str]) -> str:
    return f"\\u{ord(m.group()):04x}"


def json_text(obj: Any, indent: int | None = None) -> str:
    """`json.dumps(obj, ensure_ascii=False, indent=indent)` with every character a terminal
    acts on escaped."""
    text = json.dumps(obj, ensure_ascii=False, indent=indent)
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_escape, text)
