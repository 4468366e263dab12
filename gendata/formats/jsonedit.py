"""Dialect layer: change one value of a JSON text and leave every other character as it was.

Editing a generator's JSON by loading and dumping it would reorder keys, change separators
and escapes, and turn `7.0` into `7`: the file would no longer be what the generator wrote,
and setting a value back would not give the original text. Here a value is found by its
path and only its characters are replaced, written the way the document already writes its
values (non-ASCII escaped or not, `\\u` hex case, `\\/`, HTML-safe escapes; a number stays a
number and a numeric string stays a string). `set(path, old)` after `set(path, new)` gives
the original text back for every value a writer produces.

Pure text: no file, no model. `JsonText` raises ParseError for text that is not JSON and
UsageError naming the path for a path that is not there.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import Any

from ..errors import ParseError, UsageError

__all__ = ["MISSING", "JsonText", "Path", "Style"]

Path = Sequence[str | int]
_decoder = json.JSONDecoder()
_WS = " \t\r\n"
# A \u escape, not an escaped backslash followed by "u" (JSON inside a JSON string).
_ESCAPED = re.compile(r"(?<!\\)(?:\\\\)*\\u([0-9a-fA-F]{4})")
_SIMPLE = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b",
           "\f": "\\f"}


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class Style:
    """How a document writes strings, learnt from the document itself."""

    __slots__ = ("ascii", "html", "slash", "upper")

    def __init__(self, text: str) -> None:
        escapes = _ESCAPED.findall(text)
        # Non-ASCII written as itself means the writer does not escape it; a document with
        # none says nothing, and escaping keeps the text ASCII, which every carrier (tEXt,
        # ASCII EXIF) holds.
        self.ascii = text.isascii()
        self.upper = any(c in "ABCDEF" for h in escapes for c in h) and not any(
            c in "abcdef" for h in escapes for c in h)
        self.slash = "\\/" in text
        # Printable ASCII some writers escape: HTML-safe encoders `<>&'`, .NET's
        # System.Text.Json also `"` and `+` (and every one of them, seen or not).
        seen = {chr(int(h, 16)) for h in escapes if 0x20 <= int(h, 16) < 0x7F}
        self.html = seen | (set("<>&'\"+`") if seen & set('"+`') else set())

    def string(self, value: str) -> str:
        out = ['"']
        for c in value:
            simple = _SIMPLE.get(c)
            if c in self.html:
                out.append(self._u(ord(c)))
            elif simple is not None:
                out.append(simple)
            elif c == "/" and self.slash:
                out.append("\\/")
            elif ord(c) < 0x20 or (self.ascii and ord(c) > 0x7E) or c in "\u2028\u2029":
                code = ord(c)
                if code > 0xFFFF:
                    code -= 0x10000
                    out.append(self._u(0xD800 | (code >> 10)) + self._u(0xDC00 | (code & 0x3FF)))
                else:
                    out.append(self._u(code))
            else:
                out.append(c)
        out.append('"')
        return "".join(out)

    def _u(self, code: int) -> str:
        h = f"{code:04x}"
        return "\\u" + (h.upper() if self.upper else h)


def _number(value: int | float, like: str | None) -> str:
    """A number written as the token it replaces was: `7` stays integral when the value is,
    `7.0` keeps its `.0`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value) or math.isinf(value):
        raise UsageError(f"{value!r} cannot be written as JSON")
    if value.is_integer() and like is not None and not any(c in like for c in ".eE"):
        return str(int(value))
    return repr(value)


class JsonText:
    """A JSON text being edited in place (see the module docstring)."""

    def __init__(self, text: str, what: str = "JSON") -> None:
        self.text = text
        self.what = what
        start = _skip_ws(text, 0)
        # Writers pad JSON with NULs (Tensor.Art); they stay where they are.
        while start < len(text) and text[start] == "\x00":
            start = _skip_ws(text, start + 1)
        self._root = start
        try:
            _decoder.raw_decode(text, start)
        except (ValueError, RecursionError) as exc:
            raise ParseError(f"{what}: not valid JSON ({exc})") from None
        self.style = Style(text)

    # --- reading ------------------------------------------------------------------------

    def span(self, path: Path) -> tuple[int, int] | None:
        """(start, end) of the value at `path`, or None when a step of it is missing; a
        repeated key resolves to its last occurrence, as JSON parsers read it."""
        pos = self._root
        for step in path:
            found = self._child(pos, step)
            if found is None:
                return None
            pos = found[0]
        return pos, self._end(pos)

    def get(self, path: Path) -> Any:
        s = self.span(path)
        if s is None:
            return MISSING
        return _decoder.raw_decode(self.text, s[0])[0]

    def _end(self, pos: int) -> int:
        try:
            return _decoder.raw_decode(self.text, pos)[1]
        except (ValueError, RecursionError) as exc:
            raise ParseError(f"{self.what}: not valid JSON ({exc})") from None

    def _child(self, pos: int, step: str | int) -> tuple[int, int] | None:
        """(value start, member start) of `step` inside the container starting at `pos`."""
        text = self.text
        opener = text[pos:pos + 1]
        if opener == "{" and isinstance(step, str):
            found = None
            for key, key_at, value_at in self._members(pos):
                if key == step:
                    found = (value_at, key_at)
            return found
        if opener == "[" and isinstance(step, int):
            for i, value_at in enumerate(self._items(pos)):
                if i == step:
                    return value_at, value_at
        return None

    def _members(self, pos: int) -> list[tuple[str, int, int]]:
        """(key, key start, value start) of each member of the object at `pos`."""
        text = self.text
        out: list[tuple[str, int, int]] = []
        i = _skip_ws(text, pos + 1)
        if text[i:i + 1] == "}":
            return out
        while True:
            key, after = _decoder.raw_decode(text, i)
            j = _skip_ws(text, after)
            value_at = _skip_ws(text, j + 1)
            out.append((key, i, value_at))
            i = _skip_ws(text, self._end(value_at))
            if text[i:i + 1] != ",":
                return out
            i = _skip_ws(text, i + 1)

    def _items(self, pos: int) -> list[int]:
        text = self.text
        out: list[int] = []
        i = _skip_ws(text, pos + 1)
        if text[i:i + 1] == "]":
            return out
        while True:
            out.append(i)
            i = _skip_ws(text, self._end(i))
            if text[i:i + 1] != ",":
                return out
            i = _skip_ws(text, i + 1)

    # --- writing ------------------------------------------------------------------------

    def encode(self, value: Any, like: str | None = None) -> str:
        """`value` as this document writes it; `like` is the token it replaces, whose type
        (number, numeric string) the new value keeps."""
        if like is not None and _numeric_string(like) and isinstance(value, (int, float)) and (
                not isinstance(value, bool)):
            # a number its writer keeps as text (Fooocus' 64-bit seed, Tensor.Art's "-1")
            return self.style.string(_number(value, _decoder.decode(like)))
        if value is None:
            return "null"
        if isinstance(value, (bool, int, float)):
            return _number(value, like if like and like[:1] not in '"n' else None)
        if isinstance(value, str):
            return self.style.string(value)
        if isinstance(value, (list, tuple)):
            return "[" + ", ".join(self.encode(v) for v in value) + "]"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{self.style.string(str(k))}: {self.encode(v)}"
                                   for k, v in value.items()) + "}"
        raise UsageError(f"{self.what}: cannot write a {type(value).__name__} as JSON")

    def set(self, path: Path, value: Any) -> None:
        """Give the value at `path` a new value; a missing last key of an object is added
        after its last member, with the separators the object already uses."""
        s = self.span(path)
        if s is None:
            if not path or not isinstance(path[-1], str):
                raise UsageError(f"{self.what}: no value at {_show(path)}")
            self._add(path[:-1], path[-1], value)
            return
        start, end = s
        token = self.text[start:end]
        current = _decoder.raw_decode(self.text, start)[0]
        if current == value and type(current) is type(value):
            return  # already so: keep the writer's own characters
        self.text = self.text[:start] + self.encode(value, token) + self.text[end:]

    def set_text(self, path: Path, text: str) -> None:
        """Replace the string at `path`, which holds JSON itself, by `text` (a nested
        document edited by its own JsonText)."""
        if self.get(path) == text:
            return
        self.set(path, text)

    def remove(self, path: Path) -> None:
        """Remove the member at `path` with the separator that joined it to its object."""
        if not path or not isinstance(path[-1], str):
            raise UsageError(f"{self.what}: cannot remove {_show(path)}")
        parent = self.span(path[:-1])
        if parent is None or self.text[parent[0]:parent[0] + 1] != "{":
            return
        members = self._members(parent[0])
        idx = None
        for i, (key, _k, _v) in enumerate(members):
            if key == path[-1]:
                idx = i
        if idx is None:
            return
        text = self.text
        key_at, value_at = members[idx][1], members[idx][2]
        value_end = self._end(value_at)
        if idx + 1 < len(members):  # take the separator after it
            cut = (key_at, members[idx + 1][1])
        elif idx > 0:  # last member: take the separator before it
            prev_end = self._end(members[idx - 1][2])
            cut = (prev_end, value_end)
        else:
            cut = (key_at, value_end)
        self.text = text[:cut[0]] + text[cut[1]:]

    def _add(self, parent: Path, key: str, value: Any) -> None:
        span = self.span(parent)
        if span is None or self.text[span[0]:span[0] + 1] != "{":
            raise UsageError(f"{self.what}: no object at {_show(parent)} to add {key!r} to")
        text = self.text
        members = self._members(span[0])
        encoded_key = self.style.string(key)
        if members:
            # The text between the last two members (",\n    ") and around the colon.
            last_key_at, last_value_at = members[-1][1], members[-1][2]
            colon = text[_decoder.raw_decode(text, last_key_at)[1]:last_value_at]
            if len(members) > 1:
                sep = text[self._end(members[-2][2]):members[-1][1]]
            else:  # one member: the space after its colon says which style
                lead = text[span[0] + 1:last_key_at]
                sep = "," + (lead or (" " if colon.endswith(" ") else ""))
            at = self._end(last_value_at)
            insert = sep + encoded_key + colon + self.encode(value)
        else:
            at = span[0] + 1
            insert = encoded_key + ": " + self.encode(value)
        self.text = text[:at] + insert + text[at:]


def _numeric_string(token: str) -> bool:
    if token[:1] != '"':
        return False
    try:
        float(_decoder.decode(token))
    except ValueError:
        return False
    return True


def _skip_ws(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i] in _WS:
        i += 1
    return i


def _show(path: Path) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path) or "(root)"
