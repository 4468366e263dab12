"""Service layer: which files a folder holds — the one rule that batch work (export, diff,
iter_records) and the TUI both follow, so they always see the same images.

The rule:

- A path named explicitly that is not a folder is always taken, whatever its name: its
  content decides (the container is detected from the bytes,
  docs/formats.md#detecting-the-container, so a `.jpg` that is really a PNG reads fine), and
  a missing file is still yielded, so that reading it gives an error record rather than a
  silent gap.
- A folder gives its regular files (links to files count, and broken links, which then read
  as errors) whose extension is an image one:
  `.png`, `.jpg`, `.jpeg`, `.jfif`, `.jpe`, `.webp`, in any case (`all_files`: every regular
  file). The extension decides only here, where opening every file to look would cost a
  read per file and turn a folder of sidecars (.txt, .json) into a wall of errors.
- Hidden entries (a name starting with ".") are skipped, files and folders alike: caches,
  `.git`, macOS `._` resource files. A hidden file or folder named explicitly is taken.
- Order: by name ignoring case (then exactly, so the order never depends on the file
  system), one folder's entries at a time; with `recursive`, a subfolder's files come at the
  subfolder's place in that order (depth first), so the walk is already sorted by path.
- A FIFO, socket or device with an image name (any name, with `all_files`) is yielded as an
  `Unreadable` path, so it becomes an error row: it is never opened, since reading it would
  block or never end.
- Links to folders inside a folder are not followed, so a link loop cannot hang the walk and
  a folder linked in twice is not read twice; a folder named explicitly is walked even when
  it is a link.
- A folder that cannot be listed yields an `Unreadable` path carrying the reason, so a batch
  reports it instead of skipping it silently.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

from .containers.files import file_kind

__all__ = ["IMAGE_SUFFIXES", "Unreadable", "iter_image_paths"]

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".jfif", ".jpe", ".webp"})


class Unreadable(str):
    """A path the walk itself could not open (a folder without permission, a glob that
    matches nothing); reading it should give an error record with `reason`."""

    reason: str

    def __new__(cls, path: str, reason: str) -> Unreadable:
        obj = super().__new__(cls, path)
        obj.reason = reason
        return obj

    def __reduce__(self) -> tuple[Any, ...]:  # keeps the reason across a process pool
        return (Unreadable, (str(self), self.reason))


def iter_image_paths(paths: Iterable[str | os.PathLike[str]], *, recursive: bool,
                     all_files: bool = False) -> Iterator[str]:
    """The files to read for `paths` (files and folders), lazily, by the module's rule."""
    for path in paths:
        path = os.fspath(path)
        if os.path.isdir(path):
            yield from _walk(path, recursive, all_files)
        else:
            yield path


def _name_key(entry: os.DirEntry[str]) -> tuple[str, str]:
    return (entry.name.casefold(), entry.name)


def _walk(folder: str, recursive: bool, all_files: bool) -> Iterator[str]:
    try:
        with os.scandir(folder) as it:
            entries = sorted((e for e in it if not e.name.startswith(".")), key=_name_key)
    except OSError as exc:
        yield Unreadable(folder, exc.strerror or str(exc))
        return
    for entry in entries:
        wanted = all_files or os.path.splitext(entry.name)[1].lower() in IMAGE_SUFFIXES
        try:
            if entry.is_dir(follow_symlinks=False):
                if recursive:
                    yield from _walk(entry.path, recursive, all_files)
                continue
            if not entry.is_file() and not (entry.is_symlink() and not os.path.exists(entry.path)):
                # A FIFO, socket or device named like an image is never opened (reading it
                # would block or never end): it becomes an error row, not a silent gap. A
                # broken link is taken, so that it shows as an error rather than vanishing.
                if wanted:
                    kind = file_kind(entry.stat().st_mode)
                    yield Unreadable(entry.path, f"is {kind}, not a file")
                continue
        except OSError:
            continue
        if wanted:
            yield entry.path
