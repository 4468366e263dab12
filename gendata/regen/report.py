"""Regen service, pure: deviations, the fidelity level, and the JSON report saved with the image.

docs/regen.md#the-report: every decision that departs from A1111 is a Deviation with a stable code;
the worst severity is the run's fidelity. Codes are part of the documented interface
(docs/regen.md), so scripts can test for them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["LEVELS", "REPORT_KEY", "Deviation", "RegenReport", "worst"]

# Ordered best to worst.
LEVELS: tuple[str, ...] = ("exact-recipe", "close", "approximate", "degraded", "refused")
REPORT_KEY = "gendata-regen"  # PNG text chunk holding the report


@dataclass(frozen=True)
class Deviation:
    code: str
    severity: str
    message: str

    def __post_init__(self) -> None:
        if self.severity not in LEVELS[1:]:
            raise ValueError(f"unknown severity {self.severity!r}")


def worst(deviations: list[Deviation]) -> str:
    level = 0
    for d in deviations:
        level = max(level, LEVELS.index(d.severity))
    return LEVELS[level]


@dataclass
class RegenReport:
    """What was run and how faithfully; serialised into the output image."""

    fidelity: str
    deviations: list[Deviation]
    plan: dict[str, Any]
    device: str | None = None
    dtype: str | None = None
    versions: dict[str, str] = field(default_factory=dict)
    seconds: float | None = None
    source: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=False, default=str)

    @classmethod
    def from_json(cls, text: str) -> RegenReport:
        data = json.loads(text)
        data["deviations"] = [Deviation(**d) for d in data.get("deviations", [])]
        return cls(**data)
