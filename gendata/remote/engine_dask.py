"""Service layer: run export tasks on a Dask distributed cluster (`--engine dask`).

`--address tcp://HOST:PORT` joins a running scheduler; without one, a LocalCluster of worker
processes is started for the run and closed after it. Tasks are submitted as earlier ones
finish, a few per worker thread at a time, so the driver holds neither the listing nor the
rows: each task lists its shard and writes its own Parquet parts (docs/scale.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..errors import UsageError
from .tasks import JobSpec, Task, TaskResult, run_task
from .urls import scale_import_error

__all__ = ["DaskEngine"]

# Tasks in flight per worker thread: enough that no worker waits for the driver.
_PER_THREAD = 3


class DaskEngine:
    name = "dask"

    def __init__(self, address: str | None = None, jobs: int | None = None) -> None:
        self.address = address
        self.jobs = jobs
        self.workers: list[str] = []

    def _client(self) -> tuple[Any, Any]:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise scale_import_error(exc) from None
        if self.address:
            try:
                return Client(self.address, timeout="30s"), None
            except OSError as exc:
                raise UsageError(f"--address {self.address}: no Dask scheduler answers "
                                 f"({exc})") from None
        from ..batch import default_jobs

        cluster = LocalCluster(n_workers=self.jobs or default_jobs(), processes=True,
                               threads_per_worker=1, dashboard_address=None)
        return Client(cluster), cluster

    def map(self, spec: JobSpec, tasks: Iterable[Task], *, ordered: bool = False,
            should_stop: Callable[[], bool] | None = None) -> Iterator[TaskResult]:
        """`run_task(spec, task)` for every task on the cluster, as they finish."""
        from distributed import as_completed

        client, cluster = self._client()
        try:
            info = client.scheduler_info()
            self.workers = sorted(info.get("workers", {}))
            threads = sum(w.get("nthreads", 1) for w in info.get("workers", {}).values()) or 1
            limit = threads * _PER_THREAD
            spec_future = client.scatter(spec, broadcast=True)
            it = iter(tasks)
            running = as_completed()
            count = 0

            def submit(task: Task) -> None:
                nonlocal count
                count += 1
                # retries: a worker lost mid-task (killed, out of memory) runs it again
                running.add(client.submit(run_task, spec_future, task, pure=False, retries=2,
                                          key=f"gendata-{task.key}-{count}"))

            for task in it:
                submit(task)
                if count >= limit:
                    break
            for fut in running:
                result = fut.result()
                fut.release()
                yield result
                if should_stop is not None and should_stop():
                    break
                more = next(it, None)
                if more is not None:
                    submit(more)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
