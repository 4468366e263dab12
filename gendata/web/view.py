"""Web service: what the gallery's pages show, as plain data for the templates.

The words and value texts come from gendata.present, as in `gendata show` and the TUI; the
templates only lay them out, and Jinja2 escapes every value. Text that came out of a file
also has its control characters spelled out (`\\x1b`, `\\u202e`), so a prompt cannot reorder
the page around it or smuggle an escape sequence into what "copy parameters" puts on the
clipboard.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import present
from ..errors import GenDataError
from ..indexing.query import QueryError, parse
from ..present.values import visible, visible_parts

if TYPE_CHECKING:
    from ..api import Record

__all__ = ["Detail", "FacetValue", "QueryProblem", "detail", "facet_values", "page_url",
           "query_problem", "visible"]


def page_url(path: str, **params: Any) -> str:
    """`path` with the query string of the `params` that are set."""
    pairs = [(k, str(v)) for k, v in params.items() if v not in (None, "")]
    return path + ("?" + urllib.parse.urlencode(pairs) if pairs else "")


# --- the search box ----------------------------------------------------------------------

@dataclass(frozen=True)
class QueryProblem:
    """A query the language refused: the one-line message, and the query cut around the
    term it names (`term` empty when the message names no place)."""

    message: str
    before: str
    term: str
    after: str


_AT = re.compile(r"\(at (\d+)\)")


def query_problem(query: str, exc: QueryError) -> QueryProblem:
    message = str(exc)
    m = _AT.search(message)
    if m is None:
        return QueryProblem(message, query, "", "")
    start = int(m.group(1)) - 1
    end = start
    while end < len(query) and not query[end].isspace():  # the term, quoted parts whole
        if query[end] == '"':
            closing = query.find('"', end + 1)
            end = len(query) - 1 if closing < 0 else closing
        end += 1
    return QueryProblem(message, query[:start], query[start:end], query[end:])


# --- facets ------------------------------------------------------------------------------

@dataclass(frozen=True)
class FacetValue:
    """One value of a facet: its label, how many matches have it, the link that adds its
    term to the query (or takes it out, when `active`); `href` None when the language
    cannot say the value exactly (it holds a quote or a `*`)."""

    label: str
    count: int
    href: str | None
    active: bool


def _facet_term(name: str, value: str | None) -> str | None:
    if value is None:
        return f"-{name}:*"  # images without the field
    if not value or '"' in value or "*" in value:
        return None
    if any(c.isspace() for c in value):
        return f'{name}:"{value}"'
    return f"{name}:{value}"


def facet_values(name: str, counted: list[tuple[str | None, int]], query: str,
                 sort: str | None) -> list[FacetValue]:
    try:
        sources = [t.source for t in parse(query)]
    except QueryError:
        sources = query.split()
    out = []
    for value, n in counted:
        if value is None:
            label = "(none)"
        elif name == "generator":
            label = present.generator_name(value)
        else:
            label = value
        term = _facet_term(name, value)
        href = None
        active = term is not None and term in sources
        if term is not None:
            terms = [s for s in sources if s != term] if active else [*sources, term]
            href = page_url("/", q=" ".join(terms), sort=sort)
        out.append(FacetValue(visible(label), n, href, active))
    return out


# --- the detail page ---------------------------------------------------------------------

@dataclass
class Detail:
    """Everything the detail page shows of one image."""

    id: int
    path: str
    name: str
    summary: list[str]
    prompt: list[tuple[str, str]]  # (text, kind of mark or "")
    negative: list[tuple[str, str]]
    fields: list[present.Row]
    hires: list[present.Row]
    extra: list[present.Row]
    networks: list[present.NetworkRow]
    samplers: list[tuple[str, ...]]
    remarks: list[str]
    sections: list[tuple[str, list[present.Row]]]
    raw: list[tuple[str, str, str]]  # (key, size, text)
    infotext: str | None
    infotext_problem: str = ""
    no_data: str = ""
    sampler_columns: tuple[str, ...] = field(default=present.SAMPLER_COLUMNS)


def _marked(text: str) -> list[tuple[str, str]]:
    """A prompt cut into runs, each with the kind of mark present.prompt_spans gives it
    (a later kind drawn over an earlier one) or "escape", for the template to wrap in
    spans."""
    if not text:
        return []
    kinds = [""] * len(text)
    for span in present.prompt_spans(text):
        for i in range(span.start, span.end):
            kinds[i] = span.kind
    runs: list[tuple[str, str]] = []
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or kinds[i] != kinds[start]:
            # a control character, spelled out, is marked apart from text that looks like it
            runs += [(part, "escape" if escaped else kinds[start])
                     for part, escaped in visible_parts(text[start:i])]
            start = i
    return runs


def _infotext(rec: Record) -> tuple[str | None, str]:
    """What "copy parameters" copies: the file's own A1111 text when it has one, else its
    parameters written as A1111 text (what A1111's PNG Info and Civitai read); or None and
    why A1111 text cannot carry them."""
    from ..formats import a1111

    if rec.raw is not None and a1111.score(rec.raw) >= 0.5:
        text = a1111.infotext(rec.raw)
        if text:
            return visible(text), ""
    try:
        params = rec.params
        if params is None:
            return None, ""
        from ..api import dump_a1111
        from ..convert import as_a1111

        return visible(dump_a1111(as_a1111(params))), ""
    except (GenDataError, ValueError) as exc:
        return None, visible(str(exc))


def _rows(rows: list[Any]) -> list[Any]:
    return [tuple(visible(str(c)) for c in row) for row in rows]


def detail(image_id: int, rec: Record) -> Detail:
    p = present.params_view(rec)
    raw = [(visible(key), size, visible(text))
           for _, _, key, size, _, text in present.raw_rows(rec, text_limit=4000)]
    name = rec.path.replace("\\", "/").rsplit("/", 1)[-1]
    base = Detail(id=image_id, path=visible(rec.path), name=visible(name),
                  summary=[visible(s) for s in present.summary_parts(rec, p)], prompt=[],
                  negative=[], fields=[], hires=[], extra=[], networks=[], samplers=[],
                  remarks=[visible(r) for r in present.remarks(rec, p)],
                  sections=[(visible(t), _rows(rows))
                            for t, rows in present.extras_sections(rec)],
                  raw=raw, infotext=None)
    if p is None:
        base.no_data = visible(present.no_data_message(rec))
        return base
    base.prompt = _marked(p.prompt or "")
    base.negative = _marked(p.negative_prompt or "")
    base.fields = _rows(present.field_rows(p))
    base.hires = _rows(present.hires_rows(p))
    base.extra = _rows(present.extra_rows(p, hires=False))
    base.networks = [present.NetworkRow(*(visible(c) for c in row))
                     for row in present.network_rows(p)]
    base.samplers = _rows(present.sampler_rows(p)) if len(p.samplers) > 1 else []
    base.infotext, base.infotext_problem = _infotext(rec)
    return base
