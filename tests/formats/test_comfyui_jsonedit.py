"""Setting values inside a JSON text without touching the rest (comfyui.jsonedit): the
ComfyUI edit's promise that set-then-set-back gives the original text rests on it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gendata.errors import ParseError
from gendata.formats.comfyui.jsonedit import dump_like, json_start, splice


def test_only_the_value_changes() -> None:
    text = '{"3": {"inputs": {"seed": 5, "cfg": 7.0}, "class_type": "KSampler"}}'
    out = splice(text, 0, {("3", "inputs", "seed"): 6, ("3", "inputs", "cfg"): 8.5})
    assert out == '{"3": {"inputs": {"seed": 6, "cfg": 8.5}, "class_type": "KSampler"}}'


def test_layout_of_the_writer_is_kept() -> None:
    doc = {"nodes": [{"id": 1, "widgets_values": [1, "fixed", 20, 8, "euler"]}], "links": []}
    for text in (json.dumps(doc), json.dumps(doc, indent=2),
                 json.dumps(doc, separators=(",", ":")), json.dumps(doc, indent="\t")):
        out = splice(text, 0, {("nodes", 0, "widgets_values", 2): 30})
        assert out == text.replace("20", "30")
        assert splice(out, 0, {("nodes", 0, "widgets_values", 2): 20}) == text


def test_the_writer_decides_how_text_is_escaped() -> None:
    doc = {"a": "x", "b": [1, 2]}
    stringify = json.dumps(doc, separators=(",", ":"))
    assert splice(stringify, 0, {("a",): "猫"}) == '{"a":"猫","b":[1,2]}'
    assert splice(json.dumps(doc), 0, {("a",): "猫"}) == '{"a": "\\u732b", "b": [1, 2]}'
    raw = json.dumps({"a": "é", "b": 1}, ensure_ascii=False)
    assert splice(raw, 0, {("b",): "猫"}) == '{"a": "é", "b": "猫"}'


def test_numbers_keep_their_spelling() -> None:
    assert dump_like("8", 9.0, ascii_only=True) == "9"
    assert dump_like("8.0", 9.0, ascii_only=True) == "9.0"
    assert dump_like("8", 9.5, ascii_only=True) == "9.5"
    assert dump_like('"x"', "猫", ascii_only=True) == '"\\u732b"'
    assert dump_like('"x"', "猫", ascii_only=False) == '"猫"'


def test_prefix_nan_and_repeated_keys() -> None:
    text = 'prompt:{"a": NaN, "b": {"c": 1}, "b": {"c": 2}, "d": [Infinity, -1]}'
    start = json_start(text)
    assert start == len("prompt:")
    out = splice(text, start, {("b", "c"): 3, ("d", 1): 0})
    # the last of repeated keys is the one json.loads keeps, so the one set
    assert out == 'prompt:{"a": NaN, "b": {"c": 1}, "b": {"c": 3}, "d": [Infinity, 0]}'
    assert json_start("\x00 Workflow: [1]") == len("\x00 Workflow: ")
    assert json_start("no json here") is None


def test_paths_that_are_not_there_are_refused() -> None:
    with pytest.raises(ParseError, match="no value at 3/inputs/steps"):
        splice('{"3": {"inputs": {"seed": 1}}}', 0, {("3", "inputs", "steps"): 2})
    with pytest.raises(ParseError):
        splice('{"3": {"inputs": {"seed": 1}', 0, {("3", "inputs", "seed"): 2})
    with pytest.raises(ValueError, match="overlapping"):
        splice('{"a": {"b": 1}}', 0, {("a",): 1, ("a", "b"): 2})


_scalars = st.one_of(st.integers(-2**70, 2**70), st.floats(allow_nan=False,
                                                             allow_infinity=False),
                     st.text(max_size=12), st.booleans(), st.none())
_json = st.recursive(_scalars, lambda kids: st.one_of(
    st.lists(kids, max_size=4), st.dictionaries(st.text(max_size=6), kids, max_size=4)),
    max_leaves=25)


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


# The writers ComfyUI files come from: Python's json.dumps (server, savers), plain or
# indented, and the browser's JSON.stringify (compact, text unescaped).
_WRITERS = {
    "python": lambda d: json.dumps(d),
    "python-indented": lambda d: json.dumps(d, indent=2),
    "stringify": lambda d: json.dumps(d, separators=(",", ":"), ensure_ascii=False),
}


@settings(max_examples=300, deadline=None)
@given(doc=_json, data=st.data(), writer=st.sampled_from(sorted(_WRITERS)))
def test_set_and_set_back_is_the_original_text(doc: Any, data: st.DataObject,
                                               writer: str) -> None:
    paths = _paths(doc)
    if not paths:
        return
    text = _WRITERS[writer](doc)
    path = data.draw(st.sampled_from(paths))
    value = data.draw(_scalars)
    out = splice(text, 0, {path: value})
    expected = json.loads(text)
    node = expected
    for part in path[:-1]:
        node = node[part]
    old = node[path[-1]]
    node[path[-1]] = value
    assert json.loads(out) == expected
    back = splice(out, 0, {path: old})
    assert json.loads(back) == json.loads(text)
    # a number set to a number of the other kind and back may lose its ".0": the model's
    # fields never change kind (a seed stays an int, a CFG a float)
    same_kind = type(value) is type(old) or not isinstance(old, (int, float))
    # a stringify text with one comma-free container tells nothing of its writer
    tells = writer != "stringify" or "," in text
    if same_kind and not isinstance(old, (dict, list)) and tells:
        assert back == text
