"""Reading the image's free-form infotext values the lenient way A1111 writes them.

Keys outside GenParams' typed fields arrive as text in `params.extra`, in whatever case the
writer used; every planning module reads them through these helpers so that a missing or
malformed value means "not given" everywhere alike.
"""

from __future__ import annotations

import re
from typing import Any

from ..model import GenParams

__all__ = ["extra", "to_float", "to_size"]


def extra(params: GenParams, key: str) -> Any:
    """The value of an infotext key, matched without regard to case; None when absent."""
    for k, v in params.extra.items():
        if k.lower() == key.lower():
            return v
    return None


def to_float(value: Any, default: float | None = None) -> float | None:
    try:
        return float(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def to_size(value: Any) -> tuple[int, int] | None:
    """`512x768` as (512, 768); None for anything else."""
    m = re.fullmatch(r"\s*(\d+)\s*x\s*(\d+)\s*", str(value or ""))
    return (int(m.group(1)), int(m.group(2))) if m else None
