"""Embedding <-> the payloads that carry it: A1111's dict and JSON, and .safetensors bytes.

Pure conversions with no file or image access, so cards, files and the regen runner share one
reading of every layout (docs/formats.md#embedding-cards, docs/formats.md#embedding-files).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from ..containers import safetensors as st
from ..errors import ParseError, UsageError
from .model import BOOKKEEPING, SDXL_KEYS, TIEmbedding

__all__ = [
    "A1111_TOKEN_ID",
    "Layout",
    "dumps_json",
    "from_dict",
    "loads_json",
    "safetensors_bytes",
]

# The constant `string_to_token` value A1111 writes
# (docs/formats.md#the-embedding-dictionary).
A1111_TOKEN_ID = 265
Layout = Literal["emb_params", "token"]


def from_dict(data: Mapping[str, Any], *, what: str = "embedding") -> TIEmbedding:
    """Interpret an embedding dict the way A1111's loader does
    (docs/formats.md#embedding-files).

    Tried in order: `string_to_param` (A1111), `clip_g` + `clip_l` (SDXL), a dict holding
    exactly one tensor (kohya `emb_params`, diffusers `{token: tensor}`).
    """
    if not isinstance(data, Mapping):
        raise ParseError(f"{what}: expected a JSON object / dict, got {type(data).__name__}")
    meta = _bookkeeping(data)
    tensors: tuple[tuple[str, np.ndarray], ...]
    if "string_to_param" in data:
        params = data["string_to_param"]
        if not isinstance(params, Mapping) or len(params) != 1:
            n = len(params) if isinstance(params, Mapping) else type(params).__name__
            raise ParseError(f"{what}: string_to_param must hold exactly one tensor, found {n}")
        key, value = next(iter(params.items()))
        tensors = (("*", _as_matrix(value, f"{what}: string_to_param[{key!r}]")),)
    elif all(k in data for k in SDXL_KEYS):
        tensors = tuple((k, _as_matrix(data[k], f"{what}: {k}")) for k in SDXL_KEYS)
    else:
        arrays = [(k, v) for k, v in data.items() if isinstance(v, np.ndarray)]
        if not arrays:
            raise ParseError(
                f"{what}: holds no tensors (expected string_to_param, clip_g + clip_l, "
                "or a single tensor)"
            )
        if len(arrays) > 1:
            names = ", ".join(k for k, _ in arrays[:6])
            raise ParseError(f"{what}: holds {len(arrays)} tensors ({names}); an embedding has one")
        key, value = arrays[0]
        tensors = (("*", _as_matrix(value, f"{what}: {key}")),)
        if meta["name"] is None and key not in ("emb_params", "*"):
            meta["name"] = key  # diffusers names the tensor after its placeholder token
    return TIEmbedding(tensors=tensors, **meta)


def _bookkeeping(data: Mapping[str, Any]) -> dict[str, Any]:
    name = data.get("name")
    step: Any = data.get("step")
    integral_text = isinstance(step, str) and step.strip().lstrip("-").isdigit()
    if integral_text or (isinstance(step, float) and step.is_integer()):
        step = int(step)
    elif not isinstance(step, int) or isinstance(step, bool):
        step = None
    return {
        "name": name if isinstance(name, str) and name else None,
        "step": step,
        "sd_checkpoint": _opt_str(data.get("sd_checkpoint")),
        "sd_checkpoint_name": _opt_str(data.get("sd_checkpoint_name")),
    }


def _opt_str(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list, np.ndarray)):
        return None
    return str(value)


def _as_matrix(value: Any, what: str) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        raise ParseError(f"{what} is not a tensor ({type(value).__name__})")
    if value.ndim == 1:
        value = value.reshape(1, -1)
    if value.ndim != 2 or value.shape[0] == 0 or value.shape[1] == 0:
        raise ParseError(f"{what} has shape {list(value.shape)}; expected [vectors, width]")
    if value.dtype.kind != "f":
        raise ParseError(f"{what} has dtype {value.dtype}; expected floats")
    return np.array(value, copy=True)


def _tensor_from_json(value: Any, what: str) -> np.ndarray:
    try:
        arr = np.array(value)
    except (ValueError, TypeError) as exc:
        raise ParseError(f"{what}: TORCHTENSOR is not a rectangular array ({exc})") from None
    if arr.dtype.kind not in "iuf" or arr.size == 0:
        raise ParseError(f"{what}: TORCHTENSOR must hold numbers, got {arr.dtype} {arr.shape}")
    arr = arr.astype(np.float64)
    # JSON keeps no dtype. A1111 trains in float32, whose values survive the round trip
    # through Python floats exactly; keep float32 when that is lossless so bits are preserved.
    narrow = arr.astype(np.float32)
    if np.array_equal(narrow.astype(np.float64), arr, equal_nan=True):
        return narrow
    return arr


def loads_json(data: bytes | str, *, what: str = "embedding JSON") -> TIEmbedding:
    """Decode A1111's embedding JSON: objects `{"TORCHTENSOR": [...]}` become arrays
    (docs/formats.md#the-sd-ti-embedding-chunk)."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(f"{what}: not UTF-8 ({exc})") from None

    def hook(obj: dict[str, Any]) -> Any:
        if "TORCHTENSOR" in obj:
            return _tensor_from_json(obj["TORCHTENSOR"], what)
        return obj

    try:
        parsed = json.loads(data, object_hook=hook)
    except json.JSONDecodeError as exc:
        raise ParseError(f"{what}: not JSON ({exc})") from None
    except RecursionError:
        raise ParseError(f"{what}: JSON nested too deeply") from None
    return from_dict(parsed, what=what)


def _to_a1111_dict(emb: TIEmbedding) -> dict[str, Any]:
    if emb.is_sdxl:
        # A1111 turns every value of an SDXL dict into a tensor, so nothing else may be stored.
        return dict(emb.tensors)
    return {
        "string_to_token": {"*": A1111_TOKEN_ID},
        "string_to_param": {"*": emb.tensors[0][1]},
        **{k: getattr(emb, k) for k in BOOKKEEPING},
    }


def dumps_json(emb: TIEmbedding) -> bytes:
    """The JSON A1111 writes for a card: its default json.dumps spacing, key order and floats."""

    def default(obj: Any) -> Any:
        if isinstance(obj, np.ndarray):
            return {"TORCHTENSOR": obj.tolist()}
        raise TypeError(f"cannot serialise {type(obj).__name__}")

    return json.dumps(_to_a1111_dict(emb), default=default).encode("utf-8")


def safetensors_bytes(emb: TIEmbedding, *, layout: Layout = "emb_params") -> bytes:
    """The embedding as .safetensors: `emb_params` (kohya, what most shared files use) or
    `token` (diffusers: the tensor named after the token); SDXL keeps clip_g and clip_l.
    Name, step and checkpoint go into the string metadata, which every loader ignores.
    """
    if emb.is_sdxl:
        tensors = dict(emb.tensors)
    elif layout == "emb_params":
        tensors = {"emb_params": emb.tensors[0][1]}
    elif layout == "token":
        if not emb.name:
            raise UsageError("the 'token' layout needs a name; give one with --name")
        tensors = {emb.name: emb.tensors[0][1]}
    else:
        raise UsageError(f"unknown layout {layout!r} (emb_params or token)")
    metadata = {
        k: str(v) for k in BOOKKEEPING if (v := getattr(emb, k)) is not None
    }
    return st.dumps(tensors, metadata)
