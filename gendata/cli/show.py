"""Front end: `gendata show`."""

from __future__ import annotations

import json

import click

from ..errors import GenDataError
from ._common import error, finish


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="One JSON object per file (docs/json.md).")
@click.option("--raw", is_flag=True, help="List every metadata chunk/tag as stored.")
@click.option("--stealth/--no-stealth", default=None,
              help="Also look for stealth pnginfo in the pixels (default: only when the "
                   "chunks hold nothing).")
def show(files: tuple[str, ...], as_json: bool, raw: bool, stealth: bool | None) -> None:
    """Show the generation data of images (PNG, JPEG, WebP)."""
    from ..api import Record, read
    from ..batch import attach_extras

    console = None
    failed = 0
    for path in files:
        try:
            rec = read(path, stealth=stealth)
        except GenDataError as exc:
            rec = Record(path=path, error=str(exc))
        if rec.error:
            failed += 1
        attach_extras(rec)
        if as_json:
            obj = rec.to_json()
            if raw and rec.raw is not None:
                obj["raw_entries"] = [
                    {"container": e.container, "location": e.location, "key": e.key,
                     "size": e.size, "offset": e.offset, "after_idat": e.after_idat,
                     "text": e.text} for e in rec.raw.entries]
            click.echo(json.dumps(obj, ensure_ascii=False))
            if rec.error:
                error(rec.error)
            continue
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
    finish(failed)

