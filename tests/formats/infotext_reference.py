"""The A1111 infotext parser as it was before the single-pattern scanner: frozen here so that
tests/formats/test_infotext_scan.py can check the parser in gendata against it on every sample
it has. Delete this module and that test together, once nobody needs the comparison.

Copied from gendata/formats/infotext_scan.py and gendata/formats/a1111.py unchanged except for
names and the rule for out-of-range values, which follows the package's; it builds the
package's own Entry and InfotextOrigin (with every part built up front), so results compare
with ==.
"""

from __future__ import annotations

import json
import re
from collections.abc import Container
from typing import Any

from gendata.formats.a1111 import (
    _CASED,
    MAX_INFOTEXT_CHARS,
    TYPED,
    _conform,
    _lora_hash_map,
    _network_tag_fields,
    _Parsed,
    generator_of,
    typed_key,
)
from gendata.formats.infotext_scan import NEGATIVE, Entry, InfotextOrigin

_ENTRY = re.compile(r"\s*(\w[\w \-/]+):\s*([^,]*)")

def _scan_quoted(line: str, i: int) -> int | None:
    """End index (exclusive) of a JSON string starting at line[i] == '"', or None."""
    j = i + 1
    n = len(line)
    while j < n:
        c = line[j]
        if c == "\\":
            j += 2
            continue
        if c == '"':
            return j + 1 if j > i + 1 else None
        j += 1
    return None


def _scan_bracketed(line: str, i: int) -> int | None:
    """End index of a balanced {...} or [...] starting at i (strings respected), or None."""
    depth = 0
    j = i
    n = len(line)
    while j < n:
        c = line[j]
        if c == '"':
            end = _scan_quoted(line, j)
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
            else:
                b = _scan_bracketed(line, v)
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


def locate(text: str, known: Container[str]) -> InfotextOrigin:
    """Find the prompt, negative prompt and parameters line of an infotext (the last line,
    when `looks_like_params` with `known` keys says it is one), keeping every character."""
    stripped_end = len(text.rstrip())
    body = text[:stripped_end]
    nl = body.rfind("\n")
    line = body[nl + 1:]
    head = body[:nl + 1]
    stripped = line.strip("\r")
    parts = scan_line(stripped)
    line_raw = line
    if line.endswith("\r"):
        parts = scan_line(line)
    if not looks_like_params(parts, known):
        origin = InfotextOrigin(text=text, head=body, tail=text[stripped_end:], has_line=False)
        origin.prompt, origin.negative_prompt = _split_prompts(body)
        return origin
    # `parts` is already the scan of the raw line unless stripping changed it.
    same = stripped == line_raw or line.endswith("\r")
    origin = InfotextOrigin(text=text, head=head,
                            line_parts=parts if same else scan_line(line_raw),
                            tail=text[stripped_end:])
    origin.prompt, origin.negative_prompt = _split_prompts(head)
    return origin


def parse(text: str) -> Any:
    """`parse_text`, leaving the model unbuilt when its values need no validation."""
    if not isinstance(text, str):
        raise TypeError("infotext must be text")
    if len(text) > MAX_INFOTEXT_CHARS:
        raise ValueError(f"infotext of {len(text):,} characters is longer than the "
                         f"{MAX_INFOTEXT_CHARS:,} gendata reads")
    origin = locate(text, TYPED)
    fields: dict[str, Any] = {"prompt": origin.prompt, "negative_prompt": origin.negative_prompt}
    extra: dict[str, Any] = {}
    values: dict[str, str] = {}
    typed_keys = TYPED
    for part in origin.line_parts:
        if isinstance(part, str):
            continue
        key = part.key
        values[key] = part.value
        spec = typed_keys.get(key)
        if spec is None and key.casefold() in _CASED:  # "CFG Scale", as some savers write
            spec = typed_keys[_CASED[key.casefold()]]
        if spec is not None:
            try:
                typed = spec.parse(part.value)
            except ValueError:
                typed = None
            part.typed = typed
            if typed is not None:
                if len(spec.fields) == 1:
                    fields[spec.fields[0]] = typed
                else:
                    fields.update(zip(spec.fields, typed, strict=True))
                extra.pop(key, None)
                continue
        elif key in fields:
            continue
        extra[key] = part.value
    lora_hashes = _lora_hash_map(values.get("Lora hashes", ""))
    loras = _network_tag_fields(origin.prompt, lora_hashes)
    if not loras and "LoRA networks" in values:  # SD.Next: names and hashes as two lists
        names = [n.strip() for n in values["LoRA networks"].split(",") if n.strip()]
        hs = [h.strip() for h in values.get("LoRA hashes", "").split(",")]
        loras = [{"name": n, "hash": hs[i] if i < len(hs) and hs[i] else None}
                 for i, n in enumerate(names)]
    embeddings = [{"name": n, "hash": h or None}
                  for n, h in _lora_hash_map(values.get("TI hashes", "")).items()]
    fields["generator"] = generator_of(values) if origin.has_line else "a1111"
    if _conform(fields, loras, embeddings):
        return _Parsed(fields, extra, loras, embeddings, origin)
    from pydantic import ValidationError

    from gendata.model import GenParams

    try:
        params = GenParams.model_validate(
            {**fields, "extra": extra, "loras": loras, "embeddings": embeddings})
    except ValidationError as exc:
        # A typed value out of range (e.g. Steps: 0): keep that key as text rather than fail
        # (the package's rule since; before it, every typed key went to text).
        bad = {str(e["loc"][0]) for e in exc.errors() if e.get("loc")}
        keys = {k for k, t in TYPED.items() if bad & set(t.fields)}
        if not keys or not bad <= {f for k in keys for f in TYPED[k].fields}:
            keys = set(TYPED)
        for k in keys:
            for f in TYPED[k].fields:
                fields.pop(f, None)
        for part in origin.line_parts:
            if isinstance(part, Entry) and typed_key(part.key) in keys:
                part.typed = None
                extra[part.key] = part.value
        params = GenParams.model_validate(
            {**fields, "extra": extra, "loras": loras, "embeddings": embeddings})
    params.origin = origin
    return params
