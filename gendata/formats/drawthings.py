"""Draw Things: an XMP packet with CreatorTool "Draw Things" (docs/formats.md#draw-things).

`exif:UserComment` holds a JSON object (`c`, `uc`, `seed`, `steps`, `scale`, `sampler`,
`size`, `model`, `strength`, `lora`, `v2`), `dc:description` an A1111-like text. The XMP is
scanned with regular expressions rather than an XML parser: only a few elements are
needed and entity expansion is never performed beyond the five XML entities and numeric
character references.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..containers.raw import RawMetadata
from ..errors import ParseError
from ._util import (
    FieldTable,
    build,
    loads,
    new_lora,
    parse_size,
    positive_int,
    read_fields,
    str_or_empty,
    str_or_none,
    to_float,
    to_int,
    unread,
)

if TYPE_CHECKING:
    from ..model import GenParams, Lora

NAME = "drawthings"
DISPLAY_NAME = "Draw Things"
# The XMP packet is not removed by `strip`: it holds more than generation data.
KEYS: frozenset[str] = frozenset()
MARKERS: tuple[str, ...] = ()  # only XMP

# Patterns are kept as text and compiled by `re` on first use (and cached there): the
# registry loads every dialect for its declarations, and most files never need these.
_TOOL = r"(?i)CreatorTool(?:>|=\")\s*Draw Things"
_USER_COMMENT = r"(?s)<exif:UserComment>\s*<rdf:Alt>\s*<rdf:li[^>]*>(.*?)</rdf:li>"
_DESCRIPTION = r"(?s)<dc:description>\s*<rdf:Alt>\s*<rdf:li[^>]*>(.*?)</rdf:li>"

_FIELDS: FieldTable = {
    "prompt": ("c", str_or_empty),
    "negative_prompt": ("uc", str_or_empty),
    "seed": ("seed", to_int),
    "steps": ("steps", positive_int),
    "cfg_scale": ("scale", to_float),
    "sampler": ("sampler", str_or_none),
    "model": ("model", str_or_none),
}


def _xmp(raw: RawMetadata) -> str | None:
    for entry in raw.entries:
        is_xmp = entry.location == "XMP" or entry.key in ("XML:com.adobe.xmp", "xmp", "XMP")
        if entry.text and is_xmp and re.search(_TOOL, entry.text):
            return entry.text
    return None


def score(raw: RawMetadata) -> float:
    return 0.95 if _xmp(raw) is not None else 0.0


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


def parse(raw: RawMetadata) -> GenParams:
    xmp = _xmp(raw)
    if xmp is None:
        raise ParseError("no Draw Things XMP")
    m = re.search(_USER_COMMENT, xmp)
    desc = re.search(_DESCRIPTION, xmp)
    if not m:
        if desc:
            return build(
                NAME,
                {"prompt": _unescape(desc.group(1)).split("\n")[0]},
                notes=["Draw Things XMP has no JSON UserComment; only the description was read"],
            )
        raise ParseError("Draw Things XMP: no exif:UserComment")
    data = loads(_unescape(m.group(1)), "Draw Things UserComment")
    if not isinstance(data, dict):
        raise ParseError("Draw Things UserComment: expected a JSON object")
    v2: dict[str, Any] = data["v2"] if isinstance(data.get("v2"), dict) else {}
    size = parse_size(data.get("size"))
    loras: list[Lora] = []
    for entry in data.get("lora") or v2.get("loras") or []:
        if isinstance(entry, dict):
            name = entry.get("model") or entry.get("file")
            if isinstance(name, str):
                loras.append(new_lora(name=name, weight=to_float(entry.get("weight"))))
    strength = to_float(data.get("strength"))
    return build(
        NAME,
        {
            **read_fields(data, _FIELDS),
            "width": size[0] if size else positive_int(v2.get("width")),
            "height": size[1] if size else positive_int(v2.get("height")),
            "clip_skip": positive_int(v2.get("clipSkip")),
            "denoising_strength": strength if strength is not None and strength < 1 else None,
            "loras": loras,
        },
        extra=unread(data, _FIELDS, "size", "strength", "lora", "v2"),
    )
