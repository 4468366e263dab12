"""Front end: the output options of the commands that print records, and `emit`, which prints
them.

Every such command takes `-f/--format FORMAT` and the shortcuts `--json`, `--jsonl` and
`--csv`; it receives one `fmt` argument. The formats mean the same everywhere:

- `table`: the rich view meant for reading (the default where there is one);
- `json`: one JSON array, an element a line (`export -f json`'s layout); for `diff` the
  comparison object, since a diff is one document, not a list of records;
- `jsonl`: JSON Lines, one object a line, written as each record comes;
- `csv`: RFC 4180 with CRLF line ends (gendata.csvenc), cells a spreadsheet would run as
  formulas prefixed with `'` unless `--no-formula-guard` is given (`formula_guard()`).

`--json` is `-f json`, except where a command printed something else under that name before
the formats were shared: there it keeps that meaning (`show --json` prints JSON Lines), so
no script breaks. Only this module and the commands import click; the encoders it uses live
in the service layer.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

FORMATS = ("table", "json", "jsonl", "csv")
# Formats only some commands write (`export -f parquet`); never a default.
_OTHER_FORMATS = ("parquet",)

_DESCRIBE = {
    "table": "a table for reading",
    "json": "a JSON array",
    "jsonl": "JSON Lines, an object a line",
    "csv": "CSV",
    "parquet": "Parquet",
}


def output_options(*, formats: Sequence[str] = FORMATS, default: str = "table",
                   json_means: str = "json", describe: Mapping[str, str] | None = None,
                   json_help: str | None = None) -> Callable[[F], F]:
    """Give a command `-f/--format` (one of `formats`, `default` when none is asked for) and
    the shortcut flags `--json` (selects `json_means`), `--jsonl` and `--csv` for the
    formats it has. The command receives the chosen format as `fmt`; contradictory choices
    (`--json --csv`, `-f csv --jsonl`) are a usage error. `describe` words a format for this
    command's help; `json_help` is the help of `--json`. A command with CSV also gets
    `--no-formula-guard`, which `formula_guard()` reports to whatever writes the CSV."""
    unknown = set(formats) - set(FORMATS) - set(_OTHER_FORMATS)
    if unknown or default not in formats or json_means not in formats:
        raise ValueError(f"bad output_options: {formats}, {default}, {json_means}")
    words = {**_DESCRIBE, **(describe or {})}
    listed = "; ".join(f"{f}: {words[f]}" for f in formats)
    flags = [(name, fmt) for name, fmt in
             (("--json", json_means), ("--jsonl", "jsonl"), ("--csv", "csv"))
             if fmt in formats]

    def decorator(f: F) -> F:
        @functools.wraps(f)
        def wrapper(*args: Any, fmt: str | None, **kwargs: Any) -> Any:
            if "csv" in formats:
                ctx = click.get_current_context()
                ctx.meta[_GUARD] = not kwargs.pop("no_formula_guard")
            chosen = [(f"-f {fmt}", fmt)] if fmt is not None else []
            for name, value in flags:
                if kwargs.pop(_dest(name)):
                    chosen.append((name, value))
            for name, value in chosen[1:]:
                if value != chosen[0][1]:
                    raise click.UsageError(f"{chosen[0][0]} and {name} are exclusive")
            return f(*args, fmt=chosen[0][1] if chosen else default, **kwargs)

        options = [click.option("-f", "--format", "fmt", type=click.Choice(list(formats)),
                                default=None,
                                help=f"Output format ({listed}) [default: {default}].")]
        for name, value in flags:
            text = (json_help if name == "--json" and json_help
                    else f"Same as -f {value}.")
            options.append(click.option(name, _dest(name), is_flag=True, help=text))
        if "csv" in formats:
            options.append(click.option(
                "--no-formula-guard", "no_formula_guard", is_flag=True,
                help="CSV: write cells that start with =, +, -, @ as they are, without the "
                     "' that stops a spreadsheet from running them as formulas."))
        for option in reversed(options):
            wrapper = option(wrapper)
        return wrapper  # type: ignore[return-value]

    return decorator


_GUARD = "gendata.formula_guard"


def formula_guard() -> bool:
    """Whether CSV written for the running command guards formula cells (gendata.csvenc):
    True unless it was given `--no-formula-guard`."""
    ctx = click.get_current_context(silent=True)
    return True if ctx is None else bool(ctx.meta.get(_GUARD, True))


def _dest(flag: str) -> str:
    return "output_" + flag.lstrip("-")


def emit(records: Iterable[dict[str, Any]], fmt: str, *,
         columns: Sequence[str] | Callable[[list[dict[str, Any]]], Sequence[str]] | None = None,
         cell: Callable[[dict[str, Any], str], str] | None = None,
         table: Callable[[Any], Any] | None = None) -> None:
    """Print `records` (JSON-ready objects) on standard output in `fmt`.

    json and jsonl stream: each record is written as it comes, so a generator that reads
    files one by one shows each as soon as it is read. csv needs the header first, so it
    collects the records: `columns` is the header (or a function of the records giving it;
    default: every key, in first-seen order) and `cell(record, column)` a cell's text
    (default: `csvenc.csv_value` of the record's value). `table(console)` builds the rich
    renderable for the table format; the records are not used for it.
    """
    if fmt in ("json", "jsonl"):
        from ..jsonenc import json_text
    if fmt == "jsonl":
        for obj in records:
            click.echo(json_text(obj))
    elif fmt == "json":
        from ..export import JsonArrayWriter

        out = sys.stdout
        writer = JsonArrayWriter(out)
        try:
            for obj in records:
                writer.write(json_text(obj))
                out.flush()
        finally:
            writer.close()
            out.flush()
    elif fmt == "csv":
        _emit_csv(list(records), columns, cell)
    elif fmt == "table":
        if table is None:
            raise ValueError("emit: the table format needs a `table` function")
        from rich.console import Console

        console = Console()
        console.print(table(console))
    else:
        raise ValueError(f"emit: unknown format {fmt!r}")


def _emit_csv(objs: list[dict[str, Any]],
              columns: Sequence[str] | Callable[[list[dict[str, Any]]], Sequence[str]] | None,
              cell: Callable[[dict[str, Any], str], str] | None) -> None:
    from ..csvenc import csv_line, csv_value

    if callable(columns):
        cols = list(columns(objs))
    elif columns is not None:
        cols = list(columns)
    else:
        cols = list(dict.fromkeys(k for obj in objs for k in obj))
    if cell is None:
        def cell(obj: dict[str, Any], column: str) -> str:
            return csv_value(obj.get(column))
    guard = formula_guard()
    out = sys.stdout
    out.write(csv_line(cols, guard) + "\r\n")
    for obj in objs:
        out.write(csv_line([cell(obj, c) for c in cols], guard) + "\r\n")
    out.flush()


def echo_document(obj: Any) -> None:
    """One JSON document, indented for reading (`diff --json`)."""
    from ..jsonenc import json_text

    click.echo(json_text(obj, indent=2))
