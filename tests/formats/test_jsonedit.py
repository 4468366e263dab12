"""formats/jsonedit: one value changed, every other character kept, and set-then-set-back
gives the original text, whatever the writer's layout."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gendata.errors import ParseError, UsageError
from gendata.formats.jsonedit import MISSING, JsonText

scalars = st.one_of(st.integers(-2**64, 2**64), st.floats(allow_nan=False, allow_infinity=False),
                    st.text(max_size=12), st.booleans(), st.none())
keys = st.text(min_size=1, max_size=6)
docs = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)), max_leaves=12)
STYLES = [dict(), dict(separators=(",", ":")), dict(indent=2), dict(ensure_ascii=False),
          dict(indent=4, ensure_ascii=False), dict(sort_keys=True)]


def _paths(value: Any, at: tuple = ()) -> list[tuple]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _paths(v, (*at, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _paths(v, (*at, i))]
    return [at] if at else []


def _get(value: Any, path: tuple) -> Any:
    for step in path:
        value = value[step]
    return value


@settings(max_examples=300, deadline=None)
@given(doc=st.dictionaries(keys, docs, min_size=1, max_size=5), style=st.sampled_from(STYLES),
       new=scalars, pick=st.integers(0, 1000))
def test_set_and_set_back_round_trip(doc: dict, style: dict, new: Any, pick: int) -> None:
    text = json.dumps(doc, **style)
    paths = _paths(json.loads(text))
    if not paths:
        return
    path = paths[pick % len(paths)]
    old = _get(json.loads(text), path)
    # A string set where a number stood takes the string's type; setting the number back
    # then writes it in that string slot, as numbers in string slots are kept: a type change
    # is not a round trip, and no dialect makes one (their fields keep their types).
    assume(isinstance(new, str) == isinstance(old, str) or old is None)
    edit = JsonText(text)
    edit.set(path, new)
    changed = json.loads(edit.text)
    got = _get(changed, path)
    assert got == new or (isinstance(old, str) and isinstance(got, str) and float(got) == new)
    back = JsonText(edit.text)
    back.set(path, old)
    assert json.loads(back.text) == json.loads(text)
    if isinstance(old, (str, int, bool)) or old is None:
        assert back.text == text


def test_writer_escapes_are_kept() -> None:
    net = '{"extraMetadata":"{\\u0022prompt\\u0022:\\u0022a \\u002B b\\u0022}","n":1}'
    doc = JsonText(net)
    inner = JsonText(doc.get(("extraMetadata",)))
    inner.set(("prompt",), "c + d")
    doc.set(("extraMetadata",), inner.text)
    assert doc.text == '{"extraMetadata":"{\\u0022prompt\\u0022:\\u0022c \\u002B d\\u0022}","n":1}'
    upper = JsonText('{"p": "\\u30C6"}')
    upper.set(("p",), "テスト")
    assert upper.text == '{"p": "\\u30C6\\u30B9\\u30C8"}'


def test_numbers_keep_their_kind() -> None:
    doc = JsonText('{"seed": "12", "cfg": 7.0, "steps": 5, "c": 5}')
    doc.set(("seed",), 99)
    doc.set(("cfg",), 8.0)
    doc.set(("steps",), 6)
    doc.set(("c",), 4.5)
    assert doc.text == '{"seed": "99", "cfg": 8.0, "steps": 6, "c": 4.5}'


def test_add_and_remove_members_in_the_objects_own_layout() -> None:
    pretty = JsonText('{\n  "a": 1,\n  "b": {\n    "c": 2\n  }\n}')
    pretty.set(("b", "d"), "x")
    assert pretty.text == '{\n  "a": 1,\n  "b": {\n    "c": 2,\n    "d": "x"\n  }\n}'
    pretty.remove(("b", "d"))
    assert pretty.text == '{\n  "a": 1,\n  "b": {\n    "c": 2\n  }\n}'
    compact = JsonText('{"a":1}')
    compact.set(("b",), 2)
    assert compact.text == '{"a":1,"b":2}'
    compact.remove(("a",))
    assert compact.text == '{"b":2}'


def test_repeated_keys_resolve_to_the_last_as_parsers_do() -> None:
    doc = JsonText('{"a": 1, "a": 2}')
    assert doc.get(("a",)) == 2
    doc.set(("a",), 3)
    assert doc.text == '{"a": 1, "a": 3}'


def test_errors() -> None:
    with pytest.raises(ParseError):
        JsonText('{"a": ')
    with pytest.raises(ParseError):
        JsonText("[" * 100000)
    doc = JsonText('{"a": [1]}')
    assert doc.get(("b",)) is MISSING
    with pytest.raises(UsageError, match=r"\.a\[3\]"):
        doc.set(("a", 3), 1)
    with pytest.raises(UsageError):
        doc.set(("a",), float("nan"))
