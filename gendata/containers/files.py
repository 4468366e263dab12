"""Container layer: files as the OS sees them — the one way a file is opened for reading, the
one wording for a file the system would not let us read, what kind of file a path is, and
which file (`FileIdentity`) it was.

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

__all__ = ["FileIdentity", "NotRegularFile", "file_kind", "open_regular", "os_reason",
           "read_error", "read_head", "same_file"]

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link"))


def file_kind(mode: int) -> str:
    """What a file of `st_mode` is, in words ("a FIFO"), for refusals of non-regular files."""
    for test, words in _KINDS:
        if test(mode):
            return words
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


# Opening a FIFO without a writer blocks until one appears; O_NONBLOCK makes it return at
# once, so the descriptor can be checked before anything is read. O_NOCTTY: opening a
# terminal device must never make it our controlling terminal.
_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))


class NotRegularFile(ContainerError, OSError):
    """A path that names a FIFO, socket or device rather than a file: an OSError, as `open`
    raises, so readers word it with their other OSErrors (`os_reason`)."""


def _opener(path: str, flags: int) -> int:
    fd = os.open(path, _OPEN_FLAGS)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            if stat.S_ISDIR(mode):
                raise IsADirectoryError(21, "Is a directory", path)
            raise NotRegularFile(f"is {file_kind(mode)}, not a file")
        # O_NONBLOCK stays set: it changes nothing for a regular file's reads.
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


def same_file(f: BinaryIO, path: str | os.PathLike[str]) -> bool:
    """Whether the open file `f` is the file at `path` (a write onto itself)."""
    try:
        a, b = os.fstat(f.fileno()), os.stat(path)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


class FileIdentity:
    """Which file a path named, and in which state: equal identities mean "nothing changed".

    Size and modification time catch an edit in place; device and inode catch a replacement
    (what every careful editor, gendata included, does). A plain class, not a dataclass:
    every read takes one, and `gendata show` should not pay for building the class.
    """

    __slots__ = ("device", "inode", "mtime_ns", "size")

    def __init__(self, device: int, inode: int, size: int, mtime_ns: int) -> None:
        self.device = device
        self.inode = inode
        self.size = size
        self.mtime_ns = mtime_ns

    @classmethod
    def from_stat(cls, st: os.stat_result) -> FileIdentity:
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> FileIdentity:
        """The identity of the file at `path` now (links followed); OSError if there is none."""
        return cls.from_stat(os.stat(path))

    def _key(self) -> tuple[int, int, int, int]:
        return (self.device, self.inode, self.size, self.mtime_ns)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FileIdentity):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return (f"FileIdentity(device={self.device}, inode={self.inode}, size={self.size}, "
                f"mtime_ns={self.mtime_ns})")

    def __reduce__(self) -> tuple[type[FileIdentity], tuple[int, int, int, int]]:
        return (FileIdentity, self._key())

    def matches(self, st: os.stat_result) -> bool:
        return self._key() == (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)

    def change(self, now: FileIdentity | None) -> str:
        """In a few words, how `now` differs from this identity."""
        if now is None:
            return "it was deleted"
        if (now.device, now.inode) != (self.device, self.inode):
            return "it was replaced by another file"
        if now.size != self.size:
            return f"its size changed from {self.size} to {now.size} bytes"
        return "it was modified"
