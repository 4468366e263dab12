"""Front end: `gendata tui` (browse, edit and batch-diff a folder) and `gendata edit IMG`.

Textual (and textual-image, which asks the terminal whether it draws pictures) is imported
only here, when one of these commands runs.
"""

from __future__ import annotations

import os

import click

from ..errors import GenDataError
from ._common import error


@click.command("tui")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--no-preview", is_flag=True, help="Do not draw image previews.")
def tui(paths: tuple[str, ...], no_preview: bool) -> None:
    """Browse images (files or folders, recursively; the current folder by default), view
    and edit their generation data and compare many at once."""
    from ..tui.app import create_app
    from ..tui.thumbs import graphics_widget

    graphics = None if no_preview else graphics_widget()
    create_app(list(paths) or ["."], thumbnails=not no_preview, graphics=graphics).run()


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
