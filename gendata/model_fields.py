"""Model layer, as plain data: the one table of GenParams' fields (and its nested models').

gendata/model.py builds its pydantic models from these tables, and the read path that must
not import pydantic (`gendata show --json`, `gendata export`) checks and fills values with
them, so a field's type, default and bounds are written down once, here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["EMBEDDING", "EMBEDDING_DEFAULTS", "GENPARAMS", "LORA", "LORA_DEFAULTS", "REQUIRED",
           "SAMPLER_PASS", "SCALAR_DEFAULTS", "SCALAR_FIELDS", "DeferredParams", "FieldSpec",
           "Origin", "conforms", "empty_json_fields"]


class _Required:
    """The default of a field that has none (a Lora's name)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


class FieldSpec:
    """One scalar field: values must be exactly `type` (or None when the default is None) and
    satisfy `gt`/`ge`. int, float and str only: that is what every dialect produces."""

    __slots__ = ("default", "ge", "gt", "type")

    def __init__(self, type_: type[Any], default: Any = None, *, gt: float | None = None,
                 ge: float | None = None) -> None:
        self.type = type_
        self.default = default
        self.gt = gt
        self.ge = ge

    @property
    def nullable(self) -> bool:
        return self.default is None

    def __repr__(self) -> str:
        return (f"FieldSpec({self.type.__name__}, {self.default!r}, gt={self.gt!r}, "
                f"ge={self.ge!r})")


# GenParams' scalar fields, in schema order (docs/json.md). The list fields (loras,
# embeddings, samplers, extra, notes) follow them in model.py.
GENPARAMS: dict[str, FieldSpec] = {
    "generator": FieldSpec(str),
    "prompt": FieldSpec(str, ""),
    "negative_prompt": FieldSpec(str, ""),
    "steps": FieldSpec(int, gt=0),
    "sampler": FieldSpec(str),
    "scheduler": FieldSpec(str),
    "cfg_scale": FieldSpec(float),
    "seed": FieldSpec(int),  # unbounded: ComfyUI seeds reach 2^64-1
    "width": FieldSpec(int, gt=0),
    "height": FieldSpec(int, gt=0),
    "model": FieldSpec(str),
    "model_hash": FieldSpec(str),
    "vae": FieldSpec(str),
    "vae_hash": FieldSpec(str),
    "denoising_strength": FieldSpec(float, ge=0),
    "clip_skip": FieldSpec(int, gt=0),
    "hires_upscale": FieldSpec(float, gt=0),
    "hires_steps": FieldSpec(int, ge=0),
    "hires_upscaler": FieldSpec(str),
    "hires_width": FieldSpec(int, ge=0),
    "hires_height": FieldSpec(int, ge=0),
    "variation_seed": FieldSpec(int),
    "variation_seed_strength": FieldSpec(float, ge=0),
    "version": FieldSpec(str),
}
LORA: dict[str, FieldSpec] = {
    "name": FieldSpec(str, REQUIRED),
    "weight": FieldSpec(float),
    "unet_weight": FieldSpec(float),
    "hash": FieldSpec(str),
    "kind": FieldSpec(str, "lora"),  # "lora", "lyco", "hypernet"
}
EMBEDDING: dict[str, FieldSpec] = {
    "name": FieldSpec(str, REQUIRED),
    "hash": FieldSpec(str),
}
SAMPLER_PASS: dict[str, FieldSpec] = {
    "sampler": FieldSpec(str),
    "scheduler": FieldSpec(str),
    "steps": FieldSpec(int),
    "cfg_scale": FieldSpec(float),
    "seed": FieldSpec(int),
    "denoise": FieldSpec(float),
    "model": FieldSpec(str),
    "node": FieldSpec(str),
}

SCALAR_FIELDS: tuple[str, ...] = tuple(GENPARAMS)
SCALAR_DEFAULTS: dict[str, Any] = {k: f.default for k, f in GENPARAMS.items()}
LORA_DEFAULTS: dict[str, Any] = {k: None if f.default is REQUIRED else f.default
                                 for k, f in LORA.items()}
EMBEDDING_DEFAULTS: dict[str, Any] = {k: None if f.default is REQUIRED else f.default
                                      for k, f in EMBEDDING.items()}


def conforms(values: Mapping[str, Any], table: Mapping[str, FieldSpec] = GENPARAMS) -> bool:
    """True when `values` (field -> value) are exactly what validating them against `table`
    would give back: known fields, the exact type (None only where the default is None),
    in range, nothing required missing. The read path then builds the model without
    running pydantic, safely."""
    for name, value in values.items():
        spec = table.get(name)
        if spec is None:
            return False
        if value is None:
            if spec.default is not None:
                return False
            continue
        if type(value) is not spec.type:
            return False
        if (spec.gt is not None and not value > spec.gt) or (
                spec.ge is not None and not value >= spec.ge):
            return False
    known = _REQUIRED.get(id(table))
    if known is not None and known[0] is table:
        required = known[1]
    else:
        required = tuple(n for n, spec in table.items() if spec.default is REQUIRED)
    return all(n in values for n in required)


# The required fields of each table above, found once: `conforms` runs for every file read.
_REQUIRED = {id(t): (t, tuple(n for n, spec in t.items() if spec.default is REQUIRED))
             for t in (GENPARAMS, LORA, EMBEDDING, SAMPLER_PASS)}


def empty_json_fields() -> dict[str, Any]:
    """The model part of a `show --json` object for a file without parameters."""
    return {**dict.fromkeys(SCALAR_FIELDS), "loras": [], "embeddings": [], "samplers": [],
            "extra": {}, "notes": []}


class Origin:
    """Where a model's text came from: which dialect parsed it, from which container entry,
    and the text itself. A dialect that can write its text back in place keeps its own parse
    in a subclass (formats.infotext_scan.InfotextOrigin for A1111 infotext), so that
    unchanged parts are written back character for character.

    A plain class rather than a dataclass: building a dataclass costs ~0.4 ms at import, and
    this loads for every `gendata show`.
    """

    def __init__(self, *, dialect: str, text: str, key: str | None = None) -> None:
        self.dialect = dialect  # the formats module (NAME) that read the text and can write it
        self.text = text
        self.key = key  # container entry ("parameters", "UserComment"); None: a bare text

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return vars(self) == vars(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"


class DeferredParams:
    """Parameters a dialect has parsed and checked but not yet made into a GenParams.

    `Record.params` builds the model on first use; `Record.to_json` reads `json_fields()`
    instead, so showing or exporting a file never imports pydantic.
    """

    __slots__ = ()

    def build(self) -> Any:
        """The GenParams, exactly as the dialect's `parse` would have returned it."""
        raise NotImplementedError

    def json_fields(self) -> dict[str, Any]:
        """`generator`, the scalar fields, `loras`, `embeddings`, `samplers`, `extra` and
        `notes` as GenParams.json_fields gives them for the built model."""
        raise NotImplementedError
