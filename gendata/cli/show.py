"""Front end: `gendata show`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import click

from ..errors import GenDataError
from ._common import error, finish
from .output import emit, output_options


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@output_options(
    json_means="jsonl",
    describe={"table": "the prompt and parameters for reading",
              "json": "one JSON array of the objects (docs/json.md)",
              "jsonl": "one JSON object per file and line (docs/json.md)",
              "csv": "export's CSV columns"},
    json_help="One JSON object per file and line (docs/json.md): the same as --jsonl, as "
              "it has always been; -f json for one array.")
@click.option("--raw", is_flag=True, help="List every metadata chunk/tag as stored (in JSON: "
                                          "a `raw_entries` array).")
@click.option("--stealth/--no-stealth", default=None,
              help="Also look for stealth pnginfo in the pixels (default: only when the "
                   "chunks hold nothing).")
@click.option("--storage-option", "storage_options", multiple=True, metavar="KEY=VALUE",
              help="For URLs (s3://, gs://, https://, ...): a filesystem option "
                   "(docs/scale.md). Repeatable.")
def show(files: tuple[str, ...], fmt: str, raw: bool, stealth: bool | None,
         storage_options: tuple[str, ...]) -> None:
    """Show the generation data of images (PNG, JPEG, WebP): paths or URLs."""
    options: dict[str, Any] = {}
    if storage_options:
        from ..remote.urls import parse_storage_options

        try:
            options = parse_storage_options(storage_options)
        except GenDataError as exc:
            raise click.UsageError(str(exc)) from None
    if fmt == "table":
        finish(_views(files, raw, stealth, options))
        return
    if fmt == "csv" and raw:
        raise click.UsageError("--raw has no CSV form: use -f jsonl (raw_entries) or the table")
    failed = 0

    def records() -> Iterator[dict[str, Any]]:
        nonlocal failed
        for path in files:
            rec = _read(path, stealth, options)
            obj = rec.to_json()
            if raw and rec.raw is not None:
                obj["raw_entries"] = [e.to_json() for e in rec.raw.entries]
            yield obj
            if rec.error:  # after the record, so it follows its line when both are shown
                failed += 1
                error(rec.error)

    if fmt == "csv":
        from ..export import csv_cell, csv_columns

        emit(records(), fmt, columns=csv_columns, cell=csv_cell)
    else:
        emit(records(), fmt)
    finish(failed)


def _read(path: str, stealth: bool | None, options: dict[str, Any] | None = None) -> Any:
    """The file's Record; one that cannot be read becomes a Record with `error` set."""
    from ..api import Record, read
    from ..batch import attach_extras

    if "://" in path:
        from ..remote import is_url

        if is_url(path):
            from ..remote.reader import read_url

            return read_url(path, options, stealth=stealth)
    try:
        rec = read(path, stealth=stealth)
    except GenDataError as exc:
        rec = Record(path=path, error=str(exc))
    attach_extras(rec)
    return rec


def _views(files: tuple[str, ...], raw: bool, stealth: bool | None,
           options: dict[str, Any]) -> int:
    """Print each file's rich view as it is read; return how many failed."""
    console = None
    failed = 0
    for path in files:
        rec = _read(path, stealth, options)
        if rec.error:
            failed += 1
        if rec.raw is None:  # unreadable file: one line, no table
            error(rec.error or f"{path}: unreadable")
            continue
        if console is None:
            from rich.console import Console

            console = Console()
        from .render import raw_view, record_view

        console.print(raw_view(rec) if raw else record_view(rec))
        if len(files) > 1:
            console.print()
        if rec.error:
            error(rec.error)
    return failed
