"""Model layer, as plain data: the one table of GenParams' fields (and its nested models').

gendata/model.py builds its pydantic models from these tables, and the read path that must
not import pydantic (`gendata show --json`, `gendata export`) checks and fills values with
them, so a field's type, default and bounds are written down once, here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["EMBEDDING", "EMBEDDING_DEFAULTS", "GENPARAMS", "HASH_FIELDS", "LORA", "LORA_DEFAULTS",
           "REQUIRED", "SAMPLER_PASS", "SCALAR_DEFAULTS", "SCALAR_FIELDS", "SEED_MAX",
           "DeferredParams", "FieldSpec", "Origin", "conforms", "edit_problem",
           "empty_json_fields"]


class _Required:
    """The default of a field that has none (a Lora's name)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


class FieldSpec:
    """One scalar field: values must be exactly `type` (or None when the default is None) and
    satisfy `gt`/`ge`. int, float and str only: that is what every dialect produces.

    `low`..`high` (inclusive) is the range the field means, which an edit must respect
    (`edit_problem`); `why` explains a bound a user may not expect. Reading a file does not
    apply them: a file that holds 20,000 steps is shown as it is, and stays so when another
    field is edited."""

    __slots__ = ("default", "ge", "gt", "high", "low", "type", "why")

    def __init__(self, type_: type[Any], default: Any = None, *, gt: float | None = None,
                 ge: float | None = None, low: float | None = None, high: float | None = None,
                 why: str = "") -> None:
        self.type = type_
        self.default = default
        self.gt = gt
        self.ge = ge
        self.low = low
        self.high = high
        self.why = why

    @property
    def nullable(self) -> bool:
        return self.default is None

    def __repr__(self) -> str:
        return (f"FieldSpec({self.type.__name__}, {self.default!r}, gt={self.gt!r}, "
                f"ge={self.ge!r})")


SEED_MAX = 2**64 - 1  # ComfyUI seeds reach it; A1111 and NovelAI stay below 2^32
_SEED_WHY = ("-1 means 'a random seed' only in a generator's interface; a file records the "
             "seed that was used")
_STEPS_MAX = 10_000
_PIXELS_MAX = 65_536  # the largest side any of the generators' encoders accepts

# GenParams' scalar fields, in schema order (docs/json.md). The list fields (loras,
# embeddings, samplers, extra, notes) follow them in model.py. The edit ranges (low..high)
# are documented in docs/json.md ("Ranges").
GENPARAMS: dict[str, FieldSpec] = {
    "generator": FieldSpec(str),
    "prompt": FieldSpec(str, ""),
    "negative_prompt": FieldSpec(str, ""),
    "steps": FieldSpec(int, gt=0, low=1, high=_STEPS_MAX),
    "sampler": FieldSpec(str),
    "scheduler": FieldSpec(str),
    "cfg_scale": FieldSpec(float),
    "seed": FieldSpec(int, low=0, high=SEED_MAX, why=_SEED_WHY),  # read unbounded
    "width": FieldSpec(int, gt=0, low=1, high=_PIXELS_MAX),
    "height": FieldSpec(int, gt=0, low=1, high=_PIXELS_MAX),
    "model": FieldSpec(str),
    "model_hash": FieldSpec(str),
    "vae": FieldSpec(str),
    "vae_hash": FieldSpec(str),
    "denoising_strength": FieldSpec(float, ge=0, low=0, high=1),
    "clip_skip": FieldSpec(int, gt=0, low=1, high=12,
                           why="CLIP text encoders have 12 layers to skip at most"),
    "hires_upscale": FieldSpec(float, gt=0, high=16),
    "hires_steps": FieldSpec(int, ge=0, low=0, high=_STEPS_MAX),
    "hires_upscaler": FieldSpec(str),
    "hires_width": FieldSpec(int, ge=0, low=0, high=_PIXELS_MAX),
    "hires_height": FieldSpec(int, ge=0, low=0, high=_PIXELS_MAX),
    "variation_seed": FieldSpec(int, low=0, high=SEED_MAX, why=_SEED_WHY),
    "variation_seed_strength": FieldSpec(float, ge=0, low=0, high=1),
    "version": FieldSpec(str),
}
# A field that names a file, and the field holding that file's hash: a hash that was taken
# of another file is wrong once the name changes (GenParams.edited clears it). The second
# name is the file's entry in the `Hashes` object A1111 and Civitai write (extra["Hashes"]).
HASH_FIELDS: dict[str, tuple[str, str]] = {"model": ("model_hash", "model"),
                                           "vae": ("vae_hash", "vae")}
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


def edit_problem(name: str, value: Any, table: Mapping[str, FieldSpec] = GENPARAMS
                 ) -> str | None:
    """Why `value`, already of the field's type, is not one an edit may set: a number that
    is not finite, or one outside the field's range. None when it may."""
    spec = table.get(name)
    if spec is None or value is None or isinstance(value, (str, bool)):
        return None
    if not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and (value != value or value in (_INF, -_INF)):
        return f"{name} must be a finite number, got {value!r}"
    low, high = spec.low, spec.high
    if (low is not None and value < low) or (high is not None and value > high):
        if low is not None and high is not None:
            what = f"between {_num(low)} and {_num(high)}"
        elif low is not None:
            what = f"at least {_num(low)}"
        else:
            what = f"at most {_num(high or 0)}"
        why = f" ({spec.why})" if spec.why else ""
        return f"{name} must be {what}, got {value!r}{why}"
    return None


_INF = float("inf")


def _num(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else repr(bound)


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
