"""Front end: `gendata search` — query the index built by `gendata index`.

`--paths` and `--jsonl` import neither the readers, the model nor rich, and are written by
`gendata.matches`, which `python -m gendata` also runs without loading click: a search starts
in about the time `gendata show --json` of one file takes.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import click

from ..matches import silence_stdout, write_matches
from ._common import error
from .index import db_option
from .output import emit, output_options


class _QueryCommand(click.Command):
    """Reads `-word` (an excluded term) as part of the query, not as an option: only the
    command's own option names, written out, are options (`-n 5`, not `-n5`); anything
    else after one dash is a query term. `--` still ends the options."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        takes_value: dict[str, bool] = {}
        for param in self.get_params(ctx):
            if isinstance(param, click.Option):
                for name in (*param.opts, *param.secondary_opts):
                    takes_value[name] = not (param.is_flag or param.count)
        options: list[str] = []
        terms: list[str] = []
        rest = iter(args)
        for arg in rest:
            if arg == "--":
                terms.extend(rest)
                break
            name = arg.partition("=")[0] if arg.startswith("--") else arg
            if name in takes_value or arg.startswith("--"):
                options.append(arg)
                if takes_value.get(name) and "=" not in arg:
                    value = next(rest, None)
                    if value is not None:
                        options.append(value)
            else:
                terms.append(arg)
        return super().parse_args(ctx, [*options, "--", *terms])


@click.command(cls=_QueryCommand)
@click.argument("query", nargs=-1)
@db_option
@output_options(describe={"table": "the matches for reading",
                          "json": "one JSON array of the show --json objects (docs/json.md)",
                          "jsonl": "one show --json object a line",
                          "csv": "export's CSV columns"})
@click.option("--paths", "paths_only", is_flag=True,
              help="Only the paths, one a line (`gendata search lora:x --paths | gendata "
                   "export -`).")
@click.option("-0", "--null", is_flag=True, help="With --paths: end each path with NUL "
                                                 "instead of a newline (xargs -0).")
@click.option("-n", "--limit", type=click.IntRange(min=1), default=None,
              help="At most this many matches.")
@click.option("--sort", metavar="FIELD[:desc]", default=None,
              help="Order by a field (path, mtime, seed, steps, cfg, model, ...); default: "
                   "path.")
def search(query: tuple[str, ...], db: str | None, fmt: str, paths_only: bool, null: bool,
           limit: int | None, sort: str | None) -> None:
    """Find indexed images: every term must hold.

    \b
      red fox*          words of the prompt (whole words; fox* = starting with fox)
      "snow field"      a phrase
      -blurry           without this (any term can be negated)
      neg:lowres        a word of the negative prompt
      model:sdxl*       text fields: sampler scheduler model model_hash vae generator
                        lora embedding path (case-insensitive, * = anything)
      steps>=30 seed:42 numbers: seed steps cfg width height clip_skip denoise
                        (: = > >= < <=)

    Quote phrases for the shell: gendata search '"snow field"'. No terms lists every image.
    Exit status: 0 when something matched, 1 when nothing did, 2 for a bad query or a
    missing index. See docs/index.md.
    """
    text = " ".join(query)
    if null and not paths_only:
        raise click.UsageError("-0 goes with --paths")
    if paths_only and fmt != "table":
        raise click.UsageError(f"--paths and -f {fmt} are exclusive")
    if paths_only or fmt == "jsonl":
        sys.exit(write_matches(text, db, jsonl=not paths_only, null=null, limit=limit,
                               sort=sort))
    from ..indexing.query import QueryError
    from ..indexing.results import objects, open_index
    from ..indexing.schema import IndexDatabaseError

    try:
        conn = open_index(db)
    except IndexDatabaseError as exc:
        error(str(exc))
        sys.exit(2)
    found = 0

    def counted() -> Iterator[dict[str, Any]]:
        nonlocal found
        for obj in objects(text, conn, sort=sort, limit=limit):
            found += 1
            yield obj

    try:
        if fmt == "table":
            found = _table(text, conn, sort, limit)
        else:
            _emit(counted(), fmt)
    except (QueryError, IndexDatabaseError) as exc:
        error(str(exc))
        sys.exit(2)
    except BrokenPipeError:
        silence_stdout()
    finally:
        conn.close()
    if not found:
        sys.exit(1)


def _emit(objs: Iterator[dict[str, Any]], fmt: str) -> None:
    if fmt == "csv":
        from ..export import csv_cell, csv_columns

        emit(objs, fmt, columns=csv_columns, cell=csv_cell)
    else:
        emit(objs, fmt)


def _table(text: str, conn: Any, sort: str | None, limit: int | None) -> int:
    """The table of the matches, streamed (search_table); how many it printed."""
    from rich.console import Console

    from ..indexing.results import count, objects
    from .search_table import print_table

    total = count(text, conn)
    if not total:
        click.echo("no images match", err=True)  # the table is for reading: say so
        return 0
    return print_table(objects(text, conn, sort=sort, limit=limit), Console(), total=total,
                       limit=limit)
