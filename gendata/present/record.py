"""Presentation, neutral: one record as the lines, rows and sections every front end shows.

Functions take `p`, the parameters, as any object with GenParams' attributes: a GenParams
(the TUI has built them anyway) or `params_view(rec)`, which reads deferred parameters
without building the pydantic model, so `gendata show` stays quick.
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, NamedTuple

from .labels import HIRES_FIELDS, MAIN_FIELDS, dialect_label, generator_name, section_title
from .values import field_value, format_value, visible

if TYPE_CHECKING:
    from ..api import Record

Row = tuple[str, str]  # (label, value text)

SAMPLER_COLUMNS = ("#", "sampler", "scheduler", "steps", "cfg", "seed", "denoise", "node")
RAW_COLUMNS = ("container", "where", "key", "size", "offset", "text")


class NetworkRow(NamedTuple):
    """A LoRA (kind "lora", "lyco", "hypernet") or an embedding (kind "embedding")."""

    kind: str
    name: str
    weight: str
    hash: str


class Span(NamedTuple):
    """Part of a prompt worth picking out; `kind` says what it is, each front end its style."""

    start: int
    end: int
    kind: str  # "network", "bracket", "weight" or "keyword"


# In layering order: a later kind is drawn over an earlier one where they overlap.
_PROMPT_MARKS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("network", re.compile(r"<(?:lora|lyco|hypernet):[^>]+>")),
    ("bracket", re.compile(r"[()\[\]{}]")),
    # `:\d*\.?\d+` written so that a long run of digits is not re-split at every place.
    ("weight", re.compile(r":(?:\d+(?:\.\d+)?|\.\d+)(?=\))")),
    ("keyword", re.compile(r"\bBREAK\b|\bAND\b")),
)


def params_view(rec: Record) -> Any:
    """The record's parameters to read attributes off, or None for a file without any.

    Built from the record's `show --json` object rather than `rec.params`, so that parameters
    a dialect left unbuilt stay unbuilt (showing a file needs no pydantic); the object's
    `generator` is null exactly when there is no generation data (docs/json.md).
    """
    values = rec.to_json()
    if values.get("generator") is None:
        return None
    for key in ("loras", "embeddings", "samplers"):
        values[key] = [SimpleNamespace(**item) for item in values[key]]
    return SimpleNamespace(**values)


def summary_parts(rec: Record, p: Any) -> list[str]:
    """"ComfyUI", "PNG", "1024x1024": the line under a file name (show, TUI, diff)."""
    sub = []
    if p is not None and p.generator:
        sub.append(generator_name(p.generator))
    if rec.container:
        sub.append(rec.container.upper())
    if rec.raw is not None and rec.raw.width:
        sub.append(f"{rec.raw.width}x{rec.raw.height}")
    return sub


def data_locations(rec: Record) -> list[str]:
    """Where the record's generation data is stored, as the container names it: "tEXt
    parameters", "iTXt prompt", "EXIF UserComment"."""
    if rec.raw is None:
        return []
    from ..formats import generation_keys

    keys = generation_keys(rec.raw)
    out: list[str] = []
    for e in rec.raw.entries:
        if e.key not in keys or e.text is None:
            continue
        where = e.location.replace(":", " ")
        if e.key not in where.split():
            where += f" {e.key}"
        if where not in out:
            out.append(visible(where, ""))
    return out


def dialect_of(p: Any) -> str | None:
    """The dialect (formats NAME) that read `p`: its origin's, else its generator's."""
    origin = getattr(p, "origin", None)
    return getattr(origin, "dialect", None) or getattr(p, "generator", None)


def format_summary(rec: Record, p: Any) -> str | None:
    """"A1111 infotext in PNG tEXt parameters": the dialect of the record's data and where it
    is; None for a record without generation data."""
    if p is None:
        return None
    label = dialect_label(dialect_of(p))
    where = " ".join(filter(None, [(rec.container or "").upper(),
                                   ", ".join(data_locations(rec))]))
    return f"{label} in {where}" if where else label


def new_data_location(container: str | None) -> str:
    """Where an edit puts A1111 data into a file that has none."""
    return "PNG tEXt parameters" if container == "png" else \
        f"{(container or 'image').upper()} EXIF UserComment"


def no_data_message(rec: Record, hint: str = "") -> str:
    """"no generation data", naming what other metadata the file does hold, so a user never
    takes a file with a C2PA manifest or an unknown text chunk for an empty one."""
    keys = [f"{e.location}:{e.key}" if e.text is not None else e.key
            for e in (rec.raw.entries if rec.raw else [])
            if e.text is not None or e.location in ("caBX", "eXIf")]
    if not keys:
        return "no generation data"
    return f"no generation data (other metadata present: {', '.join(keys)}{hint})"


def prompt_spans(text: str) -> list[Span]:
    """Extra-network tags, emphasis brackets, weights and BREAK/AND in a prompt."""
    # A tag ends at the first ">" after it; searching past the last ">" would rescan the
    # rest of the text from every unclosed "<lora:" (quadratic).
    tags_end = text.rfind(">") + 1
    return [Span(m.start(), m.end(), kind)
            for kind, pattern in _PROMPT_MARKS
            for m in pattern.finditer(text, 0, tags_end if kind == "network" else len(text))
            if m.end() > m.start()]


def field_rows(p: Any, fields: list[tuple[str, str]] = MAIN_FIELDS) -> list[Row]:
    """(label, text) of the `fields` that are set, in that order."""
    rows = []
    for name, label in fields:
        value = field_value(p, name)
        if value is not None:
            rows.append((label, format_value(value)))
    return rows


def extra_rows(p: Any, *, hires: bool | None = None) -> list[Row]:
    """Untyped parameters in the order found; `hires`: only the "Hires ..." keys (True) or
    only the others (False), for a view that groups them with the hires fix."""
    return [(k, format_value(v)) for k, v in p.extra.items()
            if hires is None or k.lower().startswith("hires") == hires]


def hires_rows(p: Any) -> list[Row]:
    """The hires fix: its typed fields and the "Hires ..." keys among the untyped ones."""
    return field_rows(p, HIRES_FIELDS) + extra_rows(p, hires=True)


def network_rows(p: Any, *, weight_sep: str = " / ") -> list[NetworkRow]:
    """LoRAs, then embeddings. A LoRA with a separate UNet weight shows both, joined by
    `weight_sep`."""
    rows = []
    for lo in p.loras:
        weight = format_value(lo.weight)
        if lo.unet_weight is not None:
            weight += weight_sep + format_value(lo.unet_weight)
        rows.append(NetworkRow(lo.kind, lo.name, weight, lo.hash or ""))
    for e in p.embeddings:
        rows.append(NetworkRow("embedding", e.name, "", e.hash or ""))
    return rows


def sampler_rows(p: Any) -> list[tuple[str, ...]]:
    """One row per sampling pass, under SAMPLER_COLUMNS."""
    return [(str(i), format_value(s.sampler), format_value(s.scheduler), format_value(s.steps),
             format_value(s.cfg_scale), format_value(s.seed), format_value(s.denoise),
             format_value(s.node))
            for i, s in enumerate(p.samplers, 1)]


# A sampling pass's values and their labels, in the order a pass is described.
PASS_FIELDS: tuple[tuple[str, str], ...] = (
    ("sampler", "sampler"), ("scheduler", "scheduler"), ("steps", "steps"),
    ("cfg_scale", "CFG"), ("seed", "seed"), ("denoise", "denoise"), ("model", "model"))


def sampler_pass_rows(s: Any) -> list[Row]:
    """(label, value) of a sampling pass's known values, for a labelled view of each pass."""
    return [(label, format_value(getattr(s, name))) for name, label in PASS_FIELDS
            if getattr(s, name, None) is not None]


def sampler_pass_title(i: int, s: Any, count: int) -> str:
    """"Pass 2 of 3 · node 12": what a front end puts over a pass's values (the node is the
    sampler node of a ComfyUI graph, where the pass can be found)."""
    node = f" · node {visible(str(s.node), '')}" if getattr(s, "node", None) else ""
    return f"Pass {i} of {count}{node}"


def sampler_pass_summary(s: Any) -> str:
    """"Euler, normal, 20, 7, 42, 1": a sampling pass on one line, the unknown values left out."""
    values = [format_value(v) for v in (s.sampler, s.scheduler, s.steps, s.cfg_scale, s.seed,
                                        s.denoise) if v is not None]
    return ", ".join(values) or "(values not known)"


def remarks(rec: Record, p: Any) -> list[str]:
    """What a dialect could not recover and what the container noticed, as "note: ..." and
    "warning: ..." lines."""
    lines = [f"note: {note}" for note in (p.notes if p is not None else [])]
    lines += [f"warning: {w}" for w in rec.warnings]
    return lines


def extras_sections(rec: Record) -> list[tuple[str, list[Row]]]:
    """(title, rows) of the sections services add to a record, e.g. the embedding an A1111
    embedding card carries."""
    sections = []
    for key, value in rec.extras.items():
        if isinstance(value, dict) and value:
            rows = [(k, format_value(v)) for k, v in value.items() if v not in (None, [], "")]
            sections.append((section_title(key), rows))
    return sections


def raw_title(rec: Record) -> str:
    return f"{rec.path} ({(rec.container or '?').upper()})"


def raw_rows(rec: Record, *, text_limit: int = 400) -> list[tuple[str, ...]]:
    """Every chunk or tag as stored, under RAW_COLUMNS; binary ones by size, long texts cut
    to `text_limit` characters with their length."""
    rows: list[tuple[str, ...]] = []
    for e in rec.raw.entries if rec.raw is not None else []:
        where = e.location + (" (after IDAT)" if e.after_idat else "")
        text = e.text if e.text is not None else f"<{e.size} bytes binary>"
        if len(text) > text_limit:
            text = text[:text_limit] + f"… ({len(text)} characters)"
        rows.append((e.container, where, e.key, str(e.size), str(e.offset), text))
    return rows
