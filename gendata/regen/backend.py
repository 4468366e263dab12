"""Regen's optional dependencies: whether the extra is installed, importing it for offline
use, and choosing the device. Every torch-using regen module gets torch through `require`, so
the planning modules and `--dry-run` never import it.
"""

from __future__ import annotations

import os
from typing import Any

from ..errors import UsageError

__all__ = ["INSTALL_HINT", "missing_extra", "require", "resolve_device"]

INSTALL_HINT = "pip install 'gendata[regen]'"


def missing_extra() -> str | None:
    """The name of the first regen dependency that cannot be imported, or None."""
    import importlib.util

    for mod in ("torch", "diffusers", "transformers", "safetensors"):
        if importlib.util.find_spec(mod) is None:
            return mod
    return None


def require() -> tuple[Any, Any]:
    """(torch, diffusers), imported offline and quiet; UsageError naming what is missing."""
    missing = missing_extra()
    if missing:
        raise UsageError(f"regen needs {missing}, which is not installed: {INSTALL_HINT}")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import diffusers
    import torch

    diffusers.utils.logging.set_verbosity_error()
    return torch, diffusers


def resolve_device(requested: str) -> str:
    """auto -> cuda, mps or cpu; an explicit cuda must exist, so the error comes before any
    model is loaded."""
    torch, _ = require()
    if requested in ("", "auto"):
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        return "mps" if mps is not None and mps.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: no CUDA device is available (try --device cpu)")
    return requested
