"""Container layer: the one way gendata replaces a file, as a careful editor would
(docs/guide.md#how-files-are-written; docs/architecture.md#rules, rule 2).

`atomic_output(dst)` yields a file to write; only when the block ends without error does the
result replace `dst`, so a failure at any point leaves the original as it was. On the way it

- follows symbolic links: the file a link points to is replaced and the link stays a link;
- refuses anything that is not a regular file or a new path (a FIFO, a device, a socket, a
  directory), even when forced: `-o /dev/null` must never replace /dev/null;
- refuses a read-only file, and one with more than one hard link, unless the write policy
  says `force`; forced, a file with hard links is rewritten in place, so that every link
  sees the new content (that copy can be cut short by SIGKILL or a power cut, the one case
  where the original is not kept whole);
- writes through a temporary file (`tempfiles`) and gives it the old file's mode, owner,
  group and extended attributes (ACLs, SELinux labels) as far as the OS allows; a new file
  gets the mode of `like` (or 0666) less the umask;
- checks, just before the replace, that the file is still the one it was when the write
  began (or when the caller's lock was taken, `locks.locked`), and refuses if another
  program changed it meanwhile;
- moves the caller's advisory lock to the new file before it takes the old one's place.

`write_policy(force=True)` allows what is otherwise refused, for every write in the block:
the facade sets it from its `force` argument, so the containers need no parameter for it.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import signal
import stat
import threading
from collections.abc import Callable, Iterator
from typing import BinaryIO

from ..errors import FileChangedError, GenDataError, WriteError
from . import locks, tempfiles
from .files import FileIdentity, file_kind, os_reason

__all__ = ["atomic_output", "check_target", "resolve_target", "scratch_path", "write_atomic",
           "write_policy"]

_force: contextvars.ContextVar[bool] = contextvars.ContextVar("gendata_force", default=False)


@contextlib.contextmanager
def write_policy(*, force: bool) -> Iterator[None]:
    """Within the block, every write may (`force`) replace read-only and hard-linked files;
    an inner block cannot take back what an outer one allowed."""
    token = _force.set(force or _force.get())
    try:
        yield
    finally:
        _force.reset(token)


def resolve_target(dst: str | os.PathLike[str]) -> str:
    """The path a write of `dst` replaces: `dst` itself, or the file its links lead to."""
    path = os.fspath(dst)
    if not os.path.islink(path):
        return path
    real = os.path.realpath(path)
    if not os.path.lexists(real):
        raise WriteError(f"{dst}: is a symbolic link to {real}, which does not exist; "
                         "not written")
    return real


def check_target(dst: str | os.PathLike[str], target: str, *, force: bool
                 ) -> os.stat_result | None:
    """The stat of the file a write would replace (None: a new path), after refusing what
    must not be replaced."""
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise WriteError(f"{dst}: {os_reason(exc)}; not written") from None
    if not stat.S_ISREG(st.st_mode):
        raise WriteError(f"{dst}: is {file_kind(st.st_mode)}, not a regular file; gendata "
                         "only replaces regular files")
    if force:
        return st
    if not st.st_mode & 0o222 or not os.access(target, os.W_OK):
        raise WriteError(f"{dst}: is read-only; not written (--force writes it anyway)")
    if st.st_nlink > 1:
        raise WriteError(f"{dst}: has {st.st_nlink} hard links; not written (--force rewrites "
                         "it in place, so that every link sees the change)")
    return st


@contextlib.contextmanager
def atomic_output(dst: str | os.PathLike[str], *, like: str | os.PathLike[str] | None = None
                  ) -> Iterator[BinaryIO]:
    """Yield a binary file that replaces `dst` only if the block finishes without error.

    `like` names the file whose mode a new `dst` takes (the source of a copy); an existing
    `dst` keeps its own mode, owner and attributes.
    """
    force = _force.get()
    target = resolve_target(dst)
    st = check_target(dst, target, force=force)
    holder = locks.held(target)
    if holder is not None and (st is None or not holder.identity.matches(st)):
        raise _changed(dst, holder.identity, st)
    expected = holder.identity if holder else (FileIdentity.from_stat(st) if st else None)
    folder = os.path.dirname(target) or "."
    tempfiles.clean_stale(folder, once=True)
    try:
        temp = tempfiles.open_temp(folder, os.path.basename(target))
    except OSError as exc:
        raise WriteError(f"{dst}: cannot create a temporary file in {folder}: "
                         f"{os_reason(exc)}") from None
    keep_fd = False
    try:
        with os.fdopen(temp.fd, "w+b", closefd=False) as f:
            yield f
            f.flush()
        _copy_metadata(temp.fd, st, target, like)
        os.fsync(temp.fd)
        _check_unchanged(dst, target, expected)
        if st is not None and st.st_nlink > 1:
            _overwrite_in_place(temp.fd, target)
            if holder is not None:
                holder.identity = FileIdentity.of(target)
        else:
            if holder is not None and locks.fcntl is not None and holder.fd is not None:
                locks.fcntl.flock(temp.fd, locks.fcntl.LOCK_EX)  # locked before it is seen
            tempfiles.commit(temp, target)
            if holder is not None:
                holder.swap(temp.fd, FileIdentity.from_stat(os.fstat(temp.fd)))
                keep_fd = True
    except BaseException as exc:
        tempfiles.discard(temp)
        if isinstance(exc, OSError) and not isinstance(exc, GenDataError):
            raise WriteError(f"{dst}: write failed, original left unchanged: {exc}") from None
        raise
    finally:
        if not keep_fd:
            os.close(temp.fd)


@contextlib.contextmanager
def scratch_path(dst: str | os.PathLike[str]) -> Iterator[str]:
    """A new path, in the folder of the file `dst` leads to, for an intermediate file of a
    write made in two steps; removed afterwards, and on the signals a temporary file is."""
    target = resolve_target(dst)
    folder = os.path.dirname(target) or "."
    path = os.path.join(folder, tempfiles.temp_name(os.path.basename(target)))
    tempfiles.register(path)
    try:
        yield path
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        tempfiles.unregister(path)


def write_atomic(dst: str | os.PathLike[str], produce: Callable[[BinaryIO], None], *,
                 like: str | os.PathLike[str] | None = None) -> None:
    with atomic_output(dst, like=like) as f:
        produce(f)


def _changed(dst: str | os.PathLike[str], expected: FileIdentity, st: os.stat_result | None
             ) -> FileChangedError:
    now = FileIdentity.from_stat(st) if st is not None else None
    return FileChangedError(f"{dst}: changed on disk while gendata was editing it "
                            f"({expected.change(now)}); not written, the other change is kept")


def _check_unchanged(dst: str | os.PathLike[str], target: str,
                     expected: FileIdentity | None) -> None:
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    if expected is None:
        if st is not None:
            raise FileChangedError(f"{dst}: was created by another program while gendata was "
                             "writing it; not written, the other file is kept")
        return
    if st is None or not expected.matches(st):
        raise _changed(dst, expected, st)


def _copy_metadata(fd: int, st: os.stat_result | None, target: str,
                   like: str | os.PathLike[str] | None) -> None:
    """Give the new file the old one's owner, group, mode and extended attributes."""
    if not hasattr(os, "fchmod"):  # pragma: no cover - Windows before 3.13
        return
    if st is None:
        mode = 0o666
        if like is not None:
            with contextlib.suppress(OSError):
                mode = stat.S_IMODE(os.stat(like).st_mode) & 0o777
        os.fchmod(fd, mode & ~_umask())
        return
    # Owner first: chown clears the set-id bits, which the chmod after it restores.
    try:
        os.fchown(fd, st.st_uid, st.st_gid)
    except OSError:
        with contextlib.suppress(OSError):
            os.fchown(fd, -1, st.st_gid)
    os.fchmod(fd, stat.S_IMODE(st.st_mode))
    if hasattr(os, "listxattr"):
        try:
            names = os.listxattr(target)
        except OSError:
            names = []
        for name in names:
            with contextlib.suppress(OSError):
                os.setxattr(fd, name, os.getxattr(target, name))


_umask_lock = threading.Lock()


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _umask_lock:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _overwrite_in_place(src_fd: int, target: str) -> None:
    """Copy the finished temporary file into `target`'s own inode (forced hard-link edit),
    with SIGTERM, SIGHUP and SIGINT held back until the copy is complete."""
    blocked = set(tempfiles.SIGNALS) if hasattr(signal, "pthread_sigmask") else set()
    if blocked:
        signal.pthread_sigmask(signal.SIG_BLOCK, blocked)
    try:
        out = os.open(target, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            os.lseek(src_fd, 0, os.SEEK_SET)
            total = 0
            while block := os.read(src_fd, 1 << 20):
                view = memoryview(block)
                while view:
                    n = os.write(out, view)
                    view = view[n:]
                total += len(block)
            os.ftruncate(out, total)
            os.fsync(out)
        finally:
            os.close(out)
    finally:
        if blocked:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, blocked)
