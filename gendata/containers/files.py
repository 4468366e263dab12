"""Container layer: the one wording for a file the system would not let us read.

Every reader (images, safetensors, stealth pixels) turns the same OSError into the same
words, so `gendata show missing.png` and `gendata ti info missing.safetensors` say it alike.
"""

from __future__ import annotations

import os

from ..errors import ContainerError

__all__ = ["os_reason", "read_error", "read_head"]


def os_reason(exc: OSError) -> str:
    """Why an OSError happened, in a few lower-case words (no errno, no path)."""
    if isinstance(exc, IsADirectoryError):
        return "is a directory"
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return str(exc.strerror or exc)


def read_error(path: str | os.PathLike[str], exc: OSError) -> ContainerError:
    """The ContainerError to raise (`from None`) for an OSError met reading `path`."""
    return ContainerError(f"{path}: {os_reason(exc)}")


def read_head(path: str | os.PathLike[str], n: int = 12) -> bytes:
    """The first `n` bytes of `path`, with read errors mapped to ContainerError."""
    try:
        with open(path, "rb") as f:
            return f.read(n)
    except OSError as exc:
        raise read_error(path, exc) from None
