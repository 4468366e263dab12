"""Front end (TUI): what a file was when the app read it, and writes that refuse to replace a
file another program changed since.

A file is "the one read" while its device, inode, size and modification time (in
nanoseconds) are those stamped when it was read. An edit made elsewhere changes at least one
of them: a program that writes in place changes size or mtime, one that writes a new file and
renames it over (as gendata does) changes the inode. The TUI stamps every file it loads, and
every save goes through `write_checked`, so a form filled from old data never silently
replaces newer data: the screen asks first (reload, overwrite or cancel).

The check is made here until the library's writers make it themselves; then `write_checked`
becomes a call that passes `expected` to the library, and its callers stay as they are.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable
from typing import NamedTuple, TypeVar

from .. import api
from ..errors import WriteError
from ..model import GenParams

T = TypeVar("T")


class FileStamp(NamedTuple):
    """A file's identity and version as `os.stat` gives them."""

    dev: int
    ino: int
    size: int
    mtime_ns: int

    @property
    def mtime(self) -> float:
        return self.mtime_ns / 1e9


def stamp(path: str | os.PathLike[str]) -> FileStamp | None:
    """The stamp of the file at `path` now (through a symlink: the file it points to); None
    when there is no regular file there."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return FileStamp(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def change_reason(path: str | os.PathLike[str], expected: FileStamp | None) -> str | None:
    """Why the file at `path` is no longer the one stamped `expected`, in words; None when it
    still is (or when it did not exist then and does not now)."""
    now = stamp(path)
    if now == expected:
        return None
    if now is None:
        return "it was deleted or moved away"
    if expected is None:
        return "a file was created there"
    when = time.strftime("%H:%M:%S", time.localtime(now.mtime))
    if (now.dev, now.ino) != (expected.dev, expected.ino):
        return f"another program replaced it at {when}"
    if now.size != expected.size:
        return f"another program changed it at {when}, {expected.size} → {now.size} bytes"
    return f"another program changed it at {when}"


def check_unchanged(path: str | os.PathLike[str], expected: FileStamp | None) -> None:
    """WriteError when the file is no longer the one stamped `expected`."""
    why = change_reason(path, expected)
    if why is not None:
        raise WriteError(f"{os.fspath(path)}: changed on disk since it was read ({why}); "
                         "not written")


def guarded(path: str | os.PathLike[str], expected: FileStamp | None,
            write: Callable[[], T]) -> tuple[T, FileStamp | None]:
    """Run `write` (which replaces the file at `path`) only if the file is still the one
    stamped `expected`; return its result and the file's new stamp. WriteError otherwise,
    with nothing written."""
    check_unchanged(path, expected)
    result = write()
    return result, stamp(path)


def write_checked(path: str | os.PathLike[str], params: GenParams,
                  expected: FileStamp | None) -> FileStamp | None:
    """`api.write(path, params)` if the file is still the one stamped `expected` (WriteError
    otherwise); the new stamp."""
    return guarded(path, expected, lambda: api.write(path, params))[1]
