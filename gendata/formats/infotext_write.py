"""Dialect layer: writing A1111 infotext so that it reads back as written
(docs/guide.md#what-you-set-is-what-you-read-back).

An infotext has no escapes for its structure: a prompt line starting with `Negative prompt:`
switches to the negative prompt, the last line is the settings line when it looks like one,
and an unquoted value ends at the next comma. The a1111 dialect writes every value it changes
through `encode_value` (A1111's JSON quoting, applied wherever a plain value would not read
back), checks every new key with `check_key`, and checks the finished text with
`check_readback`, so that an edit either reads back exactly or is refused, before anything
is written, with a sentence saying why. Unedited parts are never passed through here: they
keep their original characters.
"""

from __future__ import annotations

import json
import re
from collections.abc import Container, Mapping, Sequence
from typing import Any

from ..errors import ValidationError
from .infotext_scan import (
    NEGATIVE,
    Entry,
    InfotextOrigin,
    locate,
    looks_like_params,
    scan_line,
)

__all__ = ["check_key", "check_pairs", "check_prompt", "check_readback", "check_text",
           "encode_value", "format_extra", "format_number", "format_typed", "normalize_prompt",
           "prompt_block", "quote", "writable_key", "written_prompts"]

# What the settings-line scanner (and A1111's own regular expression) takes for a key: a word
# character, then one or more word characters, spaces, `-` or `/`; surrounding spaces are
# not part of it.
_KEY = re.compile(r"\w[\w \-/]+")
_SURROGATE = re.compile("[\ud800-\udfff]")


def quote(value: str) -> str:
    """A1111's current quoting rule (docs/formats.md#value-quoting): JSON-quote when the
    value has `,`, LF or `:`."""
    if "," in value or "\n" in value or ":" in value:
        return json.dumps(value, ensure_ascii=False)
    return value


def check_text(text: str, what: str) -> None:
    """Refuse text no file can hold: a lone surrogate (half of a UTF-16 pair, what a byte
    that is not UTF-8 decodes to) has no UTF-8 or Latin-1 form."""
    m = _SURROGATE.search(text)
    if m is not None:
        raise ValidationError(f"{what} holds a lone surrogate ({m.group()!r}), which cannot "
                              "be stored as text")


def check_key(key: str) -> None:
    """Refuse a settings key that would not read back as itself. ValidationError says why."""
    check_text(key, f"key {key!r}")
    if _KEY.fullmatch(key) is None or key != key.rstrip():
        raise ValidationError(
            f"key {key!r} cannot be written: an infotext key is letters, digits, '_', spaces, "
            "'-' and '/', at least two characters, starting with a letter or digit and not "
            "ending in a space (A1111 reads no other key)")


_NOT_IN_KEY = re.compile(r"[^\w \-/]+")


def writable_key(key: str) -> str | None:
    """A key another generator used, spelled so that the settings line can carry it: each
    run of characters a key cannot hold becomes `/` (`sui_extra_data.date` ->
    `sui_extra_data/date`), spaces and `/` at the ends go. None when nothing is left to
    name it (fewer than two characters). For rewriting another generator's data as A1111
    text (gendata convert), not for what a user sets, which is refused instead."""
    spelled = _NOT_IN_KEY.sub("/", key).strip(" /-")
    while spelled and not (spelled[0].isalnum() or spelled[0] == "_"):
        spelled = spelled[1:]
    if _KEY.fullmatch(spelled) is None or _SURROGATE.search(spelled):
        return None
    return spelled


def _plain_is_unsafe(value: str) -> bool:
    """Where A1111's rule writes a value plainly but the plain form could read back as
    something else: a leading quote (read as JSON), spaces at either end (the scanner and
    the whole-text strip drop them), and characters that are not printable."""
    return (value[0] == '"' or value[0].isspace() or value[-1].isspace()
            or not value.isprintable())


def _reads_back(text: str, value: str) -> bool:
    """Whether `Key: text` reads back as `value`, both inside the settings line and at its
    end (where the text is stripped)."""
    for line in (f"Aa: 1, Key: {text}, Zz: 2", f"Aa: 1, Key: {text}".rstrip()):
        entries = [p for p in scan_line(line) if isinstance(p, Entry)]
        if len(entries) < 2 or entries[1].key != "Key" or entries[1].value != value:
            return False
        if len(entries) != (3 if line.endswith("Zz: 2") else 2):
            return False
    return True


def encode_value(value: str, what: str = "value") -> str:
    """`value` as written after `Key: ` so that it reads back as `value`: as A1111 writes it
    (plain, or JSON-quoted when it holds `,`, `:` or LF), and JSON-quoted too where the
    plain form would not read back. An empty value is written empty (A1111 itself then
    drops the key). ValidationError for what no quoting can carry."""
    if value == "":
        return value
    check_text(value, what)
    plain = quote(value)
    if plain is value and not _plain_is_unsafe(value) and _reads_back(value, value):
        return value
    quoted = plain if plain is not value else json.dumps(value, ensure_ascii=False)
    if _reads_back(quoted, value):
        return quoted
    raise ValidationError(f"{what} {value!r} cannot be written so that it reads back")


def normalize_prompt(text: str) -> str:
    """A prompt as it reads back from an infotext: every line stripped of spaces (A1111's
    reader strips them), blank lines at the start and end dropped."""
    return "\n".join(line.strip() for line in text.split("\n")).strip("\n")


def check_prompt(prompt: str) -> None:
    """Refuse a prompt that would not read back as itself whatever follows it (a line that
    reads as the `Negative prompt:` marker, a lone surrogate); what `check_readback` finds
    only in the finished text is left to it."""
    check_text(prompt, "the prompt")
    problem = _prompt_problem(prompt)
    if problem is not None:
        raise ValidationError(problem)


def _prompt_problem(prompt: str) -> str | None:
    """Why a prompt written before the settings line would read back as something else."""
    for n, line in enumerate(prompt.split("\n"), 1):
        if line.strip().startswith(NEGATIVE):
            where = "the prompt" if prompt.count("\n") == 0 else f"line {n} of the prompt"
            return (f"{where} starts with {NEGATIVE!r}, which readers take for the start of "
                    "the negative prompt; an infotext has no way to escape it")
    return None


def check_readback(text: str, known: Container[str], *, prompt: str, negative: str,
                   pieces: Sequence[str]) -> str:
    """`text`, once it is known to read back with this prompt, negative prompt and settings
    entries: the entries of `pieces` (the settings line's parts, each scanned on its own; none:
    no settings line). Values are not compared here: `encode_value` wrote each changed one
    so that it reads back, and unchanged ones keep their original characters.
    ValidationError says what would go wrong."""
    keys = [p.key for piece in pieces for p in scan_line(piece) if isinstance(p, Entry)]
    problem = _prompt_problem(prompt)
    if problem is not None:
        raise ValidationError(problem)
    origin = locate(text, known)
    if not keys and origin.has_line:
        last = text.rstrip().rsplit("\n", 1)[-1]
        raise ValidationError(
            f"the last line of the {'negative ' if negative else ''}prompt ({last[:60]!r}) "
            "would read as the settings line; set a parameter (e.g. steps) so that a real "
            "settings line follows it")
    if keys and not origin.has_line:
        parts = scan_line(text.rstrip().rsplit("\n", 1)[-1])
        unknown = [p.key for p in parts if isinstance(p, Entry) and p.key not in known]
        if not looks_like_params(parts, known) and unknown:
            raise ValidationError(
                "the settings line would have fewer than three entries and a key A1111 "
                f"does not know ({', '.join(map(repr, unknown))}), so readers would take it "
                "for a prompt line; set more parameters (steps, sampler, seed) with it")
        raise ValidationError("the settings line would not read back as one")
    got = [p.key for p in origin.line_parts if isinstance(p, Entry)]
    if got != keys:
        raise ValidationError(f"the settings line would read back as the keys {got!r}, "
                              f"not {keys!r}")
    if origin.prompt != prompt:
        raise ValidationError(f"the prompt would read back as {origin.prompt[:60]!r}")
    if origin.negative_prompt != negative:
        raise ValidationError(
            f"the negative prompt would read back as {origin.negative_prompt[:60]!r}")
    return text


# --- the parts of the text, as the a1111 dialect writes them ----------------------------------

def format_number(value: float | int) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def format_typed(key: str, value: Any) -> str:
    """A typed key's value (infotext_fields.TYPED) as written: `Size` as WxH, numbers as
    A1111 writes them, text through `encode_value`."""
    if isinstance(value, tuple):
        return f"{value[0]}x{value[1]}"
    if isinstance(value, (int, float)):
        return format_number(value)
    return encode_value(str(value), key)


def format_extra(key: str, value: Any, *, raw_json: bool = False) -> str:
    """An untyped value as written: text that reads back as itself (JSON-quoted where
    needed), and lists and objects as unquoted JSON, as A1111 writes `Hashes`; with
    `raw_json`, JSON text too (the keys whose values A1111 writes as objects)."""
    if isinstance(value, (dict, list)):
        value = json.dumps(value, ensure_ascii=False)
        return value if _raw_json_reads_back(value) else encode_value(value, key)
    if isinstance(value, str):
        if raw_json and value[:1] in "{[" and _raw_json_reads_back(value):
            return value
        return encode_value(value, key)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return format_number(value)
    return encode_value(str(value), key)


def _raw_json_reads_back(text: str) -> bool:
    """Whether unquoted JSON text reads back whole as one value (the scanner keeps balanced
    brackets together; a newline or a quote it cannot close would break it)."""
    entries = [p for p in scan_line(f"Aa: {text}, Zz: 1") if isinstance(p, Entry)]
    return "\n" not in text and len(entries) == 2 and entries[0].value == text


def written_prompts(params: Any, origin: InfotextOrigin | None) -> tuple[str, str]:
    """The prompt and negative prompt of `params` (a GenParams) as they will be written and
    read back: an unchanged one as it was, a changed one normalized as a reader would give
    it back."""
    prompt, negative = params.prompt, params.negative_prompt
    if origin is None or prompt != origin.prompt:
        check_text(prompt, "the prompt")
        prompt = normalize_prompt(prompt)
    if origin is None or negative != origin.negative_prompt:
        check_text(negative, "the negative prompt")
        negative = normalize_prompt(negative)
    return prompt, negative


def prompt_block(prompt: str, negative: str) -> str:
    """The text before the settings line."""
    out = prompt
    if negative:
        out += ("\n" if out else "") + NEGATIVE + " " + negative
    return out


def check_pairs(params: Any, typed: Mapping[str, Any]) -> None:
    """Refuse half of a value written as one (`Size`: width and height), which would be
    dropped. `typed` is infotext_fields.TYPED."""
    for key, spec in typed.items():
        if len(spec.fields) == 2:
            values = [getattr(params, f) for f in spec.fields]
            if values.count(None) == 1:
                raise ValidationError(f"{' and '.join(spec.fields)} are written together as "
                                      f"{key}: set both, or neither")
