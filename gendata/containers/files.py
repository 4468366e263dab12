"""Container layer: the one way a file is opened for reading, and the one wording for a file
the system would not let us read.

Every reader (images, safetensors, stealth pixels, embedding cards, thumbnails) opens through
`open_regular`, so a FIFO, socket or device named like an image is refused at once instead of
blocking the open or the first read forever (docs/guide.md#limits); and every reader turns the
same OSError into the same words, so `gendata show missing.png` and `gendata ti info
missing.safetensors` say it alike.
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO

from ..errors import ContainerError

__all__ = ["NotRegularFile", "open_regular", "os_reason", "read_error", "read_head",
           "special_kind"]

# Opening a FIFO without a writer blocks until one appears; O_NONBLOCK makes it return at
# once, so the descriptor can be checked before anything is read. O_NOCTTY: opening a
# terminal device must never make it our controlling terminal.
_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))


class NotRegularFile(OSError):
    """A path that names a FIFO, socket or device rather than a file."""


def special_kind(mode: int) -> str | None:
    """What a non-regular, non-directory file is, in words; None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return "not a regular file"


def _opener(path: str, flags: int) -> int:
    fd = os.open(path, _OPEN_FLAGS)
    try:
        mode = os.fstat(fd).st_mode
        kind = special_kind(mode)
        if kind is not None:
            if stat.S_ISDIR(mode):
                raise IsADirectoryError(21, "Is a directory", path)
            raise NotRegularFile(f"is {kind}, not a file")
        if _OPEN_FLAGS & getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """`open(path, "rb")`, refusing anything but a regular file with NotRegularFile (an
    OSError, so callers' OSError handling words it through `os_reason`).

    The check is made on the opened descriptor, never on the name, so the name cannot be
    swapped for a FIFO between the check and the read.
    """
    return open(path, "rb", opener=_opener)


def os_reason(exc: OSError) -> str:
    """Why an OSError happened, in a few lower-case words (no errno, no path)."""
    if isinstance(exc, IsADirectoryError):
        return "is a directory"
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, NotRegularFile):
        return str(exc)
    return str(exc.strerror or exc)


def read_error(path: str | os.PathLike[str], exc: OSError) -> ContainerError:
    """The ContainerError to raise (`from None`) for an OSError met reading `path`."""
    return ContainerError(f"{path}: {os_reason(exc)}")


def read_head(path: str | os.PathLike[str], n: int = 12) -> bytes:
    """The first `n` bytes of `path`, with read errors mapped to ContainerError."""
    try:
        with open_regular(path) as f:
            return f.read(n)
    except OSError as exc:
        raise read_error(path, exc) from None
