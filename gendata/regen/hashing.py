"""Regen service, pure: the file hashes A1111 writes into infotexts (docs/regen.md#the-report).

`Model hash` is sha256 of the whole file, first 10 hex digits (8 digits: the legacy hash of
64 KiB at offset 1 MiB). `Lora hashes` carry the "addnet" hash: sha256 of a .safetensors file
after its 8-byte length and JSON header, first 12 hex digits, or the `sshs_model_hash` metadata
value when the trainer stored one. Results are cached per (path, size, mtime).
"""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

__all__ = ["addnet_hash", "hash_matches", "legacy_model_hash", "model_hash"]

_CACHE: dict[tuple[str, str, int, int], str] = {}
_BLOCK = 1 << 20


def _key(kind: str, path: Path) -> tuple[str, str, int, int]:
    st = path.stat()
    return (kind, str(path.resolve()), st.st_size, st.st_mtime_ns)


def model_hash(path: str | Path) -> str:
    """A1111's current model hash: sha256 of the whole file, 10 hex digits."""
    path = Path(path)
    key = _key("model", path)
    if key not in _CACHE:
        h = hashlib.sha256()
        with path.open("rb") as f:
            while block := f.read(_BLOCK):
                h.update(block)
        _CACHE[key] = h.hexdigest()
    return _CACHE[key][:10]


def legacy_model_hash(path: str | Path) -> str:
    """A1111's pre-2023 model hash: sha256 of bytes [0x100000, 0x110000), 8 hex digits."""
    with Path(path).open("rb") as f:
        f.seek(0x100000)
        return hashlib.sha256(f.read(0x10000)).hexdigest()[:8]


def addnet_hash(path: str | Path) -> str:
    """The LoRA hash A1111 writes in `Lora hashes` (12 hex digits)."""
    path = Path(path)
    key = _key("addnet", path)
    if key in _CACHE:
        return _CACHE[key]
    with path.open("rb") as f:
        head = f.read(8)
        if path.suffix.lower() == ".safetensors" and len(head) == 8:
            (n,) = struct.unpack("<Q", head)
            header = f.read(n)
            try:
                meta = json.loads(header).get("__metadata__") or {}
            except (ValueError, UnicodeDecodeError):
                meta = {}
            stored = meta.get("sshs_model_hash") if isinstance(meta, dict) else None
            if stored:
                _CACHE[key] = str(stored)[:12]
                return _CACHE[key]
            h = hashlib.sha256()
        else:
            h = hashlib.sha256(head)
        while block := f.read(_BLOCK):
            h.update(block)
    _CACHE[key] = h.hexdigest()[:12]
    return _CACHE[key]


def hash_matches(expected: str, path: str | Path) -> tuple[bool, str]:
    """Compare an infotext model hash with the file, choosing the scheme by its length."""
    exp = expected.strip().lower()
    actual = legacy_model_hash(path) if len(exp) == 8 else model_hash(path)
    return actual.startswith(exp) or exp.startswith(actual), actual
