"""Dialect layer: text/JSON found in containers <-> GenParams. Pure: no file access.

`detect` asks every dialect and takes the highest score, so detection is by content, never
by file name. Each dialect module declares itself, and the registry builds everything else
from those declarations (the fast path below, `generation_keys`, display names), so a new
dialect only has to be listed in DIALECTS:

  NAME            the module's name, and the `generator` its models report by default
  DISPLAY_NAME    how front ends name it ("AUTOMATIC1111")
  KEYS            container entry keys it owns: what `strip` removes (keys.generation_keys)
  CONDITIONAL_KEYS, owns(raw)
                  optional: keys it owns only in the files `owns` accepts
  MARKERS         literal strings, one of which is in every text it can claim that is kept
                  under A1111's keys and is not JSON (JSON always goes to the full vote)
  GENERATORS      optional: the other `generator` names it reports -> display names
  score(raw) -> float (0 = not mine), parse(raw) -> GenParams
  parse_deferred(raw), dump(params)
                  optional: parse leaving the model unbuilt; write the text back
  edit(raw, params, *, node=None) -> Changes
                  optional: write an edited model back in the dialect's own entries
                  (formats/editing.py); `parse` then records a public `origin` naming it

Loading a dialect module must stay cheap (no pydantic): the fast path reads every
dialect's declarations for each process's first file.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import MappingProxyType, ModuleType
from typing import TYPE_CHECKING, Any

from ..containers.raw import Changes, RawMetadata
from ..errors import ParseError
from ..model_fields import DeferredParams
from ._util import split_prefix, strip_text
from .keys import generation_keys

if TYPE_CHECKING:
    from ..model import GenParams

__all__ = ["DIALECTS", "DIALECT_NAMES", "detect", "detect_deferred", "dialect", "display_name",
           "edit_changes", "edit_refusal", "generation_keys"]

# Module names under gendata.formats, most specific first (ties keep this order).
DIALECTS: list[str] = [
    "novelai",
    "invokeai",
    "swarmui",
    "stabilitymatrix",
    "tensorart",
    "drawthings",
    "civitai",
    "fooocus",
    "easydiffusion",
    "hfspace",
    "comfyui",
    "a1111",
]
# The dialect that reads text no other dialect claims, and has a fast path of its own.
_FALLBACK = "a1111"

_loaded: dict[str, ModuleType] = {}


def dialect(name: str) -> ModuleType:
    mod = _loaded.get(name)
    if mod is None:
        mod = importlib.import_module(f"{__name__}.{name}")
        _loaded[name] = mod
    return mod


def detect(raw: RawMetadata) -> GenParams | None:
    """Parse `raw` with the dialect that claims it most strongly; None when no dialect does.

    A dialect that claims the data but fails to parse it raises ParseError only if no other
    dialect can parse it either, so one broken chunk never hides a good one.
    """
    found = detect_deferred(raw)
    return found.build() if isinstance(found, DeferredParams) else found


def detect_deferred(raw: RawMetadata) -> GenParams | DeferredParams | None:
    """`detect`, except that parameters needing no validation may come back unbuilt
    (`DeferredParams.build()` gives the GenParams `detect` returns): `api.read` keeps them so
    until someone asks for the model, and `show --json`/`export` never import pydantic."""
    if _only_a1111(raw):
        # No other dialect can score this file: don't ask them.
        mod = dialect(_FALLBACK)
        return mod.parse_deferred(raw) if _score(mod, raw) > 0 else None
    return _vote(raw, deferred=True)


def _vote(raw: RawMetadata, *, deferred: bool = False) -> GenParams | DeferredParams | None:
    """Ask every dialect in DIALECTS; parse with the best-scoring one that succeeds."""
    scored: list[tuple[float, int, ModuleType]] = []
    for i, name in enumerate(DIALECTS):
        mod = dialect(name)
        s = _score(mod, raw)
        if s > 0:
            scored.append((s, -i, mod))
    scored.sort(key=lambda t: (t[0], t[1]), reverse=True)
    first_error: ParseError | None = None
    for _, _, mod in scored:
        parse = getattr(mod, "parse_deferred", mod.parse) if deferred else mod.parse
        try:
            return parse(raw)
        except ParseError as exc:
            first_error = first_error or exc
    if first_error is not None:
        raise first_error
    return None


def _score(mod: ModuleType, raw: RawMetadata) -> float:
    """`mod.score(raw)`; a dialect that fails while looking (a bug: scores must not raise) is
    logged and counts as not claiming the file, so it cannot hide what others read."""
    try:
        return mod.score(raw)
    except Exception:
        import logging

        logging.getLogger(__name__).warning(
            "dialect %s failed to score a file; it is skipped", mod.NAME, exc_info=True)
        return 0.0


def edit_changes(raw: RawMetadata, params: GenParams, *, node: str | None = None) -> Changes:
    """The Changes that write the edited `params` back into the file `raw` was read from, in
    the dialect that read it (formats/editing.py); UsageError naming the field when that
    dialect cannot hold the edit."""
    from .editing import edit_changes as _edit_changes

    return _edit_changes(raw, params, node=node)


def edit_refusal(params: GenParams) -> str | None:
    """Why `params` cannot be written back in place, or None when its dialect can."""
    from .editing import edit_refusal as _edit_refusal

    return _edit_refusal(params)


# --- the fast path -------------------------------------------------------------------------

_fast_tables: dict[tuple[str, ...], tuple[frozenset[str], tuple[str, ...]] | None] = {}


def _fast_table() -> tuple[frozenset[str], tuple[str, ...]] | None:
    """(the keys the fallback dialect reads text from, every other dialect's MARKERS) for
    DIALECTS as they are now; None when the fallback dialect is not among them."""
    names = tuple(DIALECTS)
    if names not in _fast_tables:
        table = None
        if _FALLBACK in names:
            markers = [m for n in names if n != _FALLBACK for m in dialect(n).MARKERS]
            table = (frozenset(dialect(_FALLBACK).TEXT_KEYS), tuple(dict.fromkeys(markers)))
        _fast_tables[names] = table
    return _fast_tables[names]


def _only_a1111(raw: RawMetadata) -> bool:
    """True when no dialect but a1111 can claim `raw`: every text entry is one a1111 reads
    (`parameters`, `UserComment`), none is JSON or `prefix: {...}` JSON (which JSON dialects
    read and a1111 does not), and none holds another dialect's MARKERS. The common case (a PNG
    with just `parameters`, a JPEG with just UserComment) then costs one score instead of
    twelve; anything else takes the full vote (tests/formats/test_detect_fast.py checks both
    agree)."""
    table = _fast_table()
    if table is None:
        return False
    keys, markers = table
    for entry in raw.entries:
        text = entry.text
        if text is None:
            continue
        if entry.key not in keys:
            return False
        if not text:
            continue
        if strip_text(text)[:1] in ("{", "[") or split_prefix(text)[0] is not None:
            return False
        for mark in markers:
            if mark in text:
                return False
    return True


# --- names -----------------------------------------------------------------------------------

_names: dict[tuple[str, ...], tuple[Mapping[str, str], Mapping[str, str]]] = {}


def _name_tables() -> tuple[Mapping[str, str], Mapping[str, str]]:
    """(dialect NAME -> DISPLAY_NAME, every generator name -> display name) for DIALECTS."""
    key = tuple(DIALECTS)
    if key not in _names:
        dialects: dict[str, str] = {}
        generators: dict[str, str] = {}
        for name in key:
            mod = dialect(name)
            dialects[mod.NAME] = mod.DISPLAY_NAME
            generators[mod.NAME] = mod.DISPLAY_NAME
            generators.update(getattr(mod, "GENERATORS", {}))
        _names[key] = (MappingProxyType(dialects), MappingProxyType(generators))
    return _names[key]


def display_name(name: str) -> str:
    """How front ends name a dialect or a generator it reports ("a1111" -> "AUTOMATIC1111",
    "forge" -> "Forge"); a name no dialect declares is shown as it is."""
    return _name_tables()[1].get(name, name)


def __getattr__(name: str) -> Any:
    # DIALECT_NAMES (dialect NAME -> DISPLAY_NAME, in DIALECTS order) loads every dialect,
    # so it is built on first use rather than when the package is imported.
    if name == "DIALECT_NAMES":
        return _name_tables()[0]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
