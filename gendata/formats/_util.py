"""Helpers shared by the JSON-carrying dialects (docs/formats.md#json-quirks).

Generators write JSON with quirks: `NaN` tokens (ComfyUI, #comfyui-pitfalls), trailing
NUL characters (Tensor.Art, #other-writers), seeds as strings (Fooocus, #fooocus), Python
`str()` of values (Easy Diffusion, #easy-diffusion). These helpers absorb them so each
dialect stays a plain mapping table, and they turn every failure into ParseError.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..containers.raw import RawMetadata
from ..errors import ParseError

if TYPE_CHECKING:
    from ..model import GenParams, Lora

# Largest JSON text we try to decode. ComfyUI workflows reach a few MiB; anything far
# beyond that is not generation data worth holding in memory twice.
MAX_JSON_CHARS = 32 * 1024 * 1024

_PREFIX_RE = re.compile(r"^\s*([A-Za-z_][\w -]{0,30}):\s*(?=[{\[])")


def strip_text(text: str) -> str:
    """Drop the NUL padding some writers leave around JSON (Tensor.Art, NovelAI WebP)."""
    return text.strip().strip("\x00").strip()


def loads(text: str, what: str) -> Any:
    """Lenient JSON: allows NaN/Infinity, strips NULs; every failure becomes ParseError."""
    text = strip_text(text)
    if len(text) > MAX_JSON_CHARS:
        raise ParseError(
            f"{what}: JSON of {len(text)} characters is over the {MAX_JSON_CHARS} limit"
        )
    try:
        return json.loads(text)
    except RecursionError:
        raise ParseError(f"{what}: JSON nested too deeply") from None
    except ValueError as exc:
        raise ParseError(f"{what}: not valid JSON ({exc})") from None


def try_loads(text: str | None) -> Any:
    """Like `loads` but None on any failure; for cheap sniffing inside `score`."""
    if not text:
        return None
    text = strip_text(text)
    if not text or text[0] not in "{[" or len(text) > MAX_JSON_CHARS:
        return None
    try:
        return json.loads(text)
    except (RecursionError, ValueError):
        return None


def looks_like_json_object(text: str | None) -> bool:
    return bool(text) and strip_text(text or "")[:1] == "{"


def split_prefix(text: str) -> tuple[str | None, str]:
    """`"workflow:{...}"` -> ("workflow", "{...}"); EXIF carriers prefix the key
    (docs/formats.md#where-comfyui-graphs-are-stored)."""
    m = _PREFIX_RE.match(text)
    if not m:
        return None, text
    return m.group(1).strip(), text[m.end() :]


def to_int(value: Any) -> int | None:
    """An int from an int, a float with no fraction, or a numeric string; else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        s = value.strip()
        if re.fullmatch(r"[+-]?\d+", s):
            return int(s)
        try:
            f = float(s)
        except ValueError:
            return None
        return int(f) if f.is_integer() else None
    return None


def to_float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        f = float(value)
    elif isinstance(value, str):
        try:
            f = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    if f != f or f in (float("inf"), float("-inf")):
        return None
    return f


def positive_int(value: Any) -> int | None:
    v = to_int(value)
    return v if v is not None and v > 0 else None


def to_str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, bool)):
        return str(value)
    return None


def basename(path: str | None) -> str | None:
    """Model values are often paths (Easy Diffusion, old SwarmUI); keep the file name."""
    if not path:
        return path
    return re.split(r"[\\/]", path)[-1]


def parse_size(text: Any) -> tuple[int, int] | None:
    """`"1024 x 1024  (square)"`, `"832x1216"`, `"(768, 1280)"` -> (w, h)."""
    if not isinstance(text, str):
        return None
    m = re.search(r"(\d{1,6})\s*[x×,*]\s*(\d{1,6})", text)
    if not m:
        return None
    w, h = int(m.group(1)), int(m.group(2))
    if w <= 0 or h <= 0:
        return None
    return w, h


def marked_infotext(raw: RawMetadata, literal: str, mark: str) -> str | None:
    """The first A1111-style text (`parameters` chunk or UserComment) the regular expression
    `mark` finds in.

    `literal` is a plain substring of every match, tested first so most texts skip the scan;
    `mark` is compiled by `re` on first use, not when the dialect module loads.
    """
    for entry in raw.entries:
        text = entry.text
        in_infotext = entry.key in ("parameters", "UserComment")
        if in_infotext and text and literal in text and re.search(mark, text):
            return text
    return None


def build(
    generator: str,
    fields: dict[str, Any],
    *,
    extra: dict[str, Any] | None = None,
    notes: list[str] | None = None,
) -> GenParams:
    """GenParams from a field mapping; a value the model rejects becomes a note, not an error.

    Generators write odd values (steps 0, seed "-1", width "None"); one bad field must not
    hide the rest of the image's data.
    """
    from ..model import GenParams

    p = GenParams(generator=generator)
    out_notes = list(notes or [])
    for key, value in fields.items():
        if value is None or (
            isinstance(value, (list, str))
            and not value
            and key not in ("prompt", "negative_prompt")
        ):
            continue
        try:
            setattr(p, key, value)
        except Exception:
            out_notes.append(f"{key} value {value!r} is not valid and was left out")
    if extra:
        p.extra = {k: v for k, v in extra.items() if v is not None}
    p.notes = out_notes
    return p


def stamp(params: GenParams, dialect: str, key: str | None, text: str) -> GenParams:
    """Record on `params` which dialect read it, from which entry: the write path
    (formats/editing.py) sends an edit back to that dialect."""
    from ..model_fields import Origin

    params.origin = Origin(dialect=dialect, text=text, key=key)
    return params


def new_lora(**fields: Any) -> Lora:
    """A validated Lora. The model (pydantic) is imported on first use, not with the dialect
    modules: the registry loads every dialect to read its declarations."""
    from ..model import Lora

    return Lora(**fields)


def get_str(data: dict[str, Any], key: str, default: str | None = None) -> str | None:
    """`data[key]` when it is a string, else `default` (JSON values can be anything)."""
    value = data.get(key)
    return value if isinstance(value, str) else default


def str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def str_or_empty(value: Any) -> str:
    """For prompts: a missing or non-string prompt is the empty prompt."""
    return value if isinstance(value, str) else ""


def as_is(value: Any) -> Any:
    """Hand the JSON value to the model unchanged; `build` notes it if the model rejects it."""
    return value


# GenParams field -> (JSON key, converter). A dialect's table says once which key feeds
# which field, so the keys left for `extra` follow from it instead of being listed again.
FieldTable = Mapping[str, tuple[str, Callable[[Any], Any]]]


def read_fields(data: Mapping[str, Any], table: FieldTable) -> dict[str, Any]:
    """GenParams fields from a JSON object by `table`, in the table's order."""
    return {field: convert(data.get(key)) for field, (key, convert) in table.items()}


def unread(data: Mapping[str, Any], table: FieldTable, *also: str) -> dict[str, Any]:
    """The items of `data` neither `table` nor `also` (keys read by hand) reads: for `extra`."""
    known = {key for key, _ in table.values()}.union(also)
    return {k: v for k, v in data.items() if k not in known}


def missing_fields(params: GenParams, values: Mapping[str, Any]) -> dict[str, Any]:
    """The `values` for fields `params` lacks (None or ""): a second source fills gaps only."""
    return {
        key: value
        for key, value in values.items()
        if value is not None and getattr(params, key) in (None, "")
    }
