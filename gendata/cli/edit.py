"""Front end: `gendata set`, `strip`, `copy` and `write` — thin calls into gendata.api."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .. import api
from ..errors import GenDataError, ParseError, UsageError
from ..model import GenParams, edit_remarks
from ._common import error, finish, for_each, parse_key_values, warn

FORCE_HELP = ("Also write read-only files (their mode is kept) and files with several hard "
              "links (rewritten in place, so every link sees the change), and write an edit "
              "over differing copies of the text. Never writes through devices or FIFOs.")


def force_option(f: Callable[..., Any]) -> Callable[..., Any]:
    """--force, the same on every command that writes (docs/guide.md#how-files-are-written)."""
    return click.option("--force", is_flag=True, help=FORCE_HELP)(f)


def report(changes: list[str]) -> None:
    """Print the warnings among what a write says it did (duplicate chunks kept, ...)."""
    for change in changes:
        if change.startswith("warning: "):
            warn(change[len("warning: "):])

# option name -> model field; values stay strings so the model reports bad ones clearly
FIELD_OPTIONS = [
    ("prompt", "prompt", "Positive prompt."),
    ("negative", "negative_prompt", "Negative prompt."),
    ("steps", "steps", "Sampling steps."),
    ("sampler", "sampler", "Sampler name as the generator writes it."),
    ("scheduler", "scheduler", "Schedule type."),
    ("cfg", "cfg_scale", "CFG scale."),
    ("seed", "seed", "Seed."),
    ("width", "width", "Width (first pass)."),
    ("height", "height", "Height (first pass)."),
    ("model", "model", "Checkpoint name."),
    ("model-hash", "model_hash", "Checkpoint hash."),
    ("denoise", "denoising_strength", "Denoising strength."),
    ("clip-skip", "clip_skip", "Clip skip."),
]


def _field_options(f: Callable[..., Any]) -> Callable[..., Any]:
    for opt, _field, help_text in reversed(FIELD_OPTIONS):
        f = click.option(f"--{opt}", opt.replace("-", "_"), default=None, metavar="VALUE",
                         help=help_text)(f)
    return f


@click.command("set")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@_field_options
@click.option("--size", default=None, metavar="WxH", help="Width and height at once.")
@click.option("--param", "params_", multiple=True, metavar="KEY=VALUE",
              help="Set any infotext key, e.g. 'Hires upscale=2' (repeatable).")
@click.option("--unset", multiple=True, metavar="KEY",
              help="Remove a key, e.g. 'Clip skip' or a field name (repeatable).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write to this file instead of editing in place (one input only).")
@click.option("--stealth", is_flag=True, help="Also hide a copy in the alpha channel (PNG).")
@click.option("--dry-run", is_flag=True, help="Print the new infotext; write nothing.")
@force_option
def set_cmd(files: tuple[str, ...], size: str | None, params_: tuple[str, ...],
            unset: tuple[str, ...], output: str | None, stealth: bool, dry_run: bool,
            force: bool, **options: Any) -> None:
    """Edit generation parameters in place, leaving pixels and other metadata untouched."""
    if output and len(files) > 1:
        raise click.UsageError("-o/--output takes a single input file")
    changes = {field: options[opt.replace("-", "_")] for opt, field, _ in FIELD_OPTIONS
               if options[opt.replace("-", "_")] is not None}
    keys = parse_key_values(params_)
    if size is not None:
        keys["Size"] = size
    if not changes and not keys and not unset:
        raise click.UsageError("nothing to change: give at least one field option, --param "
                               "or --unset")

    remarks: list[str] = []

    def edited(rec: api.Record) -> GenParams:
        params = api.editable_params(rec)
        new = api.update(params, changes, unset=list(unset), set_keys=keys)
        remarks[:] = edit_remarks(params, new)  # e.g. the old model's hash, removed
        return new

    def one(path: str) -> None:
        if dry_run:
            click.echo(api.dump_a1111(edited(api.read(path))))
            return
        # read, change and write under the file's lock: a concurrent `set` waits
        report(api.edit(path, edited, output=output, stealth=stealth, force=force))
        for remark in remarks:
            warn(f"{output or path}: {remark}")
        click.echo(f"{output or path}: updated", err=True)

    finish(for_each(files, one))


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="List what would be removed; change nothing.")
@force_option
def strip(files: tuple[str, ...], dry_run: bool, force: bool) -> None:
    """Remove generation data (text chunks, EXIF UserComment) without touching pixels."""

    def one(path: str) -> None:
        removed = api.strip(path, dry_run=dry_run, force=force)
        if not removed:
            click.echo(f"{path}: no generation data")
            return
        verb = "would remove" if dry_run else "removed"
        for item in removed:
            click.echo(f"{path}: {verb} {item}")

    finish(for_each(files, one))


@click.command()
@click.argument("src", type=click.Path(dir_okay=False))
@click.argument("dst", type=click.Path(dir_okay=False))
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the result here instead of changing DST.")
@force_option
def copy(src: str, dst: str, output: str | None, force: bool) -> None:
    """Copy the generation data of SRC onto DST (PNG, JPEG or WebP, any combination)."""
    try:
        report(api.copy(src, dst, output=output, force=force))
    except GenDataError as exc:
        error(str(exc))
        sys.exit(1)
    click.echo(f"{output or dst}: generation data copied from {src}", err=True)


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--from", "source", required=True, metavar="FILE",
              help="A1111 infotext (.txt) or gendata JSON (.json); '-' reads stdin.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write to this file instead of editing in place (one input only).")
@force_option
def write(files: tuple[str, ...], source: str, output: str | None, force: bool) -> None:
    """Replace the whole generation data block from a text or JSON file."""
    if output and len(files) > 1:
        raise click.UsageError("-o/--output takes a single input file")
    try:
        data = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        error(f"{source}: cannot read: {exc}")
        sys.exit(1)
    stripped = data.lstrip()
    try:
        if stripped.startswith("{"):
            try:
                obj = json.loads(data)
            except json.JSONDecodeError as exc:
                raise ParseError(f"{source}: broken JSON: {exc}") from None
            text = api.dump_a1111(GenParams.from_json(obj, source))
        else:
            text = data.strip("\n")
            if not text.strip():
                raise UsageError(f"{source}: is empty")
    except GenDataError as exc:
        error(str(exc))
        sys.exit(1)

    def one(path: str) -> None:
        report(api.write_text(path, text, output=output, force=force))
        click.echo(f"{output or path}: written", err=True)

    finish(for_each(files, one))
