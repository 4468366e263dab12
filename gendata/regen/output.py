"""Regen service: write the regenerated PNG with the source's A1111 text and the report.

docs/regen.md#the-report: the A1111 `parameters` text goes in unchanged so other tools read the
output like the source, and the report goes in its own text chunk.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from PIL.PngImagePlugin import PngInfo

from ..errors import WriteError
from .report import REPORT_KEY

__all__ = ["write_png"]


def write_png(image: Any, path: str | Path, infotext: str, report_json: str) -> None:
    path = Path(path)
    info = PngInfo()
    info.add_text("parameters", infotext)
    info.add_itxt(REPORT_KEY, report_json)
    fd, tmp = tempfile.mkstemp(prefix=".regen-", suffix=".png", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "wb") as f:
            image.save(f, format="PNG", pnginfo=info)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with __import__("contextlib").suppress(OSError):
            os.unlink(tmp)
        raise WriteError(f"cannot write {path}: {exc}") from None
