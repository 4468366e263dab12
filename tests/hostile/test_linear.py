"""Work that grows with the input grows linearly: one test per loop or regex that used to be
quadratic (or worse) on file-supplied text, each with an input the old code took minutes on
and a budget a slow machine meets in a fraction of it. Each also checks that the linear
version answers what the old one did on ordinary input."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from gendata import api
from gendata.containers.raw import RawEntry, RawMetadata
from gendata.diff import word_diff
from gendata.formats import a1111, drawthings, fooocus, invokeai, novelai
from gendata.formats.infotext_scan import scan_line
from gendata.present.record import prompt_spans

from . import builders

BUDGET = 5.0  # seconds; each input below took a minute or more before


@contextmanager
def within(seconds: float = BUDGET) -> Iterator[None]:
    start = time.perf_counter()
    yield
    took = time.perf_counter() - start
    assert took < seconds, f"took {took:.1f} s"


def _raw(*entries: tuple[str, str]) -> RawMetadata:
    return RawMetadata("png", [RawEntry("png", "tEXt", k, v, len(v)) for k, v in entries])


def test_many_chunks_under_one_key(tmp_path: Path) -> None:
    """20,000 tEXt chunks with one key: numbering the repeats took 53 s."""
    path = builders.text_same_key(tmp_path)
    with within():
        rec = api.read_safe(path)
        texts = rec.raw_texts()
        rec.to_json()
    assert len(texts) == 20000
    assert texts["parameters"] == "p0" and texts["parameters#20000"] == "p19999"


def test_repeated_keys_keep_their_numbering() -> None:
    raw = _raw(("k", "1"), ("k#2", "lit"), ("k", "2"), ("k", "3"), ("k#2", "lit2"))
    rec = api.Record("x.png", "png", raw=raw)
    assert rec.raw_texts() == {"k": "1", "k#2": "lit", "k#3": "2", "k#4": "3",
                               "k#2#2": "lit2"}
    many = _raw(*((f"k{i % 5000}", "v") for i in range(20000)))
    with within():
        assert len(many.duplicates()) == 5000


def test_many_jpeg_comments(tmp_path: Path) -> None:
    """200,000 COM segments took more than 120 s."""
    path = builders.jpeg_many_com(tmp_path)
    with within(2 * BUDGET):
        rec = api.read_safe(path)
        rec.to_json()
    assert rec.raw is not None and len(rec.raw.entries) == 200_000


def test_novelai_source_with_a_run_of_spaces() -> None:
    """A `Source` with a 100 KB run of spaces took 105 s in a lazy regex."""
    source = "Stable Diffusion" + " " * 100_000 + "x"
    with within():
        assert novelai._split_source(source) == (source, None)
    assert novelai._split_source("Stable Diffusion XL 8BA2AF87") == (
        "Stable Diffusion XL", "8BA2AF87")
    assert novelai._split_source("NovelAI Diffusion V4.5 4BDE2A90 ") == (
        "NovelAI Diffusion V4.5", "4BDE2A90")
    assert novelai._split_source("model 1234567") == ("model 1234567", None)
    assert novelai._split_source("a\nb 8BA2AF87") == ("a\nb 8BA2AF87", None)


def test_source_split_agrees_with_the_old_pattern() -> None:
    old = re.compile(r"^(?P<model>.*?)\s+(?P<hash>[0-9A-Fa-f]{8})$")
    rng = random.Random(3)
    for _ in range(20000):
        s = "".join(rng.choice("ab 0F\n\t") for _ in range(rng.randint(0, 16))).strip()
        m = old.match(s)
        assert novelai._split_source(s) == ((m["model"], m["hash"]) if m else (s, None)), s


def test_drawthings_unclosed_elements(tmp_path: Path) -> None:
    """A Draw Things XMP with 20,000 unclosed `<rdf:li>` took 116 s."""
    path = builders.drawthings_unclosed(tmp_path)
    with within():
        rec = api.read_safe(path)
    assert rec.error is not None and "no exif:UserComment" in rec.error
    raw = _raw(("XML:com.adobe.xmp", '<x xmp:CreatorTool="Draw Things">'
                '<exif:UserComment><rdf:Alt><rdf:li x="1">{"c": "a cat", "seed": 7}</rdf:li>'
                "</rdf:Alt></exif:UserComment>"
                + "<dc:description><rdf:Alt><rdf:li>" * 3 + "</x>"))
    params = drawthings.parse(raw)
    assert params.prompt == "a cat" and params.seed == 7


def test_drawthings_elements_agree_with_the_old_pattern() -> None:
    old = re.compile(r"<exif:UserComment>\s*<rdf:Alt>\s*<rdf:li[^>]*>(.*?)</rdf:li>",
                     re.DOTALL)
    pieces = ["<exif:UserComment>", "<rdf:Alt>", "<rdf:li>", '<rdf:li a="1">', "</rdf:li>",
              " ", "x", "\n"]
    rng = random.Random(7)
    for _ in range(20000):
        xmp = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 10)))
        m = old.search(xmp)
        assert drawthings._element(drawthings._USER_COMMENT, xmp) == (m[1] if m else None), xmp


@pytest.mark.parametrize("unit", ["Ab: [x, ", "Ab: {x, ", 'Ab: ["x, ', 'Ab: ["x\\", '])
def test_settings_line_of_unclosed_brackets(unit: str) -> None:
    """A bracket that never closes was scanned to the end of the line from every entry."""
    line = "Steps: 20, " + unit * 20000 + "Seed: 1"
    with within():
        parts = scan_line(line)
    assert "".join(p if isinstance(p, str) else p.raw for p in parts) == line
    entries = [p for p in parts if not isinstance(p, str)]
    assert entries[0].key == "Steps" and entries[-1].key == "Seed"


def test_bracketed_values_still_span_commas() -> None:
    line = 'Steps: 20, Civitai resources: [{"a": 1, "b": [2, 3]}], Hashes: {"x": "1, 2"}, Seed: 1'
    values = {p.key: p.value for p in scan_line(line) if not isinstance(p, str)}
    assert values["Civitai resources"] == '[{"a": 1, "b": [2, 3]}]'
    assert values["Hashes"] == '{"x": "1, 2"}' and values["Seed"] == "1"


def test_unclosed_network_tags() -> None:
    prompt = "<lora:x " * 30000
    with within():
        assert a1111.network_tags(prompt) == []
        prompt_spans(prompt)
    tags = a1111.network_tags("<lora:a:0.5> <lora:b <hypernet:c:1>")
    assert [(t.name, t.weight) for t in tags] == [("a", 0.5), ("b <hypernet", None)]


def test_prompt_marks_agree_with_the_old_patterns() -> None:
    old = {"network": re.compile(r"<(?:lora|lyco|hypernet):[^>]+>"),
           "weight": re.compile(r":\d*\.?\d+(?=\))")}
    rng = random.Random(5)
    for _ in range(20000):
        text = "".join(rng.choice(["<lora:", ">", ":", "1", ".", ")", "a", " "])
                       for _ in range(rng.randint(0, 12)))
        spans = prompt_spans(text)
        for kind, pattern in old.items():
            want = [m.span() for m in pattern.finditer(text) if m.end() > m.start()]
            assert [(s.start, s.end) for s in spans if s.kind == kind] == want, text


@pytest.mark.parametrize("text", [":" + "1" * 100_000, "(:" * 50_000 + ")"])
def test_prompt_weights_on_long_runs(text: str) -> None:
    with within():
        prompt_spans(text)


@pytest.mark.parametrize("make", [
    lambda n: (" ".join(f"w{i % 50}" for i in range(n)),
               " ".join(f"w{(i * 7) % 50}" for i in range(n))),
    lambda n: ("x" * (n * 20), "x" * (n * 10) + "y" + "x" * (n * 10)),
])
def test_word_diff_of_long_prompts(make: Callable[[int], tuple[str, str]]) -> None:
    """SequenceMatcher took 30 s on 2,000 repeating words, and minutes on more."""
    a, b = make(100_000)
    with within():
        pieces = word_diff(a, b)
    assert "".join(t for op, t in pieces if op != "insert") == a
    assert "".join(t for op, t in pieces if op != "delete") == b


def test_word_diff_of_ordinary_prompts_is_word_level() -> None:
    pieces = word_diff("a red fox, (snow:1.2)", "a red cat, (snow:1.3)")
    assert ("delete", "fox") in pieces and ("insert", "cat") in pieces
    assert ("delete", "1.2") in pieces and ("insert", "1.3") in pieces


def test_huge_settings_line_is_refused_not_split(tmp_path: Path) -> None:
    """A 30 MiB settings line would take a GiB of memory to split; it is refused."""
    path = builders.a1111_many_entries(tmp_path)
    with within():
        rec = api.read_safe(path)
    assert rec.error is not None and "longer than" in rec.error
    assert rec.raw is not None and len(rec.raw_texts()["parameters"]) > a1111.MAX_INFOTEXT_CHARS


def test_dream_prompts_with_long_runs(tmp_path: Path) -> None:
    """Spaces before a bracketed negative were rescanned from each of their positions, and a
    long switch token holding a newline backtracked letter by letter."""
    path = builders.dream_hostile(tmp_path)
    with within():
        rec = api.read_safe(path)
    assert rec.params is not None and rec.params.negative_prompt == "neg"
    long_line = builders.dream_long(tmp_path)
    with within():
        rec = api.read_safe(long_line)
    assert rec.error is not None and "longer than" in rec.error


def test_dream_patterns_agree_with_the_old_ones() -> None:
    old_sub = re.compile(r"\s*\[[^\[\]]*\]")
    old_switch = re.compile(r"^(-[A-Za-z]{1,2}|--[a-z_]+)(.*)$")
    rng = random.Random(11)
    for _ in range(20000):
        text = "".join(rng.choice([" ", "\n", "[", "]", "a", "-", "--s"])
                       for _ in range(rng.randint(0, 12)))
        assert invokeai._split_negative(text)[0] == old_sub.sub("", text).strip() or \
            not re.findall(r"\[([^\[\]]*)\]", text), text
        m = old_switch.match(text)
        new = None if "\n" in text[:-1] else old_switch.match(text)
        assert (m and m.groups()) == (new and new.groups()), text


def test_fooocus_literals_are_parsed_only_when_short(tmp_path: Path) -> None:
    """A 6 MB list literal took 17 s and 3 GB to parse."""
    path = builders.fooocus_literal(tmp_path)
    with within():
        rec = api.read_safe(path)
    assert rec.params is not None and rec.params.generator == "fooocus"
    assert fooocus._literal("(768, 1280)") == (768, 1280)
