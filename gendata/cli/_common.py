"""Front end helpers shared by the commands: error reporting and exit codes.

Exit codes: 0 all good, 1 some input failed (each reported on one line), 2 usage.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import click

from ..errors import GenDataError

T = TypeVar("T")


def error(message: str) -> None:
    click.echo(f"gendata: error: {_visible(message)}", err=True)


def warn(message: str) -> None:
    click.echo(f"gendata: warning: {_visible(message)}", err=True)


def _visible(message: str) -> str:
    """Messages quote file names and metadata: their control characters are spelled out."""
    from ..present.values import visible

    return visible(message, "")


def for_each(items: Iterable[T], action: Callable[[T], None]) -> int:
    """Run `action` on every item, reporting GenDataErrors and carrying on; return failures."""
    failed = 0
    for item in items:
        try:
            action(item)
        except GenDataError as exc:
            error(str(exc))
            failed += 1
        except KeyboardInterrupt:
            error("interrupted")
            sys.exit(130)
    return failed


def finish(failed: int) -> None:
    if failed:
        sys.exit(1)


def parse_key_values(pairs: Iterable[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--param")
        out[key.strip()] = value
    return out


class StopFlag:
    """SIGINT handler for a batch command (export, index): the first Ctrl-C asks the run to
    stop after the file or batch at hand (so the output is closed and what was done is
    kept), a second one stops at once. Polled as `stop()`."""

    def __init__(self) -> None:
        self.requested = False

    def handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __call__(self) -> bool:
        return self.requested
