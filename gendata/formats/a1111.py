"""Dialect layer: AUTOMATIC1111 infotext (also Forge, reForge, SD.Next) <-> GenParams.

docs/formats.md#a1111-infotext. Parsing follows A1111's rules (last line is the parameters
line when it has at least three `key: value` entries; lines stripped; `Negative prompt:`
switches part) but scans values robustly (infotext_scan: JSON-quoted strings and unquoted JSON
objects kept whole). The parse keeps every original substring (InfotextOrigin), so
`dump(parse(text)) == text` and editing one field rewrites only that field.
"""

from __future__ import annotations

import re
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from ..containers.raw import RawMetadata
from ..errors import ParseError
from ..model_fields import (
    EMBEDDING,
    EMBEDDING_DEFAULTS,
    LORA,
    LORA_DEFAULTS,
    SCALAR_DEFAULTS,
    DeferredParams,
    conforms,
)
from ._util import try_loads
from .infotext_fields import (
    CASED,
    FIELD_TO_KEY,
    TAIL_KEYS,
    TYPED,
    describe,
    typed_key,
    typed_unless,
    typed_value,
)
from .infotext_scan import Entry, InfotextOrigin, is_params_line, read_infotext
from .networks import lora_hash_map, network_tag_fields, network_tags

_lora_hash_map, _network_tag_fields = lora_hash_map, network_tag_fields  # (older names)

if TYPE_CHECKING:
    from ..model import GenParams

# pydantic (gendata.model) is imported only when a GenParams is built: reading a file for
# `show --json` or `export` goes through `parse_deferred` and never needs it. Nor does it need
# the writing side (infotext_write), imported where text is written.

__all__ = ["FIELD_TO_KEY", "TEXT_KEYS", "TYPED", "InfotextOrigin", "check_key", "describe", "dump",
           "infotext", "network_tags", "parse", "parse_deferred", "parse_text", "quote", "score"]

NAME = "a1111"
DISPLAY_NAME = "AUTOMATIC1111"
# A1111 writes its text to `parameters` (PNG) or EXIF UserComment, and its extras tab
# `postprocessing` / `extras`.
KEYS = frozenset({"parameters", "UserComment", "postprocessing", "extras"})
MARKERS: tuple[str, ...] = ()  # the fallback dialect: the fast path is for its texts
# The A1111-family front ends `generator_of` tells apart.
GENERATORS = {"forge": "Forge", "reforge": "reForge", "forge-classic": "Forge Classic",
              "forge-neo": "Forge Neo", "sdnext": "SD.Next"}
# Where A1111-family tools put the text, in the order A1111 itself prefers (EXIF wins,
# docs/formats.md#where-a1111-text-is-stored); the registry's fast path is for files whose
# only texts are under these keys.
TEXT_KEYS = ("UserComment", "parameters")

_FORGE_VERSION = re.compile(r"^f\d+(\.\d+)*-?v\d").match
_REFORGE_VERSION = re.compile(r"^f\d+(\.\d+)*-v").match
_RAW_JSON_KEYS = frozenset({"Hashes", "Civitai resources", "Civitai metadata"})
# Longest infotext parsed (docs/guide.md#limits): real ones are a few KiB, and splitting a
# settings line costs some 35 bytes of memory per character, 1 GiB for a 32 MiB chunk.
MAX_INFOTEXT_CHARS = 4 * 1024 * 1024


_CASED = CASED  # (older name)


# --- text -> model -----------------------------------------------------------------------------

def generator_of(values: dict[str, str]) -> str:
    """Which A1111-family front end wrote the text, from its own markers
    (docs/formats.md#forge-reforge-and-sdnext)."""
    version = values.get("Version", "")
    if values.get("App", "").lower().startswith("sd.next") or ("Backend" in values and (
            "Pipeline" in values or "Operations" in values)):
        return "sdnext"
    if version == "classic" or version.startswith("classic"):
        return "forge-classic"
    if version == "neo" or version.startswith("neo"):
        return "forge-neo"
    if version[:1] == "f" and _FORGE_VERSION(version):
        if "RC-latest" in version or _REFORGE_VERSION(version):
            return "reforge"
        return "forge"
    return "a1111"


def _conform(fields: dict[str, Any], loras: list[dict[str, Any]],
             embeddings: list[dict[str, Any]]) -> bool:
    """True when validation would change none of the values (model_fields.conforms against
    the tables GenParams is built from): the common case, built without pydantic."""
    return (conforms(fields) and all(conforms(kw, LORA) for kw in loras)
            and all(conforms(kw, EMBEDDING) for kw in embeddings))


class _Parsed(DeferredParams):
    """An infotext parse whose values `_conform`: the GenParams is built, without running
    validation that could change nothing, only when someone asks for the model."""

    __slots__ = ("embeddings", "extra", "fields", "loras", "origin")

    def __init__(self, fields: dict[str, Any], extra: dict[str, Any],
                 loras: list[dict[str, Any]], embeddings: list[dict[str, Any]],
                 origin: InfotextOrigin) -> None:
        self.fields = fields
        self.extra = extra
        self.loras = loras
        self.embeddings = embeddings
        self.origin = origin

    def build(self) -> GenParams:
        from ..model import Embedding, GenParams, Lora

        # Every field is passed in (the scalar defaults, which are immutable, and fresh
        # lists), so pydantic has no defaults to resolve: that, not validation, was most of
        # the cost.
        data = {**self.fields, "extra": self.extra,
                "loras": [Lora.model_construct(**kw) for kw in self.loras],
                "embeddings": [Embedding.model_construct(**kw) for kw in self.embeddings]}
        params = GenParams.model_construct(
            set(data), **{**SCALAR_DEFAULTS, "samplers": [], "notes": [], **data})
        params.origin = self.origin
        return params

    def json_fields(self) -> dict[str, Any]:
        # The defaults give every scalar key in schema order; the parsed fields (a subset of
        # them, as _conform checked) their values.
        out = {**SCALAR_DEFAULTS, **self.fields}
        out["loras"] = [{**LORA_DEFAULTS, **kw} for kw in self.loras]
        out["embeddings"] = [{**EMBEDDING_DEFAULTS, **kw} for kw in self.embeddings]
        out["samplers"] = []
        out["extra"] = dict(self.extra)
        out["notes"] = []
        return out


def parse_text(text: str) -> GenParams:
    """Parse an infotext. Never fails on text up to MAX_INFOTEXT_CHARS: what is not
    understood is kept in `extra`."""
    found = _parse(text)
    return found.build() if isinstance(found, _Parsed) else found


def _parse(text: str) -> _Parsed | GenParams:
    """`parse_text`, leaving the model unbuilt when its values need no validation."""
    if not isinstance(text, str):
        raise ParseError("infotext must be text")
    if len(text) > MAX_INFOTEXT_CHARS:
        raise ParseError(f"infotext of {len(text):,} characters is longer than the "
                         f"{MAX_INFOTEXT_CHARS:,} gendata reads")
    origin, pairs = read_infotext(text, TYPED)
    fields: dict[str, Any] = {"prompt": origin.prompt, "negative_prompt": origin.negative_prompt}
    extra: dict[str, Any] = {}
    typed_keys = TYPED
    for key, value in pairs:
        spec = typed_keys.get(key)
        if spec is None and key.casefold() in _CASED:  # "CFG Scale", as some savers write
            spec = typed_keys[_CASED[key.casefold()]]
        if spec is not None:
            try:
                typed = spec.parse(value)
            except ValueError:
                typed = None
            if typed is not None:
                targets = spec.fields
                if len(targets) == 1:
                    fields[targets[0]] = typed
                else:
                    fields.update(zip(targets, typed, strict=True))
                extra.pop(key, None)
                continue
        elif key in fields:
            continue
        extra[key] = value
    origin.typer = typed_value
    values = dict(pairs)  # the last of a repeated key wins
    lora_hashes = lora_hash_map(values["Lora hashes"]) if "Lora hashes" in values else None
    loras = network_tag_fields(origin.prompt, lora_hashes)
    if not loras and "LoRA networks" in values:  # SD.Next: names and hashes as two lists
        names = [n.strip() for n in values["LoRA networks"].split(",") if n.strip()]
        hs = [h.strip() for h in values.get("LoRA hashes", "").split(",")]
        loras = [{"name": n, "hash": hs[i] if i < len(hs) and hs[i] else None}
                 for i, n in enumerate(names)]
    embeddings = [{"name": n, "hash": h or None}
                  for n, h in lora_hash_map(values.get("TI hashes", "")).items()]
    fields["generator"] = generator_of(values) if origin.has_line else "a1111"
    if _conform(fields, loras, embeddings):
        return _Parsed(fields, extra, loras, embeddings, origin)
    from pydantic import ValidationError

    from ..model import GenParams

    try:
        params = GenParams.model_validate(
            {**fields, "extra": extra, "loras": loras, "embeddings": embeddings})
    except ValidationError as exc:
        # A typed value out of range (e.g. Steps: 0): keep that entry as text rather than
        # fail, and the others typed (a seed stays searchable beside a bad step count).
        bad = {str(e["loc"][0]) for e in exc.errors() if e.get("loc")}
        demoted = {k for k, t in TYPED.items() if bad & set(t.fields)}
        kept = None
        if demoted and bad <= {f for k in demoted for f in TYPED[k].fields}:
            kept = _as_text(demoted, fields, extra, pairs, loras, embeddings, origin)
        if kept is None:  # not a typed value's fault, or still invalid: every one as text
            kept = _as_text(set(TYPED), fields, extra, pairs, loras, embeddings, origin)
        if kept is None:
            raise
        params = kept
    params.origin = origin
    return params


def _as_text(keys: set[str], fields: dict[str, Any], extra: dict[str, Any],
             pairs: list[tuple[str, str]], loras: list[dict[str, Any]],
             embeddings: list[dict[str, Any]], origin: InfotextOrigin) -> GenParams | None:
    """The model with the typed `keys` kept as their text in `extra`; None when it is still
    not valid."""
    from pydantic import ValidationError

    from ..model import GenParams

    fields = {f: v for f, v in fields.items()
              if not any(f in TYPED[k].fields for k in keys)}
    extra = dict(extra)
    for key, value in pairs:
        if typed_key(key) in keys:
            extra[key] = value
    try:
        params = GenParams.model_validate(
            {**fields, "extra": extra, "loras": loras, "embeddings": embeddings})
    except ValidationError:
        return None
    origin.typer = None if keys >= set(TYPED) else partial(typed_unless, frozenset(keys))
    return params


# --- model -> text -----------------------------------------------------------------------------

def quote(value: str) -> str:
    """A1111's current quoting rule (infotext_write.quote)."""
    from .infotext_write import quote

    return quote(value)


def check_key(key: str) -> None:
    """Refuse a settings key that would not read back as itself (infotext_write.check_key)."""
    from .infotext_write import check_key

    check_key(key)


def _typed_current(params: GenParams, key: str) -> Any:
    spec = TYPED[key]
    vals = tuple(getattr(params, f) for f in spec.fields)
    if len(vals) == 1:
        return vals[0]
    return None if any(v is None for v in vals) else vals


def _current_value(params: GenParams, key: str) -> str | None:
    """The value `key` should have in the output now, as text; None when it is unset."""
    from .infotext_write import format_extra, format_typed

    if key in TYPED:
        cur = _typed_current(params, key)
        if cur is not None:
            return format_typed(key, cur)
    if key in params.extra:
        return format_extra(key, params.extra[key], raw_json=key in _RAW_JSON_KEYS)
    return None


def _entry_unchanged(params: GenParams, e: Entry) -> bool:
    key = typed_key(e.key)
    if key in TYPED and e.typed is not None:
        return _typed_current(params, key) == e.typed
    if key in TYPED and _typed_current(params, key) is not None:
        return False
    return e.key in params.extra and params.extra[e.key] == e.value


def _new_entries(params: GenParams, present: set[str]) -> list[str]:
    from .infotext_write import check_key, encode_value

    keys: list[str] = [k for k in TYPED if k not in TAIL_KEYS]
    keys += [k for k in params.extra if k not in TYPED]
    if "Lora hashes" not in params.extra:
        hashed = [lo for lo in params.loras if lo.hash and lo.kind == "lora"]
        if hashed:
            value = ", ".join(f"{lo.name.replace(':', '').replace(',', '')}: {lo.hash}"
                              for lo in hashed)
            keys.append("Lora hashes")
            extra_value = {"Lora hashes": value}
        else:
            extra_value = {}
    else:
        extra_value = {}
    if "TI hashes" not in params.extra:
        hashed_ti = [e for e in params.embeddings if e.hash]
        if hashed_ti:
            keys.append("TI hashes")
            extra_value["TI hashes"] = ", ".join(
                f"{e.name.replace(':', '').replace(',', '')}: {e.hash}" for e in hashed_ti)
    keys += [k for k in TAIL_KEYS]
    out: list[str] = []
    for key in keys:
        if key in present or typed_key(key) in present:  # "CFG Scale" is "CFG scale"
            continue
        present.add(key)
        if key in extra_value:
            out.append(f"{key}: {encode_value(extra_value[key], key)}")
            continue
        current = _current_value(params, key)
        if current is not None and current != "":
            check_key(key)
            out.append(f"{key}: {current}")
    return out


def dump(params: GenParams) -> str:
    """Serialize to infotext. With the origin of an earlier parse, unchanged parts keep their
    exact original text; changed entries are rewritten in place, new ones appended.

    What is written reads back as written (infotext_write): values are quoted where they
    need it, and ValidationError refuses, before anything is written, a key, a value or a
    prompt line the text cannot carry."""
    from .infotext_write import check_pairs, check_readback, prompt_block, written_prompts

    origin = params.origin if isinstance(params.origin, InfotextOrigin) else None
    check_pairs(params, TYPED)
    prompt, negative = written_prompts(params, origin)
    if origin is None:
        added = _new_entries(params, set())
        line = ", ".join(added)
        block = prompt_block(prompt, negative)
        text = (block + "\n" + line if block else line).strip()
        return check_readback(text, TYPED, prompt=prompt, negative=negative, pieces=added)
    if params.prompt == origin.prompt and params.negative_prompt == origin.negative_prompt:
        head = origin.head
    else:
        block = prompt_block(prompt, negative)
        head = block + "\n" if block else ""
    if not origin.has_line:
        added = _new_entries(params, set())
        line = ", ".join(added)
        if head == origin.head:
            if not line:
                return origin.text
            text = (head + "\n" if head else "") + line + origin.tail
        else:
            text = (head + line).strip()
        return check_readback(text, TYPED, prompt=prompt, negative=negative, pieces=added)
    pieces: list[str] = []
    present: set[str] = set()
    # last one wins; a typed key spelled another way ("CFG Scale") is the same key, and
    # keeps its spelling when its value changes
    last = {typed_key(p.key): p for p in origin.line_parts if isinstance(p, Entry)}
    # the entry a typed field was read from: the last one whose value reads as the type
    readable = {typed_key(p.key): p for p in origin.line_parts
                if isinstance(p, Entry) and p.typed is not None}
    gap = ""
    skip_gap = False  # a removed first entry takes the separator after it with it
    for part in origin.line_parts:
        if isinstance(part, str):
            if not skip_gap:
                gap += part
            skip_gap = False
            continue
        skip_gap = False
        key = typed_key(part.key)
        present.add(key)
        if part.typed is None and key in TYPED and key in readable:
            # an unreadable duplicate beside a readable one ("Steps: 20, Steps: 20x"): the
            # field came from the other, so the field's edits do not reach it; it stays as
            # written unless the field was removed or `extra` changed (which holds the last
            # entry's text when that one is unreadable)
            end = last[key]
            unchanged = (_typed_current(params, key) is not None and params.extra.get(end.key)
                         == (end.value if end.typed is None else None))
        else:
            unchanged = _entry_unchanged(params, readable.get(key, last[key]))
        if unchanged:
            text = part.raw
        else:
            value = _current_value(params, key)
            if value is None:
                if pieces:
                    gap = ""
                else:
                    skip_gap = True
                continue
            text = f"{part.key}: {value}"
        pieces.append(gap + text)
        gap = ""
    line = "".join(pieces)
    added = _new_entries(params, present)
    if added:
        line = (line + ", " if line.strip() else line) + ", ".join(added)
    line += gap
    return check_readback(head + line + origin.tail, TYPED, prompt=prompt, negative=negative,
                          pieces=[*pieces, *added, gap])


# --- dialect protocol --------------------------------------------------------------------------

def infotext(raw: RawMetadata) -> str | None:
    """The A1111 text of a file: EXIF UserComment (preferred, as A1111 does) or `parameters`."""
    found = _infotext_entry(raw)
    return found[1] if found else None


def _infotext_entry(raw: RawMetadata) -> tuple[str, str] | None:
    for key in TEXT_KEYS:
        text = raw.text(key)
        if text and text.strip():
            return key, text
    return None


def _readable(text: str) -> bool:
    return sum(c.isprintable() or c.isspace() for c in text) >= 0.9 * len(text)


def score(raw: RawMetadata) -> float:
    """0.5 for text with a settings line. Without one, a `parameters` chunk still claims the
    file (so the user hears that it is broken) but a readable EXIF UserComment does not: that
    tag is a general-purpose comment ("Created with GIMP")."""
    found = _infotext_entry(raw)
    if found is None:
        return 0.0
    key, text = found
    json_like = text.lstrip()[:1] in "{["
    if len(text) > MAX_INFOTEXT_CHARS:
        return 0.0 if json_like else 0.1  # claimed, so that parsing says why it is not read
    last = text.rstrip().rsplit("\n", 1)[-1]
    if is_params_line(last, TYPED):
        # A prompt may start with a bracket (`{red|blue} cat`, dynamic prompts); JSON
        # (another dialect's) does not end in a settings line unless it is not JSON at all.
        return 0.0 if json_like and try_loads(text) is not None else 0.5
    if json_like:
        return 0.0  # JSON belongs to another dialect
    if key == "UserComment" and _readable(text):
        return 0.0
    return 0.1


def parse(raw: RawMetadata) -> GenParams:
    found = parse_deferred(raw)
    return found.build() if isinstance(found, DeferredParams) else found


def parse_deferred(raw: RawMetadata) -> GenParams | DeferredParams:
    """`parse`, leaving the model unbuilt (DeferredParams) when no validation is needed."""
    found = _infotext_entry(raw)
    if found is None:
        raise ParseError("no A1111 parameters text found")
    key, text = found
    params = _parse(text)
    origin = cast(InfotextOrigin, params.origin)
    origin.key = key
    if not origin.has_line:
        if key == "UserComment" and not _readable(text):
            raise ParseError("EXIF UserComment does not decode to readable text")
        raise ParseError(f"{key} text has no settings line (\"Steps: ..., Sampler: ..., "
                         "Seed: ...\"); only a prompt was found")
    return params
