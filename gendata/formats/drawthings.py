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

from ..containers.raw import Changes, RawEntry, RawMetadata
from ..errors import ParseError
from ._util import (
    FieldTable,
    build,
    loads,
    new_lora,
    parse_size,
    positive_int,
    read_fields,
    stamp,
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
# The opening of each element read; its text runs to the next `</rdf:li>` (`_element`).
_USER_COMMENT = r"<exif:UserComment>\s*<rdf:Alt>\s*<rdf:li[^>]*>"
_DESCRIPTION = r"<dc:description>\s*<rdf:Alt>\s*<rdf:li[^>]*>"
_CLOSE = "</rdf:li>"

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
    entry = _xmp_entry(raw)
    return entry.text if entry else None


def _xmp_entry(raw: RawMetadata) -> RawEntry | None:
    for entry in raw.entries:
        is_xmp = entry.location == "XMP" or entry.key in ("XML:com.adobe.xmp", "xmp", "XMP")
        if entry.text and is_xmp and re.search(_TOOL, entry.text):
            return entry
    return None


def score(raw: RawMetadata) -> float:
    return 0.95 if _xmp(raw) is not None else 0.0


def _span(opening: str, xmp: str) -> tuple[int, int] | None:
    """(start, end) of the text of the first element `opening` starts that is closed by
    `</rdf:li>`, or None.

    The same as the span of group 1 of `opening(.*?)</rdf:li>`, in linear time: that lazy
    scan runs to the end of the text from every opening when nothing closes them, quadratic
    in their number. The first close after an opening is the only one that can end it, and
    when there is none no later opening can be closed either.
    """
    m = re.search(opening, xmp)
    if m is None:
        return None
    close = xmp.find(_CLOSE, m.end())
    return None if close < 0 else (m.end(), close)


def _element(opening: str, xmp: str) -> str | None:
    """The text of the element `_span` finds."""
    span = _span(opening, xmp)
    return None if span is None else xmp[span[0]:span[1]]


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


def parse(raw: RawMetadata) -> GenParams:
    entry = _xmp_entry(raw)
    params = _parse(raw, entry)
    assert entry is not None  # _parse raised otherwise
    return stamp(params, NAME, entry.key, entry.text or "")


def _parse(raw: RawMetadata, entry: RawEntry | None = None) -> GenParams:
    xmp = entry.text if entry is not None else _xmp(raw)
    if xmp is None:
        raise ParseError("no Draw Things XMP")
    comment = _element(_USER_COMMENT, xmp)
    if comment is None:
        desc = _element(_DESCRIPTION, xmp)
        if desc is not None:
            return build(
                NAME,
                {"prompt": _unescape(desc).split("\n")[0]},
                notes=["Draw Things XMP has no JSON UserComment; only the description was read"],
            )
        raise ParseError("Draw Things XMP: no exif:UserComment")
    data = loads(_unescape(comment), "Draw Things UserComment")
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


# --- writing it back -------------------------------------------------------------------
#
# The XMP packet is edited as text: the JSON in exif:UserComment (its `v2` configuration
# kept in step) and the A1111-like dc:description, each unescaped, changed and escaped again
# the way the packet escaped it; the rest of the packet is left as it was.

_V2 = {"seed": "seed", "steps": "steps", "cfg_scale": "guidanceScale", "width": "width",
       "height": "height", "model": "model", "clip_skip": "clipSkip",
       "denoising_strength": "strength"}
_LABELS = {"seed": "Seed", "steps": "Steps", "cfg_scale": "Guidance Scale",
           "sampler": "Sampler", "model": "Model", "denoising_strength": "Strength"}


def _escape_like(text: str, old: str) -> str:
    """XML-escape `text` as `old` (an element's raw content) was escaped."""
    out = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if "&quot;" in old or "&#34;" in old:
        out = out.replace('"', "&#34;" if "&#34;" in old else "&quot;")
    if "&apos;" in old or "&#39;" in old:
        out = out.replace("'", "&#39;" if "&#39;" in old else "&apos;")
    for char, refs in (("\n", ("&#xA;", "&#10;")), ("\r", ("&#xD;", "&#13;")),
                       ("\t", ("&#x9;", "&#9;"))):
        ref = next((r for r in refs if r in old), None)
        if ref is not None:
            out = out.replace(char, ref)
    return out


def _description(text: str, fields: dict[str, Any], old: GenParams) -> str:
    for field, value in fields.items():
        if field == "prompt" and old.prompt and text.startswith(old.prompt):
            text = (value or "") + text[len(old.prompt):]
        elif field == "negative_prompt" and old.negative_prompt and old.negative_prompt in text:
            text = text.replace(old.negative_prompt, value or "", 1)
        elif field in ("width", "height") and value is not None:
            m = re.search(r"(Size:\s*)(\d+)x(\d+)", text)
            if m:
                w = value if field == "width" else m.group(2)
                h = value if field == "height" else m.group(3)
                text = text[:m.start()] + f"{m.group(1)}{w}x{h}" + text[m.end():]
        elif field in _LABELS and value is not None:
            m = re.search(rf"((?:^|,\s*){re.escape(_LABELS[field])}:\s*)([^,\n]*)", text)
            if m:
                shown = str(int(value)) if isinstance(value, float) and value.is_integer() else (
                    str(value))
                text = text[:m.start(2)] + shown + text[m.end(2):]
    return text


def edit(raw: RawMetadata, params: GenParams, *, node: str | None = None) -> Changes:
    """Rewrite the changed values in the Draw Things XMP packet (see above)."""
    from .editing import (
        Entries,
        apply_extra,
        apply_json,
        changed_fields,
        extra_changes,
        no_node,
        size_target,
    )
    from .jsonedit import JsonText

    no_node(node, DISPLAY_NAME)
    entry = _xmp_entry(raw)
    if entry is None or entry.text is None:
        raise ParseError("no Draw Things XMP")
    if raw.container != "png":
        from .editing import refuse

        field = next(iter(changed_fields(_parse(raw), params)), "the XMP packet")
        raise refuse(DISPLAY_NAME, field, f"gendata writes Draw Things XMP into PNG files; "
                     f"this is a {raw.container.upper()}")
    xmp = entry.text
    old = _parse(raw, entry)
    fields = changed_fields(old, params)
    m = _span(_USER_COMMENT, xmp)
    if m is None:
        raise ParseError("Draw Things XMP: no exif:UserComment to write to")
    raw_json = xmp[m[0]:m[1]]
    doc = JsonText(_unescape(raw_json), "Draw Things UserComment")
    targets: dict[str, Any] = {f: (key,) for f, (key, _) in _FIELDS.items()}
    targets["width"] = size_target(("size",), "width", DISPLAY_NAME)
    targets["height"] = size_target(("size",), "height", DISPLAY_NAME)
    targets["denoising_strength"] = ("strength",)
    v2 = doc.get(("v2",))
    if isinstance(v2, dict) and "clipSkip" in v2:
        targets["clip_skip"] = ("v2", "clipSkip")
    apply_json(doc, fields, targets, DISPLAY_NAME)
    if isinstance(v2, dict):
        for field, value in fields.items():
            key = _V2.get(field)
            if key and key != "clipSkip" and key in v2 and value is not None and (
                    v2[key] == getattr(old, field)):
                doc.set(("v2", key), value)
    read = {key for key, _ in _FIELDS.values()} | {"size", "strength", "lora", "v2"}
    apply_extra(doc, extra_changes(old, params), lambda k: None if k in read else (k,),
                DISPLAY_NAME)
    new = xmp
    if doc.text != _unescape(raw_json):
        new = xmp[:m[0]] + _escape_like(doc.text, raw_json) + xmp[m[1]:]
    d = _span(_DESCRIPTION, new)
    if d is not None:
        held = new[d[0]:d[1]]
        before = _unescape(held)
        text = _description(before, fields, old)
        if text != before:
            new = new[:d[0]] + _escape_like(text, held) + new[d[1]:]
    entries = Entries(raw)
    entries.put(entry.key, new)
    return entries.changes()
