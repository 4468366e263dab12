"""Service layer: one export over URLs, or to Parquet, on an engine — the inputs turned into
tasks, the tasks run, the results written, and a summary of what it cost.

Three ways out (docs/scale.md#output):
- Parquet to a folder (`-o out/`, `-o s3://bucket/out/`): every task writes its own part
  files, `part-<shard>-<n>.parquet`; a prefix read with `-r` is cut into shards that each task
  lists by itself, so the driver holds neither the listing nor the rows. `--resume` skips
  the parts an earlier run wrote. The only way out of `--engine dask`.
- Parquet to one file (`-o out.parquet`): tasks hand their rows back, written in order.
- JSON, JSON Lines or CSV, as `gendata export` writes them for local files.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import io
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, BinaryIO

from ..errors import UsageError
from .listing import PAGE, iter_objects, iter_pages, plan_shards
from .rangefile import FetchStats
from .retry import RetryPolicy
from .tasks import JobSpec, Task, TaskResult
from .urls import filesystem, is_local, is_url

__all__ = ["JobSummary", "RemoteExport", "is_folder_output", "run_export"]

_PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")


def is_folder_output(output: str) -> bool:
    """Whether a Parquet `-o` names a folder of parts rather than one file."""
    return not output.lower().endswith(_PARQUET_SUFFIXES)


@dataclass
class RemoteExport:
    """An export run by gendata.remote (what `gendata export` builds from its options)."""

    inputs: tuple[str, ...]
    output: str = "-"
    fmt: str = "jsonl"
    fields: tuple[str, ...] | None = None
    csv_extra: str = "columns"
    formula_guard: bool = True
    recursive: bool = False
    all_files: bool = False
    null: bool = False  # paths read from `-` are NUL-separated
    stealth: bool | None = None
    storage_options: dict[str, Any] = field(default_factory=dict)
    engine: str = "local"
    address: str | None = None
    jobs: int | None = None
    concurrency: int = 64
    page: int = PAGE
    resume: bool = False
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    shard_target: int = 64


@dataclass
class JobSummary:
    count: int = 0
    failed_count: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    fetch: FetchStats = field(default_factory=FetchStats)
    remote: int = 0  # objects read from object storage (what the fetch stats are about)
    tasks: int = 0
    task_errors: list[str] = field(default_factory=list)
    tasks_per_worker: dict[str, int] = field(default_factory=dict)
    cluster_workers: list[str] = field(default_factory=list)
    parts_written: int = 0
    parts_skipped: int = 0
    seconds: float = 0.0
    interrupted: bool = False

    MAX_LISTED = 1000

    def add(self, result: TaskResult) -> None:
        self.tasks += 1
        self.count += result.count
        self.failed_count += result.failed_count
        room = self.MAX_LISTED - len(self.failed)
        self.failed += result.failed[:max(room, 0)]
        self.fetch.add(result.fetch)
        if result.remote:
            self.remote += result.count
        if result.error:
            self.task_errors.append(result.error)
        if result.count or result.parts_written or result.parts_skipped:
            self.tasks_per_worker[result.worker] = self.tasks_per_worker.get(result.worker,
                                                                             0) + 1
        self.parts_written += result.parts_written
        self.parts_skipped += result.parts_skipped

    def stats(self) -> dict[str, Any]:
        """What `--stats` prints: counts, time, and per remote image the bytes and requests."""
        n = max(self.remote, 1)
        return {
            "images": self.count, "failed": self.failed_count, "seconds": round(self.seconds, 3),
            "images_per_second": round(self.count / self.seconds, 1) if self.seconds else None,
            "remote_images": self.remote, "requests": self.fetch.requests,
            "bytes": self.fetch.bytes, "retries": self.fetch.retries,
            "requests_per_image": round(self.fetch.requests / n, 3) if self.remote else None,
            "bytes_per_image": round(self.fetch.bytes / n) if self.remote else None,
            "tasks": self.tasks, "parts_written": self.parts_written,
            "parts_skipped": self.parts_skipped, "tasks_per_worker": self.tasks_per_worker,
        }


def _key(*parts: object) -> str:
    return hashlib.sha1("\0".join(map(str, parts)).encode()).hexdigest()[:12]


def _tasks(job: RemoteExport, parts: bool, done: frozenset[str]) -> Iterator[Task]:
    """The job's tasks, lazily, in input order. With `parts`, a prefix read recursively
    becomes shards listed by the tasks themselves; otherwise everything is listed here a
    page at a time."""
    from ..batch import expand_paths

    local = [p for p in job.inputs if not is_url(p)]
    if local:  # plain paths: gendata.walk's rule, pages of paths
        key = _key("local", *local)
        paths: list[str] = []
        n = 0
        for path in expand_paths(local, recursive=job.recursive, all_files=job.all_files,
                                 null=job.null):
            paths.append(path)
            if len(paths) == job.page:
                yield _task(f"{key}p{n:05d}", None, done, items=tuple(paths))
                paths, n = [], n + 1
        if paths:
            yield _task(f"{key}p{n:05d}", None, done, items=tuple(paths))
    for url in (p for p in job.inputs if is_url(p)):
        fs, path = filesystem(url, job.storage_options)
        if is_local(fs):
            yield from _tasks(_replace_inputs(job, (path,)), parts, done)
            continue
        if parts and job.recursive and _is_prefix(fs, path):
            for shard in plan_shards(fs, path, target=job.shard_target):
                if shard.deep:  # listed by its task
                    yield _task(shard.key, fs, done, shard=shard)
                    continue
                # the objects directly under a prefix: listed here, a task a page
                for n, page in enumerate(iter_pages(fs, shard, all_files=job.all_files,
                                                    page=job.page)):
                    yield _task(f"{shard.key}p{n:05d}", fs, done, items=tuple(page))
            continue
        for n, objects in enumerate(iter_objects(fs, path, recursive=job.recursive,
                                                 all_files=job.all_files, page=job.page)):
            yield _task(f"{_key(url)}p{n:05d}", fs, done, items=tuple(objects))


def _replace_inputs(job: RemoteExport, inputs: tuple[str, ...]) -> RemoteExport:
    from dataclasses import replace

    return replace(job, inputs=inputs)


def _is_prefix(fs: Any, path: str) -> bool:
    if glob.has_magic(path):
        return False
    try:
        return bool(fs.isdir(path))
    except OSError:
        return False


def _task(key: str, fs: Any, done: frozenset[str], **kw: Any) -> Task:
    mine = frozenset(n for n in done if n.startswith(f"part-{key}-"))
    return Task(key=key, fs=fs, done=mine, **kw)


def _engine(job: RemoteExport) -> Any:
    if job.engine == "dask":
        from .engine_dask import DaskEngine

        return DaskEngine(job.address, job.jobs)
    if job.engine != "local":
        raise UsageError(f"unknown engine {job.engine!r} (choose local or dask)")
    if job.address:
        raise UsageError("--address is for --engine dask")
    from .engine_local import LocalEngine

    return LocalEngine(job.jobs)


def _prepare_folder(job: RemoteExport) -> tuple[Any, str, frozenset[str]]:
    """The output folder's filesystem and path, and the parts already in it. Parts left by
    an earlier run are kept only with --resume; half-written local ones are removed."""
    if is_url(job.output):
        out_fs, out_dir = filesystem(job.output, job.storage_options)
    else:
        from fsspec.implementations.local import LocalFileSystem

        out_fs, out_dir = LocalFileSystem(), os.path.abspath(job.output)
    out_dir = out_dir.rstrip("/") or "/"
    if is_local(out_fs):
        if os.path.exists(out_dir) and not os.path.isdir(out_dir):
            raise UsageError(f"{job.output}: is a file; Parquet parts go to a folder (or "
                             "name a .parquet file for one file)")
        os.makedirs(out_dir, exist_ok=True)
        names = os.listdir(out_dir)
        for name in names:
            if name.startswith("part-") and ".parquet.tmp-" in name:
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(out_dir, name))
    else:
        try:
            names = [os.path.basename(p.rstrip("/")) for p in out_fs.ls(out_dir, detail=False)]
        except FileNotFoundError:
            names = []
        out_fs.makedirs(out_dir, exist_ok=True)
    parts = frozenset(n for n in names if n.startswith("part-") and n.endswith(".parquet"))
    if parts and not job.resume:
        raise UsageError(f"{job.output}: already holds {len(parts)} part files; --resume "
                         "completes that export, or choose an empty folder")
    return out_fs, out_dir, parts


def run_export(job: RemoteExport, *, out: BinaryIO | None = None,
               progress: Callable[[JobSummary], None] | None = None,
               should_stop: Callable[[], bool] | None = None) -> JobSummary:
    """Run `job`. Text formats and a single Parquet file are written to `out` (a binary
    stream the caller opened); a Parquet folder is written by the tasks themselves."""
    from .parquet import check_columns

    t0 = time.perf_counter()
    summary = JobSummary()
    parquet = job.fmt == "parquet"
    parts = parquet and is_folder_output(job.output) and job.output != "-"
    if job.engine == "dask" and not parts:
        raise UsageError("--engine dask writes Parquet parts: use -f parquet -o FOLDER "
                         "(a local path or a URL)")
    if job.resume and not parts:
        raise UsageError("--resume completes a Parquet export to a folder (-f parquet -o DIR)")
    columns = check_columns(job.fields) if parquet else ()
    engine = _engine(job)
    if parts:
        out_fs, out_dir, done = _prepare_folder(job)
        spec = JobSpec(out_fs=out_fs, out_dir=out_dir, columns=columns,
                       all_files=job.all_files, page=job.page, concurrency=job.concurrency,
                       stealth=job.stealth, retry=job.retry)
        sink: Any = None
    else:
        done = frozenset()
        spec = JobSpec(columns=columns, as_table=parquet, all_files=job.all_files,
                       page=job.page, concurrency=job.concurrency, stealth=job.stealth,
                       retry=job.retry)
        if out is None:
            raise UsageError("this export writes to a stream: give `out`")
        sink = _ParquetSink(out, columns) if parquet else _TextRows(out, job)
    try:
        for result in engine.map(spec, _tasks(job, parts, done), ordered=not parts,
                                 should_stop=should_stop):
            summary.add(result)
            if sink is not None and result.rows is not None:
                sink.write(result.rows)
            if progress is not None:
                progress(summary)
            if should_stop is not None and should_stop():
                summary.interrupted = True
                break
    finally:
        if sink is not None:
            sink.close()
        summary.cluster_workers = list(getattr(engine, "workers", []))
        summary.seconds = time.perf_counter() - t0
    return summary


class _ParquetSink:
    def __init__(self, out: BinaryIO, columns: tuple[str, ...]) -> None:
        import pyarrow.parquet as pq

        from .parquet import parquet_schema

        self.writer = pq.ParquetWriter(out, parquet_schema(columns), compression="zstd")

    def write(self, tbl: Any) -> None:
        if tbl.num_rows:
            self.writer.write_table(tbl)

    def close(self) -> None:
        self.writer.close()


class _TextRows:
    def __init__(self, out: BinaryIO, job: RemoteExport) -> None:
        from ..export import ExportOptions
        from .textout import TextSink

        self.text: IO[str] = io.TextIOWrapper(out, encoding="utf-8", newline="",
                                              write_through=False)
        opts = ExportOptions(fmt=job.fmt, fields=job.fields, csv_extra=job.csv_extra,
                             stealth=job.stealth, formula_guard=job.formula_guard)
        self.sink = TextSink(self.text, opts)

    def write(self, objs: list[dict[str, Any]]) -> None:
        for obj in objs:
            self.sink.write(obj)

    def close(self) -> None:
        self.sink.close()
        self.text.flush()
        self.text.detach()  # type: ignore[attr-defined]

