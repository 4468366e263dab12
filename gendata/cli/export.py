"""Front end: `gendata export` — many images' generation data as JSON, JSON Lines or CSV."""

from __future__ import annotations

import contextlib
import io
import signal
import sys
import time
from typing import Any

import click

from ..matches import silence_stdout
from ._common import StopFlag, error
from .output import formula_guard, output_options
from .progress import ProgressLine, stderr_is_tty


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("-r", "--recursive", is_flag=True, help="Also read the subfolders of folders.")
@output_options(formats=("json", "jsonl", "csv", "parquet"), default="jsonl",
                describe={"json": "one JSON array", "jsonl": "an object a line",
                          "csv": "columns in docs/batch.md",
                          "parquet": "schema in docs/scale.md; -o FILE.parquet or a folder "
                                     "of parts"})
@click.option("-o", "--output", default="-",
              help="Write here instead of standard output: a new file, or a regular file "
                   "that is not one of the inputs (replaced when the export ends); a URL; "
                   "for -f parquet a folder of part files unless it ends in .parquet.")
@click.option("--fields", multiple=True, metavar="A,B,...",
              help="Only these fields, in this order (show --json names, extra.<key>; "
                   "`extra` = every extra column in CSV). Repeatable.")
@click.option("--csv-extra", type=click.Choice(["columns", "json"]), default="columns",
              show_default=True,
              help="CSV: one extra.<key> column per key (rows written at the end), or one "
                   "JSON `extra` column (rows written as they come).")
@click.option("--all-files", is_flag=True,
              help="In folders, read every file, not only .png/.jpg/.jpeg/.webp.")
@click.option("-0", "--null", is_flag=True,
              help="Paths read from `-` are NUL-separated (find -print0).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes (default: every core).")
@click.option("--unordered", is_flag=True,
              help="Write records as they are read, not in input order (a little faster).")
@click.option("--stealth/--no-stealth", default=None,
              help="Also look for stealth pnginfo in the pixels (default: only when the "
                   "chunks hold nothing).")
@click.option("--bom", is_flag=True, help="Start the output with a UTF-8 byte order mark "
                                          "(lets old Excel versions open CSV as UTF-8).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option("--force", is_flag=True, help="Replace a read-only or hard-linked output file.")
@click.option("--storage-option", "storage_options", multiple=True, metavar="KEY=VALUE",
              help="A filesystem option for URLs (endpoint_url=..., anon=true; JSON values "
                   "are parsed). Repeatable. Credentials come from the usual places "
                   "(AWS_* variables, ~/.aws, ...).")
@click.option("--engine", type=click.Choice(["local", "dask"]), default="local",
              show_default=True,
              help="local: this machine's cores; dask: a Dask cluster (-f parquet -o FOLDER).")
@click.option("--address", metavar="tcp://HOST:PORT", default=None,
              help="The Dask scheduler to use (default: start a local cluster).")
@click.option("--concurrency", type=click.IntRange(min=1), default=64, show_default=True,
              help="URLs: objects in flight at once in each worker process.")
@click.option("--batch-size", type=click.IntRange(min=1), default=1000, show_default=True,
              help="URLs and Parquet: objects per task and per part file.")
@click.option("--retries", type=click.IntRange(min=1), default=3, show_default=True,
              help="URLs: tries in all for an object the storage answers with throttling or "
                   "a server error, with backoff (on top of the filesystem's own retries).")
@click.option("--resume", is_flag=True,
              help="Parquet folder: keep the parts an earlier run wrote and write the rest.")
@click.option("--stats", is_flag=True,
              help="Print what the export cost on stderr: images/s, and for URLs the "
                   "requests and bytes fetched per image.")
def export(paths: tuple[str, ...], recursive: bool, fmt: str, output: str,
           fields: tuple[str, ...], csv_extra: str, all_files: bool, null: bool,
           jobs: int | None, unordered: bool, stealth: bool | None, bom: bool,
           quiet: bool, force: bool, storage_options: tuple[str, ...], engine: str,
           address: str | None, concurrency: int, batch_size: int, retries: int,
           resume: bool, stats: bool) -> None:
    """Export the generation data of many images: files, folders, globs, `-` for a list of
    paths on standard input, or URLs (s3://, gs://, az://, hf://, https://, ...). One record
    per image, in the `show --json` schema; unreadable files become records with `error` set
    and are listed at the end (exit status 1). See docs/batch.md for the CSV columns and
    docs/scale.md for URLs, Parquet and Dask."""
    from ..batch import expand_paths
    from ..errors import UsageError
    from ..export import ExportOptions

    field_list = tuple(f.strip() for group in fields for f in group.split(",") if f.strip())
    from ..remote import is_url

    if (fmt == "parquet" or engine != "local" or address or resume or storage_options
            or is_url(output) or any(is_url(p) for p in paths)):
        from .export_remote import run_remote

        run_remote(paths, recursive=recursive, fmt=fmt, output=output, fields=field_list,
                   csv_extra=csv_extra, all_files=all_files, null=null, jobs=jobs,
                   stealth=stealth, bom=bom, quiet=quiet, force=force,
                   storage_options=storage_options, engine=engine, address=address,
                   concurrency=concurrency, batch_size=batch_size, retries=retries,
                   resume=resume, stats=stats)
        return
    ctx = click.get_current_context()
    output = str(click.Path(dir_okay=False, allow_dash=True).convert(
        output, next(p for p in ctx.command.params if p.name == "output"), ctx))
    started = time.perf_counter()
    try:
        opts = ExportOptions(fmt=fmt, fields=field_list or None, csv_extra=csv_extra,
                             stealth=stealth, formula_guard=formula_guard())
    except UsageError as exc:
        raise click.UsageError(str(exc)) from None
    stdin = sys.stdin if "-" in paths else None
    files = expand_paths(paths, recursive=recursive, all_files=all_files, stdin=stdin, null=null)

    from ..errors import GenDataError
    from ..export import output_file, without_output

    try:
        with contextlib.ExitStack() as stack:
            if output == "-":
                binary = sys.stdout.buffer
            else:
                # written to a temporary file that replaces `output` only at the end, so an
                # input is read whole before anything is replaced
                binary, existing = stack.enter_context(output_file(output, force=force))
                files = without_output(files, existing)
            broken_pipe, summary = _run(files, binary, opts, bom=bom, quiet=quiet, jobs=jobs,
                                        ordered=not unordered, to_stdout=output == "-")
    except GenDataError as exc:  # output refused, or an input is the output: nothing replaced
        error(str(exc))
        sys.exit(2 if isinstance(exc, UsageError) else 1)
    if stats:
        report_stats(summary.count, summary.failed_count, time.perf_counter() - started)
    if broken_pipe:
        sys.exit(1)
    for path, reason in summary.failed:
        error(reason if reason.startswith(path) else f"{path}: {reason}")
    if summary.failed_count > len(summary.failed):
        error(f"... and {summary.failed_count - len(summary.failed)} more")
    if summary.failed_count:
        click.echo(f"gendata: {summary.failed_count} of {summary.count} files failed",
                   err=True)
    if summary.interrupted:
        error(f"interrupted after {summary.count} files; the output so far is complete")
        sys.exit(130)
    if summary.failed_count:
        sys.exit(1)


def report_stats(count: int, failed: int, seconds: float, extra: str = "") -> None:
    """The `--stats` line on stderr."""
    rate = count / seconds if seconds > 0 else 0.0
    click.echo(f"gendata: stats: {count} images ({failed} failed) in {seconds:.2f} s, "
               f"{rate:,.0f} images/s{extra}", err=True)


def _run(files: Any, binary: Any, opts: Any, *, bom: bool, quiet: bool, jobs: int | None,
         ordered: bool, to_stdout: bool) -> tuple[bool, Any]:
    """Export `files` into `binary`; (whether stdout's reader went away, the summary)."""
    from ..export import ExportSummary
    from ..export import export as run_export

    out = io.TextIOWrapper(binary, encoding="utf-8", newline="", write_through=False)
    if bom:
        out.write("\ufeff")
    stop = StopFlag()
    try:
        previous: Any = signal.signal(signal.SIGINT, stop.handle)
    except ValueError:  # not the main thread: Ctrl-C handling stays as it is
        previous = None
    bar = None if quiet or not stderr_is_tty() else _bar()
    summary = ExportSummary()
    broken_pipe = False
    try:
        if bar is not None:
            bar.start()
        run_export(files, out, opts, jobs=jobs, ordered=ordered,
                   progress=bar.update if bar else None, should_stop=stop, summary=summary)
        out.flush()
    except BrokenPipeError:
        broken_pipe = True
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        if bar is not None:
            bar.stop()
        if broken_pipe:
            silence_stdout()
        elif to_stdout:
            out.detach()
        else:
            out.flush()
            out.detach()  # the file itself is closed (and put in place) by output_file
    return broken_pipe, summary



def _bar() -> ProgressLine:
    return ProgressLine("reading",
                        lambda s, secs: f"{s.count} files · {s.count / secs:,.0f} files/s")
