"""Regen service: reproduce an image from its generation data with diffusers, and say how
faithfully (docs/regen.md). `plan` is pure and torch-free; `run` imports torch lazily."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..model import GenParams
from .plan import RegenOptions, RegenPlan, make_plan
from .report import REPORT_KEY, Deviation, RegenReport

if TYPE_CHECKING:
    from .runner import RegenResult

__all__ = [
    "REPORT_KEY",
    "Deviation",
    "RegenOptions",
    "RegenPlan",
    "RegenReport",
    "plan",
    "resolve_device",
    "run",
    "save",
]


def plan(params: GenParams, options: RegenOptions | None = None) -> RegenPlan:
    """Decide the whole run without torch; `plan(...).deviations` says what cannot match."""
    return make_plan(params, options)


def run(p: RegenPlan, **kwargs: Any) -> RegenResult:
    """Execute a plan with diffusers (needs `pip install 'gendata[regen]'`)."""
    from .runner import execute

    return execute(p, **kwargs)


def resolve_device(requested: str = "auto") -> str:
    """auto -> cuda, mps or cpu (imports torch; UsageError naming the extra if it is missing)."""
    from .backend import resolve_device as _resolve

    return _resolve(requested)


def save(result: RegenResult, path: str, infotext: str) -> None:
    """Write the image as PNG with the A1111 `parameters` text and the regen report chunk."""
    from .output import write_png

    write_png(result.image, path, infotext, result.report.to_json())
