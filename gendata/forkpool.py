"""Service layer: a process pool made of forked workers and pipes, for `batch.map_chunks`.

What batch work needs from a pool is small: hand chunks of paths to a few workers, get one
result back per chunk, keep input order, stop cleanly. concurrent.futures does that with a
call queue, a result queue, a feeder thread and a manager thread, and its import alone
(multiprocessing, threading, queue) costs ~15 ms, a tenth of an export of a thousand files.
Here each worker is a fork of this process (so it has every parser loaded already) with one
pipe in and one pipe out; the parent keeps two chunks in flight per worker and multiplexes the
pipes with poll(), so it is never blocked writing to a worker that is blocked writing back.

POSIX only (fork); batch falls back to concurrent.futures elsewhere.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import struct
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from .errors import GenDataError

__all__ = ["WorkerDied", "fork_map"]

T = TypeVar("T")

_LEN = struct.Struct("<Q")
_IN_FLIGHT = 2  # chunks per worker: one being read, one waiting, so no worker idles


class WorkerDied(GenDataError):
    """A worker process ended without sending back the result of a chunk it was given."""


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_exact(fd: int, n: int) -> bytes | None:
    parts = []
    while n:
        block = os.read(fd, min(n, 1 << 20))
        if not block:
            return None
        parts.append(block)
        n -= len(block)
    return b"".join(parts)


def _serve(func: Callable[[list[str]], Any], tasks: int, results: int) -> None:
    """A worker's life: read a chunk, send back (True, func(chunk)) or (False, exception),
    until the parent closes the task pipe."""
    while True:
        head = _read_exact(tasks, _LEN.size)
        if head is None:
            return
        body = _read_exact(tasks, _LEN.unpack(head)[0])
        if body is None:
            return
        try:
            reply = pickle.dumps((True, func(pickle.loads(body))), pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            try:
                reply = pickle.dumps((False, exc), pickle.HIGHEST_PROTOCOL)
            except Exception:
                reply = pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))
        _write_all(results, _LEN.pack(len(reply)) + reply)


class _Worker:
    __slots__ = ("inbox", "outbox", "pending", "pid", "results", "tasks")

    def __init__(self, pid: int, tasks: int, results: int) -> None:
        self.pid = pid
        self.tasks = tasks  # write end of the worker's task pipe (non-blocking)
        self.results = results  # read end of its result pipe (non-blocking)
        self.outbox = bytearray()  # task bytes not yet written
        self.inbox = bytearray()  # result bytes not yet a whole message
        self.pending: deque[int] = deque()  # sequence numbers of the chunks it holds


def _cpus(jobs: int) -> list[int]:
    """The CPU each worker keeps to, when there are at least as many CPUs as workers (else
    none). A worker left free moves between CPUs as the writing process wakes up beside it,
    and measured a third slower per file for it; the hand-out of chunks by load evens out
    a worker whose CPU is busy with something else."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return []
    return cpus[:jobs] if 1 < jobs <= len(cpus) else []


def _start(func: Callable[[list[str]], Any], jobs: int) -> list[_Worker]:
    workers: list[_Worker] = []
    cpus = _cpus(jobs)
    for n in range(jobs):
        task_r, task_w = os.pipe()
        result_r, result_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: never return into the caller's code
            code = 1
            try:
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
                if cpus:
                    os.sched_setaffinity(0, {cpus[n]})
                for w in workers:  # other workers' pipes: keep only our own ends open
                    os.close(w.tasks)
                    os.close(w.results)
                os.close(task_w)
                os.close(result_r)
                _serve(func, task_r, result_w)
                code = 0
            except BaseException:
                pass
            finally:
                os._exit(code)
        os.close(task_r)
        os.close(result_w)
        _bigger_pipe(result_r)
        os.set_blocking(task_w, False)
        os.set_blocking(result_r, False)
        workers.append(_Worker(pid, task_w, result_r))
    return workers


def _stop(workers: list[_Worker]) -> None:
    """Close every pipe (a worker sees the end of its tasks, or a broken pipe if it is still
    writing) and wait for the workers to exit."""
    for w in workers:
        for fd in (w.tasks, w.results):
            with contextlib.suppress(OSError):
                os.close(fd)
    for w in workers:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(w.pid, 0)


def _bigger_pipe(fd: int) -> None:
    """Let a chunk's result (a few hundred KiB of rows) go through in one write: Linux pipes
    hold 64 KiB unless asked for more. Best effort."""
    try:
        import fcntl

        fcntl.fcntl(fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError):
        pass


def fork_map(func: Callable[[list[str]], T], chunks: Iterator[list[str]], jobs: int, *,
             ordered: bool = True) -> Iterator[T]:
    """`func(chunk)` for every chunk, on `jobs` forked workers; in input order, or as they
    finish with `ordered=False`. `func` need not pickle (the workers are forks) but its
    results must. An exception raised by `func` is raised here; a worker that dies raises
    WorkerDied. Closing the iterator stops the workers."""
    workers = _start(func, jobs)
    readers = {w.results: w for w in workers}
    writers = {w.tasks: w for w in workers}
    poller = select.poll()
    for w in workers:
        poller.register(w.results, select.POLLIN)
    done: dict[int, T] = {}
    sent = next_out = 0
    more = True
    try:
        while True:
            # Hand out chunks while some worker has room, the one with fewest first.
            while more:
                w = min(workers, key=lambda w: len(w.pending))
                if len(w.pending) >= _IN_FLIGHT:
                    break
                chunk = next(chunks, None)
                if chunk is None:
                    more = False
                    break
                data = pickle.dumps(chunk, pickle.HIGHEST_PROTOCOL)
                if not w.outbox:
                    poller.register(w.tasks, select.POLLOUT)
                w.outbox += _LEN.pack(len(data))
                w.outbox += data
                w.pending.append(sent)
                sent += 1
            if next_out == sent:
                return
            for fd, _event in poller.poll():
                out = writers.get(fd)
                if out is not None:
                    try:
                        del out.outbox[:os.write(fd, out.outbox)]
                    except BrokenPipeError:
                        raise WorkerDied(f"worker process {out.pid} ended early") from None
                    if not out.outbox:
                        poller.unregister(fd)
                    continue
                w = readers[fd]
                block = os.read(fd, 1 << 20)
                if not block:
                    raise WorkerDied(f"worker process {w.pid} ended with {len(w.pending)} "
                                     "chunks unfinished")
                w.inbox += block
                while len(w.inbox) >= _LEN.size:
                    end = _LEN.size + _LEN.unpack_from(w.inbox)[0]
                    if len(w.inbox) < end:
                        break
                    ok, value = pickle.loads(w.inbox[_LEN.size:end])
                    del w.inbox[:end]
                    seq = w.pending.popleft()
                    if not ok:
                        raise value
                    if ordered:
                        done[seq] = value
                    else:
                        next_out += 1
                        yield value
            while next_out in done:
                yield done.pop(next_out)
                next_out += 1
    finally:
        _stop(workers)
