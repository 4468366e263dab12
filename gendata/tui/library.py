"""What the file list shows, independent of Textual: finding images, sorting, filtering,
keeping the session's original blocks, and applying one field's value to many files.

Which files a folder gives is gendata.walk's rule, the one batch commands follow too: image
extensions in folders (any case), hidden entries skipped, name order; files named explicitly
are always listed, and their bytes decide what they are.
"""

from __future__ import annotations

import itertools
import os
import shlex
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import api
from ..errors import GenDataError, UsageError
from ..model import GenParams
from ..present import format_value, generator_name, visible
from ..walk import Unreadable, iter_image_paths
from .stamps import FileStamp, stamp

SORTS = ("name", "date", "seed", "steps")


def discover(paths: Iterable[str | os.PathLike[str]]) -> Iterator[tuple[str, str]]:
    """(path, name shown) for every image in `paths`; folders are searched recursively and
    names are shown relative to the folder given; files named are shown relative to the
    folder they all lie in (`flux/a.png`, `sdxl/a.png` from a search), one file by its
    name. A folder's walk is in name order already, so the list can fill in its "name" sort
    as it goes."""
    given_paths = [os.fspath(p) for p in paths]
    files = [p for p in given_paths if not os.path.isdir(p)]
    common = None
    if len(files) > 1:
        try:
            common = os.path.commonpath([os.path.dirname(os.path.abspath(f)) for f in files])
        except ValueError:  # on different drives
            common = None
    seen: set[str] = set()
    for given in given_paths:
        folder = os.path.isdir(given)
        for path in iter_image_paths([given], recursive=True):
            if isinstance(path, Unreadable) or path in seen:
                continue  # a folder that cannot be listed has no row to show
            seen.add(path)
            if folder:
                yield path, os.path.relpath(path, given)
            elif common is not None:
                yield path, os.path.relpath(os.path.abspath(path), common)
            else:
                yield path, os.path.basename(path)


@dataclass(slots=True)
class Item:
    """One listed image, what was read from it, and the stamp of the file it was read from
    (what a save checks the file against, and what the folder watcher compares)."""

    path: str
    name: str
    record: api.Record
    stamp: FileStamp | None = None
    haystack: str = field(default="", repr=False)

    @classmethod
    def load(cls, path: str, name: str, *, stealth: bool | None = False) -> Item:
        # api.read stamps the file before reading it: a change made while it is read makes
        # the stamp older than the data, so it shows as a change, never the other way round.
        st = stamp(path)
        rec = api.read_safe(path, stealth=stealth)
        item = cls(path=path, name=name, record=rec,
                   stamp=rec.identity if rec.identity is not None else st)
        item.refresh()
        return item

    def take(self, other: Item) -> None:
        """Become `other`, a fresh read of the same file, in place: screens that hold this
        item see the new data."""
        self.record, self.stamp = other.record, other.stamp
        self.refresh()

    @property
    def mtime(self) -> float:
        return self.stamp.mtime_ns / 1e9 if self.stamp is not None else 0.0

    @property
    def shown_name(self) -> str:
        """The name as listed, with any control character in it spelled out."""
        return visible(self.name, "")

    def refresh(self) -> None:
        p = self.record.params
        text = [self.name]
        if p is not None:
            text += [p.prompt, p.negative_prompt]
        self.haystack = "\n".join(text).casefold()

    @property
    def params(self) -> GenParams | None:
        return self.record.params

    @property
    def generator(self) -> str:
        """Short column text: the generator, "—" for no data, "error" for unreadable data."""
        if self.record.params is not None:
            return self.record.params.generator or "?"
        return "error" if self.record.error else "—"


def matches(item: Item, query: str) -> bool:
    """Every whitespace-separated term of `query` occurs in the name or the prompts."""
    return all(term in item.haystack for term in query.casefold().split())


def _name_key(item: Item) -> tuple[str, ...]:
    return tuple(part.casefold() for part in Path(item.name).parts)


def in_name_order(items: list[Item], after: Item | None = None) -> bool:
    """Whether `items` (following `after`) are in the "name" sort's order: a folder's walk
    is, paths given in any order (standard input, several arguments) may not be."""
    keys = [_name_key(it) for it in ([after] if after is not None else []) + items]
    return all(a <= b for a, b in itertools.pairwise(keys))


def _sort_value(item: Item, sort: str) -> Any:
    if sort == "date":
        return item.mtime if item.stamp is not None else None
    return getattr(item.params, sort, None) if item.params is not None else None


def sort_items(items: Iterable[Item], sort: str, reverse: bool = False) -> list[Item]:
    """`items` in `sort` order ("name", "date", "seed", "steps"), descending with `reverse`;
    files without the value come last either way, by name."""
    if sort == "name":
        return sorted(items, key=_name_key, reverse=reverse)
    with_value: list[Item] = []
    without: list[Item] = []
    for item in items:
        (without if _sort_value(item, sort) is None else with_value).append(item)
    with_value.sort(key=_name_key)  # equal values keep name order whichever way
    with_value.sort(key=lambda it: _sort_value(it, sort), reverse=reverse)
    without.sort(key=_name_key)
    return with_value + without


def original_text(rec: api.Record) -> str | api.Snapshot | None:
    """The infotext block as it was on disk (exact bytes of the A1111 text: an unedited model
    dumps to the very text it was parsed from), the entries of another dialect as they were
    (api.Snapshot), or None when the file had no generation data or data the form cannot
    edit: what "revert file" writes back (or strips)."""
    if rec.params is None:
        return None
    try:
        params = api.editable_params(rec)
    except GenDataError:
        return None
    if params.origin is not None and params.origin.dialect != "a1111":
        return api.snapshot(rec)
    return api.dump_a1111(params)


def revert(path: str, original: str | api.Snapshot | None, expected: FileStamp | None
           ) -> FileStamp | None:
    """Put the session's original block back (pixels and other chunks untouched), if the
    file is still the one stamped `expected` (FileChangedError otherwise); the new stamp."""
    if original is None:
        api.strip(path, expect=expected)
    elif isinstance(original, api.Snapshot):
        api.restore(path, original, expect=expected)
    else:
        api.write_text(path, original, expect=expected)
    return stamp(path)


def apply_field(params: GenParams, name: str, value: Any) -> GenParams:
    """`params` with one diff field (gendata.diff.flatten naming: a typed field such as
    "model", or "extra.<key>") set to `value`; None removes it. Raises ValidationError /
    UsageError with a user sentence."""
    if name.startswith("extra."):
        key = name[len("extra."):]
        if value is None:
            return api.update(params, {}, unset=[key]) if key in params.extra else params
        return api.update(params, {}, set_keys={key: format_value(value)})
    if name in ("loras", "embeddings", "samplers", "generator"):
        raise UsageError(f"{name} cannot be set across files here: LoRAs come from the prompt's "
                         "<lora:...> tags, so edit the prompt instead")
    if name not in GenParams.model_fields:
        raise UsageError(f"no field named {name!r}")
    if value is None and name in ("prompt", "negative_prompt"):
        value = ""
    return params.edited(**{name: value})


def plan_apply(paths: Iterable[str], name: str, value: Any) -> list[str]:
    """The files among `paths` whose value for `name` differs from `value` (what the
    confirmation counts and what the apply step writes)."""
    from ..diff import flatten

    return [path for path in paths
            if flatten(api.read_safe(path).params).get(name) != value]


@dataclass
class SetPlan:
    """What setting one field in many files would do: the files it changes, those that have
    the value already, and those it cannot edit, with the reason."""

    todo: list[str] = field(default_factory=list)
    same: list[str] = field(default_factory=list)
    cannot: list[tuple[str, str]] = field(default_factory=list)


def plan_set(paths: Iterable[str], name: str, value: Any) -> SetPlan:
    """Read each file and sort it into a SetPlan for `name` = `value` (diff.flatten naming,
    as apply_field takes it)."""
    from ..diff import flatten

    plan = SetPlan()
    for path in paths:
        rec = api.read_safe(path)
        try:
            params = api.editable_params(rec)
        except GenDataError as exc:
            plan.cannot.append((path, str(exc)))
            continue
        (plan.same if flatten(params).get(name) == value else plan.todo).append(path)
    return plan


def apply_to_files(paths: Iterable[str], name: str, value: Any
                   ) -> tuple[list[str], list[str]]:
    """`apply_to_file` on each of `paths`: (the paths written, the errors of the others)."""
    written: list[str] = []
    failed: list[str] = []
    for path in paths:
        try:
            apply_to_file(path, name, value)
        except GenDataError as exc:
            failed.append(str(exc))
        else:
            written.append(path)
    return written, failed


def apply_to_file(path: str, name: str, value: Any) -> None:
    """Set one field in one file losslessly: read, changed and written under the file's
    lock (api.edit), so an edit another program makes at the same time is not lost."""
    api.edit(path, lambda rec: apply_field(api.editable_params(rec), name, value))


def cannot_edit_message(item: Item, exc: GenDataError) -> str:
    """Why the form will not open and what to do instead, naming the file as listed."""
    p = item.params
    if p is None or not p.generator:
        return str(exc).replace(item.path, item.name)
    name = generator_name(p.generator)
    return (f"Its {name} data cannot be edited in place; only A1111-style parameters can. "
            f"Write an A1111 copy without the {name} data, then edit that:\n"
            f"  gendata convert --replace -o copy.png {shlex.quote(item.path)}")
