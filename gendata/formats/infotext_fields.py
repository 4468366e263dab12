"""Dialect layer: what A1111's infotext keys mean (docs/formats.md#keys-gendata-types).

The settings A1111 writes with a typed model field behind them ("Steps" -> steps, "Size" ->
width and height), how each value is read, and how it is described when it is wrong. The
a1111 dialect parses and writes with this table; `gendata set Key=value` checks values
with it; the diff view labels fields with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = ["CASED", "FIELD_TO_KEY", "TAIL_KEYS", "TYPED", "TypedKey", "describe", "to_float",
           "typed_key", "typed_unless", "typed_value"]

_SIZE = re.compile(r"^(\d+)x(\d+)$")


def _to_int(s: str) -> int:
    return int(s.strip())


def to_float(s: str) -> float:
    value = float(s.strip())
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(s)
    return value


def _to_size(s: str) -> tuple[int, int]:
    m = _SIZE.match(s.strip())
    if not m:
        raise ValueError(s)
    return int(m.group(1)), int(m.group(2))


def _to_str(s: str) -> str:
    return s


class TypedKey:
    """A key's model field(s) and the parser of its value (ValueError when unreadable).

    A plain class rather than a dataclass: building one costs ~0.4 ms at import, and this
    loads for every `gendata show`."""

    __slots__ = ("fields", "parse")

    def __init__(self, fields: tuple[str, ...], parse: Callable[[str], Any]) -> None:
        self.fields = fields
        self.parse = parse


# A1111 key -> model field(s). Order here is the canonical output order for new keys.
TYPED: dict[str, TypedKey] = {
    "Steps": TypedKey(("steps",), _to_int),
    "Sampler": TypedKey(("sampler",), _to_str),
    "Schedule type": TypedKey(("scheduler",), _to_str),
    "CFG scale": TypedKey(("cfg_scale",), to_float),
    "Seed": TypedKey(("seed",), _to_int),
    "Size": TypedKey(("width", "height"), _to_size),
    "Model hash": TypedKey(("model_hash",), _to_str),
    "Model": TypedKey(("model",), _to_str),
    "VAE hash": TypedKey(("vae_hash",), _to_str),
    "VAE": TypedKey(("vae",), _to_str),
    "Variation seed": TypedKey(("variation_seed",), _to_int),
    "Variation seed strength": TypedKey(("variation_seed_strength",), to_float),
    "Denoising strength": TypedKey(("denoising_strength",), to_float),
    "Clip skip": TypedKey(("clip_skip",), _to_int),
    "Hires upscale": TypedKey(("hires_upscale",), to_float),
    "Hires resize": TypedKey(("hires_width", "hires_height"), _to_size),
    "Hires steps": TypedKey(("hires_steps",), _to_int),
    "Hires upscaler": TypedKey(("hires_upscaler",), _to_str),
    "Version": TypedKey(("version",), _to_str),
}
FIELD_TO_KEY: dict[str, str] = {f: k for k, t in TYPED.items() for f in t.fields}
TAIL_KEYS = ("Version",)  # written last, as A1111 does


def describe(key: str) -> str:
    """What a typed key's value must look like, for error messages."""
    parser = TYPED[key].parse
    names: dict[Callable[[str], Any], str] = {
        _to_int: "an integer", to_float: "a number", _to_size: "WIDTHxHEIGHT"}
    return names.get(parser, "text")


# Typed keys by their case-folded spelling: a saver that writes `CFG Scale: 8.0` means the
# `CFG scale` field, and an edit must change that entry, not add a second one.
CASED = {k.casefold(): k for k in TYPED}


def typed_key(key: str) -> str:
    """The TYPED key `key` spells in another case, else `key` itself."""
    if key in TYPED:
        return key
    return CASED.get(key.casefold(), key)


def typed_value(key: str, value: str) -> Any:
    """An entry's typed value (InfotextOrigin.typer): what `dump` compares the model with to
    tell whether the entry was edited. None when the key has no model field or the value
    does not parse."""
    spec = TYPED.get(typed_key(key))
    if spec is None:
        return None
    try:
        return spec.parse(value)
    except ValueError:
        return None


def typed_unless(kept_as_text: frozenset[str], key: str, value: str) -> Any:
    """`typed_value`, but None for the typed keys whose values a parse kept as text (out of
    range: `Steps: 0`)."""
    return None if typed_key(key) in kept_as_text else typed_value(key, value)
