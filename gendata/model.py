"""Model layer: the one pydantic model every dialect parses into and every front end shows.

Dialect modules fill it; services and front ends read it. It knows nothing about bytes or
about any one generator's text format (formats.md section 1).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr
from pydantic import ValidationError as _PydanticValidationError

from . import model_fields
from .errors import ParseError, ValidationError
from .model_fields import REQUIRED, SCALAR_FIELDS, FieldSpec, Origin

__all__ = ["Embedding", "GenParams", "Lora", "Origin", "SamplerPass", "validation_message"]


def _fields(table: dict[str, FieldSpec]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Annotations and pydantic fields for the scalar fields of `table` (model_fields): the
    models below take their types, defaults and bounds from there, so the pydantic-free read
    path and validation cannot disagree."""
    annotations: dict[str, Any] = {}
    fields: dict[str, Any] = {}
    for name, spec in table.items():
        annotations[name] = spec.type | None if spec.nullable else spec.type
        if spec.default is REQUIRED:
            fields[name] = Field(gt=spec.gt, ge=spec.ge)
        else:
            fields[name] = Field(default=spec.default, gt=spec.gt, ge=spec.ge)
    return annotations, fields


_LORA = _fields(model_fields.LORA)
_EMBEDDING = _fields(model_fields.EMBEDDING)
_SAMPLER_PASS = _fields(model_fields.SAMPLER_PASS)
_GENPARAMS = _fields(model_fields.GENPARAMS)

# Each model's scalar fields are written into its class namespace from the tables above,
# before the fields declared in the class body, so schema order is the table's order.


class Lora(BaseModel):
    """An extra network referenced by the image: a `<lora:...>` tag, a loader node, a hash list.

    Fields: model_fields.LORA (name, weight, unet_weight, hash, kind).
    """

    model_config = ConfigDict(validate_assignment=True, defer_build=True)
    __annotations__ = dict(_LORA[0])
    locals().update(_LORA[1])


class Embedding(BaseModel):
    """A textual-inversion embedding the prompt uses (A1111 `TI hashes`, ComfyUI `embedding:`).

    Fields: model_fields.EMBEDDING (name, hash).
    """

    model_config = ConfigDict(validate_assignment=True, defer_build=True)
    __annotations__ = dict(_EMBEDDING[0])
    locals().update(_EMBEDDING[1])


class SamplerPass(BaseModel):
    """One sampling pass; graph dialects (ComfyUI) can have several (hires pass, refiner).

    Fields: model_fields.SAMPLER_PASS (sampler, scheduler, steps, cfg_scale, seed, ...).
    """

    model_config = ConfigDict(validate_assignment=True, defer_build=True)
    __annotations__ = dict(_SAMPLER_PASS[0])
    locals().update(_SAMPLER_PASS[1])


class GenParams(BaseModel):
    """Generation parameters of one image, whatever generator wrote them.

    Typed fields hold what every generator shares (model_fields.GENPARAMS: generator,
    prompt, negative_prompt, steps, sampler, ... version); `extra` keeps everything else, in
    the order it was found, so a writer can give it back unchanged.
    """

    model_config = ConfigDict(validate_assignment=True, extra="forbid", defer_build=True)
    __annotations__ = dict(_GENPARAMS[0])
    locals().update(_GENPARAMS[1])
    loras: list[Lora] = Field(default_factory=list)
    embeddings: list[Embedding] = Field(default_factory=list)
    samplers: list[SamplerPass] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)

    _origin: Origin | None = PrivateAttr(default=None)

    @property
    def origin(self) -> Origin | None:
        """Where the text came from (model_fields.Origin: dialect, entry key, text), or None
        for a model built or converted in code. A dialect's own Origin subclass keeps its
        parse, so that an unedited or partly edited model serializes back to the original
        characters."""
        return self._origin

    @origin.setter
    def origin(self, value: Origin | None) -> None:
        self._origin = value

    @classmethod
    def from_json(cls, obj: Any, where: str = "JSON") -> GenParams:
        """The model a `show --json` object describes (docs/json.md): the inverse of
        `json_fields`/`Record.to_json`. Keys that are not fields (`path`, `raw`, `error`...)
        are ignored and null means the field's default, so any record's JSON reads back.

        Raises gendata.errors.ParseError naming `where` and what is wrong.
        """
        if not isinstance(obj, dict):
            raise ParseError(f"{where}: expected a JSON object")
        fields = cls.model_fields
        data = {k: v for k, v in obj.items() if k in fields and v is not None}
        try:
            return cls.model_validate(data)
        except _PydanticValidationError as exc:
            raise ParseError(f"{where}: {validation_message(exc)}") from None

    def json_fields(self) -> dict[str, Any]:
        """The model's part of the `show --json` object: the scalar fields, then loras,
        embeddings, samplers, extra and notes, as plain JSON values (DeferredParams gives the
        same without building the model)."""
        out = {k: getattr(self, k) for k in SCALAR_FIELDS}
        out["loras"] = [_plain(lo) for lo in self.loras]
        out["embeddings"] = [_plain(e) for e in self.embeddings]
        out["samplers"] = [_plain(s) for s in self.samplers]
        out["extra"] = dict(self.extra)
        out["notes"] = list(self.notes)
        return out

    def edited(self, **changes: Any) -> GenParams:
        """Return a validated copy with `changes` applied, keeping the origin for exact output.

        Raises gendata.errors.ValidationError with a sentence a user can act on.
        """
        unknown = sorted(set(changes) - set(type(self).model_fields))
        if unknown:
            raise ValidationError(f"unknown field(s): {', '.join(unknown)}")
        data = self.model_dump()
        data.update(changes)
        try:
            new = type(self).model_validate(data)
        except _PydanticValidationError as exc:
            raise ValidationError(validation_message(exc)) from None
        new.origin = self.origin
        return new

    def typed_fields(self) -> dict[str, Any]:
        """The scalar typed fields (no lists, no extra), as the JSON schema lists them."""
        return {k: getattr(self, k) for k in SCALAR_FIELDS}

    @classmethod
    def scalar_fields(cls) -> tuple[str, ...]:
        """Names of the scalar typed fields, in schema order."""
        return SCALAR_FIELDS


def _plain(model: BaseModel) -> dict[str, Any]:
    """`model.model_dump()` for the flat models (Lora, Embedding, SamplerPass), without
    building pydantic's serializer: `show` and `export` never need it."""
    return {k: getattr(model, k) for k in type(model).model_fields}


_KIND = {
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_parsing": "a number",
    "greater_than": None,
    "greater_than_equal": None,
    "string_type": "text",
    "int_type": "an integer",
    "float_type": "a number",
}


def validation_message(exc: _PydanticValidationError) -> str:
    """Turn pydantic's report into "steps must be a positive integer, got 'abc'"."""
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "value"
        got = err.get("input")
        etype = err["type"]
        ctx = err.get("ctx") or {}
        if etype == "greater_than" and ctx.get("gt") == 0:
            what = "a positive number" if isinstance(got, float) else "a positive integer"
        elif etype == "greater_than":
            what = f"greater than {ctx.get('gt')}"
        elif etype == "greater_than_equal":
            what = f"at least {ctx.get('ge')}"
        elif etype in ("int_parsing", "int_from_float", "int_type"):
            info = GenParams.model_fields.get(str(err["loc"][0])) if err["loc"] else None
            positive = info is not None and any(
                getattr(m, "gt", None) == 0 for m in info.metadata
            )
            what = "a positive integer" if positive else "an integer"
        else:
            what = _KIND.get(etype) or err["msg"].lower()
        parts.append(f"{field} must be {what}, got {got!r}")
    return "; ".join(parts)
