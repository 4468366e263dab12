"""Dialect layer: AUTOMATIC1111 infotext (also Forge, reForge, SD.Next) <-> GenParams.

formats.md section 3. Parsing follows A1111's rules (last line is the parameters line when it
has at least three `key: value` entries; lines stripped; `Negative prompt:` switches part) but
scans values robustly: JSON-quoted strings, and unquoted JSON objects/arrays (`Hashes`,
`Civitai resources`) kept whole by a bracket-aware scanner. The parse keeps every original
substring, so `dump(parse(text)) == text` and editing one field rewrites only that field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..containers.raw import RawMetadata
from ..errors import ParseError
from ..model_fields import (
    EMBEDDING_DEFAULTS,
    LORA_DEFAULTS,
    RULES,
    SCALAR_DEFAULTS,
    SCALAR_FIELDS,
    DeferredParams,
)

if TYPE_CHECKING:
    from ..model import GenParams, Lora

# pydantic (gendata.model) is imported only when a GenParams is built: reading a file for
# `show --json` or `export` goes through `parse_deferred` and never needs it.

NAME = "a1111"
# Where A1111-family tools put the text, in the order A1111 itself prefers (3.11: EXIF wins).
TEXT_KEYS = ("UserComment", "parameters")

_KEY = re.compile(r"\s*(\w[\w \-/]+):\s*")
# _KEY and the value up to the next comma, in one match: the common, unquoted entry.
_ENTRY = re.compile(r"\s*(\w[\w \-/]+):\s*([^,]*)")
_NEG = "Negative prompt:"
_SIZE = re.compile(r"^(\d+)x(\d+)$")
_NET_TAG = re.compile(r"<(lora|lyco|hypernet):([^>]+)>", re.IGNORECASE)
_RAW_JSON_KEYS = frozenset({"Hashes", "Civitai resources", "Civitai metadata"})
# Longest infotext parsed (docs/guide.md#limits): real ones are a few KiB, and splitting a
# settings line costs some 35 bytes of memory per character, 1 GiB for a 32 MiB chunk.
MAX_INFOTEXT_CHARS = 4 * 1024 * 1024


def _to_int(s: str) -> int:
    return int(s.strip())


def _to_float(s: str) -> float:
    value = float(s.strip())
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(s)
    return value


def _to_size(s: str) -> tuple[int, int]:
    m = _SIZE.match(s.strip())
    if not m:
        raise ValueError(s)
    return int(m.group(1)), int(m.group(2))


def _to_str(s: str) -> str:
    return s


@dataclass(frozen=True)
class _Typed:
    fields: tuple[str, ...]
    parse: Callable[[str], Any]


# A1111 key -> model field(s). Order here is the canonical output order for new keys.
TYPED: dict[str, _Typed] = {
    "Steps": _Typed(("steps",), _to_int),
    "Sampler": _Typed(("sampler",), _to_str),
    "Schedule type": _Typed(("scheduler",), _to_str),
    "CFG scale": _Typed(("cfg_scale",), _to_float),
    "Seed": _Typed(("seed",), _to_int),
    "Size": _Typed(("width", "height"), _to_size),
    "Model hash": _Typed(("model_hash",), _to_str),
    "Model": _Typed(("model",), _to_str),
    "VAE hash": _Typed(("vae_hash",), _to_str),
    "VAE": _Typed(("vae",), _to_str),
    "Variation seed": _Typed(("variation_seed",), _to_int),
    "Variation seed strength": _Typed(("variation_seed_strength",), _to_float),
    "Denoising strength": _Typed(("denoising_strength",), _to_float),
    "Clip skip": _Typed(("clip_skip",), _to_int),
    "Hires upscale": _Typed(("hires_upscale",), _to_float),
    "Hires resize": _Typed(("hires_width", "hires_height"), _to_size),
    "Hires steps": _Typed(("hires_steps",), _to_int),
    "Hires upscaler": _Typed(("hires_upscaler",), _to_str),
    "Version": _Typed(("version",), _to_str),
}
FIELD_TO_KEY: dict[str, str] = {f: k for k, t in TYPED.items() for f in t.fields}
_TAIL_KEYS = ("Version",)  # written last, as A1111 does


# --- scanning --------------------------------------------------------------------------------

@dataclass(slots=True)
class Entry:
    """One `key: value` of the parameters line, with the exact text it came from."""

    key: str
    raw: str  # the whole entry text, from the key to the end of the value
    value: str  # decoded value
    quoted: bool = False
    typed: Any = None  # the typed value parsed from `value` (None when untyped/unparsable)


@dataclass
class Origin:
    """Everything needed to write the original text back byte for byte."""

    text: str
    head: str  # text before the parameters line (prompt + negative part, with newlines)
    line_parts: list[str | Entry] = field(default_factory=list)  # gaps and entries
    tail: str = ""  # text after the parameters line
    prompt: str = ""
    negative_prompt: str = ""
    has_line: bool = True


def _scan_quoted(line: str, i: int, stop: int | None = None) -> int | None:
    """End index (exclusive) of a JSON string starting at line[i] == '"', or None (also
    when it does not end before `stop`)."""
    j = i + 1
    n = len(line) if stop is None else min(stop, len(line))
    while j < n:
        c = line[j]
        if c == "\\":
            j += 2
            continue
        if c == '"':
            return j + 1 if j > i + 1 else None
        j += 1
    return None


def _scan_bracketed(line: str, i: int, stop: int) -> int | None:
    """End index of a balanced {...} or [...] starting at i (strings respected), or None
    when it is not closed before `stop`."""
    depth = 0
    j = i
    n = min(stop, len(line))
    while j < n:
        c = line[j]
        if c == '"':
            end = _scan_quoted(line, j, n)
            if end is None:
                j += 2 if line[j + 1:j + 2] == '"' else 1
                continue
            j = end
            continue
        if c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return None


def scan_line(line: str, limit: int | None = None) -> list[str | Entry]:
    """Split a parameters line into gaps (str) and entries, losing no character.

    With `limit`, stop after that many entries (enough to tell whether a line is a
    parameters line without scanning all of it)."""
    parts: list[str | Entry] = []
    append = parts.append
    match = _ENTRY.match
    found = 0
    i = 0
    n = len(line)
    gap_start = 0
    # What bracket scans may read in all. A scan that finds no close reads to the end of the
    # line, and one per entry would be quadratic; a real line scans each value once.
    budget = 2 * n + 65536
    while i < n:
        m = match(line, i)
        if not m:
            nxt = line.find(",", i)
            i = n if nxt < 0 else nxt + 1
            continue
        key_start, key_end = m.span(1)
        v, end = m.span(2)
        quoted = False
        if v < end and line[v] in '"{[':
            # A JSON string, object or array may hold commas: scan it, and fall back to
            # the next comma when it is not followed by one.
            scanned = None
            if line[v] == '"':
                q = _scan_quoted(line, v)
                if q is not None and (q == n or line[q] == ","):
                    scanned = q
                    quoted = True
            elif budget > 0:
                b = _scan_bracketed(line, v, v + budget)
                budget -= (min(n, v + budget) if b is None else b) - v
                if b is not None and (b == n or line[b] == ","):
                    scanned = b
            if scanned is not None:
                end = scanned
        value = line[v:end]
        if quoted:
            try:
                decoded = json.loads(value)
                if isinstance(decoded, str):
                    value = decoded
            except ValueError:
                pass
        if key_start > gap_start:
            append(line[gap_start:key_start])
        append(Entry(line[key_start:key_end].strip(), line[key_start:end], value, quoted))
        found += 1
        if found == limit:
            return parts
        i = gap_start = end
        if i < n and line[i] == ",":
            i += 1
    if gap_start < n:
        parts.append(line[gap_start:])
    return parts


def _looks_like_params(parts: list[str | Entry]) -> bool:
    """A1111's rule is three or more entries. A shorter line still counts when it is nothing
    but entries with keys A1111 itself writes ("Steps: 30, Seed: 1"), so a small block that
    gendata wrote reads back."""
    entries = [p for p in parts if isinstance(p, Entry)]
    if len(entries) >= 3:
        return True
    return bool(entries) and all(e.key in TYPED for e in entries) and all(
        isinstance(p, Entry) or not p.strip(", ") for p in parts)


def _split_prompts(head: str) -> tuple[str, str]:
    prompt_lines: list[str] = []
    neg_lines: list[str] = []
    target = prompt_lines
    for line in head.split("\n"):
        line = line.strip()
        if target is prompt_lines and line.startswith(_NEG):
            target = neg_lines
            line = line[len(_NEG):].strip()
        target.append(line)
    if head.endswith("\n"):
        (neg_lines if target is neg_lines else prompt_lines).pop()
    return "\n".join(prompt_lines), "\n".join(neg_lines)


def _locate(text: str) -> Origin:
    stripped_end = len(text.rstrip())
    body = text[:stripped_end]
    nl = body.rfind("\n")
    line = body[nl + 1:]
    head = body[:nl + 1]
    stripped = line.strip("\r")
    parts = scan_line(stripped)
    line_raw = line
    if line.endswith("\r"):
        parts = scan_line(line)
    if not _looks_like_params(parts):
        origin = Origin(text=text, head=body, tail=text[stripped_end:], has_line=False)
        origin.prompt, origin.negative_prompt = _split_prompts(body)
        return origin
    # `parts` is already the scan of the raw line unless stripping changed it.
    same = stripped == line_raw or line.endswith("\r")
    origin = Origin(text=text, head=head, line_parts=parts if same else scan_line(line_raw),
                    tail=text[stripped_end:])
    origin.prompt, origin.negative_prompt = _split_prompts(head)
    return origin


# --- text -> model -----------------------------------------------------------------------------

def _lora_hash_map(value: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in value.split(","):
        name, sep, h = item.partition(":")
        if sep and name.strip():
            out[name.strip()] = h.strip()
    return out


def _float_or_none(s: str) -> float | None:
    try:
        return _to_float(s)
    except ValueError:
        return None


def network_tags(prompt: str, hashes: dict[str, str] | None = None) -> list[Lora]:
    """`<lora:name:te[:unet]>`, `<lyco:...>`, `<hypernet:name:w>` tags of a prompt (3.7)."""
    from ..model import Lora

    # name/kind are str, weights float or None: nothing for validation to change
    return [Lora.model_construct(**kw) for kw in _network_tag_fields(prompt, hashes)]


def _network_tag_fields(prompt: str, hashes: dict[str, str] | None = None
                        ) -> list[dict[str, Any]]:
    """The Lora fields of each network tag, as `network_tags` passes them to the model."""
    hashes = hashes or {}
    out: list[dict[str, Any]] = []
    if "<" not in prompt:
        return out
    # A tag ends at the first ">" after it: none can end past the last one, and searching
    # beyond it would rescan the rest of the text from every unclosed "<lora:".
    for m in _NET_TAG.finditer(prompt, 0, prompt.rfind(">") + 1):
        kind = m.group(1).lower()
        args = m.group(2).split(":")
        name = args[0].strip()
        positional = [a for a in args[1:] if "=" not in a]
        named = dict(a.split("=", 1) for a in args[1:] if "=" in a)
        weight = _float_or_none(positional[0]) if positional else 1.0
        if weight is None and "te" in named:
            weight = _float_or_none(named["te"])
        unet = _float_or_none(positional[1]) if len(positional) > 1 else None
        if unet is None and "unet" in named:
            unet = _float_or_none(named["unet"])
        key = name.replace(":", "").replace(",", "")
        out.append({"name": name, "weight": weight, "unet_weight": unet,
                    "hash": hashes.get(key), "kind": kind})
    return out


def generator_of(values: dict[str, str]) -> str:
    """Which A1111-family front end wrote the text, from its own markers (3.5, 3.10)."""
    version = values.get("Version", "")
    if values.get("App", "").lower().startswith("sd.next") or ("Backend" in values and (
            "Pipeline" in values or "Operations" in values)):
        return "sdnext"
    if version == "classic" or version.startswith("classic"):
        return "forge-classic"
    if version == "neo" or version.startswith("neo"):
        return "forge-neo"
    if re.match(r"^f\d+(\.\d+)*-?v\d", version):
        if "RC-latest" in version or re.match(r"^f\d+(\.\d+)*-v", version):
            return "reforge"
        return "forge"
    return "a1111"


def _field_rules() -> dict[str, tuple[type, float | None, float | None]]:
    """Model field -> (exact type, gt, ge) for the scalar fields, read off GenParams (the
    source that model_fields.RULES copies)."""
    import annotated_types as at

    from ..model import GenParams

    rules: dict[str, tuple[type, float | None, float | None]] = {}
    for name, info in GenParams.model_fields.items():
        kinds = [a for a in getattr(info.annotation, "__args__", (info.annotation,))
                 if a is not type(None)]
        if len(kinds) != 1 or kinds[0] not in (int, float, str):
            continue
        gt = next((m.gt for m in info.metadata if isinstance(m, at.Gt)), None)
        ge = next((m.ge for m in info.metadata if isinstance(m, at.Ge)), None)
        rules[name] = (kinds[0], gt, ge)
    return rules


def _trusted(fields: dict[str, Any]) -> bool:
    """True when every value already has its field's exact type and is in range, so
    validating would change nothing and the model can be built directly (the common case;
    anything else goes through full validation)."""
    rules = RULES
    for name, value in fields.items():
        rule = rules.get(name)
        if rule is None or type(value) is not rule[0]:
            return False
        gt, ge = rule[1], rule[2]
        if (gt is not None and not value > gt) or (ge is not None and not value >= ge):
            return False
    return True


def _construct(data: dict[str, Any]) -> GenParams:
    """GenParams without running validation, for values `_trusted` has checked.

    Every field is passed in (the scalar defaults, which are immutable, and fresh lists), so
    pydantic has no defaults to resolve: that, not validation, was most of the cost."""
    from ..model import GenParams

    return GenParams.model_construct(
        set(data), **{**SCALAR_DEFAULTS, "samplers": [], "notes": [], **data})


class _Parsed(DeferredParams):
    """An infotext parse whose values `_trusted` has passed: the GenParams is built (without
    validation) only when someone asks for the model."""

    __slots__ = ("embeddings", "extra", "fields", "loras", "origin")

    def __init__(self, fields: dict[str, Any], extra: dict[str, Any],
                 loras: list[dict[str, Any]], embeddings: list[dict[str, Any]],
                 origin: Origin) -> None:
        self.fields = fields
        self.extra = extra
        self.loras = loras
        self.embeddings = embeddings
        self.origin = origin

    def build(self) -> GenParams:
        from ..model import Embedding, Lora

        params = _construct({
            **self.fields, "extra": self.extra,
            "loras": [Lora.model_construct(**kw) for kw in self.loras],
            "embeddings": [Embedding.model_construct(**kw) for kw in self.embeddings]})
        params._origin = self.origin
        return params

    def json_fields(self) -> dict[str, Any]:
        fields = self.fields
        out = {k: fields.get(k, SCALAR_DEFAULTS[k]) for k in SCALAR_FIELDS}
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
    origin = _locate(text)
    fields: dict[str, Any] = {"prompt": origin.prompt, "negative_prompt": origin.negative_prompt}
    extra: dict[str, Any] = {}
    values: dict[str, str] = {}
    typed_keys = TYPED
    for part in origin.line_parts:
        if part.__class__ is str:
            continue
        key = part.key
        values[key] = part.value
        spec = typed_keys.get(key)
        if spec is not None:
            try:
                typed = spec.parse(part.value)
            except ValueError:
                typed = None
            part.typed = typed
            if typed is not None:
                if len(spec.fields) == 1:
                    fields[spec.fields[0]] = typed
                else:
                    fields.update(zip(spec.fields, typed, strict=True))
                extra.pop(key, None)
                continue
        elif key in fields:
            continue
        extra[key] = part.value
    lora_hashes = _lora_hash_map(values.get("Lora hashes", ""))
    loras = _network_tag_fields(origin.prompt, lora_hashes)
    if not loras and "LoRA networks" in values:  # SD.Next: names and hashes as two lists
        names = [n.strip() for n in values["LoRA networks"].split(",") if n.strip()]
        hs = [h.strip() for h in values.get("LoRA hashes", "").split(",")]
        loras = [{"name": n, "hash": hs[i] if i < len(hs) and hs[i] else None}
                 for i, n in enumerate(names)]
    embeddings = [{"name": n, "hash": h or None}
                  for n, h in _lora_hash_map(values.get("TI hashes", "")).items()]
    fields["generator"] = generator_of(values) if origin.has_line else "a1111"
    if _trusted(fields):
        return _Parsed(fields, extra, loras, embeddings, origin)
    from ..model import Embedding, GenParams, Lora

    lora_models = [Lora.model_construct(**kw) for kw in loras]
    embedding_models = [Embedding.model_construct(**kw) for kw in embeddings]
    data = {**fields, "extra": extra, "loras": lora_models, "embeddings": embedding_models}
    try:
        params = GenParams.model_validate(data)
    except Exception:
        # A typed value out of range (e.g. Steps: 0): keep it as text rather than fail.
        for t in TYPED.values():
            for f in t.fields:
                fields.pop(f, None)
        for part in origin.line_parts:
            if isinstance(part, Entry) and part.key in TYPED:
                part.typed = None
                extra[part.key] = part.value
        params = GenParams.model_validate({**fields, "extra": extra, "loras": lora_models,
                                           "embeddings": embedding_models})
    params._origin = origin
    return params


# --- model -> text -----------------------------------------------------------------------------

def quote(value: str) -> str:
    """A1111's current quoting rule (3.3): JSON-quote when the value has `,`, LF or `:`."""
    if "," in value or "\n" in value or ":" in value:
        return json.dumps(value, ensure_ascii=False)
    return value


def _fmt_number(value: float | int) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def _typed_current(params: GenParams, key: str) -> Any:
    spec = TYPED[key]
    vals = tuple(getattr(params, f) for f in spec.fields)
    if len(vals) == 1:
        return vals[0]
    return None if any(v is None for v in vals) else vals


def _format_typed(value: Any) -> str:
    if isinstance(value, tuple):
        return f"{value[0]}x{value[1]}"
    if isinstance(value, (int, float)):
        return _fmt_number(value)
    return str(value)


def _format_extra(key: str, value: Any) -> str:
    if isinstance(value, str):
        stripped = value.strip()
        if key in _RAW_JSON_KEYS and stripped[:1] in "{[":
            return value
        return quote(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float)):
        return _fmt_number(value)
    return quote(str(value))


def _current_value(params: GenParams, key: str) -> str | None:
    """The value `key` should have in the output now, as text; None when it is unset."""
    if key in TYPED:
        cur = _typed_current(params, key)
        if cur is not None:
            return _format_typed(cur)
    if key in params.extra:
        return _format_extra(key, params.extra[key])
    return None


def _entry_unchanged(params: GenParams, e: Entry) -> bool:
    if e.key in TYPED and e.typed is not None:
        return _typed_current(params, e.key) == e.typed
    if e.key in TYPED and _typed_current(params, e.key) is not None:
        return False
    return e.key in params.extra and params.extra[e.key] == e.value


def _prompt_block(params: GenParams) -> str:
    out = params.prompt
    if params.negative_prompt:
        out += ("\n" if out else "") + _NEG + " " + params.negative_prompt
    return out


def _new_entries(params: GenParams, present: set[str]) -> list[str]:
    keys: list[str] = [k for k in TYPED if k not in _TAIL_KEYS]
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
    keys += [k for k in _TAIL_KEYS]
    out: list[str] = []
    for key in keys:
        if key in present:
            continue
        present.add(key)
        if key in extra_value:
            out.append(f"{key}: {quote(extra_value[key])}")
            continue
        value = _current_value(params, key)
        if value is not None and value != "":
            out.append(f"{key}: {value}")
    return out


def dump(params: GenParams) -> str:
    """Serialize to infotext. With the origin of an earlier parse, unchanged parts keep their
    exact original text; changed entries are rewritten in place, new ones appended."""
    origin: Origin | None = params._origin if isinstance(params._origin, Origin) else None
    if origin is None:
        line = ", ".join(_new_entries(params, set()))
        block = _prompt_block(params)
        return (block + "\n" + line if block else line).strip()
    if params.prompt == origin.prompt and params.negative_prompt == origin.negative_prompt:
        head = origin.head
    else:
        block = _prompt_block(params)
        head = block + "\n" if block else ""
    if not origin.has_line:
        line = ", ".join(_new_entries(params, set()))
        if head == origin.head and not line:
            return origin.text
        return (head.rstrip("\n") + ("\n" + line if line else "")).strip() + (
            origin.tail if head == origin.head else "")
    pieces: list[str] = []
    present: set[str] = set()
    last = {p.key: p for p in origin.line_parts if isinstance(p, Entry)}  # last one wins
    gap = ""
    skip_gap = False  # a removed first entry takes the separator after it with it
    for part in origin.line_parts:
        if isinstance(part, str):
            if not skip_gap:
                gap += part
            skip_gap = False
            continue
        skip_gap = False
        present.add(part.key)
        if _entry_unchanged(params, last[part.key]):
            text = part.raw
        else:
            value = _current_value(params, part.key)
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
    return head + line + origin.tail


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
    if text.lstrip()[:1] in "{[":
        return 0.0  # JSON belongs to another dialect
    if len(text) > MAX_INFOTEXT_CHARS:
        return 0.1  # claimed, so that parsing says why it is not read
    last = text.rstrip().rsplit("\n", 1)[-1]
    if _looks_like_params(scan_line(last, limit=3)):
        return 0.5
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
    origin = params.origin if isinstance(params, _Parsed) else params._origin
    if not origin.has_line:
        if key == "UserComment" and not _readable(text):
            raise ParseError("EXIF UserComment does not decode to readable text")
        raise ParseError(f"{key} text has no settings line (\"Steps: ..., Sampler: ..., "
                         "Seed: ...\"); only a prompt was found")
    return params


def describe(key: str) -> str:
    """What a typed key's value must look like, for error messages."""
    parser = TYPED[key].parse
    return {_to_int: "an integer", _to_float: "a number", _to_size: "WIDTHxHEIGHT"}.get(
        parser, "text")
