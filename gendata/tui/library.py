"""What the file list shows, independent of Textual: finding images, sorting, filtering,
keeping the session's original blocks, and applying one field's value to many files.

Which files a folder gives is gendata.walk's rule, the one batch commands follow too: image
extensions in folders (any case), hidden entries skipped, name order; files named explicitly
are always listed, and their bytes decide what they are.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import api
from ..errors import GenDataError, UsageError
from ..model import GenParams
from ..present import format_value, generator_name
from ..walk import Unreadable, iter_image_paths

SORTS = ("name", "date", "seed", "steps")


def discover(paths: Iterable[str | os.PathLike[str]]) -> Iterator[tuple[str, str]]:
    """(path, name shown) for every image in `paths`; folders are searched recursively and
    names are shown relative to the folder given, files by their name. The walk is in name
    order already, so the list can fill in its "name" sort as it goes."""
    seen: set[str] = set()
    for given in paths:
        given = os.fspath(given)
        folder = os.path.isdir(given)
        for path in iter_image_paths([given], recursive=True):
            if isinstance(path, Unreadable) or path in seen:
                continue  # a folder that cannot be listed has no row to show
            seen.add(path)
            yield path, os.path.relpath(path, given) if folder else os.path.basename(path)


@dataclass(slots=True)
class Item:
    """One listed image and what was read from it."""

    path: str
    name: str
    record: api.Record
    mtime: float = 0.0
    haystack: str = field(default="", repr=False)

    @classmethod
    def load(cls, path: str, name: str, *, stealth: bool | None = False) -> Item:
        rec = api.read_safe(path, stealth=stealth)
        try:
            mtime = os.stat(path).st_mtime
        except OSError:
            mtime = 0.0
        item = cls(path=path, name=name, record=rec, mtime=mtime)
        item.refresh()
        return item

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


def sort_key(sort: str) -> Callable[[Item], Any]:
    """Key function for `sorted`; files without the value sort last, then by name."""

    def name_key(item: Item) -> tuple[str, ...]:
        return tuple(part.casefold() for part in Path(item.name).parts)

    if sort == "name":
        return name_key
    if sort == "date":
        return lambda item: (item.mtime, name_key(item))

    def by_field(item: Item) -> tuple[bool, Any, tuple[str, ...]]:
        value = getattr(item.params, sort, None) if item.params is not None else None
        return (value is None, value if value is not None else 0, name_key(item))

    return by_field


def original_text(rec: api.Record) -> str | None:
    """The infotext block as it was on disk (exact bytes of the A1111 text: an unedited model
    dumps to the very text it was parsed from), or None when the file had no generation data
    or data the form cannot edit: what "revert file" writes back (or strips)."""
    if rec.params is None:
        return None
    try:
        params = api.editable_params(rec)
    except GenDataError:
        return None
    return api.dump_a1111(params)


def revert(path: str, original: str | None) -> None:
    """Put the session's original block back (pixels and other chunks untouched)."""
    if original is None:
        api.strip(path)
    else:
        api.write_text(path, original)


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


def apply_to_file(path: str, name: str, value: Any) -> None:
    """Set one field in one file losslessly (through api.write, atomic)."""
    rec = api.read(path)
    params = api.editable_params(rec)
    api.write(path, apply_field(params, name, value))


def cannot_edit_message(item: Item, exc: GenDataError) -> str:
    """Why the form will not open and what to do instead, naming the file as listed."""
    p = item.params
    if p is None or not p.generator:
        return str(exc).replace(item.path, item.name)
    name = generator_name(p.generator)
    return (f"Its {name} data cannot be edited in place; only A1111-style parameters can. "
            f"Write an A1111 copy without the {name} data, then edit that:\n"
            f"  gendata convert --replace -o copy.png {shlex.quote(item.path)}")
