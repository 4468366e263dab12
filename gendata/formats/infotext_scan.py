"""Dialect layer: the quote-aware scanner for A1111 infotext (docs/formats.md#reading-an-infotext).

A1111's own reader splits the settings line on commas, which breaks JSON-quoted values and
unquoted JSON objects (`Hashes`, `Civitai resources`). This scanner keeps those whole and
loses no character: every gap between entries is kept, so the a1111 dialect can write an
unedited text back exactly and an edited one with only the changed entries rewritten. It
knows the text's shape, not what any key means; the dialects that read infotext (a1111 and
those that embed it: Civitai, Fooocus, ComfyUI saver nodes, Stability Matrix) go through
a1111.parse_text, which is built on it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Container
from typing import Any

from ..model_fields import Origin

__all__ = ["Entry", "InfotextOrigin", "is_params_line", "locate", "looks_like_params",
           "read_infotext", "scan_line", "scan_values"]

# A key and the value up to the next comma, in one match: the common, unquoted entry.
_ENTRY = re.compile(r"\s*(\w[\w \-/]+):\s*([^,]*)")
NEGATIVE = "Negative prompt:"


# Plain classes rather than dataclasses: building a dataclass costs ~0.4 ms at import, and
# these load for every `gendata show`.

class Entry:
    """One `key: value` of the parameters line, with the exact text it came from."""

    __slots__ = ("key", "quoted", "raw", "typed", "value")

    def __init__(self, key: str, raw: str, value: str, quoted: bool = False) -> None:
        self.key = key
        self.raw = raw  # the whole entry text, from the key to the end of the value
        self.value = value  # decoded value
        self.quoted = quoted
        self.typed: Any = None  # the typed value parsed from `value` (None: untyped/unparsable)

    def _state(self) -> tuple[Any, ...]:
        return (self.key, self.raw, self.value, self.quoted, self.typed)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not Entry:
            return NotImplemented
        return self._state() == other._state()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "Entry(key={!r}, raw={!r}, value={!r}, quoted={!r}, typed={!r})".format(
            *self._state())


class InfotextOrigin(Origin):
    """An infotext's parse, kept on the model: everything needed to write the original text
    back byte for byte, or with only the edited entries rewritten.

    `line_parts` (the parameters line as gaps and Entries) is built on first use from `line`,
    each Entry's `typed` set by `typer(key, value)`: reading a file only needs the values,
    and most files are never written back, so the ~25 Entries a line holds are not built
    for them."""

    def __init__(self, *, text: str, head: str, line_parts: list[str | Entry] | None = None,
                 tail: str = "", prompt: str = "", negative_prompt: str = "",
                 has_line: bool = True, key: str | None = None, dialect: str = "a1111",
                 line: str = "", typer: Callable[[str, str], Any] | None = None) -> None:
        super().__init__(dialect=dialect, text=text, key=key)
        self.head = head  # text before the parameters line (prompt + negative part)
        self._parts = line_parts
        self._line = line  # the parameters line, as in `text`
        self.typer = typer  # an Entry's typed value from its key and value (None: untyped)
        self.tail = tail  # text after the parameters line
        self.prompt = prompt
        self.negative_prompt = negative_prompt
        self.has_line = has_line

    @property
    def line_parts(self) -> list[str | Entry]:
        parts = self._parts
        if parts is None:
            parts = scan_line(self._line) if self.has_line else []
            typer = self.typer
            if typer is not None:
                for part in parts:
                    if part.__class__ is Entry:
                        part.typed = typer(part.key, part.value)
            self._parts = parts
        return parts

    @line_parts.setter
    def line_parts(self, parts: list[str | Entry]) -> None:
        self._parts = parts

    def _state(self) -> dict[str, Any]:
        return {"dialect": self.dialect, "text": self.text, "key": self.key, "head": self.head,
                "line_parts": self.line_parts, "tail": self.tail, "prompt": self.prompt,
                "negative_prompt": self.negative_prompt, "has_line": self.has_line}

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._state() == other._state()

    __hash__ = None

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self._state().items())
        return f"{type(self).__name__}({fields})"


def _scan_quoted(line: str, i: int, stop: int | None = None) -> int | None:
    """End index (exclusive) of a JSON string starting at line[i] == '"', or None (also
    when it does not end before `stop`)."""
    j = i + 1
    n = len(line) if stop is None else min(stop, len(line))
    while j < n:
        c = line[j]
        if c == "\\":
            j += 2
            continue
        if c == '"':
            return j + 1 if j > i + 1 else None
        j += 1
    return None


def _scan_bracketed(line: str, i: int, stop: int) -> int | None:
    """End index of a balanced {...} or [...] starting at i (strings respected), or None
    when it is not closed before `stop`."""
    depth = 0
    j = i
    n = min(stop, len(line))
    while j < n:
        c = line[j]
        if c == '"':
            end = _scan_quoted(line, j, n)
            if end is None:
                j += 2 if line[j + 1:j + 2] == '"' else 1
                continue
            j = end
            continue
        if c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return None


def scan_line(line: str, limit: int | None = None) -> list[str | Entry]:
    """Split a parameters line into gaps (str) and entries, losing no character.

    With `limit`, stop after that many entries (enough to tell whether a line is a
    parameters line without scanning all of it)."""
    parts: list[str | Entry] = []
    append = parts.append
    match = _ENTRY.match
    found = 0
    i = 0
    n = len(line)
    gap_start = 0
    # What bracket scans may read in all. A scan that finds no close reads to the end of the
    # line, and one per entry would be quadratic; a real line scans each value once.
    budget = 2 * n + 65536
    while i < n:
        m = match(line, i)
        if not m:
            nxt = line.find(",", i)
            i = n if nxt < 0 else nxt + 1
            continue
        key_start, key_end = m.span(1)
        v, end = m.span(2)
        quoted = False
        if v < end and line[v] in '"{[':
            # A JSON string, object or array may hold commas: scan it, and fall back to
            # the next comma when it is not followed by one.
            scanned = None
            if line[v] == '"':
                q = _scan_quoted(line, v)
                if q is not None and (q == n or line[q] == ","):
                    scanned = q
                    quoted = True
            elif budget > 0:
                b = _scan_bracketed(line, v, v + budget)
                budget -= (min(n, v + budget) if b is None else b) - v
                if b is not None and (b == n or line[b] == ","):
                    scanned = b
            if scanned is not None:
                end = scanned
        value = line[v:end]
        if quoted:
            try:
                decoded = json.loads(value)
                if isinstance(decoded, str):
                    value = decoded
            except ValueError:
                pass
        if key_start > gap_start:
            append(line[gap_start:key_start])
        append(Entry(line[key_start:key_end].strip(), line[key_start:end], value, quoted))
        found += 1
        if found == limit:
            return parts
        i = gap_start = end
        if i < n and line[i] == ",":
            i += 1
    if gap_start < n:
        parts.append(line[gap_start:])
    return parts


def looks_like_params(parts: list[str | Entry], known: Container[str]) -> bool:
    """A1111's rule is three or more entries. A shorter line still counts when it is nothing
    but entries with `known` keys (those A1111 itself writes: "Steps: 30, Seed: 1"), so a
    small block that gendata wrote reads back."""
    entries = [p for p in parts if isinstance(p, Entry)]
    if len(entries) >= 3:
        return True
    return bool(entries) and all(e.key in known for e in entries) and all(
        isinstance(p, Entry) or not p.strip(", ") for p in parts)


def _split_prompts(head: str) -> tuple[str, str]:
    prompt_lines: list[str] = []
    neg_lines: list[str] = []
    target = prompt_lines
    for line in head.split("\n"):
        line = line.strip()
        if target is prompt_lines and line.startswith(NEGATIVE):
            target = neg_lines
            line = line[len(NEGATIVE):].strip()
        target.append(line)
    if head.endswith("\n"):
        (neg_lines if target is neg_lines else prompt_lines).pop()
    return "\n".join(prompt_lines), "\n".join(neg_lines)


# --- the fast path: one regular expression over the whole line ------------------------------
#
# `scan_line` tries its entry pattern at a position and, where it fails, skips past the next
# comma. `_TOKEN` is that loop as one pattern: an entry (key, then a JSON string followed by a
# comma or the end, else the value up to the next comma; then the comma), or failing that the
# stretch up to and including the next comma. Every position of the line starts a token, so
# `findall` walks it in C exactly as the loop does, and gives each entry's key (stripped
# after, as scan_line does) and value. Values that start with `{` or `[` need the bracket
# scan, which no pattern does: a line holding one goes to `scan_line`.
# tests/formats/test_infotext_scan.py checks that the two agree.
_TOKEN = re.compile(
    r'\s*(\w[\w \-/]+):\s*(?:"(?!")([^"\\]*(?:\\[\s\S][^"\\]*)*)"(?=,|\Z)|([^,]*)),?'
    r'|[^,]*,|[^,]+')
_findall = _TOKEN.findall
_BRACKETED = re.compile(r":\s*[{\[]").search
_SEQ = re.compile(r'[\\\x00-\x1f]').search  # what makes a JSON string more than its text


def _decode(body: str) -> str:
    """The value of the JSON-quoted entry `"body"`, as scan_line decodes it (kept as written,
    quotes and all, when it is not valid JSON)."""
    if _SEQ(body) is None:
        return body
    raw = '"' + body + '"'
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    return value if isinstance(value, str) else raw


_memo: tuple[str, list[tuple[str, str]] | None] = ("", [])


def scan_values(line: str) -> list[tuple[str, str]] | None:
    """The (key, decoded value) of every entry of a parameters line, in order: what
    `scan_line` finds, without building its parts. None when a value starts with `{` or `[`
    (ask `scan_line`). The last line scanned is remembered: a1111's `score` and `parse`
    both look at the same line."""
    global _memo
    memo = _memo
    if memo[0] == line:
        return memo[1]
    if ("{" in line or "[" in line) and _BRACKETED(line) is not None:
        found = None
    else:
        # A key's only whitespace can be trailing spaces (its first character is a letter).
        found = [(key if key[-1] != " " else key.rstrip(), _decode(quoted) if quoted else plain)
                 for key, quoted, plain in _findall(line) if key]
    _memo = (line, found)
    return found


def _values_of(parts: list[str | Entry]) -> list[tuple[str, str]]:
    return [(p.key, p.value) for p in parts if isinstance(p, Entry)]


def is_params_line(line: str, known: Container[str]) -> bool:
    """`looks_like_params(scan_line(line), known)`, from the fast scan when it can tell."""
    found = scan_values(line)
    if found is not None and len(found) >= 3:
        return True
    return looks_like_params(scan_line(line, limit=3), known)


def locate(text: str, known: Container[str]) -> InfotextOrigin:
    """Find the prompt, negative prompt and parameters line of an infotext (the last line,
    when `looks_like_params` with `known` keys says it is one), keeping every character."""
    return read_infotext(text, known)[0]


def read_infotext(text: str, known: Container[str]
                  ) -> tuple[InfotextOrigin, list[tuple[str, str]]]:
    """`locate`, and the (key, value) of every entry of the parameters line (none when the
    text has no parameters line). The origin's `line_parts` are built when first asked for."""
    stripped_end = len(text.rstrip())
    body = text[:stripped_end]
    nl = body.rfind("\n")
    line = body[nl + 1:]
    head = body[:nl + 1]
    tail = text[stripped_end:]
    # `body` ends in no whitespace, so neither does `line`; only a leading CR can differ
    # between the line and the text it is judged by (A1111 strips lines).
    if line[:1] == "\r":
        return _read_slow(text, body, head, line, tail, known)
    found = scan_values(line)
    if found is None or len(found) < 3:
        return _read_slow(text, body, head, line, tail, known)
    origin = InfotextOrigin(text=text, head=head, tail=tail, line=line)
    origin.prompt, origin.negative_prompt = _split_prompts(head)
    return origin, found


def _read_slow(text: str, body: str, head: str, line: str, tail: str, known: Container[str]
               ) -> tuple[InfotextOrigin, list[tuple[str, str]]]:
    """`read_infotext` by `scan_line` alone: lines with bracketed values, short lines."""
    parts = scan_line(line.strip("\r"))
    if not looks_like_params(parts, known):
        origin = InfotextOrigin(text=text, head=body, tail=tail, has_line=False)
        origin.prompt, origin.negative_prompt = _split_prompts(body)
        return origin, []
    if line[:1] == "\r":
        parts = scan_line(line)
    origin = InfotextOrigin(text=text, head=head, line=line, tail=tail)
    origin.prompt, origin.negative_prompt = _split_prompts(head)
    return origin, _values_of(parts)
