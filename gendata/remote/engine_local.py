"""Service layer: run export tasks on this machine's cores (`--engine local`, the default).

Each task (a page or a shard, gendata.remote.tasks) goes to a worker process; inside it,
`concurrency` threads keep many requests in flight. Workers are started with `spawn`: the
parent already runs fsspec's event-loop thread, which a forked child would inherit stopped.
At most two tasks per worker are queued, so neither listing nor results pile up.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .tasks import JobSpec, Task, TaskResult, run_task

__all__ = ["LocalEngine"]


def _init_worker() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle


class LocalEngine:
    """A pool of `jobs` processes (1: run in this process)."""

    name = "local"

    def __init__(self, jobs: int | None = None) -> None:
        from ..batch import default_jobs

        self.jobs = default_jobs() if jobs is None else max(1, jobs)
        self.workers: list[str] = []

    def map(self, spec: JobSpec, tasks: Iterable[Task], *, ordered: bool = True,
            should_stop: Callable[[], bool] | None = None) -> Iterator[TaskResult]:
        """`run_task(spec, task)` for every task, in order (or as they finish)."""
        it = iter(tasks)
        head = list(itertools.islice(it, 2))
        if len(head) < 2 or self.jobs == 1:  # one task: no pool to start
            for task in itertools.chain(head, it):
                yield run_task(spec, task)
                if should_stop is not None and should_stop():
                    return
            return
        import multiprocessing
        from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

        pool = ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_worker)
        limit = self.jobs * 2
        pending: deque[Any] = deque(pool.submit(run_task, spec, t) for t in head)
        try:
            exhausted = False
            while True:
                while not exhausted and len(pending) < limit:
                    more = next(it, None)
                    if more is None:
                        exhausted = True
                    else:
                        pending.append(pool.submit(run_task, spec, more))
                if not pending:
                    break
                if ordered:
                    yield pending.popleft().result()
                else:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in done:
                        pending.remove(fut)
                        yield fut.result()
                if should_stop is not None and should_stop():
                    break
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
