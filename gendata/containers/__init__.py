"""Container layer: detect the container by magic bytes and dispatch to its module.

Never by file extension: `.jpg` files that are really PNGs are common (formats.md 17).
"""

from __future__ import annotations

import os
import struct
from typing import BinaryIO

from ..errors import ContainerError, UnsupportedFormat
from .raw import RawEntry, RawMetadata

__all__ = ["RawEntry", "RawMetadata", "detect", "open_raw", "read_raw"]


def detect(head: bytes) -> str | None:
    """Container name from the first 12 bytes, or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def read_raw(f: BinaryIO) -> RawMetadata:
    """Raw metadata of an open binary file (any supported container), pixels unread."""
    head = f.read(12)
    f.seek(0)
    kind = detect(head)
    name = getattr(f, "name", "<stream>")
    if kind is None:
        if not head:
            raise UnsupportedFormat(f"{name}: empty file")
        raise UnsupportedFormat(f"{name}: not a PNG, JPEG or WebP image")
    try:
        if kind == "png":
            from . import png as mod
        elif kind == "jpeg":
            from . import jpeg as mod  # type: ignore[no-redef]
        else:
            from . import webp as mod  # type: ignore[no-redef]
        return mod.read_raw(f)
    except (struct.error, ValueError, IndexError, OverflowError) as exc:
        raise ContainerError(f"{name}: corrupt {kind.upper()}: {exc}") from None


def open_raw(path: str | os.PathLike[str]) -> RawMetadata:
    try:
        with open(path, "rb") as f:
            return read_raw(f)
    except IsADirectoryError:
        raise ContainerError(f"{path}: is a directory") from None
    except FileNotFoundError:
        raise ContainerError(f"{path}: no such file") from None
    except PermissionError:
        raise ContainerError(f"{path}: permission denied") from None
    except OSError as exc:
        raise ContainerError(f"{path}: {exc.strerror or exc}") from None
