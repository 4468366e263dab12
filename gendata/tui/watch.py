"""Front end (TUI): keeping the list in step with the disk while the app is open.

A thread worker watches the folders given (recursively) and the folders of the files named
(not recursively) with watchfiles. Events that name image files, the common case (a
generator writing its next picture, another program editing one), are checked one by one
against the stamps the list holds (`scan_events`); anything else (a folder created, moved or
deleted) makes the list be compared with a fresh walk of the paths (`scan`), which also
catches up once when the watch starts. Either way only files whose stamp changed are read
again, and the list, not the events, decides: renames, missed events and our own saves come
out right. A full walk of 10,000 files takes about 0.4 s, in the worker.

watchfiles is imported in the worker, after the first files are listed, so it costs start-up
nothing; where it cannot watch (no inotify watches left, a network file system that sends no
events) the app says so once and `f5` still reloads.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from textual.worker import get_current_worker

from ..walk import IMAGE_SUFFIXES
from .library import Item, discover
from .stamps import FileStamp, stamp

if TYPE_CHECKING:
    from textual.app import App

    _Base = App[None]
else:
    _Base = object

DEBOUNCE_MS = 400  # a burst of events (a generator writing a batch) is taken as one
CHECK_MS = 1000  # how often the watcher wakes to see whether the app is closing


@dataclass
class DiskChanges:
    """What changed on disk since the list was made."""

    added: list[Item] = field(default_factory=list)
    updated: list[Item] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.updated or self.removed)


def scan(paths: Iterable[str], known: dict[str, FileStamp | None]) -> DiskChanges:
    """Walk `paths` as the list does and compare with `known` (path -> stamp when read):
    new files and files whose stamp changed are read; files no longer found are removed."""
    out = DiskChanges()
    found: set[str] = set()
    for path, name in discover(paths):
        found.add(path)
        if path not in known:
            out.added.append(Item.load(path, name))
        elif stamp(path) != known[path]:
            out.updated.append(Item.load(path, name))
    out.removed = [path for path in known if path not in found]
    return out


def scan_events(paths: Iterable[str], known: dict[str, FileStamp | None],
                events: Iterable[str]) -> DiskChanges | None:
    """What the files named by `events` (absolute paths from the watcher) mean for the list,
    by the walk's rule (image extension, nothing hidden); None when an event may be about a
    folder, which only a full `scan` can settle."""
    folders: list[tuple[str, str]] = []
    named: dict[str, str] = {}
    for given in paths:
        if os.path.isdir(given):
            folders.append((given, os.path.abspath(given)))
        else:
            named[os.path.abspath(given)] = given
    out = DiskChanges()
    for event in sorted(set(events)):
        listed, name = named.get(event), os.path.basename(event)
        if listed is None:
            for given, root in folders:
                if event.startswith(root + os.sep):
                    rel = event[len(root) + 1:]
                    if any(part.startswith(".") for part in rel.split(os.sep)):
                        break  # hidden: never listed
                    listed, name = os.path.join(given, rel), rel
                    break
            else:
                # Outside the folders as spelled: a named file's neighbour, or a folder
                # reached through a link, which the watcher reports by its real path.
                return None
            if listed is None:
                continue
            if os.path.splitext(event)[1].lower() not in IMAGE_SUFFIXES \
                    or os.path.isdir(event):
                if listed in known or os.path.isfile(event):
                    continue  # a sidecar file: never listed
                return None  # a folder, made, moved or deleted
        now = stamp(event)
        if listed in known:
            if now is None and listed not in named.values():
                out.removed.append(listed)
            elif now != known[listed]:
                out.updated.append(Item.load(listed, name))
        elif now is not None:
            out.added.append(Item.load(listed, name))
    return out


def watch_roots(paths: Iterable[str]) -> tuple[list[str], list[str]]:
    """(folders to watch recursively, folders to watch for the files named in `paths`)."""
    folders: list[str] = []
    parents: list[str] = []
    for path in paths:
        if os.path.isdir(path):
            folders.append(path)
        else:
            parent = os.path.dirname(os.path.abspath(path))
            if os.path.isdir(parent) and parent not in parents:
                parents.append(parent)
    return folders, parents


def _relevant(change: object, path: str) -> bool:
    """Hidden entries are never listed; among them are the temporary files every atomic
    write (ours too) goes through."""
    return not os.path.basename(path).startswith(".")


class FolderWatch(_Base):
    """Mixin for the app: the watcher workers. The app provides `paths`, `known_stamps()`
    and `apply_disk_changes(changes)`."""

    watching = True  # False: no watcher (create_app(watch=False))
    paths: list[str]
    _scan_lock: threading.Lock | None = None

    def start_watching(self) -> None:
        if not self.watching or self._scan_lock is not None:
            return
        self._scan_lock = threading.Lock()
        folders, parents = watch_roots(self.paths)
        for roots, recursive in ((folders, True), (parents, False)):
            if roots:
                self.run_worker(partial(self._watch, roots, recursive), thread=True,
                                group=f"watch-{recursive}", exclusive=True,
                                name="folder watcher", exit_on_error=False)

    if TYPE_CHECKING:  # the app's
        def known_stamps(self) -> dict[str, FileStamp | None]: ...
        def apply_disk_changes(self, changes: DiskChanges) -> None: ...

    def _watch(self, roots: list[str], recursive: bool) -> None:
        import watchfiles

        worker = get_current_worker()
        caught_up = False
        try:
            for changes in watchfiles.watch(
                    *roots, watch_filter=_relevant, debounce=DEBOUNCE_MS, step=50,
                    stop_event=worker.cancelled_event, rust_timeout=CHECK_MS,
                    yield_on_timeout=True, recursive=recursive, raise_interrupt=False,
                    ignore_permission_denied=True):
                if worker.is_cancelled:
                    return
                if changes or not caught_up:
                    # The first wake-up, changes or not, catches up with what changed
                    # between reading the files and the watch starting.
                    self.sync_with_disk({path for _, path in changes} if caught_up else None)
                    caught_up = True
        except Exception as exc:  # any failure to watch: say so, the app works on
            if not worker.is_cancelled:
                self._call(self.notify, f"not watching {', '.join(roots)} for changes "
                           f"({exc}); f5 reloads the list", severity="warning", timeout=8)

    def sync_with_disk(self, events: set[str] | None = None) -> None:
        """Compare the list with the disk, for the files named by `events` or (None, or an
        event about a folder) everywhere, and apply what changed. Run in a worker thread."""
        assert self._scan_lock is not None
        with self._scan_lock:
            known = self._call(self.known_stamps)
            if known is None:
                return
            changes = scan_events(self.paths, known, events) if events is not None else None
            if changes is None:
                changes = scan(self.paths, known)
            if changes:
                self._call(self.apply_disk_changes, changes)

    def _call(self, callback, *args, **kwargs):  # type: ignore[no-untyped-def]
        """`call_from_thread`, or None once the app is closing."""
        try:
            return self.call_from_thread(callback, *args, **kwargs)
        except RuntimeError:
            return None
