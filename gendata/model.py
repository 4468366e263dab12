"""Model layer: the one pydantic model every dialect parses into and every front end shows.

Dialect modules fill it; services and front ends read it. It knows nothing about bytes or
about any one generator's text format (formats.md section 1).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr
from pydantic import ValidationError as _PydanticValidationError

from .errors import ValidationError

__all__ = ["Embedding", "GenParams", "Lora", "SamplerPass", "validation_message"]


class Lora(BaseModel):
    """An extra network referenced by the image: a `<lora:...>` tag, a loader node, a hash list."""

    model_config = ConfigDict(validate_assignment=True, defer_build=True)

    name: str
    weight: float | None = None
    unet_weight: float | None = None
    hash: str | None = None
    kind: str = "lora"  # "lora", "lyco", "hypernet"


class Embedding(BaseModel):
    """A textual-inversion embedding the prompt uses (A1111 `TI hashes`, ComfyUI `embedding:`)."""

    model_config = ConfigDict(validate_assignment=True, defer_build=True)

    name: str
    hash: str | None = None


class SamplerPass(BaseModel):
    """One sampling pass; graph dialects (ComfyUI) can have several (hires pass, refiner)."""

    model_config = ConfigDict(validate_assignment=True, defer_build=True)

    sampler: str | None = None
    scheduler: str | None = None
    steps: int | None = None
    cfg_scale: float | None = None
    seed: int | None = None
    denoise: float | None = None
    model: str | None = None
    node: str | None = None


class GenParams(BaseModel):
    """Generation parameters of one image, whatever generator wrote them.

    Typed fields hold what every generator shares; `extra` keeps everything else, in the
    order it was found, so a writer can give it back unchanged. `seed` is an unbounded int
    because ComfyUI seeds reach 2^64-1.
    """

    model_config = ConfigDict(validate_assignment=True, extra="forbid", defer_build=True)

    generator: str | None = None
    prompt: str = ""
    negative_prompt: str = ""
    steps: int | None = Field(default=None, gt=0)
    sampler: str | None = None
    scheduler: str | None = None
    cfg_scale: float | None = None
    seed: int | None = None
    width: int | None = Field(default=None, gt=0)
    height: int | None = Field(default=None, gt=0)
    model: str | None = None
    model_hash: str | None = None
    vae: str | None = None
    vae_hash: str | None = None
    denoising_strength: float | None = Field(default=None, ge=0)
    clip_skip: int | None = Field(default=None, gt=0)
    hires_upscale: float | None = Field(default=None, gt=0)
    hires_steps: int | None = Field(default=None, ge=0)
    hires_upscaler: str | None = None
    hires_width: int | None = Field(default=None, ge=0)
    hires_height: int | None = Field(default=None, ge=0)
    variation_seed: int | None = None
    variation_seed_strength: float | None = Field(default=None, ge=0)
    version: str | None = None
    loras: list[Lora] = Field(default_factory=list)
    embeddings: list[Embedding] = Field(default_factory=list)
    samplers: list[SamplerPass] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)

    # The dialect's parse of the original text (e.g. the A1111 line segments), so that an
    # unedited or partly edited model serializes back to the original bytes.
    _origin: Any = PrivateAttr(default=None)

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
        new._origin = self._origin
        return new

    def typed_fields(self) -> dict[str, Any]:
        """The scalar typed fields (no lists, no extra), as the JSON schema lists them."""
        return {k: getattr(self, k) for k in type(self).scalar_fields()}

    @classmethod
    def scalar_fields(cls) -> tuple[str, ...]:
        """Names of the scalar typed fields, in schema order."""
        return _scalar_names(cls)


@cache
def _scalar_names(cls: type[BaseModel]) -> tuple[str, ...]:
    skip = {"loras", "embeddings", "samplers", "extra", "notes"}
    return tuple(k for k in cls.model_fields if k not in skip)


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
