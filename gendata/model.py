"""Model layer: the one pydantic model every dialect parses into and every front end shows.

Dialect modules fill it; services and front ends read it. It knows nothing about bytes or
about any one generator's text format (docs/formats.md#the-common-model).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr
from pydantic import ValidationError as _PydanticValidationError

from . import model_fields
from .errors import ParseError, ValidationError
from .model_fields import HASH_FIELDS, REQUIRED, SCALAR_FIELDS, FieldSpec, Origin, edit_problem

__all__ = ["Embedding", "GenParams", "Lora", "Origin", "SamplerPass", "edit_remarks",
           "validation_message"]


def _fields(table: dict[str, FieldSpec]) -> dict[str, Any]:
    """The pydantic field (default and bounds) of each field of `table` that has a default
    (model_fields): the models below assign them to their statically annotated fields, so
    the pydantic-free read path and validation cannot disagree. A required field has no
    default to assign and is annotated alone; tests/test_model.py checks that the class
    annotations and the table list the same fields, in order, with the same types and
    bounds."""
    return {name: Field(default=spec.default, gt=spec.gt, ge=spec.ge)
            for name, spec in table.items() if spec.default is not REQUIRED}


_LORA = _fields(model_fields.LORA)
_EMBEDDING = _fields(model_fields.EMBEDDING)
_SAMPLER_PASS = _fields(model_fields.SAMPLER_PASS)
_GENPARAMS = _fields(model_fields.GENPARAMS)

# Each model's scalar fields come first, in the table's order, so schema order is the
# table's order.


class Lora(BaseModel):
    """An extra network referenced by the image: a `<lora:...>` tag, a loader node, a hash list.

    Fields: model_fields.LORA (name, weight, unet_weight, hash, kind).
    """

    model_config = ConfigDict(validate_assignment=True, defer_build=True)

    name: str
    weight: float | None = _LORA["weight"]
    unet_weight: float | None = _LORA["unet_weight"]
    hash: str | None = _LORA["hash"]
    kind: str = _LORA["kind"]


class Embedding(BaseModel):
    """A textual-inversion embedding the prompt uses (A1111 `TI hashes`, ComfyUI `embedding:`).

    Fields: model_fields.EMBEDDING (name, hash).
    """

    model_config = ConfigDict(validate_assignment=True, defer_build=True)

    name: str
    hash: str | None = _EMBEDDING["hash"]


class SamplerPass(BaseModel):
    """One sampling pass; graph dialects (ComfyUI) can have several (hires pass, refiner).

    Fields: model_fields.SAMPLER_PASS (sampler, scheduler, steps, cfg_scale, seed, ...).
    """

    model_config = ConfigDict(validate_assignment=True, defer_build=True)

    sampler: str | None = _SAMPLER_PASS["sampler"]
    scheduler: str | None = _SAMPLER_PASS["scheduler"]
    steps: int | None = _SAMPLER_PASS["steps"]
    cfg_scale: float | None = _SAMPLER_PASS["cfg_scale"]
    seed: int | None = _SAMPLER_PASS["seed"]
    denoise: float | None = _SAMPLER_PASS["denoise"]
    model: str | None = _SAMPLER_PASS["model"]
    node: str | None = _SAMPLER_PASS["node"]


class GenParams(BaseModel):
    """Generation parameters of one image, whatever generator wrote them.

    Typed fields hold what every generator shares (model_fields.GENPARAMS: generator,
    prompt, negative_prompt, steps, sampler, ... version); `extra` keeps everything else, in
    the order it was found, so a writer can give it back unchanged.
    """

    model_config = ConfigDict(validate_assignment=True, extra="forbid", defer_build=True)

    generator: str | None = _GENPARAMS["generator"]
    prompt: str = _GENPARAMS["prompt"]
    negative_prompt: str = _GENPARAMS["negative_prompt"]
    steps: int | None = _GENPARAMS["steps"]
    sampler: str | None = _GENPARAMS["sampler"]
    scheduler: str | None = _GENPARAMS["scheduler"]
    cfg_scale: float | None = _GENPARAMS["cfg_scale"]
    seed: int | None = _GENPARAMS["seed"]
    width: int | None = _GENPARAMS["width"]
    height: int | None = _GENPARAMS["height"]
    model: str | None = _GENPARAMS["model"]
    model_hash: str | None = _GENPARAMS["model_hash"]
    vae: str | None = _GENPARAMS["vae"]
    vae_hash: str | None = _GENPARAMS["vae_hash"]
    denoising_strength: float | None = _GENPARAMS["denoising_strength"]
    clip_skip: int | None = _GENPARAMS["clip_skip"]
    hires_upscale: float | None = _GENPARAMS["hires_upscale"]
    hires_steps: int | None = _GENPARAMS["hires_steps"]
    hires_upscaler: str | None = _GENPARAMS["hires_upscaler"]
    hires_width: int | None = _GENPARAMS["hires_width"]
    hires_height: int | None = _GENPARAMS["hires_height"]
    variation_seed: int | None = _GENPARAMS["variation_seed"]
    variation_seed_strength: float | None = _GENPARAMS["variation_seed_strength"]
    version: str | None = _GENPARAMS["version"]
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

        What it builds is meant to be written, so its values must lie in their fields' edit
        ranges, as an edit's must (docs/json.md#ranges).

        Raises gendata.errors.ParseError naming `where` and what is wrong.
        """
        if not isinstance(obj, dict):
            raise ParseError(f"{where}: expected a JSON object")
        fields = cls.model_fields
        data = {k: v for k, v in obj.items() if k in fields and v is not None}
        try:
            params = cls.model_validate(data)
        except _PydanticValidationError as exc:
            raise ParseError(f"{where}: {validation_message(exc)}") from None
        problems = [p for name in SCALAR_FIELDS
                    if (p := edit_problem(name, getattr(params, name))) is not None]
        if problems:
            raise ParseError(f"{where}: {'; '.join(problems)}")
        return params

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

        A changed value must lie in the range its field means (model_fields: seed
        0..2^64-1, steps 1..10,000, a finite CFG scale, ...); values left as they were are
        not checked, so a file holding an odd value can still have other fields edited. A
        model (or VAE) name that changes while its hash does not clears the hash, here and
        in the `Hashes` object: it was the old file's (`edit_remarks` says so in words).

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
        problems = [p for name in changes if name in SCALAR_FIELDS
                    and getattr(new, name) != getattr(self, name)
                    and (p := edit_problem(name, getattr(new, name))) is not None]
        if problems:
            raise ValidationError("; ".join(problems))
        stale = _stale_hashes(self, new, changes)
        if stale:
            new = new.model_copy(update=stale)
        new.origin = self.origin
        return new

    def typed_fields(self) -> dict[str, Any]:
        """The scalar typed fields (no lists, no extra), as the JSON schema lists them."""
        return {k: getattr(self, k) for k in SCALAR_FIELDS}

    @classmethod
    def scalar_fields(cls) -> tuple[str, ...]:
        """Names of the scalar typed fields, in schema order."""
        return SCALAR_FIELDS


def _stale_hashes(old: GenParams, new: GenParams, changes: dict[str, Any]) -> dict[str, Any]:
    """The field values that keep the hashes of a renamed model or VAE true: the hash field
    cleared (unless the edit sets it too), and the file's entry in extra["Hashes"] removed
    or, when the edit sets the hash, given that hash (unless the edit sets Hashes itself)."""
    update: dict[str, Any] = {}
    hashes = new.extra.get("Hashes")
    same_hashes = hashes == old.extra.get("Hashes")
    for name, (hash_field, entry) in HASH_FIELDS.items():
        if not _renamed(old, new, name):
            continue
        given = hash_field in changes
        if not given and getattr(new, hash_field) is not None:
            update[hash_field] = None
        if same_hashes:
            hashes = _with_entry(hashes, entry, getattr(new, hash_field) if given else None)
    if hashes is not new.extra.get("Hashes"):
        extra = dict(new.extra)
        if hashes is None:
            del extra["Hashes"]
        else:
            extra["Hashes"] = hashes
        update["extra"] = extra
    return update


def _renamed(old: GenParams, new: GenParams, name: str) -> bool:
    """Whether the file a field names changed to another one. Naming a file that had no name
    (old A1111 versions wrote only `Model hash`) or removing the name is not a change of
    file, and keeps its hash."""
    before, after = getattr(old, name), getattr(new, name)
    return before is not None and after is not None and before != after


def _with_entry(hashes: Any, entry: str, value: str | None) -> Any:
    """`hashes` (a `Hashes` object, or its JSON text as a dialect keeps it) with `entry` set
    to `value`, or removed when `value` is None; None when nothing is left; `hashes` itself
    when it has no such entry."""
    obj = hashes
    if isinstance(hashes, str):
        try:
            obj = json.loads(hashes)
        except ValueError:
            return hashes
    if not isinstance(obj, dict) or entry not in obj:
        return hashes
    rest = {k: (value if k == entry else v) for k, v in obj.items()
            if k != entry or value is not None}
    if not rest:
        return None
    # A1111 writes the object with json.dumps' default separators, as this does
    return json.dumps(rest, ensure_ascii=False) if isinstance(hashes, str) else rest


def edit_remarks(before: GenParams, after: GenParams) -> list[str]:
    """What an edit changed besides what was asked, in words for the user: the hash of a
    model or VAE whose name changed, cleared because it was the old file's."""
    out = []
    for name, (hash_field, entry) in HASH_FIELDS.items():
        if not _renamed(before, after, name):
            continue
        gone = []
        old_hash = getattr(before, hash_field)
        if old_hash is not None and getattr(after, hash_field) is None:
            gone.append(f"{hash_field} {old_hash!r}")
        old_entry = _hash_entry(before.extra.get("Hashes"), entry)
        if old_entry is not None and _hash_entry(after.extra.get("Hashes"), entry) is None:
            gone.append(f"the {entry!r} entry of Hashes")
        if gone:
            out.append(f"{name} changed from {getattr(before, name)!r} to "
                       f"{getattr(after, name)!r}: removed {' and '.join(gone)}, the hash of "
                       f"the old file; set the new file's hash with {_HASH_OPTION[hash_field]}")
    return out


_HASH_OPTION = {"model_hash": "--model-hash", "vae_hash": "--param 'VAE hash=...'"}


def _hash_entry(hashes: Any, entry: str) -> Any:
    obj = hashes
    if isinstance(hashes, str):
        try:
            obj = json.loads(hashes)
        except ValueError:
            return None
    return obj.get(entry) if isinstance(obj, dict) else None


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
