"""Container layer: the safetensors file format, read and written with numpy alone.

Layout: 8-byte little-endian header length N, N bytes of JSON header (an object mapping each
tensor name to {"dtype", "shape", "data_offsets": [begin, end]} plus an optional
"__metadata__" object of string values), then the raw little-endian tensor data; offsets are
relative to the end of the header. The header is padded with spaces to a multiple of 8 so the
data is aligned, as the reference implementation does. Embedding files are tiny
(docs/formats.md#embedding-files), so the reader refuses anything large instead of mapping
gigabytes of a checkpoint.
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from ..errors import ContainerError
from .files import open_regular, os_reason

__all__ = ["DEFAULT_MAX_BYTES", "dumps", "load", "loads"]

# The dtypes an embedding can come in; BF16 has no numpy type and is widened to float32.
_DTYPES: dict[str, np.dtype] = {
    "F16": np.dtype("<f2"),
    "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"),
    "BF16": np.dtype("<u2"),
}
_WRITE_DTYPES: dict[np.dtype, str] = {
    np.dtype("<f2"): "F16",
    np.dtype("<f4"): "F32",
    np.dtype("<f8"): "F64",
}
_MAX_HEADER = 1024 * 1024
DEFAULT_MAX_BYTES = 256 * 1024 * 1024


def dumps(tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str] | None = None) -> bytes:
    """Serialise float tensors (and string metadata) to safetensors bytes."""
    header: dict[str, object] = {}
    if metadata:
        bad = [k for k, v in metadata.items() if not isinstance(k, str) or not isinstance(v, str)]
        if bad:
            raise ContainerError(f"safetensors metadata must map strings to strings: {bad}")
        header["__metadata__"] = dict(metadata)
    chunks: list[bytes] = []
    offset = 0
    for name, array in tensors.items():
        if name == "__metadata__":
            raise ContainerError("'__metadata__' cannot be a tensor name")
        arr = np.asarray(array)
        dtype = arr.dtype.newbyteorder("<")
        code = _WRITE_DTYPES.get(dtype)
        if code is None:
            raise ContainerError(f"tensor {name!r}: cannot write dtype {arr.dtype} to safetensors")
        data = np.ascontiguousarray(arr, dtype=dtype).tobytes()
        header[name] = {
            "dtype": code,
            "shape": list(arr.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        chunks.append(data)
        offset += len(data)
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)
    return struct.pack("<Q", len(head)) + head + b"".join(chunks)


def loads(
    data: bytes, *, what: str = "safetensors data"
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Parse safetensors bytes into ({name: array}, metadata); BF16 comes back as float32."""
    header, start = _parse_header(data[:8], lambda n: data[8 : 8 + n], len(data), what)
    return _tensors(header, lambda b, e: data[start + b : start + e], what), _metadata(header, what)


def load(
    path: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read a .safetensors file; refuses files whose tensors exceed `max_bytes` in total."""
    path = Path(path)
    what = str(path)
    try:
        with open_regular(path) as fh:
            size = os.fstat(fh.fileno()).st_size

            def read_at(pos: int, n: int) -> bytes:
                fh.seek(pos)
                return fh.read(n)

            header, start = _parse_header(fh.read(8), lambda n: read_at(8, n), size, what)
            total = sum(_span(spec)[1] - _span(spec)[0] for spec in _specs(header, what).values())
            if total > max_bytes:
                raise ContainerError(
                    f"{what}: holds {total} bytes of tensors, more than an embedding "
                    f"(limit {max_bytes}); is this a model checkpoint?"
                )
            return (
                _tensors(header, lambda b, e: read_at(start + b, e - b), what),
                _metadata(header, what),
            )
    except OSError as exc:
        raise ContainerError(f"{what}: cannot read ({os_reason(exc)})") from None


def _parse_header(first8: bytes, read_header: Callable[[int], bytes], total_size: int,
                  what: str) -> tuple[dict, int]:
    if len(first8) < 8:
        raise ContainerError(f"{what}: too short to be safetensors ({total_size} bytes)")
    (length,) = struct.unpack("<Q", first8)
    if length > _MAX_HEADER or 8 + length > total_size:
        raise ContainerError(
            f"{what}: header length {length} is impossible for a {total_size}-byte file "
            "(not safetensors, or truncated)"
        )
    raw = read_header(length)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContainerError(f"{what}: header is not JSON ({exc})") from None
    if not isinstance(header, dict):
        raise ContainerError(f"{what}: header is not a JSON object")
    data_size = total_size - 8 - length
    for name, spec in _specs(header, what).items():
        begin, end = _span(spec)
        if not 0 <= begin <= end <= data_size:
            raise ContainerError(
                f"{what}: tensor {name!r} lies outside the data ({begin}..{end} of {data_size})"
            )
    return header, 8 + length


def _specs(header: dict, what: str) -> dict[str, dict]:
    specs = {k: v for k, v in header.items() if k != "__metadata__"}
    for name, spec in specs.items():
        ok = (
            isinstance(spec, dict)
            and isinstance(spec.get("dtype"), str)
            and isinstance(spec.get("shape"), list)
            and all(isinstance(d, int) and d >= 0 for d in spec["shape"])
            and isinstance(spec.get("data_offsets"), list)
            and len(spec["data_offsets"]) == 2
            and all(isinstance(o, int) for o in spec["data_offsets"])
        )
        if not ok:
            raise ContainerError(f"{what}: malformed header entry for tensor {name!r}")
    return specs


def _span(spec: dict) -> tuple[int, int]:
    return spec["data_offsets"][0], spec["data_offsets"][1]


def _tensors(header: dict, read_span: Callable[[int, int], bytes],
             what: str) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for name, spec in _specs(header, what).items():
        dtype = _DTYPES.get(spec["dtype"])
        if dtype is None:
            raise ContainerError(
                f"{what}: tensor {name!r} has dtype {spec['dtype']}; embeddings are float "
                "(F16, BF16, F32, F64)"
            )
        begin, end = _span(spec)
        shape = tuple(spec["shape"])
        if (end - begin) != math.prod(shape) * dtype.itemsize:
            raise ContainerError(
                f"{what}: tensor {name!r} has {end - begin} bytes, shape {list(shape)} "
                f"needs {math.prod(shape) * dtype.itemsize}"
            )
        arr = np.frombuffer(read_span(begin, end), dtype=dtype).reshape(shape)
        if spec["dtype"] == "BF16":
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        out[name] = arr.astype(arr.dtype.newbyteorder("="), copy=True)
    return out


def _metadata(header: dict, what: str) -> dict[str, str]:
    meta = header.get("__metadata__") or {}
    if not isinstance(meta, dict):
        raise ContainerError(f"{what}: __metadata__ is not an object")
    return {str(k): v for k, v in meta.items() if isinstance(v, str)}
