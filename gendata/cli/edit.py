"""Front end: `gendata set`, `strip`, `copy` and `write` — thin calls into gendata.api."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
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
@click.option("--node", default=None, metavar="ID",
              help="ComfyUI: the node to edit when several could hold the value.")
@click.option("--dry-run", is_flag=True, help="Print the new text of each entry that would "
              "change; write nothing.")
@force_option
def set_cmd(files: tuple[str, ...], size: str | None, params_: tuple[str, ...],
            unset: tuple[str, ...], output: str | None, stealth: bool, node: str | None,
            dry_run: bool, force: bool, **options: Any) -> None:
    """Edit generation parameters in place, in the file's own format (A1111, ComfyUI,
    NovelAI, InvokeAI, ...), leaving pixels and other metadata untouched."""
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
    given = [*((f"--{opt}", options[opt.replace("-", "_")]) for opt, _f, _h in FIELD_OPTIONS
               if options[opt.replace("-", "_")] is not None),
             *(("--param", f"{k}={v}") for k, v in keys.items()), *(("--unset", u) for u in unset)]
    try:
        for option, value in given:
            check_text(value, option)
    except UsageError as exc:
        error(str(exc))
        sys.exit(2)

    remarks: list[str] = []

    def edited(rec: api.Record) -> GenParams:
        params = api.editable_params(rec)
        new = api.update(params, changes, unset=list(unset), set_keys=keys)
        remarks[:] = edit_remarks(params, new)  # e.g. the old model's hash, removed
        return new

    def one(path: str) -> None:
        if dry_run:
            _preview(api.edit_preview(path, edited(api.read(path)), node=node))
            return
        # read, change and write under the file's lock: a concurrent `set` waits
        before = api.file_identity(path) if output is None else None
        report(api.edit(path, edited, output=output, stealth=stealth, force=force, node=node))
        for remark in remarks:
            warn(f"{output or path}: {remark}")
        same = before is not None and api.file_identity(path) == before
        click.echo(f"{output or path}: {'unchanged' if same else 'updated'}", err=True)

    finish(for_each(files, one))


def _preview(texts: dict[str, str]) -> None:
    """A single A1111 text prints as it is (what `set --dry-run` always printed); entries
    of other dialects print under their keys."""
    if list(texts) == ["parameters"]:
        click.echo(texts["parameters"])
        return
    for key, text in texts.items():
        click.echo(f"--- {key}")
        click.echo(text)


_PARTS_HELP = "prompt, workflow, parameters or an entry's key (repeatable)."


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--only", multiple=True, metavar="PART", help="Remove just this part: "
              + _PARTS_HELP)
@click.option("--keep", multiple=True, metavar="PART", help="Remove everything but this "
              "part: workflow, parameters or an entry's key (repeatable).")
@click.option("--dry-run", is_flag=True, help="List what would be removed; change nothing.")
@force_option
def strip(files: tuple[str, ...], only: tuple[str, ...], keep: tuple[str, ...],
          dry_run: bool, force: bool) -> None:
    """Remove generation data (text chunks, EXIF UserComment) without touching pixels;
    --only/--keep remove just some of it (docs/guide.md)."""
    if only and keep:
        raise click.UsageError("give --only or --keep, not both")
    if "prompt" in keep:
        raise click.UsageError("--keep takes workflow, parameters or entry keys; the prompt "
                               "lives inside them (--only workflow keeps the rest)")

    def one(path: str) -> None:
        removed = api.strip(path, dry_run=dry_run, force=force, only=only or None,
                            keep=keep or None)
        hidden = not (only or keep) and _hidden_in_pixels(path)
        if not removed:
            click.echo(f"{path}: " + ("nothing of that to remove" if only or keep
                                      else "no generation data in its chunks"
                                      if hidden else "no generation data"))
        verb = "would remove" if dry_run else "removed"
        for item in removed:
            click.echo(f"{path}: {verb} {item}")
        if hidden:  # stripping is often for privacy: say what is left
            warn(f"{path}: generation data is still hidden in its pixels (stealth "
                 "pnginfo), which strip leaves as they are (gendata never rewrites pixels); "
                 "`gendata show --stealth` shows it")

    finish(for_each(files, one))


def _hidden_in_pixels(path: str) -> bool:
    """Whether the pixels of `path` hide generation data (stealth pnginfo)."""
    try:
        rec = api.read(path, stealth=True)
    except GenDataError:
        return False
    raw = rec.raw
    return raw is not None and any(e.location.startswith("stealth:") for e in raw.entries)


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


# Most `write --from` reads: an infotext is a few KiB, a `show --json` object with its raw
# text a few MiB (docs/guide.md#limits). Reading stops here, so /dev/zero cannot fill memory.
MAX_SOURCE_BYTES = 64 * 1024 * 1024


def read_source(source: str) -> str:
    """The UTF-8 text of `--from`: standard input for "-", else a regular file (a FIFO or a
    device is refused unread: pipe it to standard input instead), at most MAX_SOURCE_BYTES."""
    from ..containers.files import open_regular, os_reason

    limit = MAX_SOURCE_BYTES
    try:
        if source == "-":
            data = sys.stdin.buffer.read(limit + 1)
        else:
            with open_regular(source) as f:
                data = f.read(limit + 1)
    except OSError as exc:
        raise UsageError(f"{source}: cannot read: {os_reason(exc)}") from None
    if len(data) > limit:
        raise UsageError(f"{source}: more than {limit // (1024 * 1024)} MiB; an infotext or "
                         "a `show --json` object is far smaller")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{source}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
                         f"{exc.start})") from None


def check_text(text: str, what: str) -> None:
    """Refuse text that is not valid Unicode: a lone surrogate, which a JSON escape
    (`\\ud800`) or a file name's undecodable byte in an argument gives, can be written to no
    file and printed to no terminal."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UsageError(f"{what}: is not valid text: {text[exc.start]!a} at character "
                         f"{exc.start} is a lone surrogate (an undecodable byte, or a JSON "
                         "escape such as \\ud800)") from None


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
        data = read_source(source)
        stripped = data.lstrip()
        if stripped.startswith("{"):
            try:
                obj = json.loads(data)
            except json.JSONDecodeError as exc:
                raise ParseError(f"{source}: broken JSON: {exc}") from None
            except RecursionError:
                raise ParseError(f"{source}: JSON nested too deeply") from None
            text = api.dump_a1111(GenParams.from_json(obj, source))
        else:
            text = data.strip("\n")
            if not text.strip():
                raise UsageError(f"{source}: is empty")
        check_text(text, source)
    except GenDataError as exc:
        error(str(exc))
        sys.exit(1)

    def one(path: str) -> None:
        report(api.write_text(path, text, output=output, force=force))
        click.echo(f"{output or path}: written", err=True)

    finish(for_each(files, one))
