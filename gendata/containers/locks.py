"""Container layer: file identities and advisory locks, so that concurrent edits of one file
serialise and none is lost (docs/guide.md, "How files are written").

An edit is read, change, write. Two `gendata set` runs on one file, one changing the seed and
one the steps, each read the old file; whichever replaces it second would silently drop the
other's edit. So an edit holds `locked(path)` from before its read until after its write:
`fcntl.flock(LOCK_EX)` on the file, which every gendata process (and any other program that
uses flock) waits for.

A write replaces the file with a new one, and a lock belongs to the old one. So `atomic.py`
locks the new file before it is renamed into place and hands that lock to the holder here
(`Held.swap`); a process that was waiting on the old file then sees that the name now points
elsewhere and waits on the new file instead.

`FileIdentity` (files.py) is what "the same file" means: device, inode, size and
modification time. Every writer checks it just before replacing a file and refuses when it
changed, which also catches programs that take no lock, and lets a caller that read a file
long ago (the TUI) refuse to overwrite someone else's later edit.

Where `fcntl` does not exist (Windows), no lock is taken: edits there are not serialised, but
the identity check still refuses a file that changed since it was read.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import threading
import time
from collections.abc import Iterator

from ..errors import ContainerError, WriteError
from .files import FileIdentity, file_kind, read_error

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["LOCK_TIMEOUT", "FileIdentity", "Held", "held", "lock_key", "locked"]

# How long an edit waits for another one on the same file before giving up, in seconds.
LOCK_TIMEOUT = 60.0


class Held:
    """A lock this thread holds: the descriptor carrying it and the locked file's identity,
    kept current as gendata itself rewrites the file."""

    __slots__ = ("depth", "fd", "identity")

    def __init__(self, fd: int | None, identity: FileIdentity) -> None:
        self.fd = fd
        self.identity = identity
        self.depth = 1

    def swap(self, fd: int, identity: FileIdentity) -> None:
        """Carry the lock on `fd` from now on (the new file, already locked), releasing the
        old file's lock."""
        old, self.fd, self.identity = self.fd, fd, identity
        if old is not None and old != fd:
            os.close(old)


_local = threading.local()


def _held_map() -> dict[str, Held]:
    try:
        found: dict[str, Held] = _local.held
    except AttributeError:
        found = _local.held = {}
    return found


def lock_key(path: str | os.PathLike[str]) -> str:
    """The one name of the file `path` leads to (links and `..` resolved)."""
    return os.path.realpath(os.fspath(path))


def held(path: str | os.PathLike[str]) -> Held | None:
    """The lock this thread holds on the file at `path`, if any."""
    held_map = _held_map()
    if not held_map:
        return None
    return held_map.get(lock_key(path))


@contextlib.contextmanager
def locked(path: str | os.PathLike[str], *, timeout: float = LOCK_TIMEOUT) -> Iterator[Held]:
    """Hold the advisory lock of the file at `path` for the block; re-entrant in a thread.

    Raises ContainerError when `path` is missing or not a regular file, WriteError when
    another program keeps the lock past `timeout` seconds.
    """
    key = lock_key(path)
    held_map = _held_map()
    current = held_map.get(key)
    if current is not None:
        current.depth += 1
        try:
            yield current
        finally:
            current.depth -= 1
        return
    lock = _acquire(path, key, timeout)
    held_map[key] = lock
    try:
        yield lock
    finally:
        del held_map[key]
        if lock.fd is not None:
            os.close(lock.fd)


def _acquire(path: str | os.PathLike[str], key: str, timeout: float) -> Held:
    deadline = time.monotonic() + timeout
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(
        os, "O_NOCTTY", 0)
    while True:
        try:
            fd = os.open(key, flags)  # O_NONBLOCK: a FIFO must not block the open
        except OSError as exc:
            raise read_error(path, exc) from None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise ContainerError(f"{path}: {file_kind(st.st_mode)}, not a regular file")
            if fcntl is None:  # pragma: no cover - Windows
                return Held(fd, FileIdentity.from_stat(st))
            if not _flock(fd, path, deadline, timeout):
                return Held(fd, FileIdentity.from_stat(st))  # the file system has no locks
            st = os.fstat(fd)
            try:
                now = os.stat(key)
            except FileNotFoundError:
                now = None
            if now is not None and (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino):
                return Held(fd, FileIdentity.from_stat(st))
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # replaced (or deleted) while we waited: lock what the name holds now
        if now is None:
            raise ContainerError(f"{path}: no such file")


def _flock(fd: int, path: str | os.PathLike[str], deadline: float, timeout: float) -> bool:
    """Take the exclusive lock, polling until `deadline`; False when locks are unsupported."""
    delay = 0.002
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            pass
        except OSError as exc:
            if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
                return False
            raise WriteError(f"{path}: cannot lock: {exc.strerror or exc}") from None
        if time.monotonic() >= deadline:
            raise WriteError(f"{path}: another program has held its lock for {timeout:g} s "
                             "(a gendata edit still running?); not written")
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
