"""Front end (TUI): what a file was when the app read it, and writes that refuse to replace a
file another program changed since.

A file is "the one read" while its device, inode, size and modification time (in
nanoseconds) are those taken when it was read: the library's `FileIdentity`, which
`api.read` records in `Record.identity` before reading. An edit made elsewhere changes at
least one of them: a program that writes in place changes size or mtime, one that writes a
new file and renames it over (as gendata does) changes the inode. The TUI keeps the stamp of
every file it lists, and every save passes it to the library as `expect`, which checks it
under the file's lock and raises FileChangedError, writing nothing, when the file changed;
the screens then ask whether to reload, overwrite or cancel.
"""

from __future__ import annotations

import os
import time

from .. import api
from ..errors import GenDataError
from ..model import GenParams

FileStamp = api.FileIdentity


def stamp(path: str | os.PathLike[str]) -> FileStamp | None:
    """The stamp of the file at `path` now (through a symlink: the file it points to); None
    when there is no regular file there."""
    if not os.path.isfile(path):
        return None
    try:
        return api.file_identity(path)
    except GenDataError:
        return None


def change_reason(path: str | os.PathLike[str], expected: FileStamp | None) -> str | None:
    """Why the file at `path` is no longer the one stamped `expected`, in words; None when it
    still is (or when it did not exist then and does not now)."""
    now = stamp(path)
    if now == expected:
        return None
    if expected is None:
        return "a file was created there"
    if now is None:
        return "it was deleted or moved away"
    when = time.strftime("%H:%M:%S", time.localtime(now.mtime_ns / 1e9))
    return f"{expected.change(now)}, at {when}"


def write_checked(path: str | os.PathLike[str], params: GenParams,
                  expected: FileStamp | None) -> FileStamp | None:
    """`api.write(path, params)` if the file is still the one stamped `expected`
    (FileChangedError otherwise, with nothing written); the file's new stamp."""
    api.write(path, params, expect=expected)
    return stamp(path)
