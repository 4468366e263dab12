"""Set values inside a JSON text without re-serializing the rest of it.

An edited ComfyUI graph must come back as the same text with only the edited values
changed: key order, separators, indentation, escapes and number spellings of everything
else stay exactly as the writer (Python's json module on the server, JSON.stringify in the
browser, a custom saver) left them, so setting a value and setting it back gives the
original text. Parsing the whole graph and dumping it again could not promise that.

The text is walked only along the paths to the edited values; everything else is skipped
with the json module's C scanner, so a multi-megabyte workflow costs one fast pass.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from json import decoder as _decoder
from json import scanner as _scanner
from typing import Any

from ...errors import ParseError

__all__ = ["JsonPath", "dump_like", "json_start", "splice"]

JsonPath = tuple[str | int, ...]

_scan = _scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]
_scanstring = _decoder.scanstring  # type: ignore[attr-defined]
_WS = re.compile(r"[ \t\n\r]*")
_INT_TOKEN = re.compile(r"-?\d+")
_LEAF = object()


def json_start(text: str) -> int | None:
    """Index of the first `{` or `[` of the JSON in an entry's text, after a carrier's
    `prompt:` / `Workflow: ` prefix and any blank or NUL padding; None when there is none."""
    m = re.match(r"[\s\x00]*(?:[A-Za-z_][\w -]{0,30}:\s*)?(?=[{\[])", text)
    return m.end() if m else None


def _trie(paths: list[JsonPath]) -> dict[str | int, Any]:
    root: dict[str | int, Any] = {}
    for path in paths:
        node = root
        for i, part in enumerate(path):
            last = i == len(path) - 1
            child = node.get(part)
            if last:
                if child is not None:
                    raise ValueError(f"overlapping JSON paths at {path!r}")
                node[part] = _LEAF
            else:
                if child is _LEAF:
                    raise ValueError(f"overlapping JSON paths at {path!r}")
                node = node.setdefault(part, {})
    return root


def _skip(text: str, pos: int) -> int:
    m = _WS.match(text, pos)
    return m.end() if m else pos


def _value_end(text: str, pos: int) -> int:
    try:
        return int(_scan(text, pos)[1])
    except StopIteration:
        raise ParseError(f"JSON value expected at character {pos}") from None


def _locate(text: str, pos: int, trie: dict[str | int, Any], path: JsonPath,
            out: dict[JsonPath, tuple[int, int]]) -> int:
    """Record the (start, end) of every value `trie` leads to; return where the value at
    `pos` ends. A key repeated in one object resolves to its last value, as json.loads
    does."""
    opener = text[pos:pos + 1]
    if opener not in ("{", "["):
        return _value_end(text, pos)
    closer = "}" if opener == "{" else "]"
    pos = _skip(text, pos + 1)
    if text[pos:pos + 1] == closer:
        return pos + 1
    index = 0
    while True:
        key: str | int
        if opener == "{":
            if text[pos:pos + 1] != '"':
                raise ParseError(f"JSON object key expected at character {pos}")
            key, pos = _scanstring(text, pos + 1)
            pos = _skip(text, pos)
            if text[pos:pos + 1] != ":":
                raise ParseError(f"':' expected at character {pos}")
            pos = _skip(text, pos + 1)
        else:
            key = index
            index += 1
        child = trie.get(key)
        here: JsonPath = (*path, key)
        if child is _LEAF:
            end = _value_end(text, pos)
            out[here] = (pos, end)
        elif child is not None:
            end = _locate(text, pos, child, here, out)
        else:
            end = _value_end(text, pos)
        pos = _skip(text, end)
        sep = text[pos:pos + 1]
        if sep == ",":
            pos = _skip(text, pos + 1)
            continue
        if sep == closer:
            return pos + 1
        raise ParseError(f"',' or {closer!r} expected at character {pos}")


def _escapes_non_ascii(text: str, start: int) -> bool:
    """Whether the writer escaped non-ASCII text: Python's json.dumps does by default (and
    escapes DEL too) and puts a space after its commas; JSON.stringify leaves text raw and
    writes no spaces. A raw character past U+007E settles it; else the first comma outside
    a string tells the writer (a comma before a newline, in indented output, does not)."""
    if not text.isascii() or "\x7f" in text:
        return False
    pos = start
    end = min(len(text), start + 65536)
    while pos < end:
        c = text[pos]
        if c == '"':
            try:
                pos = _scanstring(text, pos + 1)[1]
            except ValueError:
                return True
            continue
        if c == ",":
            # ", " is Python's; ",\n" (indented) could be either, and ASCII so far says
            # escaped; "," straight before a value is JSON.stringify's
            return text[pos + 1:pos + 2] in (" ", "\n", "\r", "")
        pos += 1
    return True


def dump_like(old: str, value: Any, *, ascii_only: bool) -> str:
    """`value` as a JSON token, spelled the way `old` (the token it replaces) was: a whole
    number where the old token was an integer keeps no ".0", text escapes non-ASCII only
    where the document did."""
    if isinstance(value, float) and value.is_integer() and _INT_TOKEN.fullmatch(old):
        return str(int(value))
    return json.dumps(value, ensure_ascii=ascii_only)


def splice(text: str, start: int, edits: Mapping[JsonPath, Any]) -> str:
    """`text` with the JSON values at `edits`' paths (relative to the value at `start`)
    replaced, every other character kept. Raises ParseError when a path is not in the text
    or the text is not JSON along the way."""
    if not edits:
        return text
    found: dict[JsonPath, tuple[int, int]] = {}
    _locate(text, _skip(text, start), _trie(list(edits)), (), found)
    missing = [p for p in edits if p not in found]
    if missing:
        raise ParseError(f"JSON has no value at {'/'.join(map(str, missing[0]))}")
    ascii_only = _escapes_non_ascii(text, start)
    parts: list[str] = []
    last = 0
    for path, (a, b) in sorted(found.items(), key=lambda item: item[1][0]):
        parts.append(text[last:a])
        parts.append(dump_like(text[a:b], edits[path], ascii_only=ascii_only))
        last = b
    parts.append(text[last:])
    return "".join(parts)
