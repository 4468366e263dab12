"""Dialect layer: text/JSON found in containers <-> GenParams. Pure: no file access.

Each dialect module exposes `NAME`, `score(raw) -> float` (0 = not mine) and
`parse(raw) -> GenParams`; writable ones also `dump(params) -> str`. `detect` asks every
dialect and takes the highest score, so detection is by content, never by file name.
"""

from __future__ import annotations

import importlib
import re
from types import ModuleType
from typing import TYPE_CHECKING

from ..containers.raw import RawMetadata
from ..errors import ParseError
from ..model_fields import DeferredParams
from .keys import generation_keys as generation_keys  # re-exported

if TYPE_CHECKING:
    from ..model import GenParams

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
_DEFAULT_DIALECTS = tuple(DIALECTS)

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
    if _only_a1111(raw) and tuple(DIALECTS) == _DEFAULT_DIALECTS:
        # No other dialect can score this file: don't import or ask them.
        mod = dialect("a1111")
        return mod.parse_deferred(raw) if mod.score(raw) > 0 else None
    return _vote(raw)


def _vote(raw: RawMetadata) -> GenParams | None:
    """Ask every dialect in DIALECTS; parse with the best-scoring one that succeeds."""
    scored: list[tuple[float, int, ModuleType]] = []
    for i, name in enumerate(DIALECTS):
        mod = dialect(name)
        s = mod.score(raw)
        if s > 0:
            scored.append((s, -i, mod))
    scored.sort(key=lambda t: (t[0], t[1]), reverse=True)
    first_error: ParseError | None = None
    for _, _, mod in scored:
        try:
            return mod.parse(raw)
        except ParseError as exc:
            first_error = first_error or exc
    if first_error is not None:
        raise first_error
    return None


# The keys an A1111-family text lives in; every other dialect needs another key, or one of
# these with JSON (a `prefix: {...}` too) or one of the marker words below in its text.
_A1111_KEYS = frozenset({"parameters", "UserComment"})
# Literal words some other dialect's `score` looks for in any text (swarmui, civitai,
# comfyui's saver text, novelai's JSON, fooocus's A1111 scheme).
_OTHER_MARKS = ("sui_image_params", "Civitai", "extraMetadata", "urn:air:", "ComfyUI",
                "Comment", "Fooocus")
_PREFIXED_JSON = re.compile(r"^\s*([A-Za-z_][\w -]{0,30}):\s*(?=[{\[])")  # _util._PREFIX_RE


def _only_a1111(raw: RawMetadata) -> bool:
    """True when no dialect but a1111 can claim `raw`, judged without importing them: every
    text entry is `parameters` or `UserComment`, none is (prefixed) JSON, and none holds a
    word another dialect looks for. The common case (a PNG with just `parameters`, a JPEG
    with just UserComment) then costs one dialect instead of twelve; anything else takes
    the full vote. tests/formats/test_detect_fast.py checks both paths agree."""
    for entry in raw.entries:
        text = entry.text
        if text is None:
            continue
        if entry.key not in _A1111_KEYS or entry.location == "XMP":
            return False
        if not text:
            continue
        if text.strip().strip("\x00").strip()[:1] in ("{", "[") or _PREFIXED_JSON.match(text):
            return False
        for mark in _OTHER_MARKS:
            if mark in text:
                return False
    return True
