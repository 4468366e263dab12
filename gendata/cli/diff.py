"""Front end: `gendata diff` — what differs between two images, or across a batch."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from ..diff import TEXT_FIELDS
from ._common import error
from .output import echo_document, emit, output_options


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--base", type=click.Path(dir_okay=False), default=None,
              help="Batch: compare every image with this one.")
@click.option("-r", "--recursive", is_flag=True, help="Also read the subfolders of folders.")
@output_options(
    describe={"table": "for reading",
              "json": "the whole comparison as one object (docs/batch.md)",
              "jsonl": "batch: a row per image", "csv": "batch: a row per image"},
    json_help="The comparison as one JSON object (docs/batch.md).")
@click.option("--width", type=click.IntRange(min=10), default=60, show_default=True,
              help="Batch table: cut text cells to this many characters.")
@click.option("-0", "--null", is_flag=True,
              help="Paths read from `-` are NUL-separated (find -print0).")
@click.option("--storage-option", "storage_options", multiple=True, metavar="KEY=VALUE",
              help="For URLs (s3://, gs://, https://, ...): a filesystem option "
                   "(docs/scale.md). Repeatable.")
def diff(paths: tuple[str, ...], base: str | None, recursive: bool, fmt: str,
         width: int, null: bool, storage_options: tuple[str, ...]) -> None:
    """Show what differs in the generation data of images.

    Two files: field by field, prompts as a word diff, parameters as old -> new, LoRAs added,
    removed or reweighted. Three or more, or folders: one table of the fields that vary (the
    constant ones listed once above it); `--base IMG` compares each with one reference.
    Works across generators (a ComfyUI image against an A1111 one). `-` reads paths from
    standard input, one a line (`gendata search seed:42 --paths | gendata diff -`).
    """
    global _OPTIONS
    if storage_options:
        from ..errors import UsageError
        from ..remote.urls import parse_storage_options

        try:
            _OPTIONS = parse_storage_options(storage_options)
        except UsageError as exc:
            raise click.UsageError(str(exc)) from None
    if "-" in paths:
        paths = _with_stdin(paths, null)
    pair = base is None and len(paths) == 2 and not any(_is_folder(p) for p in paths)
    if pair:
        if fmt in ("csv", "jsonl"):
            raise click.UsageError(f"--{fmt} is for batch diffs (three or more images, or "
                                   "folders)")
        _pair(paths[0], paths[1], fmt)
    else:
        if len(paths) == 1 and base is None and not _is_folder(paths[0]):
            raise click.UsageError("diff needs two images, a folder, or --base")
        _batch(paths, base, recursive, fmt, width)


def _with_stdin(paths: tuple[str, ...], null: bool) -> tuple[str, ...]:
    """`paths` with `-` replaced by the paths on standard input."""
    from ..batch import expand_paths

    out: list[str] = []
    for p in paths:
        if p == "-":
            out.extend(expand_paths(["-"], stdin=sys.stdin, null=null))
        else:
            out.append(p)
    if not out:
        raise click.UsageError("no paths on standard input")
    return tuple(out)


# --storage-option, for the URLs among the paths (set once per command run)
_OPTIONS: dict[str, Any] = {}


def _is_url(path: str) -> bool:
    from ..remote import is_url

    return is_url(path)


def _is_folder(path: str) -> bool:
    """A folder, or a URL naming a prefix (ending in "/") or a glob."""
    if _is_url(path):
        import glob

        return path.endswith("/") or glob.has_magic(path)
    return os.path.isdir(path)


def _read(path: str) -> Any:
    from ..batch import read_one

    if _is_url(path):
        from ..remote.reader import read_url

        rec = read_url(path, _OPTIONS)
    else:
        rec = read_one(path)
    if rec.error:
        error(rec.error)
        sys.exit(1)
    return rec


def _pair(path_a: str, path_b: str, fmt: str) -> None:
    from ..diff import pair_diff

    a, b = _read(path_a), _read(path_b)
    result = pair_diff(a, b)
    if fmt == "json":
        echo_document(result.to_json())
        return
    emit((), "table", table=lambda console: pair_view(
        a, b, result.changes, marks=console.color_system is None, only=result.only))


def _batch(paths: tuple[str, ...], base_path: str | None, recursive: bool, fmt: str,
           width: int) -> None:
    from ..batch import expand_paths, iter_records
    from ..diff import batch_diff

    failed = 0
    records = []
    local = [p for p in paths if not _is_url(p)]
    records_in = iter_records(expand_paths(local, recursive=recursive), jobs=None)
    if len(local) < len(paths):
        from itertools import chain

        from ..remote.reader import iter_url_records

        records_in = chain(records_in, iter_url_records(
            [p for p in paths if _is_url(p)], _OPTIONS, recursive=recursive))
    for rec in records_in:
        if rec.error:
            error(rec.error)
            failed += 1
        else:
            records.append(rec)
    base = _read(base_path) if base_path else None
    if not records:
        error("no readable images to compare")
        sys.exit(1)
    result = batch_diff(records, base=base)
    if fmt == "json":
        echo_document(result.to_json())
    else:
        emit(result.records(), fmt, columns=["path", *result.varying],
             table=lambda console: batch_view(result, result.base, width, console.width))
    if failed:
        sys.exit(1)


# --- rich renderables (also usable by other front ends) ------------------------------------

def label(field: str) -> str:
    """Display name of a flattened field: the A1111 key where there is one."""
    from ..formats.a1111 import FIELD_TO_KEY

    if field.startswith("extra."):
        return field[6:]
    special = {"generator": "Generator", "prompt": "Prompt", "negative_prompt": "Negative prompt",
               "loras": "LoRAs", "width": "Width", "height": "Height",
               "hires_width": "Hires width", "hires_height": "Hires height"}
    return special.get(field) or FIELD_TO_KEY.get(field, field)


def _value_text(value: Any) -> str:
    """A value as the tables show it, its control characters spelled out (render.safe_text)."""
    from ..present.values import visible
    from .render import fmt

    if value is None:
        return "—"
    if isinstance(value, dict):  # loras
        return visible(", ".join(f"{k}:{_weight(v)}" for k, v in value.items()), "")
    return visible(fmt(value), "")


def _text(text: str, style: str = "") -> Any:
    from .render import safe_text

    return safe_text(text, style)


def _weight(w: Any) -> str:
    from .render import fmt

    if isinstance(w, (tuple, list)):
        return "/".join(fmt(x) for x in w)
    return fmt(w) if w is not None else "1"


def word_diff_text(old: str, new: str, *, marks: bool = False) -> Any:
    """A prompt diff as rich Text: deleted words red and struck through, inserted ones green.
    `marks` also brackets them as `[-deleted-]` and `{+inserted+}` (git's plain word diff),
    for output without colours."""
    from rich.text import Text

    from ..diff import word_diff
    from ..present.values import visible
    from .render import MAX_SHOWN_CHARS

    out = Text()
    styles = {"equal": "", "delete": "bold red strike", "insert": "bold green"}
    brackets = {"equal": ("", ""), "delete": ("[-", "-]"), "insert": ("{+", "+}")}
    left = MAX_SHOWN_CHARS  # drawing is the slow part: draw this much of a huge diff
    for op, piece in word_diff(old, new):
        if left <= 0:
            out.append(" … (--json shows all)", style="dim")
            break
        piece = visible(piece[:left])
        left -= len(piece)
        if marks:
            piece = brackets[op][0] + piece + brackets[op][1]
        out.append(piece, style=styles[op])
    return out


def pair_view(a: Any, b: Any, changes: list[Any], *, marks: bool = False,
              only: tuple[dict[str, Any], dict[str, Any]] = ({}, {})) -> Any:
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    from ..diff import lora_changes
    from .render import GENERATOR_NAMES, add_rows, clip

    def who(rec: Any) -> str:
        gen = rec.params.generator if rec.params else None
        return f"{rec.path} ({GENERATOR_NAMES.get(gen, gen) if gen else 'no generation data'})"

    head = Text()
    head.append("--- " + _value_text(who(a)) + "\n", style="red")
    head.append("+++ " + _value_text(who(b)), style="green")
    parts: list[Any] = [head]
    for rec, values in zip((a, b), only, strict=True):
        if values:  # two dialects: what only one of them records is not a difference
            t = Table(title=f"Recorded only by {who(rec)}", title_justify="left",
                      title_style="dim", show_header=False, box=None, padding=(0, 1))
            t.add_column("field", style="dim cyan", no_wrap=True)
            t.add_column("value", style="dim", overflow="fold")
            for k, v in values.items():
                t.add_row(label(k), _value_text(v))
            parts.append(t)
    if not changes:
        parts.append(Text("no differences in generation data", style="bold"))
        return Group(*parts)
    rest = []
    for c in changes:
        if c.field in TEXT_FIELDS:
            text = word_diff_text(c.old or "", c.new or "", marks=marks)
            parts.append(Panel(text, title=_text(label(c.field)), title_align="left",
                               border_style="cyan"))
        elif c.field != "loras":
            rest.append(c)
    if rest:
        t = Table(title="Parameters", title_justify="left", title_style="bold")
        t.add_column("field", style="cyan", no_wrap=True)
        t.add_column("old", style="red", overflow="fold")
        t.add_column("", no_wrap=True)
        t.add_column("new", style="green", overflow="fold")
        add_rows(t, ((_text(label(c.field)), Text(clip(_value_text(c.old))), "→",
                      Text(clip(_value_text(c.new)))) for c in rest))
        parts.append(t)
    lora = next((c for c in changes if c.field == "loras"), None)
    if lora is not None:
        t = Table(title="LoRAs", title_justify="left", title_style="bold")
        t.add_column("", no_wrap=True)
        t.add_column("name", style="magenta")
        t.add_column("weight")
        signs = {"added": ("+", "green"), "removed": ("-", "red"), "reweighted": ("~", "yellow")}
        rows = []
        for kind, name, old, new in lora_changes(lora.old, lora.new):
            mark, style = signs[kind]
            weight = (f"{_weight(old)} → {_weight(new)}" if kind == "reweighted"
                      else _weight(new if kind == "added" else old))
            rows.append((Text(mark, style=style), _text(clip(name)), _text(weight, style)))
        add_rows(t, rows)
        parts.append(t)
    return Group(*parts)


def _cut(text: str, width: int) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def batch_view(result: Any, base: str | None, width: int, console_width: int = 120) -> Any:
    """Constant fields once, then the varying ones: a table with a row per image when the
    columns fit, turned round (a row per field) when the images fit better, else one block
    per image."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from .render import add_rows, clip

    parts: list[Any] = []
    n = len(result.rows)
    if result.constant:
        parts.append(_text(f"Same in all {n} images" + (f" and in {base}" if base else ""),
                           "bold"))
        t = Table(show_header=False, box=None, padding=(0, 1))
        t.add_column("field", style="cyan", no_wrap=True)
        t.add_column("value", overflow="fold")
        add_rows(t, ((_text(label(k)), Text(clip(_value_text(v))))
                     for k, v in result.constant.items()))
        parts.append(t)
    if not result.varying:
        parts.append(Text(f"no differences across {n} images", style="bold"))
        return Group(*parts)
    parts.append(_text("Differences" + (f" against {base} (same as it: dimmed)" if base else ""),
                       "bold"))
    ref = result.rows[0][1] if base else None

    def cell(i: int, k: str, values: dict[str, Any]) -> Text:
        same = ref is not None and i > 0 and values[k] == ref[k]
        return Text(_cut(_value_text(values[k]), width), style="dim" if same else "")

    def name(i: int, path: str) -> Text:
        return _text(path, "bold cyan" if base and i == 0 else "bold")

    fits = max(2, console_width // 16)
    if len(result.varying) + 1 <= fits:
        t = Table()
        t.add_column("image", overflow="fold")
        for k in result.varying:
            t.add_column(_text(label(k)), overflow="fold")
        for i, (path, values) in enumerate(result.rows):
            t.add_row(name(i, path), *(cell(i, k, values) for k in result.varying))
        parts.append(t)
    elif n + 1 <= fits:
        t = Table()
        t.add_column("field", style="cyan", no_wrap=True)
        for i, (path, _) in enumerate(result.rows):
            t.add_column(name(i, path), overflow="fold")
        for k in result.varying:
            t.add_row(_text(label(k)), *(cell(i, k, values)
                                  for i, (_, values) in enumerate(result.rows)))
        parts.append(t)
    else:
        for i, (path, values) in enumerate(result.rows):
            t = Table(show_header=False, box=None, padding=(0, 1))
            t.add_column("field", style="cyan", no_wrap=True)
            t.add_column("value", overflow="fold")
            for k in result.varying:
                if ref is None or i == 0 or values[k] != ref[k]:  # with a base: what differs
                    t.add_row(_text(label(k)), cell(i, k, values))
            parts.append(name(i, path))
            parts.append(t)
    return Group(*parts)
