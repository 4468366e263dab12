"""Model layer, as plain data: the names, defaults and value rules of GenParams' fields, for
the read path that must not import pydantic (`gendata show --json`, `gendata export`).

model.py stays the definition; tests/test_model_fields.py checks that this copy matches it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["EMBEDDING_DEFAULTS", "LORA_DEFAULTS", "RULES", "SCALAR_DEFAULTS", "SCALAR_FIELDS",
           "DeferredParams"]

# GenParams.scalar_fields() -> default, in schema order.
SCALAR_DEFAULTS: dict[str, Any] = {
    "generator": None, "prompt": "", "negative_prompt": "", "steps": None, "sampler": None,
    "scheduler": None, "cfg_scale": None, "seed": None, "width": None, "height": None,
    "model": None, "model_hash": None, "vae": None, "vae_hash": None,
    "denoising_strength": None, "clip_skip": None, "hires_upscale": None, "hires_steps": None,
    "hires_upscaler": None, "hires_width": None, "hires_height": None, "variation_seed": None,
    "variation_seed_strength": None, "version": None,
}
SCALAR_FIELDS: tuple[str, ...] = tuple(SCALAR_DEFAULTS)

# Field -> (exact type, gt, ge): what a value must be for validation to change nothing
# (formats.a1111._field_rules derives the same from GenParams).
RULES: dict[str, tuple[type, float | None, float | None]] = {
    "generator": (str, None, None), "prompt": (str, None, None),
    "negative_prompt": (str, None, None), "steps": (int, 0, None), "sampler": (str, None, None),
    "scheduler": (str, None, None), "cfg_scale": (float, None, None), "seed": (int, None, None),
    "width": (int, 0, None), "height": (int, 0, None), "model": (str, None, None),
    "model_hash": (str, None, None), "vae": (str, None, None), "vae_hash": (str, None, None),
    "denoising_strength": (float, None, 0), "clip_skip": (int, 0, None),
    "hires_upscale": (float, 0, None), "hires_steps": (int, None, 0),
    "hires_upscaler": (str, None, None), "hires_width": (int, None, 0),
    "hires_height": (int, None, 0), "variation_seed": (int, None, None),
    "variation_seed_strength": (float, None, 0), "version": (str, None, None),
    "notes": (str, None, None),
}

# Lora / Embedding fields -> default, in schema order ("name" is required).
LORA_DEFAULTS: dict[str, Any] = {"name": None, "weight": None, "unet_weight": None,
                                 "hash": None, "kind": "lora"}
EMBEDDING_DEFAULTS: dict[str, Any] = {"name": None, "hash": None}


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
        `notes` as Record.to_json writes them for the built model."""
        raise NotImplementedError
