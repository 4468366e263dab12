"""Front end: the one rich progress line that batch commands show on stderr, on a terminal only.

`export` (local and remote) and `index` differ only in what the line says, so each passes a
function from its running summary and the elapsed seconds to that text.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any


def stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class ProgressLine:
    """A transient spinner line: `describe(summary, seconds)` plus the error count in red."""

    def __init__(self, label: str, describe: Callable[[Any, float], str]) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
            console=Console(stderr=True), transient=True)
        self.task = self.progress.add_task(label, total=None)
        self.describe = describe
        self.t0 = time.perf_counter()

    def start(self) -> None:
        self.progress.start()

    def update(self, summary: Any) -> None:
        desc = self.describe(summary, max(time.perf_counter() - self.t0, 1e-6))
        if summary.failed_count:
            desc += f" · [red]{summary.failed_count} errors[/red]"
        self.progress.update(self.task, description=desc)

    def stop(self) -> None:
        self.progress.stop()
