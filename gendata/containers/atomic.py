"""Container layer: atomic file replacement shared by every writer.

A write goes to a temp file in the destination's folder, is fsynced and renamed over the
target, so a crash or an exception at any point leaves the original file as it was
(docs/architecture.md#rules, rule 2).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from ..errors import GenDataError, WriteError
from .files import os_reason


@contextlib.contextmanager
def atomic_output(dst: str | os.PathLike[str], *, like: str | os.PathLike[str] | None = None
                  ) -> Iterator[BinaryIO]:
    """Yield a binary file that replaces `dst` only if the block finishes without error.

    `like` names a file whose permission bits the result should keep (the original, when a
    file is edited in place).
    """
    dst = Path(dst)
    folder = dst.parent if str(dst.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise WriteError(f"{dst}: cannot create a temporary file in {folder}: "
                         f"{os_reason(exc)}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if like is not None:
            with contextlib.suppress(OSError):
                os.chmod(tmp, os.stat(like).st_mode & 0o7777)
        os.replace(tmp, dst)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, GenDataError):
            raise WriteError(f"{dst}: write failed, original left unchanged: {exc}") from None
        raise


def write_atomic(dst: str | os.PathLike[str], produce: Callable[[BinaryIO], None], *,
                 like: str | os.PathLike[str] | None = None) -> None:
    with atomic_output(dst, like=like) as f:
        produce(f)
