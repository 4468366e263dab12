"""Dialect layer: which container entries of a file hold generation data (what `strip`
removes), gathered from every dialect's KEYS and, where a dialect's `owns(raw)` accepts the
file, its CONDITIONAL_KEYS (formats/__init__.py lists the declarations)."""

from __future__ import annotations

from ..containers.raw import RawMetadata

__all__ = ["generation_keys"]

_always: dict[tuple[str, ...], frozenset[str]] = {}


def generation_keys(raw: RawMetadata) -> frozenset[str]:
    """The text chunk keywords / EXIF tags of `raw`'s kind of file that carry generation data:
    every dialect's KEYS, plus the CONDITIONAL_KEYS of dialects that own this file."""
    from . import DIALECTS, dialect

    names = tuple(DIALECTS)
    keys = _always.get(names)
    if keys is None:
        keys = _always[names] = frozenset().union(*(dialect(n).KEYS for n in names))
    extra: set[str] = set()
    for name in names:
        mod = dialect(name)
        conditional = getattr(mod, "CONDITIONAL_KEYS", None)
        if conditional and mod.owns(raw):
            extra |= conditional
    return keys | extra if extra else keys
