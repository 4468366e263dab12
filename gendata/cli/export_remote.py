"""Front end: `gendata export` over URLs, to Parquet, or on a Dask cluster — the options
turned into a `gendata.remote.job.RemoteExport`, its output opened, its summary printed
(docs/scale.md)."""

from __future__ import annotations

import contextlib
import signal
import sys
from typing import Any, BinaryIO

import click

from ._common import error


def run_remote(paths: tuple[str, ...], *, recursive: bool, fmt: str, output: str,
               fields: tuple[str, ...], csv_extra: str, all_files: bool, null: bool,
               jobs: int | None, stealth: bool | None, bom: bool, quiet: bool, force: bool,
               storage_options: tuple[str, ...], engine: str, address: str | None,
               concurrency: int, batch_size: int, retries: int, resume: bool,
               stats: bool) -> None:
    from ..errors import GenDataError, UsageError
    from ..remote.job import RemoteExport, is_folder_output, run_export
    from ..remote.retry import RetryPolicy
    from ..remote.urls import parse_storage_options
    from ._common import StopFlag
    from .export import _bar, report_stats
    from .output import formula_guard
    from .progress import stderr_is_tty

    try:
        job = RemoteExport(
            inputs=paths, output=output, fmt=fmt, fields=fields or None, csv_extra=csv_extra,
            formula_guard=formula_guard(),
            recursive=recursive, all_files=all_files, null=null, stealth=stealth,
            storage_options=parse_storage_options(storage_options), engine=engine,
            address=address, jobs=jobs, concurrency=concurrency, page=batch_size,
            resume=resume, retry=RetryPolicy(attempts=retries))
        if fmt != "parquet":
            from ..export import ExportOptions

            ExportOptions(fmt=fmt, fields=fields or None, csv_extra=csv_extra)
    except UsageError as exc:
        raise click.UsageError(str(exc)) from None
    stop = StopFlag()
    try:
        previous: Any = signal.signal(signal.SIGINT, stop.handle)
    except ValueError:
        previous = None
    bar = None if quiet or not stderr_is_tty() else _bar()
    folder = fmt == "parquet" and output != "-" and is_folder_output(output)
    try:
        with contextlib.ExitStack() as stack:
            out = None if folder else stack.enter_context(_open_output(job, force))
            if out is not None and bom and fmt == "csv":
                out.write("\ufeff".encode())
            if bar is not None:
                bar.start()
                stack.callback(bar.stop)
            summary = run_export(job, out=out, progress=bar.update if bar else None,
                                 should_stop=stop)
    except GenDataError as exc:
        error(str(exc))
        sys.exit(2 if isinstance(exc, UsageError) else 1)
    except ImportError as exc:
        from ..remote.urls import scale_import_error

        error(str(scale_import_error(exc)))
        sys.exit(2)
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    for path, reason in summary.failed:
        error(reason if reason.startswith(path) else f"{path}: {reason}")
    if summary.failed_count > len(summary.failed):
        error(f"... and {summary.failed_count - len(summary.failed)} more")
    for reason in summary.task_errors:
        error(reason)
    if summary.failed_count:
        click.echo(f"gendata: {summary.failed_count} of {summary.count} files failed",
                   err=True)
    if stats:
        _print_stats(summary, report_stats)
    if summary.interrupted:
        error(f"interrupted after {summary.count} files; the output so far is complete"
              + ("; --resume completes it" if folder else ""))
        sys.exit(130)
    if summary.failed_count or summary.task_errors:
        sys.exit(1)


def _print_stats(summary: Any, report: Any) -> None:
    extra = ""
    if summary.remote:
        n = summary.remote
        extra = (f"; {summary.fetch.requests} requests ({summary.fetch.requests / n:.2f} per "
                 f"image), {summary.fetch.bytes / 1024:,.0f} KiB fetched "
                 f"({summary.fetch.bytes / n / 1024:.1f} KiB per image), "
                 f"{summary.fetch.retries} retries")
    report(summary.count, summary.failed_count, summary.seconds, extra)
    if summary.parts_written or summary.parts_skipped:
        click.echo(f"gendata: stats: {summary.parts_written} parts written, "
                   f"{summary.parts_skipped} kept from an earlier run", err=True)
    if summary.tasks_per_worker:
        workers = ", ".join(f"{w} {n}" for w, n in sorted(summary.tasks_per_worker.items()))
        click.echo(f"gendata: stats: tasks per worker: {workers}", err=True)


@contextlib.contextmanager
def _open_output(job: Any, force: bool) -> Any:
    """The binary stream a text export or one Parquet file is written to."""
    from ..remote.urls import filesystem, is_url

    if job.output == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    if is_url(job.output):
        fs, path = filesystem(job.output, job.storage_options)
        with fs.open(path, "wb") as f:
            yield f
        return
    from ..export import output_file

    with output_file(job.output, force=force) as (f, _existing):
        binary: BinaryIO = f
        yield binary
