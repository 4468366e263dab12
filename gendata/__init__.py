"""gendata: read, edit, export, diff and reproduce Stable Diffusion generation data in images.

The library API (`read`, `write`, `strip`, `copy`, `iter_records`, the `GenParams` model and
the error types) is what the `gendata` command and the terminal UI are built on. Attributes
are imported on first use, so `import gendata` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "read": "api", "write": "api", "write_text": "api", "strip": "api", "copy": "api",
    "update": "api", "iter_records": "batch", "read_raw": "api", "read_safe": "api",
    "Record": "api", "edit": "api", "FileIdentity": "api",
    "GenParams": "model", "Lora": "model", "Embedding": "model", "SamplerPass": "model",
    "GenDataError": "errors", "ContainerError": "errors", "ParseError": "errors",
    "ValidationError": "errors", "WriteError": "errors", "UsageError": "errors",
    "UnsupportedFormat": "errors", "FileChangedError": "errors",
    "diff": "diff", "diff_images": "diff", "diff_params": "diff", "batch_diff": "diff",
    "index": "indexing", "search": "indexing",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gendata' has no attribute {name!r}")
    mod = importlib.import_module(f".{module}", __name__)
    # `gendata.diff` is the module (a name that is its own module is the module itself);
    # its two-image function is `gendata.diff_images`.
    value = mod if name == module else getattr(mod, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
