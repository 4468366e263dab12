"""The single-pattern infotext scanner gives exactly what the scanner before it gave.

`infotext_reference` is the parser as it was; every text these tests can find (the fixtures,
every text entry of the real-world corpus, the infotexts written in the test suite, the
benchmark's generator, and generated lines full of quotes, brackets and commas) is parsed by
both and must give the same model, the same kept parse (every gap and entry, with its typed
value) and the same text written back.
"""

from __future__ import annotations

import ast
import random
import sys
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from gendata.containers import open_raw
from gendata.errors import GenDataError
from gendata.formats import a1111
from gendata.formats.infotext_fields import TYPED
from gendata.formats.infotext_scan import (
    Entry,
    InfotextOrigin,
    is_params_line,
    looks_like_params,
    read_infotext,
    scan_line,
    scan_values,
)
from gendata.model_fields import DeferredParams

from ..conftest import CORPUS, FIXTURES, ROOT
from . import infotext_reference as ref


def _file_texts(folder: Path) -> list[str]:
    out = []
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in (".png", ".jpg", ".jpeg", ".webp"):
            continue
        try:
            raw = open_raw(path)
        except GenDataError:
            continue
        out += [e.text for e in raw.entries if e.text]
    return out


def _suite_texts() -> list[str]:
    """Every string constant in the test suite that could be a settings line or infotext."""
    out = []
    for module in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and (
                    ":" in node.value):
                out.append(node.value)
    return out


def _bench_texts() -> list[str]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from corpus import sample
    finally:
        sys.path.pop(0)
    rng = random.Random(7)
    return [sample(rng, i, "png", "2024-01-01").text for i in range(300)]


SAMPLES = sorted(set(_file_texts(FIXTURES) + _suite_texts() + _bench_texts()
                     + (_file_texts(CORPUS) if CORPUS.is_dir() else [])))


def _parts_values(line: str) -> list[tuple[str, str]]:
    return [(p.key, p.value) for p in scan_line(line) if isinstance(p, Entry)]


def _model(found: object) -> object:
    return found.build() if isinstance(found, DeferredParams) else found


def check_same(text: str) -> None:
    """Both parsers agree on `text`, and the fast scan on its every line."""
    for line in text.split("\n"):
        values = scan_values(line)
        assert values is None or values == _parts_values(line), line
        assert is_params_line(line, TYPED) == looks_like_params(
            ref.scan_line(line, limit=3), TYPED), line
        assert scan_line(line) == ref.scan_line(line), line
    old = _model(ref.parse(text))
    new = _model(a1111._parse(text))
    assert new == old
    assert isinstance(new.origin, InfotextOrigin)
    assert new.origin.line_parts == old.origin.line_parts
    assert [p.typed for p in new.origin.line_parts if isinstance(p, Entry)] == [
        p.typed for p in old.origin.line_parts if isinstance(p, Entry)]
    assert a1111.dump(new) == a1111.dump(old)
    _origin, values = read_infotext(text, TYPED)
    assert values == [(p.key, p.value) for p in old.origin.line_parts if isinstance(p, Entry)]


def test_samples_were_found() -> None:
    assert len(SAMPLES) > 300
    if CORPUS.is_dir():
        assert len(SAMPLES) > 600


@pytest.mark.parametrize("text", SAMPLES, ids=lambda t: t[:40])
def test_every_sample_parses_as_before(text: str) -> None:
    check_same(text)


_PIECES = st.sampled_from([
    "Steps", "Steps: 20", "Seed: 5", "Size: 512x768", "CFG scale: 7", "Key", "a b", "x-y/z",
    "Lora hashes", ":", ": ", ",", ", ", " ", "  ", "\n", "\r", "\t", '"', '\\"', "\\", "\\\\",
    "{", "}", "[", "]", '{"a": "b, c"}', '["x", 1]', '"a, b"', '""', "\\u00e9", "\\n", "\x01",
    "é", "猫", "Model: m", "Version: v1", "Hires resize: 1x2", "Steps: 0", "Steps: x",
    "Negative prompt: n", "prompt", "steps: 3", "A :", "A:", "Template: {a}", 'K: "a, b"',
    'K: "a"x', "K: {a, b}", "K: [1, 2]x", 'K: "{", ', "\x1c", "\u3000",
])


@settings(max_examples=3000, deadline=None)
@given(st.lists(_PIECES, max_size=24).map("".join))
@example('Steps: 20, Sampler: "Euler, a", Hashes: {"a": "b, c"}, Seed: 1')
@example('a\nSteps: 20, Key: "x\\"y", Other: "", Seed: 1')
@example("p\n\rSteps: 20, Seed: 1, Size: 5x5")
@example('p\nA : 1, B: "\\q", C: "é\\u00e9", Steps: 0')
@example('p\nSteps: 1, Key: "a, b"c, Seed: 2, Size: 1x1')
@example('p\nSteps: 1, Key: {"a": [1, 2]}x, Seed: 2, Size: 1x1, K: [3, 4]')
def test_generated_lines_parse_as_before(text: str) -> None:
    check_same(text)


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('ab :,"\\{}[]\n\r\t-/é')), max_size=60))
def test_any_line_scans_as_before(text: str) -> None:
    check_same(text)


def test_lazy_parts_follow_a_later_fallback() -> None:
    """An out-of-range value is kept as text, and its entry then carries no typed value; the
    other entries keep theirs (a seed beside `Steps: 0` is still a seed)."""
    text = "p\nSteps: 0, Seed: 1, Size: 512x512"
    new = a1111.parse_text(text)
    old = _model(ref.parse(text))
    assert new == old and new.steps is None and new.extra == {"Steps": "0"}
    assert (new.seed, new.width, new.height) == (1, 512, 512)
    typed = {p.key: p.typed for p in new.origin.line_parts if isinstance(p, Entry)}
    assert typed == {"Steps": None, "Seed": 1, "Size": (512, 512)}
    assert a1111.dump(new) == text
    assert a1111.dump(new.edited(seed=7)) == "p\nSteps: 0, Seed: 7, Size: 512x512"
