"""Container layer: the temporary files a write goes through, and never leaves behind.

On Linux a write goes to an anonymous file (`O_TMPFILE`) in the destination's folder: it has
no name until it is complete, so a crash, `kill -9` or power cut mid-write leaves nothing.
It is then linked under a temporary name and renamed over the destination at once.

Elsewhere (or on a file system without `O_TMPFILE`, or with `GENDATA_NO_TMPFILE=1` in the
environment) the temporary file is named from the start. Its name is

    .<destination name>.gendata-<pid>-<8 hex digits>.tmp

in the destination's folder. It is removed when the write fails, and on SIGTERM, SIGHUP and
SIGINT while it exists. A temporary file of that pattern whose process is gone, or that is
older than `STALE_AFTER`, is stale: the first write into a folder removes the stale ones
there (`clean_stale`).
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import os
import re
import signal
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

__all__ = ["SIGNALS", "STALE_AFTER", "TEMP_PATTERN", "Temp", "clean_stale", "commit", "discard",
           "is_temp_name", "open_temp", "register", "temp_name", "unregister"]

TEMP_PATTERN = re.compile(r"^\.(?P<name>.+)\.gendata-(?P<pid>\d+)-[0-9a-f]{8}\.tmp$", re.DOTALL)
# A temporary file older than this is stale even when a process of its pid is running (pids
# are reused); no write of gendata takes an hour.
STALE_AFTER = 3600.0
_NAME_MAX = 255
SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGINT")
                 if hasattr(signal, name))


def temp_name(target_name: str) -> str:
    """A fresh temporary name for a write of `target_name`, within the 255-byte name limit."""
    suffix = f".gendata-{os.getpid()}-{os.urandom(4).hex()}.tmp"
    base = os.fsencode(target_name)[:_NAME_MAX - 1 - len(suffix)]
    return "." + os.fsdecode(base) + suffix


def is_temp_name(name: str) -> bool:
    return TEMP_PATTERN.match(name) is not None


@dataclass(slots=True)
class Temp:
    """An open temporary file: `path` is None while it is anonymous (O_TMPFILE)."""

    fd: int
    folder: str
    path: str | None


def _tmpfile_usable() -> bool:
    return (hasattr(os, "O_TMPFILE") and os.path.isdir("/proc/self/fd")
            and os.environ.get("GENDATA_NO_TMPFILE", "") in ("", "0"))


# Errors by which a file system says it has no O_TMPFILE (then a named file is used).
_NO_TMPFILE = {getattr(errno, n) for n in ("EOPNOTSUPP", "ENOTSUP", "EISDIR", "EINVAL")
               if hasattr(errno, n)}


def open_temp(folder: str, target_name: str) -> Temp:
    """A new, empty temporary file (mode 0600) for a write of `target_name` in `folder`."""
    if _tmpfile_usable():
        try:
            fd = os.open(folder, os.O_TMPFILE | os.O_RDWR | getattr(os, "O_CLOEXEC", 0), 0o600)
            return Temp(fd, folder, None)
        except OSError as exc:
            if exc.errno not in _NO_TMPFILE:
                raise
    path = os.path.join(folder, temp_name(target_name))
    flags = (os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
             | getattr(os, "O_BINARY", 0))
    register(path)
    try:
        fd = os.open(path, flags, 0o600)
    except OSError:
        unregister(path)
        raise
    return Temp(fd, folder, path)


def commit(temp: Temp, target: str) -> None:
    """Give the complete temporary file the name `target`, replacing what was there."""
    if temp.path is None:
        path = os.path.join(temp.folder, temp_name(os.path.basename(target)))
        register(path)
        try:
            _link_anonymous(temp.fd, temp.folder, os.path.basename(path))
        except BaseException:
            unregister(path)
            raise
        temp.path = path
    os.replace(temp.path, target)
    unregister(temp.path)
    temp.path = None
    _sync_folder(temp.folder)


def _link_anonymous(fd: int, folder: str, name: str) -> None:
    """Give the O_TMPFILE file `fd` the name `name` in `folder`: linkat(AT_SYMLINK_FOLLOW) on
    its /proc link. (os.link uses linkat only when given a folder descriptor; plain link()
    would try to link the /proc symlink itself.)"""
    dir_fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.link(f"/proc/self/fd/{fd}", name, dst_dir_fd=dir_fd, follow_symlinks=True)
    finally:
        os.close(dir_fd)


def discard(temp: Temp) -> None:
    """Remove the temporary file's name, if it has one (after a failure)."""
    if temp.path is not None:
        with contextlib.suppress(OSError):
            os.unlink(temp.path)
        unregister(temp.path)
        temp.path = None


def _sync_folder(folder: str) -> None:
    """Make the rename itself durable (POSIX); not possible or needed everywhere."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --- stale files -------------------------------------------------------------------------------

_cleaned: set[str] = set()


def clean_stale(folder: str, *, once: bool = False) -> list[str]:
    """Remove stale temporary files of gendata in `folder`; return their paths. `once`: only
    the first time this process asks for that folder (every write asks)."""
    if once:
        key = os.path.realpath(folder)
        if key in _cleaned:
            return []
        _cleaned.add(key)
    removed: list[str] = []
    now = time.time()
    try:
        entries = os.scandir(folder)
    except OSError:
        return removed
    with entries:
        for entry in entries:
            m = TEMP_PATTERN.match(entry.name)
            if m is None:
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode):
                continue
            if now - st.st_mtime < STALE_AFTER and _alive(int(m["pid"])):
                continue
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(entry.path)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name != "posix":  # os.kill(pid, 0) is not a probe there; rely on age alone
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


# --- removal on signals ------------------------------------------------------------------------

_live: set[str] = set()
_previous: dict[int, Any] = {}
_guard = threading.Lock()
_atexit_set = False


def register(path: str) -> None:
    """Remove `path` if a signal or the end of the process comes before `unregister(path)`
    (a KeyboardInterrupt can land between creating a file and the code that would remove it).
    """
    global _atexit_set
    with _guard:
        first = not _live
        _live.add(path)
        if not _atexit_set:
            atexit.register(_remove_live)
            _atexit_set = True
    if first:
        _install()


def unregister(path: str) -> None:
    with _guard:
        _live.discard(path)
        last = not _live
    if last:
        _restore()


def _install() -> None:
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers belong to the main thread; failures still clean up
    for signum in SIGNALS:
        with contextlib.suppress(ValueError, OSError):
            previous = signal.signal(signum, _on_signal)
            if previous is not _on_signal:
                _previous[signum] = previous


def _restore() -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    for signum, previous in list(_previous.items()):
        with contextlib.suppress(ValueError, OSError, TypeError):
            if signal.getsignal(signum) is _on_signal:
                signal.signal(signum, previous)
        del _previous[signum]


def _remove_live() -> None:
    for path in list(_live):
        with contextlib.suppress(OSError):
            os.unlink(path)
        _live.discard(path)


def _on_signal(signum: int, frame: FrameType | None) -> None:
    previous = _previous.get(signum, signal.SIG_DFL)
    if previous == signal.SIG_IGN:
        return
    if callable(previous):
        if previous is signal.default_int_handler:
            # KeyboardInterrupt may land where no cleanup would see the file: remove it now
            _remove_live()
        handler: Callable[[int, FrameType | None], Any] = previous
        handler(signum, frame)
        return
    _remove_live()  # the default action ends the process: nothing else will clean up
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
