"""Dialect layer: text/JSON found in containers <-> GenParams. Pure: no file access.

Each dialect module exposes `NAME`, `score(raw) -> float` (0 = not mine) and
`parse(raw) -> GenParams`; writable ones also `dump(params) -> str`. `detect` asks every
dialect and takes the highest score, so detection is by content, never by file name.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ..containers.raw import RawMetadata
from ..errors import ParseError
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
