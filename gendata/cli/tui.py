"""Front end: `gendata tui` (browse, edit and batch-diff a folder) and `gendata edit IMG`.

Textual (and textual-image, which asks the terminal whether it draws pictures) is imported
only here, when one of these commands runs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn

import click

from ..errors import GenDataError
from ._common import error


@click.command("tui")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, allow_dash=True))
@click.option("-0", "--null", is_flag=True,
              help="With -: the paths on standard input are NUL-separated (find -print0).")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path),
              help="The index the filter box searches [default: the one `gendata index` "
                   "builds, when it exists].")
@click.option("--no-index", is_flag=True,
              help="Filter by words in names and prompts, even where an index exists.")
@click.option("--no-preview", is_flag=True, help="Do not draw image previews.")
def tui(paths: tuple[str, ...], null: bool, db: Path | None, no_index: bool,
        no_preview: bool) -> None:
    """Browse images (files or folders, recursively; the current folder by default), view
    and edit their generation data and compare many at once.

    `-` reads the paths from standard input, one a line, and the keys from the terminal:
    `gendata search lora:detail --paths | gendata tui -`. Where an index exists, the filter
    box takes the search language (`gendata search --help`) and answers for the files as
    they are now."""
    source = None
    notices: list[str] = []
    if "-" in paths:
        paths, notices = _with_stdin(paths, null)
        source = "standard input" if len(paths) > 1 else None
        _keys_from_terminal()
    index = _index(db, no_index, notices)
    from ..tui.app import create_app
    from ..tui.thumbs import graphics_widget

    graphics = None if no_preview else graphics_widget()
    create_app(list(paths) or ["."], thumbnails=not no_preview, graphics=graphics,
               index=index, source=source, notices=notices).run()


def _index(db: Path | None, no_index: bool, notices: list[str]) -> Path | None:
    """The index the filter searches: `--db` (which must be one), else the default one if it
    exists (a notice when it cannot be used), else none."""
    if no_index:
        return None
    from ..indexing import default_db
    from ..indexing.schema import connect

    path = db if db is not None else default_db()
    if db is None and not path.is_file():
        return None
    try:
        connect(path, create=False).close()
    except GenDataError as exc:
        if db is not None:
            raise click.UsageError(str(exc)) from None
        notices.append(f"{exc}\nThe filter matches words in names and prompts instead "
                       "(--no-index: always).")
        return None
    return path


def _with_stdin(paths: tuple[str, ...], null: bool) -> tuple[tuple[str, ...], list[str]]:
    """`paths` with `-` replaced by the paths on standard input, and a notice about those
    that name nothing readable."""
    from ..batch import expand_paths

    out: list[str] = []
    missing: list[str] = []
    if sys.stdin.isatty():  # `gendata tui -` typed on its own: say what it waits for
        click.echo("gendata tui: reading paths, one a line; end with ctrl+d", err=True)
    for p in paths:
        if p != "-":
            out.append(p)
            continue
        for found in expand_paths(["-"], stdin=sys.stdin, null=null, recursive=True):
            reason = getattr(found, "reason", None)
            if reason is None and not os.path.isfile(found):
                reason = "no such file"
            if reason is None:
                out.append(os.fspath(found))
            else:
                missing.append(f"{found}: {reason}")
    if not out:
        why = f" ({missing[0]})" if missing else ""
        _fail(f"no images among the paths on standard input{why}")
    notices = []
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        notices.append(f"{len(missing)} path{'s' * (len(missing) != 1)} from standard input "
                       f"not listed: {missing[0]}{more}")
    return tuple(out), notices


def _fail(message: str) -> NoReturn:
    error(message)
    raise SystemExit(2)


def _keys_from_terminal() -> None:
    """Standard input held the paths; the app reads keys from file descriptor 0, so make
    that the controlling terminal, as `less` and `fzf` do."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR)
    except OSError as exc:
        _fail("the paths came from standard input, so keys must come from the terminal, and "
              f"there is none to read (/dev/tty: {exc.strerror or exc})")
    os.dup2(fd, 0)
    os.close(fd)


@click.command("edit")
@click.argument("image", type=click.Path(exists=True, dir_okay=False))
@click.option("--no-preview", is_flag=True, help="Do not draw image previews.")
def edit(image: str, no_preview: bool) -> None:
    """Open the edit form for one image (ctrl+s saves losslessly, escape leaves)."""
    from .. import api

    try:
        api.container_of(image)
    except GenDataError as exc:
        error(str(exc))
        raise SystemExit(1) from None
    from ..tui.app import create_app
    from ..tui.thumbs import graphics_widget

    graphics = None if no_preview else graphics_widget()
    create_app([os.fspath(image)], edit=image, thumbnails=not no_preview,
               graphics=graphics).run()
