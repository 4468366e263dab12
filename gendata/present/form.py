"""Presentation, neutral: the edit form's view of a model, one text per field, and the way
back from those texts to values. The TUI's edit screen draws it; a web form could too.

Texts round-trip: a field whose text is unchanged maps back to the very value it came from,
so an unedited field is never rewritten (and the infotext keeps its exact wording).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..errors import ValidationError
from .values import format_value

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

__all__ = ["FORM_FIELDS", "MULTILINE_FIELDS", "extra_text", "form_text", "form_texts",
           "infotext_form_texts", "parse_extra_text", "typed_value"]


def extra_text(extra: dict[str, Any]) -> str:
    """Untyped parameters as `Key: value` lines (JSON for values that are not text)."""
    return "\n".join(f"{k}: {v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)}"
                     for k, v in extra.items())


def form_text(params: GenParams, name: str) -> str:
    """What the form shows for one field."""
    if name == "extra":
        return extra_text(params.extra)
    return format_value(getattr(params, name))


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
        key = key.strip()
        if not sep or not key:
            raise ValidationError(f"line {n} must be 'Key: value', got {line!r}")
        if key in typed:
            raise ValidationError(f"line {n}: {key} has a field of its own above")
        _check_key(key, n)
        old = before.get(key)
        out[key] = old[0] if old is not None and old[1] == line.rstrip() else value.strip()
    return out


def typed_value(base: GenParams, name: str, text: str) -> Any:
    """The model value a field's text stands for, validated as the model would;
    ValidationError with a sentence a user can act on."""
    if name == "extra":
        if text == form_text(base, "extra"):
            return base.extra
        return parse_extra_text(text, base.extra)
    if name in ("prompt", "negative_prompt"):
        _check_prompt(name, text)
        return text
    value: Any = text.strip()
    if value == "":
        value = None
    return getattr(base.edited(**{name: value}), name)


def infotext_form_texts(text: str) -> dict[str, str]:
    """The form's texts for a pasted A1111 infotext. Never fails on text: what is not
    understood lands in "Other parameters"."""
    from ..formats.a1111 import parse_text

    return form_texts(parse_text(text))
