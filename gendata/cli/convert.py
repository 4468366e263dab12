"""Front end: `gendata convert` — a thin call into gendata.convert."""

from __future__ import annotations

import click

from ._common import finish, for_each
from .edit import force_option


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--to", "target", type=click.Choice(["a1111"]), default="a1111", show_default=True,
              help="Dialect to write.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write a copy here (.png/.jpg/.webp; another container re-encodes the "
                   "pixels). Default: convert in place. One input only.")
@click.option("--replace", is_flag=True,
              help="Drop the original generator's chunks (graph, JSON) instead of keeping them.")
@click.option("--dry-run", is_flag=True, help="Print the A1111 text; write nothing.")
@force_option
def convert(files: tuple[str, ...], target: str, output: str | None, replace: bool,
            dry_run: bool, force: bool) -> None:
    """Rewrite any generator's parameters as A1111 text (what Civitai and PNG Info read)."""
    if output and len(files) > 1:
        raise click.UsageError("-o/--output takes a single input file")
    from .. import api
    from ..convert import as_a1111
    from ..convert import convert as run

    def one(path: str) -> None:
        if dry_run:
            rec = api.read(path)
            if rec.params is None:
                from ..errors import UsageError

                raise UsageError(rec.error or f"{path}: has no generation data to convert")
            click.echo(api.dump_a1111(as_a1111(rec.params)))
            return
        if output is not None:
            api.check_output(output, force=force)
        # one lock around the read and every write that depends on it
        with api.editing(path, force=force):
            _text, changes = run(path, to=target, output=output, replace=replace)
        dest = output or path
        for change in changes:
            click.echo(f"{dest}: {change}", err=True)
        click.echo(f"{dest}: written as {target}", err=True)

    finish(for_each(files, one))
