"""Container layer: files as the OS sees them — the one wording for a file the system would
not let us read, what kind of file a path is, and which file (`FileIdentity`) it was.

Every reader (images, safetensors, stealth pixels) turns the same OSError into the same
words, so `gendata show missing.png` and `gendata ti info missing.safetensors` say it alike.
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO

from ..errors import ContainerError

__all__ = ["FileIdentity", "file_kind", "os_reason", "read_error", "read_head", "same_file"]

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a symbolic link"))


def file_kind(mode: int) -> str:
    """What a file of `st_mode` is, in words ("a FIFO"), for refusals of non-regular files."""
    for test, words in _KINDS:
        if test(mode):
            return words
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


def os_reason(exc: OSError) -> str:
    """Why an OSError happened, in a few lower-case words (no errno, no path)."""
    if isinstance(exc, IsADirectoryError):
        return "is a directory"
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return str(exc.strerror or exc)


def read_error(path: str | os.PathLike[str], exc: OSError) -> ContainerError:
    """The ContainerError to raise (`from None`) for an OSError met reading `path`."""
    return ContainerError(f"{path}: {os_reason(exc)}")


def read_head(path: str | os.PathLike[str], n: int = 12) -> bytes:
    """The first `n` bytes of `path`, with read errors mapped to ContainerError."""
    try:
        with open(path, "rb") as f:
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
