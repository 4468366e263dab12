"""Front end: `gendata index` — build, update, watch or check the search index."""

from __future__ import annotations

import glob
import shlex
import signal
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ._common import StopFlag, error, warn
from .progress import ProgressLine, stderr_is_tty

F = TypeVar("F", bound=Callable[..., Any])


class _DbOption(click.Option):
    """`--db FILE`, whose help names the default location; that is looked up only when the
    help is shown, so that commands do not pay for it at start-up."""

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        from ..indexing import ENV_VAR, user_db

        record = super().get_help_record(ctx)
        if record is None:
            return None
        return record[0], f"{record[1]} [default: ${ENV_VAR}, else {user_db()}]"


def db_option(f: F) -> F:
    return click.option("--db", type=click.Path(dir_okay=False), default=None, cls=_DbOption,
                        help="The index database.")(f)


@click.command()
@click.argument("paths", nargs=-1)
@db_option
@click.option("--rebuild", is_flag=True,
              help="Delete the index and build it again (from PATHS, or from every folder "
                   "indexed before).")
@click.option("--errors", "list_errors", is_flag=True,
              help="List the files indexed with an error, one `path: error` a line.")
@click.option("--forget", is_flag=True,
              help="Stop indexing PATHS (folders, files, globs indexed before): their files "
                   "leave the index.")
@click.option("--watch", is_flag=True,
              help="After indexing, keep the index current as files appear, change or "
                   "vanish, until Ctrl-C.")
@click.option("-0", "--null", is_flag=True,
              help="Paths read from `-` are NUL-separated (find -print0).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: every core).")
@click.option("--stealth/--no-stealth", default=None,
              help="Also look for stealth pnginfo in the pixels (default: only when the "
                   "chunks hold nothing).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no summary.")
@click.option("--storage-option", "storage_options", multiple=True, metavar="KEY=VALUE",
              help="For URLs (s3://, gs://, ...): a filesystem option (docs/scale.md). "
                   "Repeatable.")
def index(paths: tuple[str, ...], db: str | None, rebuild: bool, list_errors: bool,
          forget: bool, watch: bool, null: bool, jobs: int | None, stealth: bool | None,
          quiet: bool, storage_options: tuple[str, ...]) -> None:
    """Build or update the search index of images that `gendata search` queries.

    PATHS are files, folders (walked recursively), globs, or `-` for a list of paths on
    standard input, or URLs (s3://bucket/prefix/, docs/scale.md); none: every folder indexed
    before. Only new and changed files are read
    (a file is unchanged while its size, modification time and inode are); the rows of files
    gone from an indexed folder are removed, and a folder indexed before that is not there
    leaves the index until it is back (`--forget` stops indexing it). Files that cannot be
    read are kept with their error (`--errors` lists them). See docs/index.md.
    """
    from ..errors import GenDataError
    from ..indexing import build
    from ..indexing.schema import IndexDatabaseError

    if list_errors:
        if paths or rebuild or watch:
            raise click.UsageError("--errors lists the index's errors; it takes no PATHS, "
                                   "--rebuild or --watch")
        try:
            found = build.errors(db)
        except IndexDatabaseError as exc:
            error(str(exc))
            sys.exit(2)
        for path, reason in found:
            click.echo(reason if reason.startswith(path) else f"{path}: {reason}")
        return

    if forget:
        if not paths or rebuild or watch:
            raise click.UsageError("--forget takes the PATHS to stop indexing, and no "
                                   "--rebuild or --watch")
        try:
            summary = build.forget(paths, db)
        except GenDataError as exc:
            error(str(exc))
            sys.exit(2)
        for path, reason in summary.missing:
            error(f"{path}: {reason}")
        if not quiet:
            n, done = summary.removed, len(paths) - len(summary.missing)
            click.echo(f"gendata: {done} forgotten; {n} file{'s' * (n != 1)} left the index",
                       err=True)
        sys.exit(1 if summary.missing else 0)

    options = None
    if storage_options:
        from ..remote.urls import parse_storage_options

        try:
            options = parse_storage_options(storage_options)
        except GenDataError as exc:
            raise click.UsageError(str(exc)) from None
    stop = StopFlag()
    try:
        previous: Any = signal.signal(signal.SIGINT, stop.handle)
    except ValueError:  # not the main thread
        previous = None
    bar = None if quiet or not stderr_is_tty() else ProgressLine(
        "indexing", lambda s, secs: f"{s.scanned:,} files found · {s.read:,} read · "
                                    f"{s.read / secs:,.0f} files/s")
    try:
        if bar is not None:
            bar.start()
        summary = build.index(paths, db, rebuild=rebuild, jobs=jobs, stealth=stealth,
                              stdin=sys.stdin if "-" in paths else None, null=null,
                              progress=bar.update if bar else None, should_stop=stop,
                              storage_options=options)
    except GenDataError as exc:
        if bar is not None:
            bar.stop()
        error(str(exc))
        sys.exit(2)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if bar is not None:
        bar.stop()
    for path, reason in summary.missing:
        error(f"{path}: {reason}")
    for path in summary.gone:
        if paths:  # named, and gone: forgotten
            warn(f"{path} no longer exists: its files left the index, and it is no longer "
                 "indexed")
        else:  # remembered: it comes back with its folder (a drive mounted again)
            what = "matches no file" if glob.has_magic(path) else "is not there"
            warn(f"{path} {what} now: its files are out of the index until it is back "
                 f"(`gendata index --forget {shlex.quote(path)}` stops indexing it)")
    if not quiet:
        click.echo(_summary_line(summary), err=True)
    if summary.interrupted:
        error("interrupted; what was indexed so far is saved")
        sys.exit(130)
    if watch:
        _watch(paths, db, jobs, stealth, quiet)
    if summary.missing:
        sys.exit(1)


def _summary_line(summary: Any) -> str:
    present = summary.added + summary.updated + summary.unchanged
    parts = [f"{present} file{'s' * (present != 1)}: {summary.added} added, "
             f"{summary.updated} updated, {summary.unchanged} unchanged; "
             f"{summary.removed} removed"]
    if summary.failed_count:
        parts.append(f"{summary.failed_count} with errors (gendata index --errors)")
    return "gendata: " + "; ".join(parts)


def _watch(paths: tuple[str, ...], db: str | None, jobs: int | None, stealth: bool | None,
           quiet: bool) -> None:
    from ..errors import GenDataError
    from ..indexing.watcher import watch

    def report(summary: Any) -> None:
        if not quiet:
            click.echo(_summary_line(summary), err=True)
        for path, reason in summary.failed:
            error(reason if reason.startswith(path) else f"{path}: {reason}")

    if not quiet:
        click.echo("gendata: watching for changes (Ctrl-C stops)", err=True)
    import logging

    # watchfiles logs its own line when Ctrl-C ends the watch; stopping so is the usual end
    logging.getLogger("watchfiles").setLevel(logging.ERROR)
    try:
        from ..remote import is_url

        watch([p for p in paths if p != "-" and not is_url(p)], db, jobs=jobs, stealth=stealth,
              on_change=report, initial=False)
    except GenDataError as exc:
        error(str(exc))
        sys.exit(2)
    except KeyboardInterrupt:
        pass

