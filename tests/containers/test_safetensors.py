"""safetensors read/write with numpy, checked against the reference package when present."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from gendata.containers import safetensors as st
from gendata.errors import ContainerError


def test_round_trip_keeps_dtype_shape_bits_and_metadata() -> None:
    rng = np.random.default_rng(0)
    tensors = {
        "clip_g": rng.standard_normal((3, 1280)).astype(np.float32),
        "clip_l": rng.standard_normal((3, 768)).astype(np.float16),
        "x": rng.standard_normal((2, 4)),
    }
    data = st.dumps(tensors, {"name": "cat", "step": "12"})
    (header_len,) = struct.unpack("<Q", data[:8])
    assert header_len % 8 == 0  # data section aligned, as the reference writer does
    back, meta = st.loads(data)
    assert meta == {"name": "cat", "step": "12"}
    assert list(back) == list(tensors)
    for key, arr in tensors.items():
        assert back[key].dtype == arr.dtype
        assert back[key].tobytes() == arr.tobytes()


def test_bf16_is_widened_to_float32_exactly() -> None:
    values = np.array([1.0, -2.5, 3.140625, 0.0], dtype=np.float32)
    bf16 = (values.view(np.uint32) >> 16).astype("<u2")
    header = json.dumps({"t": {"dtype": "BF16", "shape": [4], "data_offsets": [0, 8]}}).encode()
    back, _ = st.loads(struct.pack("<Q", len(header)) + header + bf16.tobytes())
    assert back["t"].dtype == np.float32
    assert back["t"].tolist() == values.tolist()


def _blob(header: bytes, data: bytes = b"") -> bytes:
    return struct.pack("<Q", len(header)) + header + data


def _spec(dtype: object, shape: list[int], end: int) -> bytes:
    spec = {"dtype": dtype, "shape": shape, "data_offsets": [0, end]}
    return json.dumps({"t": spec}).encode()


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"\x01\x02", "too short"),
        (struct.pack("<Q", 10**9) + b"{}", "impossible"),
        (_blob(b"nope"), "not JSON"),
        (_blob(b"[]"), "not a JSON object"),
        (_blob(_spec("F32", [4], 16)), "outside the data"),
        (_blob(_spec("F32", [3], 8), b"\0" * 8), "needs 12"),
        (_blob(_spec("I64", [1], 8), b"\0" * 8), "embeddings are float"),
        (_blob(_spec(1, [1], 4), b"\0" * 4), "malformed header"),
        (_blob(b'{"__metadata__": [1]}'), "__metadata__ is not an object"),
    ],
)
def test_bad_files_raise_container_errors(blob: bytes, message: str) -> None:
    with pytest.raises(ContainerError, match=message):
        st.loads(blob)


def test_load_refuses_large_files_before_reading_tensors(tmp_path: Path) -> None:
    path = tmp_path / "big.safetensors"
    path.write_bytes(st.dumps({"w": np.zeros((64, 64), np.float32)}))
    assert st.load(path)[0]["w"].shape == (64, 64)
    with pytest.raises(ContainerError, match="model checkpoint"):
        st.load(path, max_bytes=1000)
    with pytest.raises(ContainerError, match="cannot read"):
        st.load(tmp_path / "missing.safetensors")


def test_cannot_write_non_float_or_non_string_metadata() -> None:
    with pytest.raises(ContainerError, match="cannot write dtype"):
        st.dumps({"i": np.arange(3)})
    with pytest.raises(ContainerError, match="strings to strings"):
        st.dumps({"f": np.zeros(1, np.float32)}, {"step": 3})  # type: ignore[dict-item]


def test_interop_with_reference_package(tmp_path: Path) -> None:
    sn = pytest.importorskip("safetensors.numpy")
    rng = np.random.default_rng(3)
    tensors = {
        "emb_params": rng.standard_normal((8, 768)).astype(np.float32),
        "half": rng.standard_normal((2, 5)).astype(np.float16),
    }
    ours = tmp_path / "ours.safetensors"
    ours.write_bytes(st.dumps(tensors, {"name": "n"}))
    loaded = sn.load_file(str(ours))
    for key, arr in tensors.items():
        assert loaded[key].dtype == arr.dtype and loaded[key].tobytes() == arr.tobytes()
    theirs = tmp_path / "theirs.safetensors"
    sn.save_file(tensors, str(theirs), metadata={"name": "n"})
    back, meta = st.load(theirs)
    assert meta == {"name": "n"}
    for key, arr in tensors.items():
        assert back[key].dtype == arr.dtype and back[key].tobytes() == arr.tobytes()
