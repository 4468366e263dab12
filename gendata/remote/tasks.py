"""Service layer: the unit of work both engines run — read a page of objects (many in flight
at once) and write its Parquet part, or hand its rows back.

A task is plain data (`Task`) and its result too (`TaskResult`), so it travels to a process
pool or a Dask worker by pickle; the filesystem objects in it carry their own settings, and
every worker opens its own connections. A failed object is an error row, never a failed task.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from ..api import Record
from .listing import PAGE, Missing, ObjectRef, Shard, iter_pages
from .rangefile import FetchStats
from .ranges import fetcher, probes, read_object
from .retry import RetryPolicy

__all__ = ["JobSpec", "Task", "TaskResult", "part_name", "read_page", "run_task"]

MAX_LISTED_FAILURES = 20


@dataclass(frozen=True)
class JobSpec:
    """What every task of one export shares. `out_dir`: write parts there (None: hand
    rows back as `show --json` objects, or as a pyarrow Table with `as_table`)."""

    out_fs: Any = None
    out_dir: str | None = None
    columns: tuple[str, ...] = ()
    as_table: bool = False
    all_files: bool = False
    page: int = PAGE
    concurrency: int = 64
    stealth: bool | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass(frozen=True)
class Task:
    """A shard to list and read (`shard`), or a page of objects already listed (`items`:
    ObjectRef, Missing, or local paths), in filesystem `fs` (None: local paths). `key` names
    its parts; `done`: part names an earlier run already wrote (`--resume`)."""

    key: str
    fs: Any = None
    shard: Shard | None = None
    items: tuple[Any, ...] = ()
    done: frozenset[str] = frozenset()


@dataclass
class TaskResult:
    key: str
    worker: str = ""
    count: int = 0
    failed_count: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    fetch: FetchStats = field(default_factory=FetchStats)
    parts_written: int = 0
    parts_skipped: int = 0
    seconds: float = 0.0
    error: str | None = None  # the task itself failed (listing, writing a part)
    remote: bool = False  # read from object storage (what `fetch` counts)
    rows: Any = None  # list of show --json objects, or a pyarrow Table

    def note(self, records: Sequence[Record]) -> None:
        for rec in records:
            self.count += 1
            if rec.error:
                self.failed_count += 1
                if len(self.failed) < MAX_LISTED_FAILURES:
                    self.failed.append((rec.path, rec.error))


def part_name(key: str, n: int) -> str:
    return f"part-{key}-{n:05d}.parquet"


def worker_name() -> str:
    """This worker, as the summary names it: the Dask worker's address, or the process."""
    if "distributed" in sys.modules:
        try:
            from distributed import get_worker

            return str(get_worker().address)
        except (ValueError, ImportError):
            pass
    return f"{os.uname().nodename}:{os.getpid()}" if hasattr(os, "uname") else str(os.getpid())


_pool_lock = threading.Lock()
_pools: dict[int, ThreadPoolExecutor] = {}


def _threads(n: int) -> ThreadPoolExecutor:
    """One thread pool per process (and size), kept between tasks."""
    with _pool_lock:
        pool = _pools.get(n)
        if pool is None:
            pool = _pools[n] = ThreadPoolExecutor(n, thread_name_prefix="gendata-fetch")
        return pool


_models_built = False


def _build_models() -> None:
    """Build the pydantic models (declared with `defer_build`) in this thread, once, before
    reader threads may need them: pydantic's deferred build is not safe to race, and two
    threads building GenParams at once can leave the class unable to validate."""
    global _models_built
    if _models_built:
        return
    with _pool_lock:
        if not _models_built:
            from ..model import Embedding, GenParams, Lora, SamplerPass

            for model in (Lora, Embedding, SamplerPass, GenParams):
                model.model_rebuild(force=True)
            _models_built = True


def _read_local(item: str, stealth: bool | None) -> Record:
    from ..batch import read_one

    return read_one(item, stealth)


def read_page(spec: JobSpec, fs: Any, items: Sequence[Any],
              fetch_stats: FetchStats | None = None) -> list[Record]:
    """The Records of a page, in order. Remote objects: every object's probes are fetched
    together first (`cat_ranges`, concurrent on async filesystems), then the objects are
    parsed on `spec.concurrency` threads, each fetching what its probes did not hold."""
    total = fetch_stats if fetch_stats is not None else FetchStats()
    if fs is None:
        return [_read_local(str(p), spec.stealth) for p in items]
    from .urls import url_of

    refs: list[ObjectRef | Missing] = []
    for item in items:
        if isinstance(item, ObjectRef) and item.size is None:
            try:
                size = spec.retry.call(partial(fs.size, item.path))
                item = ObjectRef(item.path, int(size))
            except FileNotFoundError:
                item = Missing(item.path, "no such object")
            except OSError as exc:
                item = Missing(item.path, str(exc) or type(exc).__name__)
        refs.append(item)
    paths: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    owner: list[int] = []
    for i, ref in enumerate(refs):
        if isinstance(ref, ObjectRef):
            for start, end in probes(ref.size or 0):
                paths.append(ref.path)
                starts.append(start)
                ends.append(end)
                owner.append(i)
    stats = [FetchStats() for _ in refs]
    preloaded: list[list[tuple[int, bytes]]] = [[] for _ in refs]
    if paths:
        kwargs = {"batch_size": max(1, spec.concurrency * 2)} if getattr(
            fs, "async_impl", False) else {}
        results = fs.cat_ranges(paths, starts, ends, on_error="return", **kwargs)
        for i, start, data in zip(owner, starts, results, strict=True):
            stats[i].requests += 1
            if isinstance(data, (bytes, bytearray)):
                stats[i].bytes += len(data)
                preloaded[i].append((start, bytes(data)))
            # a failed probe is fetched again, with retries, when the parser needs it

    def one(i: int) -> Record:
        ref = refs[i]
        if isinstance(ref, Missing):
            url = url_of(fs, ref.path)
            return Record(path=url, error=f"{url}: {ref.reason}")
        url = url_of(fs, ref.path)
        return read_object(url, ref.size or 0, fetcher(fs, ref.path, stats[i], spec.retry),
                           preloaded[i], stats=stats[i], stealth=spec.stealth)

    if len(refs) > 1 and spec.concurrency > 1:
        _build_models()
        records = list(_threads(spec.concurrency).map(one, range(len(refs))))
    else:
        records = [one(i) for i in range(len(refs))]
    for st in stats:
        total.add(st)
    return records


def _pages(spec: JobSpec, task: Task) -> Iterator[list[Any]]:
    if task.shard is not None:
        yield from iter_pages(task.fs, task.shard, all_files=spec.all_files, page=spec.page)
    else:
        yield list(task.items)


def _payload(spec: JobSpec, records: Iterable[Record]) -> Any:
    objs = [rec.to_json() for rec in records]
    if spec.as_table or spec.out_dir is not None:
        from .parquet import table

        return table(objs, spec.columns)
    return objs


def run_task(spec: JobSpec, task: Task) -> TaskResult:
    """Run one task: each page read and written as part `part-<key>-<n>` (skipped when
    `task.done` has it), or its rows handed back. A bad object is an error row; a listing or
    output error ends the task with `error` set (the parts written before it stay)."""
    t0 = time.perf_counter()
    result = TaskResult(task.key, worker=worker_name(), remote=task.fs is not None)
    try:
        _run(spec, task, result)
    except Exception as exc:
        where = task.shard.path if task.shard is not None else task.key
        result.error = f"{where}: {type(exc).__name__}: {exc}"
    result.seconds = time.perf_counter() - t0
    return result


def _run(spec: JobSpec, task: Task, result: TaskResult) -> None:
    rows: list[Any] = []
    for n, items in enumerate(_pages(spec, task)):
        name = part_name(task.key, n)
        if spec.out_dir is not None and name in task.done:
            result.parts_skipped += 1
            continue
        records = read_page(spec, task.fs, items, result.fetch)
        result.note(records)
        payload = _payload(spec, records)
        if spec.out_dir is not None:
            from .parquet import write_table

            write_table(payload, f"{spec.out_dir.rstrip('/')}/{name}", spec.out_fs)
            result.parts_written += 1
        else:
            rows.append(payload)
    if spec.out_dir is None:
        if spec.as_table:
            import pyarrow as pa

            from .parquet import parquet_schema

            result.rows = pa.concat_tables(rows) if rows else parquet_schema(
                spec.columns).empty_table()
        else:
            result.rows = [obj for page in rows for obj in page]
