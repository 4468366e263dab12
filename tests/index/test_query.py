"""The query language: the parser's edges, and every query kind against a brute-force filter
over the same records."""

from __future__ import annotations

import random
import re
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gendata.indexing.build import insert_rows, row_from
from gendata.indexing.query import QueryError, Term, compile_query, parse
from gendata.indexing.results import open_index, paths
from gendata.indexing.schema import connect
from gendata.indexing.text import has_split_script, split_script, words

# --- the parser ----------------------------------------------------------------------------


def test_terms() -> None:
    terms = parse('red fox* "snow field" -blurry neg:lowres -neg:"bad hands" model:"my model*" '
                  "lora:detail steps>=30 cfg:7.5 seed<-1")
    assert [(t.kind, t.field, t.value, t.op, t.prefix, t.negated) for t in terms] == [
        ("words", "prompt", "red", ":", False, False),
        ("words", "prompt", "fox", ":", True, False),
        ("words", "prompt", "snow field", ":", False, False),
        ("words", "prompt", "blurry", ":", False, True),
        ("words", "negative_prompt", "lowres", ":", False, False),
        ("words", "negative_prompt", "bad hands", ":", False, True),
        ("text", "model", "my model*", ":", False, False),
        ("text", "lora", "detail", ":", False, False),
        ("number", "steps", 30, ">=", False, False),
        ("number", "cfg_scale", 7.5, ":", False, False),
        ("number", "seed", -1, "<", False, False),
    ]
    assert parse("") == [] and parse("   ") == []
    assert parse("1girl:1.2")[0] == Term("words", "prompt", "1girl:1.2", source="1girl:1.2")
    assert parse("кошка 猫")[1].split and not parse("кошка")[0].split
    assert parse("seed:18446744073709551615")[0].value == 2**64 - 1


@pytest.mark.parametrize(("query", "message"), [
    ("colour:red", "unknown field 'colour'"),
    ("prompt:fox", "bare words search the prompt"),
    ("steps>abc", "steps is a number; 'abc' is not one"),
    ("steps:", "steps: needs a number"),
    ("steps>=>3", "write steps>=N"),
    ("model>x", "model is text"),
    ("model:", "needs a value"),
    ('"open phrase', "not closed"),
    ('"a"b', "nothing may follow a closing quote"),
    ('fo"x', "a quote may only open"),
    ("f*x", "`*` may only end a word"),
    ("*", "nothing to search for"),
    ("-", "`-` must stand right before"),
    ("neg:", "nothing to search for"),
    ("(,)", "no letters or digits"),
])
def test_errors_point_at_the_term(query: str, message: str) -> None:
    with pytest.raises(QueryError) as info:
        parse(f"fine words {query} more")
    text = str(info.value)
    assert message in text
    assert text.startswith(f"query term {query!r}"[:-1])  # an open quote runs to the end
    assert "(at 12)" in text
    assert "\n" not in text


@given(st.text(max_size=40))
def test_parse_accepts_or_refuses_cleanly(text: str) -> None:
    try:
        terms = parse(text)
    except QueryError as exc:
        assert "\n" not in str(exc).strip("\n") or "\n" in text
        return
    compile_query(terms)


@given(text=st.text(alphabet=st.sampled_from('ab "-*:<>=.19ñ猫 steps seed model neg lora'),
                    max_size=30))
@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_accepted_query_runs(text: str, empty_index: sqlite3.Connection) -> None:
    try:
        where, params = compile_query(text)
    except QueryError:
        return
    empty_index.execute(f"SELECT count(*) FROM images i WHERE {where}", params).fetchone()


@pytest.fixture(scope="module")
def empty_index() -> Iterator[sqlite3.Connection]:
    with tempfile.TemporaryDirectory() as tmp:
        connect(Path(tmp) / "i.sqlite", create=True).close()
        conn = open_index(Path(tmp) / "i.sqlite")
        yield conn
        conn.close()


# --- brute force ---------------------------------------------------------------------------

WORDS = ["fox", "Fox", "FOX", "foxes", "red", "reddish", "café", "Cafe", "naïve", "кошка",
         "Кошка", "кошкам", "снег", "猫", "雪地", "一只猫", "고양이가", "고양이", "눈", "ネコ",
         "ねこ", "1girl", "best", "quality", "red_fox", "owl", "a-b", "ёлка", "Ёлка"]
SEPARATORS = [" ", ", ", " (", ") ", ":1.2, ", "", "\n", " | "]
TEXT_VALUES = {
    "sampler": ["Euler a", "DPM++ 2M", "euler", "Ünï sampler", None],
    "scheduler": ["Karras", "normal", None],
    "model": ["dreamFox_v10", "SDXL base", "Модель-XL", "sd_xl_base_1.0.safetensors", None],
    "model_hash": ["45a21ea00a", "ABCDEF1234", None],
    "vae": ["sdxl_vae.safetensors", None],
    "generator": ["a1111", "comfyui", "novelai"],
}
LORAS = ["catStyle", "detail_tweaker", "スタイル", "Detail 100%"]
NUMBERS = {
    "seed": [0, 1, 42, 2**32, 2**53 + 1, 2**63 - 1, 2**63, 2**64 - 2, 2**64 - 1, -1, None],
    "steps": [1, 20, 28, 30, 50, None],
    "cfg_scale": [1.0, 6.5, 7.0, 7.5, None],
    "width": [512, 768, 1024, None],
    "height": [512, 768, None],
    "clip_skip": [1, 2, None],
    "denoising_strength": [0.35, 0.5, 1.0, None],
}
QUERY_NUMBER_NAMES = {"seed": "seed", "steps": "steps", "cfg_scale": "cfg", "width": "width",
                      "height": "height", "clip_skip": "clip_skip",
                      "denoising_strength": "denoise"}


def text_of(rng: random.Random, n: int) -> str:
    out = ""
    for _ in range(n):
        out += rng.choice(WORDS) + rng.choice(SEPARATORS)
    return out


def make_records(seed: int, count: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    records = []
    for i in range(count):
        obj: dict[str, Any] = {"path": f"/lib/{'ab'[i % 2]}/Img_{i}.png", "container": "png",
                               "error": None}
        for name, values in TEXT_VALUES.items():
            obj[name] = rng.choice(values)
        for name, values in NUMBERS.items():
            obj[name] = rng.choice(values)
        obj["prompt"] = text_of(rng, rng.randint(0, 6))
        obj["negative_prompt"] = text_of(rng, rng.randint(0, 3))
        obj["loras"] = [{"name": n, "weight": 0.5} for n in rng.sample(LORAS, rng.randint(0, 2))]
        obj["embeddings"] = [{"name": n} for n in rng.sample(["easynegative", "ВНЕГ"],
                                                             rng.randint(0, 1))]
        if i % 17 == 0:
            obj["error"] = "broken"
        records.append(obj)
    return records


def build_db(path: Path, records: list[dict[str, Any]]) -> sqlite3.Connection:
    connect(path, create=True).close()
    conn = open_index(path)
    insert_rows(conn, (row_from(obj, (1, 1, i)) for i, obj in enumerate(records)))
    return conn


def _consecutive(tokens: list[str], wanted: list[str], prefix: bool) -> bool:
    n = len(wanted)
    for i in range(len(tokens) - n + 1):
        window = tokens[i:i + n]
        if window[:-1] == wanted[:-1] and (
                window[-1].startswith(wanted[-1]) if prefix else window[-1] == wanted[-1]):
            return True
    return False


def _glob(value: str | None, pattern: str) -> bool:
    if value is None:
        return False
    regex = "".join(".*" if c == "*" else re.escape(c) for c in pattern.lower())
    return re.fullmatch(regex, value.lower(), re.DOTALL) is not None


def matches(obj: dict[str, Any], term: Term) -> bool:
    if term.kind == "words":
        text = obj.get(term.field) or ""
        if has_split_script(term.value):
            tokens, wanted = words(split_script(text)), words(split_script(term.value))
        else:
            tokens, wanted = words(text), words(term.value)
        found = _consecutive(tokens, wanted, term.prefix)
    elif term.kind == "text":
        if term.field == "lora":
            found = any(_glob(lo["name"], term.value) for lo in obj["loras"])
        elif term.field == "embedding":
            found = any(_glob(e["name"], term.value) for e in obj["embeddings"])
        else:
            found = _glob(obj.get(term.field), term.value)
    else:
        value = obj.get(term.field)
        ops = {":": lambda a, b: a == b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
               "<": lambda a, b: a < b, "<=": lambda a, b: a <= b}
        found = value is not None and ops[term.op](value, term.value)
    return found != term.negated


def brute_force(records: list[dict[str, Any]], query: str) -> list[str]:
    terms = parse(query)
    return sorted(o["path"] for o in records
                  if o["error"] is None and all(matches(o, t) for t in terms))


RECORDS = make_records(7, 400)


@pytest.fixture(scope="module")
def corpus_index() -> Iterator[sqlite3.Connection]:
    with tempfile.TemporaryDirectory() as tmp:
        conn = build_db(Path(tmp) / "i.sqlite", RECORDS)
        yield conn
        conn.close()


def _cased(draw: st.DrawFn, text: str) -> str:
    mode = draw(st.sampled_from(["same", "upper", "lower", "title"]))
    return {"same": text, "upper": text.upper(), "lower": text.lower(),
            "title": text.title()}[mode]


@st.composite
def terms(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["word", "prefix", "phrase", "neg", "text", "lora",
                                 "embedding", "path", "number"]))
    minus = "-" if draw(st.integers(0, 3)) == 0 else ""
    if kind in ("word", "prefix", "neg"):
        word = _cased(draw, draw(st.sampled_from(WORDS)))
        if kind == "prefix":
            word = word[:draw(st.integers(1, len(word)))] + "*"
        if word.startswith("-"):
            word = word[1:] or "x"
        return f"{minus}{'neg:' if kind == 'neg' else ''}{word}"
    if kind == "phrase":
        a, b = draw(st.sampled_from(WORDS)), draw(st.sampled_from(WORDS))
        sep = draw(st.sampled_from([" ", ", ", ""]))
        star = "*" if draw(st.booleans()) else ""
        return f'{minus}"{_cased(draw, a + sep + b)}"{star}'
    if kind in ("text", "lora", "embedding", "path"):
        if kind == "text":
            field = draw(st.sampled_from(sorted(TEXT_VALUES)))
            value = draw(st.sampled_from([v for v in TEXT_VALUES[field] if v]))
        elif kind == "lora":
            field, value = "lora", draw(st.sampled_from(LORAS))
        elif kind == "embedding":
            field, value = "embedding", draw(st.sampled_from(["easynegative", "ВНЕГ"]))
        else:
            field, value = "path", draw(st.sampled_from([o["path"] for o in RECORDS[:20]]))
        value = _cased(draw, value)
        if draw(st.booleans()):  # a glob: replace a slice by *
            i = draw(st.integers(0, len(value)))
            j = draw(st.integers(i, len(value)))
            value = value[:i] + "*" + value[j:]
        return f'{minus}{field}:"{value}"'
    column = draw(st.sampled_from(sorted(NUMBERS)))
    value = draw(st.sampled_from([v for v in NUMBERS[column] if v is not None]))
    value = value + draw(st.sampled_from([0, 0, 1, -1])) if isinstance(value, int) else value
    op = draw(st.sampled_from([":", ">", ">=", "<", "<="]))
    return f"{minus}{QUERY_NUMBER_NAMES[column]}{op}{value}"


@given(parts=st.lists(terms(), min_size=1, max_size=3))
@settings(max_examples=600, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_query_kind_matches_brute_force(parts: list[str],
                                              corpus_index: sqlite3.Connection) -> None:
    query = " ".join(parts)
    assert sorted(paths(query, corpus_index)) == brute_force(RECORDS, query), query


@pytest.mark.parametrize("query", [
    "fox", "FOX", "fox*", "fo*", "cafe", "CAFÉ", "naive", "кошка", "КОШКА", "кош*", "ёлка",
    "猫", "雪地", "一只猫", "只猫", "고양이", "고양", "고양이가", "ネコ", "ねこ", '"red fox"',
    '"best quality"', "red_fox", "a-b", "-fox", "neg:owl", "-neg:猫", "1girl", "fox 猫",
    "lora:catstyle", "lora:*tweak*", "lora:スタイル", 'lora:"detail 100%"', "lora:detail*%",
    "embedding:внег", "model:модель-xl", "model:*xl*", "model:DREAMFOX_V10", "sampler:ünï*",
    "path:/lib/a/*", "path:*img_1?.png", "generator:comfyui", "-model:*", "model_hash:abcdef*",
    f"seed:{2**64 - 1}", f"seed>{2**63}", f"seed>={2**63 - 1}", "seed:-1", "seed<0",
    "steps>=28", "cfg:7", "cfg:6.5", "cfg<7", "denoise<=0.5", "width:1024 height:768",
    "clip_skip:2", "-clip_skip:2",
])
def test_examples_match_brute_force(query: str, corpus_index: sqlite3.Connection) -> None:
    expected = brute_force(RECORDS, query)
    assert sorted(paths(query, corpus_index)) == expected


def test_examples_find_something(corpus_index: sqlite3.Connection) -> None:
    """The brute-force comparisons above are not all vacuous."""
    for query in ("fox", "кошка", "猫", "고양이", "lora:catstyle", f"seed:{2**64 - 1}",
                  "model:модель-xl", "cafe", "-fox"):
        assert brute_force(RECORDS, query), query


@given(st.integers(0, 10_000), st.lists(terms(), min_size=1, max_size=2))
@settings(max_examples=25, deadline=None)
def test_random_libraries_match_brute_force(seed: int, parts: list[str]) -> None:
    records = make_records(seed, 40)
    with tempfile.TemporaryDirectory() as tmp:
        conn = build_db(Path(tmp) / "i.sqlite", records)
        try:
            for query in (" ".join(parts), *parts):
                assert sorted(paths(query, conn)) == brute_force(records, query), query
        finally:
            conn.close()


def test_field_names_in_any_case() -> None:
    from gendata.indexing.query import parse

    def shape(query: str) -> list[tuple[object, ...]]:
        return [(t.kind, t.field, t.value, t.op, t.negated) for t in parse(query)]

    assert shape("Lora:x STEPS>3 Neg:blurry -CFG:7") == shape("lora:x steps>3 neg:blurry -cfg:7")
