"""Service layer: export records as Parquet (docs/scale.md#parquet-schema).

The columns are export's CSV columns (docs/batch.md) with their real types, and `extra` as
one map column instead of an `extra.<key>` column per key, so every part of a sharded export
has the same schema whatever keys its files hold. Seeds are DECIMAL(20, 0): ComfyUI seeds
reach 2^64 - 1, past a signed 64-bit integer, and DuckDB, Spark and pandas all read
decimals. A value a column cannot hold (an integer out of range, text that is not valid
Unicode) is left null, or mended, with a line in `warnings`, never a failed write.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from ..errors import UsageError

__all__ = ["COLUMNS", "parquet_schema", "row", "table", "write_table"]

_STR, _INT, _FLOAT, _SEED = "string", "int64", "float64", "seed"

_SCALARS: dict[str, str] = {
    "path": _STR, "container": _STR, "generator": _STR, "prompt": _STR,
    "negative_prompt": _STR, "steps": _INT, "sampler": _STR, "scheduler": _STR,
    "cfg_scale": _FLOAT, "seed": _SEED, "width": _INT, "height": _INT, "model": _STR,
    "model_hash": _STR, "vae": _STR, "vae_hash": _STR, "denoising_strength": _FLOAT,
    "clip_skip": _INT, "hires_upscale": _FLOAT, "hires_steps": _INT, "hires_upscaler": _STR,
    "hires_width": _INT, "hires_height": _INT, "variation_seed": _SEED,
    "variation_seed_strength": _FLOAT, "version": _STR,
}
_LORA = {"name": _STR, "weight": _FLOAT, "unet_weight": _FLOAT, "hash": _STR, "kind": _STR}
_EMBEDDING = {"name": _STR, "hash": _STR}
_SAMPLER = {"sampler": _STR, "scheduler": _STR, "steps": _INT, "cfg_scale": _FLOAT,
            "seed": _SEED, "denoise": _FLOAT, "model": _STR, "node": _STR}

# Column order: the CSV columns, `extra` where the extra.<key> columns would be.
COLUMNS: tuple[str, ...] = (*_SCALARS, "loras", "embeddings", "samplers", "notes", "extra",
                            "warnings", "error")
OPTIONAL_COLUMNS: tuple[str, ...] = ("raw",)

_INT64 = (-(2 ** 63), 2 ** 63 - 1)
_SEED_MAX = 10 ** 20 - 1


def _arrow_type(kind: str) -> Any:
    import pyarrow as pa

    return {_STR: pa.string(), _INT: pa.int64(), _FLOAT: pa.float64(),
            _SEED: pa.decimal128(20, 0)}[kind]


def _struct(fields: dict[str, str]) -> Any:
    import pyarrow as pa

    return pa.struct([(name, _arrow_type(kind)) for name, kind in fields.items()])


def parquet_schema(columns: Sequence[str] | None = None) -> Any:
    """The pyarrow schema of an export (all columns, or `columns` in that order)."""
    import pyarrow as pa

    types: dict[str, Any] = {name: _arrow_type(kind) for name, kind in _SCALARS.items()}
    types.update({
        "loras": pa.list_(_struct(_LORA)), "embeddings": pa.list_(_struct(_EMBEDDING)),
        "samplers": pa.list_(_struct(_SAMPLER)), "notes": pa.list_(pa.string()),
        "extra": pa.map_(pa.string(), pa.string()), "warnings": pa.list_(pa.string()),
        "error": pa.string(), "raw": pa.map_(pa.string(), pa.string()),
    })
    return pa.schema([(name, types[name]) for name in (columns or COLUMNS)])


def check_columns(fields: Sequence[str] | None) -> tuple[str, ...]:
    """The columns a `--fields` list asks for; UsageError for one Parquet does not have."""
    if not fields:
        return COLUMNS
    known = (*COLUMNS, *OPTIONAL_COLUMNS)
    bad = [f for f in fields if f not in known]
    if bad:
        raise UsageError(f"Parquet has no column {bad[0]!r}; its columns are "
                         f"{', '.join(known)} (extra is one map column)")
    return tuple(dict.fromkeys(fields))


class _Mender:
    """Fits one record's values to the column types, noting what it had to change."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    def text(self, value: Any, where: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            import json

            value = json.dumps(value, ensure_ascii=False)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            self.notes.append(f"{where}: text that is not valid Unicode (lone surrogates) "
                              "written with U+FFFD in their place")
            value = "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in value)
        return value

    def integer(self, value: Any, where: str, low: int, high: int) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                self.notes.append(f"{where}: {value!r} is not an integer; left empty")
                return None
        if not low <= value <= high:
            self.notes.append(f"{where}: {value} does not fit the column; left empty")
            return None
        return value

    def number(self, value: Any, where: str) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.notes.append(f"{where}: {value!r} is not a number; left empty")
            return None
        try:
            return float(value)
        except OverflowError:
            self.notes.append(f"{where}: {value} does not fit the column; left empty")
            return None

    def value(self, kind: str, value: Any, where: str) -> Any:
        if kind == _STR:
            return self.text(value, where)
        if kind == _INT:
            return self.integer(value, where, *_INT64)
        if kind == _FLOAT:
            return self.number(value, where)
        seed = self.integer(value, where, -_SEED_MAX, _SEED_MAX)
        return None if seed is None else Decimal(seed)

    def structs(self, items: Any, fields: dict[str, str], where: str) -> list[dict[str, Any]]:
        out = []
        for i, item in enumerate(items or ()):
            if isinstance(item, dict):
                out.append({k: self.value(kind, item.get(k), f"{where}[{i}].{k}")
                            for k, kind in fields.items()})
        return out

    def texts(self, items: Any, where: str) -> list[str]:
        return [t for t in (self.text(v, where) for v in items or ()) if t is not None]

    def mapping(self, items: Any, where: str) -> list[tuple[str, str | None]]:
        from ..csvenc import csv_value

        return [(self.text(k, where) or "", self.text(csv_value(v), f"{where}.{k}"))
                for k, v in (items or {}).items()]


def row(obj: dict[str, Any], columns: Sequence[str] = COLUMNS) -> dict[str, Any]:
    """One `show --json` object as a row of the Parquet schema."""
    m = _Mender()
    out: dict[str, Any] = {}
    for name in columns:
        value = obj.get(name)
        if name in _SCALARS:
            out[name] = m.value(_SCALARS[name], value, name)
        elif name == "loras":
            out[name] = m.structs(value, _LORA, name)
        elif name == "embeddings":
            out[name] = m.structs(value, _EMBEDDING, name)
        elif name == "samplers":
            out[name] = m.structs(value, _SAMPLER, name)
        elif name in ("extra", "raw"):
            out[name] = m.mapping(value, name)
        elif name in ("notes", "warnings"):
            out[name] = m.texts(value, name)
        else:
            out[name] = m.text(value, name)
    if m.notes and "warnings" in out:
        out["warnings"] = [*out["warnings"], *m.notes]
    return out


def table(objs: Iterable[dict[str, Any]], columns: Sequence[str] = COLUMNS) -> Any:
    """A pyarrow Table of `show --json` objects."""
    import pyarrow as pa

    return pa.Table.from_pylist([row(o, columns) for o in objs],
                                schema=parquet_schema(columns))


def write_table(tbl: Any, dest: str, fs: Any | None = None) -> None:
    """Write `tbl` as one Parquet file at `dest`, in whole or not at all: a local file goes
    to a temporary name and is renamed; an object store makes an object visible only when its
    upload completes."""
    import pyarrow.parquet as pq

    if fs is None or _is_local(fs):
        tmp = f"{dest}.tmp-{os.getpid()}"
        try:
            pq.write_table(tbl, tmp, compression="zstd")
            os.replace(tmp, dest)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return
    buf = io.BytesIO()
    pq.write_table(tbl, buf, compression="zstd")
    fs.pipe_file(dest, buf.getvalue())


def _is_local(fs: Any) -> bool:
    from .urls import is_local

    return is_local(fs)
