"""The embedding itself: its vectors and bookkeeping, and what `gendata show` reports of it.

Kept apart from the encodings and the card images so that every other ti module can depend
on it without depending on each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

__all__ = ["BOOKKEEPING", "FAMILIES", "SDXL_KEYS", "TIEmbedding", "TIInfo"]

SDXL_KEYS = ("clip_g", "clip_l")
FAMILIES = {768: "SD1", 1024: "SD2"}
# What A1111 keeps beside the vectors (docs/formats.md#the-embedding-dictionary):
# TIEmbedding fields, JSON keys and the .safetensors metadata keys alike.
BOOKKEEPING = ("name", "step", "sd_checkpoint", "sd_checkpoint_name")


@dataclass(frozen=True, eq=False)
class TIEmbedding:
    """One embedding: its vectors plus the bookkeeping A1111 keeps with them
    (docs/formats.md#the-embedding-dictionary).

    `tensors` holds ("*", [n, dim]) for SD1/SD2 embeddings or ("clip_g", ...), ("clip_l", ...)
    for SDXL ones; arrays are read-only. `name` is the prompt token stored in the data, if any.
    """

    tensors: tuple[tuple[str, np.ndarray], ...]
    name: str | None = None
    step: int | None = None
    sd_checkpoint: str | None = None
    sd_checkpoint_name: str | None = None

    def __post_init__(self) -> None:
        for _, arr in self.tensors:
            arr.flags.writeable = False

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}: {list(a.shape)} {a.dtype}" for k, a in self.tensors)
        return f"TIEmbedding(name={self.name!r}, step={self.step!r}, tensors={{{shapes}}})"

    @property
    def is_sdxl(self) -> bool:
        return tuple(k for k, _ in self.tensors) == SDXL_KEYS

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        return dict(self.tensors)

    @property
    def vectors(self) -> int:
        return int(self.tensors[0][1].shape[0])

    @property
    def widths(self) -> dict[str, int]:
        return {k: int(a.shape[-1]) for k, a in self.tensors}

    @property
    def width(self) -> int | None:
        """Vector width of an SD1/SD2 embedding; None for SDXL (see `widths`)."""
        return None if self.is_sdxl else int(self.tensors[0][1].shape[-1])

    @property
    def family(self) -> str | None:
        if self.is_sdxl:
            return "SDXL"
        return FAMILIES.get(self.width or 0)

    def shape_text(self) -> str:
        return _shape_text(self.vectors, self.width, self.widths)

    def differences(self, other: TIEmbedding) -> list[str]:
        """What differs between two copies of an embedding, in words; empty when identical."""
        out: list[str] = []
        for label in BOOKKEEPING:
            a, b = getattr(self, label), getattr(other, label)
            if a != b:
                out.append(f"{label} {a!r} vs {b!r}")
        mine, theirs = self.arrays, other.arrays
        if list(mine) != list(theirs):
            out.append(f"tensors {list(mine)} vs {list(theirs)}")
            return out
        for key, arr in mine.items():
            label = "vector" if key == "*" else key
            if arr.shape != theirs[key].shape:
                out.append(f"{label} shape {list(arr.shape)} vs {list(theirs[key].shape)}")
            elif not np.array_equal(arr, theirs[key], equal_nan=True):
                out.append(f"{label} values differ")
        return out


def _shape_text(vectors: int, width: int | None, widths: Mapping[str, int]) -> str:
    """`8 vectors × 768`; SDXL (no single width): `8 vectors × (clip_l 768 + clip_g 1280)`."""
    if width is None:
        clip_l, clip_g = widths.get("clip_l"), widths.get("clip_g")
        return f"{vectors} vectors × (clip_l {clip_l} + clip_g {clip_g})"
    return f"{vectors} vectors × {width}"


@dataclass(frozen=True)
class TIInfo:
    """What `gendata show` reports about an embedding card
    (docs/formats.md#embedding-cards)."""

    path: str
    name: str | None
    token: str
    vectors: int
    width: int | None
    widths: tuple[tuple[str, int], ...]  # SDXL only: (("clip_g", 1280), ("clip_l", 768))
    family: str | None
    step: int | None
    sd_checkpoint: str | None
    sd_checkpoint_name: str | None
    source: str  # "text" (sd-ti-embedding chunk) or "pixels" (data blocks)
    has_text: bool
    has_pixels: bool | None  # None: the pixels were not looked at
    agree: bool | None  # None unless both copies were read
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        # Built from the fields so that a new field cannot be left out; the path is the
        # caller's to report.
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "path"}
        data["widths"] = dict(self.widths) or None
        data["warnings"] = list(self.warnings)
        return data

    def summary(self) -> str:
        """One line for human output, e.g. `<rick>: 8 vectors × 768 (SD1), step 60`."""
        shape = _shape_text(self.vectors, self.width, dict(self.widths))
        parts = [f"<{self.token}>: {shape}"]
        if self.family:
            parts[0] += f" ({self.family})"
        if self.step is not None:
            parts.append(f"step {self.step}")
        if self.sd_checkpoint_name or self.sd_checkpoint:
            ckpt = self.sd_checkpoint_name or ""
            if self.sd_checkpoint:
                ckpt = f"{ckpt} [{self.sd_checkpoint}]".strip()
            parts.append(f"checkpoint {ckpt}")
        return ", ".join(parts)
