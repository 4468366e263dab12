"""Service layer: the search language (docs/index.md) and its translation into SQL.

    red fox*  "snow field"  -blurry  neg:lowres  model:sdxl*  lora:detail  steps>=30

Terms are separated by spaces and all must hold. A bare word is a whole word of the prompt
(`word*`: a word starting so); `"..."` a phrase; `neg:` searches the negative prompt; `-`
before any term excludes what it matches; `field:value` compares a text field
(case-insensitive, `*` any run of characters) or a number, and numbers also take `>`, `>=`,
`<`, `<=`. A term the language does not accept raises QueryError, one line naming the term.

Case-insensitive text matching is by lower case. SQLite's LIKE and NOCASE fold only ASCII,
which is all a value made of ASCII needs (fast, in C); a value with other characters is
compared by `gendata_match`, a function search registers that applies Python's
`str.lower()`, on the rows a LIKE pattern has narrowed down. (The one difference: the
Kelvin sign and the dotted capital I, whose lower case is ASCII, are not folded for an ASCII
value.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..errors import UsageError
from ..model_fields import GENPARAMS, SCALAR_FIELDS
from .text import has_split_script, split_script, words

__all__ = ["NUMBER_FIELDS", "SORT_FIELDS", "TEXT_FIELDS", "QueryError", "Term", "compile_query",
           "match_text", "order_by", "parse"]


class QueryError(UsageError):
    """A search query the language does not accept."""


# Query name -> images column. The names the documentation uses first, then every other
# numeric or text scalar field of the model under its own name.
NUMBER_FIELDS: dict[str, str] = {"seed": "seed", "steps": "steps", "cfg": "cfg_scale",
                                 "width": "width", "height": "height",
                                 "clip_skip": "clip_skip", "denoise": "denoising_strength"}
TEXT_FIELDS: dict[str, str] = {f: f for f in ("sampler", "scheduler", "model", "model_hash",
                                              "vae", "generator", "lora", "embedding", "path")}
for _f in SCALAR_FIELDS:
    if _f in ("prompt", "negative_prompt"):
        continue
    if GENPARAMS[_f].type is str:
        TEXT_FIELDS.setdefault(_f, _f)
    else:
        NUMBER_FIELDS.setdefault(_f, _f)
TEXT_FIELDS["container"] = "container"
NUMBER_FIELDS["size"] = "size"
_INT_COLUMNS = frozenset(f for f in SCALAR_FIELDS if GENPARAMS[f].type is int) | {"size"}

SORT_FIELDS: dict[str, str] = {**{k: v for k, v in TEXT_FIELDS.items()
                                  if k not in ("lora", "embedding")},
                               **NUMBER_FIELDS, "mtime": "mtime_ns", "prompt": "prompt",
                               "negative_prompt": "negative_prompt"}

_OPS = (">=", "<=", ">", "<", ":")
_FIELD = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(>=|<=|>|<|:)")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_INT = re.compile(r"[+-]?\d+")
_SQL_OP = {":": "=", ">": ">", ">=": ">=", "<": "<", "<=": "<="}
_INT64 = (-(2**63), 2**63 - 1)


@dataclass(frozen=True)
class Term:
    """One term of a query. `kind` is "words" (a word, prefix or phrase of a prompt), "text"
    or "number"; `field` the column (prompt / negative_prompt for words); `value` the word
    or phrase text, the pattern, or the number; `op` one of `: > >= < <=`."""

    kind: str
    field: str
    value: Any
    op: str = ":"
    prefix: bool = False
    negated: bool = False
    source: str = ""
    position: int = 0

    @property
    def split(self) -> bool:
        """Whether this words term searches the character-by-character index."""
        return self.kind == "words" and has_split_script(self.value)


def _error(source: str, position: int, reason: str) -> QueryError:
    return QueryError(f"query term {source!r} (at {position + 1}): {reason}")


def _quoted(text: str, start: int) -> tuple[str, int] | None:
    """The text of a `"..."` starting at `start` and the index after it; None if unclosed."""
    end = text.find('"', start + 1)
    if end < 0:
        return None
    return text[start + 1:end], end + 1


def parse(query: str) -> list[Term]:
    """The terms of `query`, in order. Raises QueryError."""
    terms: list[Term] = []
    i, n = 0, len(query)
    while i < n:
        if query[i].isspace():
            i += 1
            continue
        start = i
        end = i
        while end < n and not query[end].isspace():
            if query[end] == '"':  # a quoted part runs to its closing quote, spaces and all
                closing = query.find('"', end + 1)
                end = n if closing < 0 else closing
            end += 1
        terms.append(_term(query[start:end], start))
        i = end
    return terms


def _term(source: str, position: int) -> Term:
    body, negated = source, False
    if body.startswith("-"):
        body, negated = body[1:], True
        if not body:
            raise _error(source, position, "`-` must stand right before the term it excludes")
    m = _FIELD.match(body)
    if m is not None:
        given, op = m.group(1), m.group(2)
        name = given.lower()  # field names in any case, as values
        raw_value = body[m.end():]
        if name == "neg" and op == ":":
            return _words(source, position, raw_value, "negative_prompt", negated)
        if name in NUMBER_FIELDS:
            return _number(source, position, name, op, raw_value, negated)
        if name in TEXT_FIELDS:
            if op != ":":
                raise _error(source, position, f"{name} is text: write {name}:VALUE "
                                               "(`*` matches any characters)")
            return _text(source, position, name, raw_value, negated)
        hint = ("bare words search the prompt, neg: the negative prompt"
                if name in ("prompt", "negative_prompt", "negative") else
                "put it in quotes to search for it as words")
        raise _error(source, position,
                     f"unknown field {given!r}; fields are neg, {', '.join(_field_names())} "
                     f"and the others docs/index.md lists ({hint})")
    return _words(source, position, body, "prompt", negated)


_DOCUMENTED = ("sampler", "scheduler", "model", "model_hash", "vae", "generator", "lora",
               "embedding", "path", "seed", "steps", "cfg", "width", "height", "clip_skip",
               "denoise")


def _field_names() -> list[str]:
    """The field names an error lists: the common ones (docs/index.md has them all)."""
    return list(_DOCUMENTED)


def _unquote(source: str, position: int, value: str) -> tuple[str, bool]:
    """(value without its quotes, whether it was quoted)."""
    if value.startswith('"'):
        found = _quoted(value, 0)
        if found is None:
            raise _error(source, position, "the quote is not closed")
        text, after = found
        rest = value[after:]
        if rest not in ("", "*"):
            raise _error(source, position, "nothing may follow a closing quote but `*`")
        return text + rest, True
    if '"' in value:
        raise _error(source, position, "a quote may only open a phrase or a value")
    return value, False


def _words(source: str, position: int, value: str, column: str, negated: bool) -> Term:
    text, quoted = _unquote(source, position, value)
    prefix = text.endswith("*")
    if prefix:
        text = text[:-1]
    if "*" in text:
        raise _error(source, position, "`*` may only end a word, for a prefix")
    if not text:
        raise _error(source, position, "nothing to search for")
    if not words(split_script(text)):
        raise _error(source, position, "has no letters or digits to search for")
    if quoted and prefix and text.endswith(" "):
        raise _error(source, position, "`*` must follow a word")
    return Term("words", column, text, prefix=prefix, negated=negated, source=source,
                position=position)


def _text(source: str, position: int, name: str, value: str, negated: bool) -> Term:
    text, _ = _unquote(source, position, value)
    if not text:
        raise _error(source, position, f"{name}: needs a value (`*` for any)")
    return Term("text", TEXT_FIELDS[name], text, negated=negated, source=source,
                position=position)


def _number(source: str, position: int, name: str, op: str, value: str,
            negated: bool) -> Term:
    text, _ = _unquote(source, position, value)
    if op != ":" and text[:1] in ("=", ">", "<"):
        raise _error(source, position, f"write {name}{op}N")
    if not text:
        raise _error(source, position, f"{name}{op} needs a number")
    if not _NUMBER.fullmatch(text):
        raise _error(source, position, f"{name} is a number; {text!r} is not one")
    number: int | float = int(text) if _INT.fullmatch(text) else float(text)
    return Term("number", NUMBER_FIELDS[name], number, op=op, negated=negated, source=source,
                position=position)


# --- SQL -----------------------------------------------------------------------------------

def _fts_string(term: Term) -> str:
    text = split_script(term.value) if term.split else term.value
    quoted = '"' + text.replace('"', '""') + '"'
    return f"{term.field} : {quoted}" + (" *" if term.prefix else "")


def _like_escape(pattern: str) -> str:
    return (pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            .replace("*", "%"))


@lru_cache(maxsize=256)
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(p) for p in pattern.split("*")), re.DOTALL)


def match_text(value: str | None, pattern: str) -> bool:
    """Whether `value` matches a lower-cased `field:` pattern: `value.lower()` equals it,
    `*` standing for any run of characters. SQL calls it as `gendata_match`."""
    return value is not None and _pattern(pattern).fullmatch(value.lower()) is not None


def _text_condition(expr: str, value: str) -> tuple[str, list[Any]]:
    low = value.lower()
    if low.isascii():
        if "*" in low:
            return f"{expr} LIKE ? ESCAPE '\\'", [_like_escape(low)]
        return f"{expr} = ? COLLATE NOCASE", [low]
    # LIKE, with `_` for each character past ASCII, narrows the rows down in C; the
    # function then compares those by Python's lower case.
    rough = "".join(c if c.isascii() else "\x00" for c in low)
    rough = _like_escape(rough).replace("\x00", "_")
    return f"({expr} LIKE ? ESCAPE '\\' AND gendata_match({expr}, ?))", [rough, low]


def _number_condition(column: str, op: str, value: int | float) -> tuple[str, list[Any]]:
    col = f"i.[{column}]"
    sql_op = _SQL_OP[op]
    if type(value) is int and column in _INT_COLUMNS:
        if _INT64[0] <= value <= _INT64[1]:
            if op == ":":  # past 64 bits a value is stored as REAL: never equal here
                return f"({col} = ? AND typeof({col}) = 'integer')", [value]
            return f"{col} {sql_op} ?", [value]
        exact = f"json_extract(i.big_ints, '$.{column}')"
        if op == ":":
            return f"{exact} = ?", [str(value)]
        if 0 < value < 10**39:
            below = 1 if op in ("<", "<=") else 0
            padded = f"substr('{'0' * 40}' || {exact}, -40)"
            return (f"(CASE WHEN {col} IS NULL THEN NULL WHEN typeof({col}) = 'integer' "
                    f"THEN {below} WHEN {col} > 0 THEN {padded} {sql_op} ? ELSE {below} END)",
                    [str(value).zfill(40)])
        return f"{col} {sql_op} ?", [float(value)]
    return f"{col} {sql_op} ?", [value]


def compile_query(query: str | list[Term]) -> tuple[str, list[Any]]:
    """SQL for the WHERE clause over `images i` and its parameters. Files indexed with an
    error never match."""
    terms = parse(query) if isinstance(query, str) else query
    where = ["i.error IS NULL"]
    params: list[Any] = []
    for table, split in (("images_fts", False), ("images_cjk", True)):
        wanted = [t for t in terms if t.kind == "words" and t.split == split]
        positive = [_fts_string(t) for t in wanted if not t.negated]
        negative = [_fts_string(t) for t in wanted if t.negated]
        if positive:  # FTS5 subtracts the excluded words itself, list against list
            match = "(" + " AND ".join(positive) + ")"
            if negative:
                match += " NOT (" + " OR ".join(negative) + ")"
            where.append(f"i.id IN (SELECT rowid FROM {table} WHERE {table} MATCH ?)")
            params.append(match)
        elif negative:
            where.append(f"i.id NOT IN (SELECT rowid FROM {table} WHERE {table} MATCH ?)")
            params.append(" OR ".join(negative))
    for t in terms:
        if t.kind == "words":
            continue
        if t.kind == "number":
            cond, args = _number_condition(t.field, t.op, t.value)
        elif t.field in ("lora", "embedding"):
            table = "loras" if t.field == "lora" else "embeddings"
            inner, args = _text_condition("name", t.value)
            cond = f"i.id IN (SELECT image_id FROM {table} WHERE {inner})"
        else:
            cond, args = _text_condition(f"i.[{t.field}]", t.value)
        where.append(f"({cond}) IS NOT 1" if t.negated else cond)
        params.extend(args)
    return " AND ".join(where), params


def order_by(sort: str | None) -> str:
    """The ORDER BY clause for `--sort FIELD[:desc]` (default: by path); images without
    the field's value last, in either direction."""
    if not sort:
        return "ORDER BY i.path"
    name, _, direction = sort.partition(":")
    column = SORT_FIELDS.get(name.strip())
    if column is None:
        raise QueryError(f"cannot sort by {name!r}; fields are "
                         f"{', '.join(sorted(SORT_FIELDS))}")
    direction = direction.strip().lower() or "asc"
    if direction not in ("asc", "desc"):
        raise QueryError(f"sort direction must be asc or desc, not {direction!r}")
    if column == "path":
        return f"ORDER BY i.path {direction.upper()}"
    if column == "mtime_ns":  # always set: the order of the images_mtime index
        return f"ORDER BY i.mtime_ns {direction.upper()}, i.id {direction.upper()}"
    # images without the value (or with an empty one) come last either way, as in the TUI
    return (f"ORDER BY NULLIF(i.[{column}], '') IS NULL, i.[{column}] {direction.upper()}, "
            "i.path")
