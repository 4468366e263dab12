"""Service layer: many files at once — walking folders and globs, and reading on every core.

Batch work streams (docs/architecture.md#rules, rule 6): paths are produced lazily, at most a
few chunks of them are in flight at a time, and results come back in input order (or as they
finish), so memory stays flat for a million files. A file that cannot be read becomes a Record with
`error` set, never an exception that stops the run.

`iter_records` is the library's one way to read many files: given plain file paths and the
default `jobs=1` it yields `gendata.api.read_safe`'s Records, plus the sections `show` adds
(an embedded TI payload).
"""

from __future__ import annotations

import glob
import os
import stat
import sys
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from functools import partial
from typing import IO, Any, TypeVar

from .api import PathLike, Record, read
from .errors import GenDataError
from .walk import IMAGE_SUFFIXES, Unreadable, iter_image_paths

__all__ = [
    "IMAGE_SUFFIXES",
    "default_jobs",
    "expand_paths",
    "iter_records",
    "map_chunks",
    "map_files",
    "read_one",
    "record_json",
]

T = TypeVar("T")

CHUNK_SIZE = 128
# Below this many files a process pool costs more to start than it saves.
IN_PROCESS_BELOW = 384


def default_jobs() -> int:
    """Cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _stdin_paths(stream: IO[str], null: bool) -> Iterator[str]:
    if null:
        buf = ""
        while chunk := stream.read(65536):
            buf += chunk
            *parts, buf = buf.split("\0")
            yield from (p for p in parts if p)
        if buf:
            yield buf
        return
    for line in stream:
        line = line.rstrip("\r\n")
        if line:
            yield line


def expand_paths(paths: Iterable[PathLike], *, recursive: bool = False, all_files: bool = False,
                 stdin: IO[str] | None = None, null: bool = False) -> Iterator[str]:
    """Turn command-line style inputs into the files to read, lazily and in a stable order.

    Files and folders follow gendata.walk's rule (a named file is always taken; a folder
    gives its image files, hidden ones skipped, `recursive`: also those of its subfolders;
    `all_files`: every file); a glob (`*`, `?`, `[...]`, `**` across folders) gives its
    matches in sorted order, each taken by the same rule; `-` one path a line from `stdin`
    (NUL-separated with `null`, for `find -print0`).
    """
    for p in paths:
        p = os.fspath(p)
        if p == "-":
            yield from expand_paths(_stdin_paths(stdin or sys.stdin, null),
                                    recursive=recursive, all_files=all_files)
        elif not os.path.lexists(p) and glob.has_magic(p):
            matches = sorted(glob.iglob(p, recursive=True))
            if not matches:
                yield Unreadable(p, "no files match this pattern")
            yield from iter_image_paths(matches, recursive=recursive, all_files=all_files)
        else:
            yield from iter_image_paths([p], recursive=recursive, all_files=all_files)


def read_one(path: PathLike, stealth: bool | None = None) -> Record:
    """`api.read_safe` that also survives bugs: any exception becomes the Record's error, so
    one odd file never ends a run over a library of images."""
    if isinstance(path, Unreadable):
        return Record(path=str(path), error=f"{path}: {path.reason}")
    try:
        rec = read(path, stealth=stealth)
    except GenDataError as exc:
        return Record(path=str(path), error=str(exc))
    except Exception as exc:  # a parser bug must not stop a batch of a million files
        return Record(path=str(path), error=f"{path}: unexpected {type(exc).__name__}: {exc}")
    attach_extras(rec)
    return rec


def attach_extras(rec: Record) -> None:
    """Sections other services add to a record, as `show` adds them (an embedded TI payload)."""
    if rec.raw is None or not any(e.key == "sd-ti-embedding" for e in rec.raw.entries):
        return
    from .ti import inspect_record

    try:
        info = inspect_record(rec)
    except GenDataError as exc:
        rec.extras["textual_inversion"] = {"error": str(exc)}
        return
    if info is not None:
        rec.extras["textual_inversion"] = info


def record_json(rec: Record) -> dict[str, Any]:
    """The `show --json` object of a Record (docs/json.md)."""
    return rec.to_json()


# --- running over many files ---------------------------------------------------------------

# What a metadata read looks at: a file's first bytes (containers.open_raw reads 8 KiB) and its
# last (a PNG's last IDAT header and IEND, a JPEG's end marker, a WebP's EXIF chunk).
_HEAD_BYTES = 8192
_TAIL_BYTES = 65536 + 24
_AHEAD = 16  # files asked for ahead of the one being read, when they are not in memory
_SAMPLE = 16  # one file in this many is checked for being in memory


def _open_quietly(path: str) -> int | None:
    """A descriptor of regular file `path`, or None (never blocks: a fifo is not opened for
    reading here, and errors are left for the real read to report)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except (OSError, ValueError):
        return None
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            return fd
    except OSError:
        pass
    os.close(fd)
    return None


def _in_memory(path: str) -> bool:
    """False when the first page of `path` is not in the page cache (reading it would wait
    for the disk); True when it is, or when that cannot be told."""
    fd = _open_quietly(path)
    if fd is None:
        return True
    try:
        os.preadv(fd, [bytearray(1)], 0, os.RWF_NOWAIT)
    except BlockingIOError:
        return False
    except OSError:  # a file system without RWF_NOWAIT
        return True
    finally:
        os.close(fd)
    return True


def _ask_for(path: str) -> None:
    """Have the kernel start reading the parts of `path` a metadata read looks at, without
    waiting for them."""
    fd = _open_quietly(path)
    if fd is None:
        return
    try:
        size = os.fstat(fd).st_size
        os.posix_fadvise(fd, 0, _HEAD_BYTES, os.POSIX_FADV_WILLNEED)
        if size > _HEAD_BYTES:
            start = max(_HEAD_BYTES, size - _TAIL_BYTES)
            os.posix_fadvise(fd, start, size - start, os.POSIX_FADV_WILLNEED)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_ahead(paths: list[str]) -> Iterator[str]:
    """`paths`, in order. When a sample of them turns out not to be in memory (a cold page
    cache: the first export of a library on a disk), the kernel is asked to read each file's
    head and tail `_AHEAD` files before it is read, so that the disk works on many files at
    once instead of one read at a time. With the files in memory this costs one check per
    `_SAMPLE` files."""
    if len(paths) < 2 or not hasattr(os, "RWF_NOWAIT") or not hasattr(os, "posix_fadvise"):
        yield from paths  # one file (a read in this process) has nothing ahead of it
        return
    cold = False
    asked = 0
    for i, path in enumerate(paths):
        if not cold and i % _SAMPLE == 0 and not _in_memory(path):
            cold = True
            asked = i
        if cold:
            for ahead in paths[max(asked, i):i + _AHEAD]:
                _ask_for(ahead)
            asked = max(asked, i + _AHEAD)
        yield path


def _run_chunk(func: Callable[[str], T], chunk: list[str]) -> list[T]:
    return [func(p) for p in read_ahead(chunk)]


def _chunks(paths: Iterator[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for p in paths:
        chunk.append(p)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def map_files(func: Callable[[str], T], paths: Iterable[str], *, jobs: int | None = None,
              ordered: bool = True, chunksize: int = CHUNK_SIZE,
              in_process_below: int = IN_PROCESS_BELOW) -> Generator[T, None, None]:
    """`map(func, paths)` on `jobs` processes (default: every core), streaming.

    `func` must be picklable (a module-level function or a functools.partial of one) and
    should not raise. Paths go out in chunks of `chunksize`; at most a few chunks per worker
    are in flight, so neither the path list nor the results pile up in memory. Results come
    in input order, or as they finish with `ordered=False`. Fewer than `in_process_below`
    paths, or `jobs=1`, run in this process. Closing the iterator early (or Ctrl-C) stops
    the workers.
    """
    for results in map_chunks(partial(_run_chunk, func), paths, jobs=jobs, ordered=ordered,
                              chunksize=chunksize, in_process_below=in_process_below):
        yield from results


def map_chunks(func: Callable[[list[str]], T], paths: Iterable[str], *,
               jobs: int | None = None, ordered: bool = True, chunksize: int = CHUNK_SIZE,
               in_process_below: int = IN_PROCESS_BELOW) -> Generator[T, None, None]:
    """`func` of each chunk of `paths`, on `jobs` processes (default: every core).

    What `map_files` runs on, for callers that hand results back a chunk at a time (export
    sends a chunk's rows as one list of text, so the pool moves one object per chunk, not
    one per file). In this process (`jobs=1`, or fewer than `in_process_below` paths)
    every chunk is a single path, so results come as soon as each file is read.
    """
    jobs = default_jobs() if jobs is None else max(1, jobs)
    it = iter(paths)
    if jobs == 1:
        yield from (func([p]) for p in it)
        return
    head: list[str] = []
    for p in it:
        head.append(p)
        if len(head) >= in_process_below:
            break
    else:  # few files: no pool
        yield from (func([p]) for p in head)
        return
    from itertools import chain

    if hasattr(os, "fork") and sys.platform == "linux":
        from .forkpool import fork_map

        # The first file is read here, and every container's reader loaded, before the
        # workers are forked: what a first read loads and builds (dialect modules, compiled
        # patterns, caches) is then inherited instead of done again in every worker (~20 ms
        # each).
        yield func(head[:1])
        from .containers import CONTAINERS, module

        for kind in CONTAINERS:
            module(kind)
        chunks = _chunks(chain(head[1:], it), chunksize)
        del head
        yield from fork_map(func, chunks, jobs, ordered=ordered)
        return
    chunks = _chunks(chain(head, it), chunksize)
    del head
    yield from _executor_map(func, chunks, jobs, ordered=ordered)


def _init_worker() -> None:
    # Ctrl-C goes to the whole process group; only the parent handles it (and stops us).
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _executor_map(func: Callable[[list[str]], T], chunks: Iterator[list[str]], jobs: int, *,
                  ordered: bool) -> Iterator[T]:
    """map_chunks' pool where processes cannot be forked (Windows, macOS' default)."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    limit = jobs * 4
    pool = ProcessPoolExecutor(jobs, initializer=_init_worker)
    try:
        if ordered:
            pending: deque[Any] = deque()
            for chunk in chunks:
                pending.append(pool.submit(func, chunk))
                if len(pending) >= limit:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        else:
            running: set[Any] = set()
            for chunk in chunks:
                running.add(pool.submit(func, chunk))
                if len(running) >= limit:
                    done, running = wait(running, return_when=FIRST_COMPLETED)
                    for fut in done:
                        yield fut.result()
            while running:
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield fut.result()
    except BaseException:
        # Ctrl-C or the consumer stopped: drop the queued chunks and let the workers finish
        # the few already handed out (they ignore SIGINT; a chunk takes milliseconds).
        # Terminating them instead can leave the executor's manager thread stuck, and the
        # interpreter then hangs at exit joining it.
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def iter_records(paths: Iterable[PathLike], *, recursive: bool = False, all_files: bool = False,
                 jobs: int | None = 1, ordered: bool = True, stealth: bool | None = None
                 ) -> Iterator[Record]:
    """Read many images lazily: files, folders (`recursive` for subfolders), globs.

    Unreadable files give Records with `error` set instead of raising. `jobs` processes read
    in parallel (None: every core); Records then travel between processes by pickle, so for
    exporting prefer `gendata.export.export`, which serializes inside the workers.
    """
    files = expand_paths(paths, recursive=recursive, all_files=all_files)
    yield from map_files(partial(read_one, stealth=stealth), files, jobs=jobs, ordered=ordered)
