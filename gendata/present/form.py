"""Presentation, neutral: the edit form's view of a model, one text per field, and the way
back from those texts to values. The TUI's edit screen draws it; a web form could too.

Texts round-trip: a field whose text is unchanged maps back to the very value it came from,
so an unedited field is never rewritten (and the infotext keeps its exact wording).

Control characters in a value are shown spelled out, as everywhere in gendata's output
(`values.visible`), and the spelling is read back: `\\x1b` in a field is ESC in the file. So
that a prompt holding the characters `\\x1b` themselves survives too, a run of backslashes
before `x` or `u` is doubled in the form (`form_escape` / `form_unescape` are exact inverses).
A1111's own escapes, `\\(` and `\\[`, are shown as they are.
"""

from __future__ import annotations

import functools
import json
import re
from typing import TYPE_CHECKING, Any

from ..errors import ValidationError
from .values import _CONTROL_CLASS, _control_re, format_value, visible

if TYPE_CHECKING:
    from ..model import GenParams

# Model field -> label, in the order of the form.
FORM_FIELDS: list[tuple[str, str]] = [
    ("prompt", "Prompt"), ("negative_prompt", "Negative prompt"),
    ("steps", "Steps"), ("sampler", "Sampler"), ("scheduler", "Schedule type"),
    ("cfg_scale", "CFG scale"), ("seed", "Seed"), ("width", "Width"), ("height", "Height"),
    ("model", "Model"), ("model_hash", "Model hash"), ("vae", "VAE"), ("vae_hash", "VAE hash"),
    ("denoising_strength", "Denoising strength"), ("clip_skip", "Clip skip"),
    ("hires_upscale", "Hires upscale"), ("hires_steps", "Hires steps"),
    ("hires_upscaler", "Hires upscaler"), ("hires_width", "Hires width"),
    ("hires_height", "Hires height"), ("variation_seed", "Variation seed"),
    ("variation_seed_strength", "Variation seed strength"), ("version", "Version"),
    ("extra", "Other parameters"),
]
# Fields edited as several lines of text; the others are one-line boxes.
MULTILINE_FIELDS = frozenset({"prompt", "negative_prompt", "extra"})
# What "set a field on many files" offers: every field, and one untyped parameter.
SET_FIELDS: list[tuple[str, str]] = [
    *((name, label) for name, label in FORM_FIELDS if name != "extra"),
    ("extra", "Other parameter (Key: value)")]

__all__ = ["FORM_FIELDS", "MULTILINE_FIELDS", "SET_FIELDS", "extra_text", "form_escape",
           "form_text", "form_texts", "form_unescape", "infotext_form_texts",
           "parse_extra_text", "set_value", "typed_value"]

# Characters a multi-line field keeps as they are; one-line fields spell out every control.
MULTILINE_KEEP = "\n\t"
_CONTROL = re.compile(f"[{_CONTROL_CLASS}]")
_ESCAPED = re.compile(r"(\\+)(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|(?=[xu]))")


def form_escape(text: str, keep: str = "") -> str:
    """`text` as a form field shows it: controls (but those in `keep`) spelled out as
    `values.visible` does, and a run of backslashes that would read as one of those
    spellings doubled. Text without either comes back as it is."""
    if "\\" not in text and _CONTROL.search(text) is None:
        return text
    doubled = _escape_like_re(keep).sub(lambda m: m.group(1) * 2, text)
    return visible(doubled, keep)


@functools.lru_cache(maxsize=4)
def _escape_like_re(keep: str) -> re.Pattern[str]:
    """A run of backslashes that `visible` output would make read as an escape: before `x`,
    `u`, or a control it is about to spell out."""
    return re.compile(f"(\\\\+)(?=[xu]|{_control_re(keep).pattern})")


def form_unescape(text: str) -> str:
    """What a field's text stands for: the inverse of `form_escape` (for any `keep`).
    A spelling typed by hand that names no control character (`\\x41`) stays as typed."""
    if "\\" not in text:
        return text

    def one(m: re.Match[str]) -> str:
        run, code = m.group(1), m.group(2)
        n = len(run)
        if n % 2 == 0:
            return "\\" * (n // 2) + code
        if code:
            char = chr(int(code[1:], 16))
            if _CONTROL.match(char):
                return "\\" * (n // 2) + char
        return "\\" * (n // 2 + 1) + code

    return _ESCAPED.sub(one, text)


def _keep(name: str) -> str:
    return MULTILINE_KEEP if name in ("prompt", "negative_prompt") else ""


def extra_text(extra: dict[str, Any]) -> str:
    """Untyped parameters as `Key: value` lines (JSON for values that are not text); a
    newline or other control inside a key or value is spelled out, so one entry stays one
    line."""
    return "\n".join(
        f"{form_escape(k)}: "
        f"{form_escape(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))}"
        for k, v in extra.items())


def form_text(params: GenParams, name: str) -> str:
    """What the form shows for one field."""
    if name == "extra":
        return extra_text(params.extra)
    return form_escape(format_value(getattr(params, name)), _keep(name))


def form_texts(params: GenParams) -> dict[str, str]:
    """Every field's text, in form order."""
    return {name: form_text(params, name) for name, _ in FORM_FIELDS}


def _typed_infotext_keys() -> frozenset[str]:
    """Infotext keys that have a field of their own ("Steps", "Size", ...)."""
    from ..formats.a1111 import TYPED

    return frozenset(TYPED)


def _check_prompt(name: str, text: str) -> None:
    """What saving would refuse in a prompt, said as it is typed."""
    from ..formats.infotext_write import check_prompt, check_text

    if text != "" and name == "prompt":
        check_prompt(text)
    elif text:
        check_text(text, "the negative prompt")


def _check_key(key: str, line: int) -> None:
    """The infotext's own rule for keys, so the form says at once what saving would refuse."""
    from ..formats.a1111 import check_key

    try:
        check_key(key)
    except ValidationError as exc:
        raise ValidationError(f"line {line}: {exc}") from None


def parse_extra_text(text: str, base: dict[str, Any]) -> dict[str, Any]:
    """`Key: value` lines back to a dict; a line written as `base` would write it stays the
    object it was (a JSON value is not turned into text). ValidationError names the line."""
    before = {k: (v, extra_text({k: v})) for k, v in base.items()}
    typed = _typed_infotext_keys()
    out: dict[str, Any] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        key = form_unescape(key.strip())
        if not sep or not key:
            raise ValidationError(f"line {n} must be 'Key: value', got {line!r}")
        if key in typed:
            raise ValidationError(f"line {n}: {key} has a field of its own above")
        _check_key(key, n)
        old = before.get(key)
        out[key] = (old[0] if old is not None and old[1] == line.rstrip()
                    else form_unescape(value.strip()))
    return out


def typed_value(base: GenParams, name: str, text: str) -> Any:
    """The model value a field's text stands for, validated as the model would;
    ValidationError with a sentence a user can act on."""
    if name == "extra":
        if text == form_text(base, "extra"):
            return base.extra
        return parse_extra_text(text, base.extra)
    if name in ("prompt", "negative_prompt"):
        if text == form_text(base, name):
            return getattr(base, name)  # as read: never refused for what it already holds
        prompt = form_unescape(text)
        _check_prompt(name, prompt)
        return prompt
    value: Any = form_unescape(text.strip())
    if value == "":
        value = None
    return getattr(base.edited(**{name: value}), name)


def set_value(name: str, text: str) -> tuple[str, Any]:
    """(field, value) that setting `name` (a SET_FIELDS name) to `text` on many files means,
    named as gendata.diff.flatten names fields ("model", "extra.<Key>"); the value is None
    to remove the field. ValidationError with a sentence a user can act on."""
    if name == "extra":
        parsed = parse_extra_text(text, {})
        if len(parsed) != 1:
            raise ValidationError("write one parameter as 'Key: value' (nothing after the "
                                  "colon removes it)")
        [(key, value)] = parsed.items()
        return f"extra.{key}", value or None
    from ..model import GenParams

    value = typed_value(GenParams(), name, text)
    return name, None if value == "" else value


def infotext_form_texts(text: str) -> dict[str, str]:
    """The form's texts for a pasted A1111 infotext. Never fails on text: what is not
    understood lands in "Other parameters"."""
    from ..formats.a1111 import parse_text

    return form_texts(parse_text(text))
