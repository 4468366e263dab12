"""A1111 infotext: parsing, exact round trip, and edits that touch only what changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gendata.api import update
from gendata.containers import open_raw
from gendata.formats.a1111 import dump, infotext, parse_text, quote

BASIC_TXT = Path(__file__).resolve().parents[2] / "fixtures" / "a1111_basic.txt"


def basic() -> str:
    return BASIC_TXT.read_text(encoding="utf-8").rstrip("\n")


def test_typed_fields_of_the_fixture() -> None:
    p = parse_text(basic())
    assert p.prompt.startswith("masterpiece, best quality, (a red fox:1.2)")
    assert p.prompt.endswith("\nsoft morning light, film grain")
    assert p.negative_prompt == "lowres, bad anatomy, (worst quality:1.4), text, watermark"
    assert (p.steps, p.sampler, p.scheduler, p.cfg_scale) == (28, "DPM++ 2M", "Karras", 6.5)
    assert (p.seed, p.width, p.height) == (3141592653, 512, 768)
    assert (p.model, p.model_hash, p.vae, p.vae_hash) == (
        "dreamFox_v10", "45a21ea00a", "sdxl_vae.safetensors", "735e4c3a44")
    assert (p.denoising_strength, p.clip_skip) == (0.35, 2)
    assert (p.hires_upscale, p.hires_steps, p.hires_upscaler) == (1.5, 12, "R-ESRGAN 4x+")
    assert p.version == "v1.10.1"
    assert [(lo.name, lo.weight, lo.hash) for lo in p.loras] == [
        ("foxStyle_v2", 0.8, "1a2b3c4d5e6f"), ("- Detail Tweaker XL -", 0.5, "0f1e2d3c4b5a")]
    assert [(e.name, e.hash) for e in p.embeddings] == [("easynegative", "c74b4e810b03")]
    assert list(p.extra) == ["Lora hashes", "TI hashes", "Hashes", "ADetailer model",
                             "ADetailer prompt", "Custom key"]
    assert json.loads(p.extra["Hashes"]) == {"model": "45a21ea00a",
                                             "lora:foxStyle_v2": "1a2b3c4d5e"}
    assert p.extra["ADetailer prompt"] == "smiling, detailed eyes"


CASES = {
    "no negative": "a cat\nSteps: 20, Sampler: Euler, Seed: 5",
    "crlf": "a cat\r\nNegative prompt: ugly\r\nSteps: 20, Sampler: Euler, Seed: 5",
    "multi-line": "line one\nline two\n\nNegative prompt: n1\nn2\nSteps: 1, Seed: 2, Size: 3x4",
    "empty prompt": "Negative prompt: only negative\nSteps: 20, Sampler: Euler, Seed: 5",
    "params only": "Steps: 20, Sampler: Euler, Seed: 5, CFG scale: 7",
    "old comma quoting": 'p\nSteps: 20, Sampler: Euler, Template: "a, b \\"q\\"", Seed: 5',
    "json array": 'p\nSteps: 20, Civitai resources: [{"type":"lora","weight":0.6}], Seed: 5, '
                  "Sampler: Euler",
    "date with colons": "p\nSteps: 20, Created Date: 2026-02-25T22:09:08.81Z, Seed: 5, Size: 1x1",
    "trailing space": "p  \nSteps: 20, Sampler: Euler a , Seed: 5 ",
    "bare flag": "p\nSteps: 20, Tiling, Seed: 5, Sampler: Euler",
    "empty value": "p\nSteps: 20, Sampler: , Seed: 5, Size: 64x64",
    "negative seed resize": "p\nSteps: 20, Seed resize from: -1x-1, Seed: 5, Size: 8x8",
    "duplicate key": "p\nSteps: 20, Seed: 5, Steps: 30, Size: 8x8",
    "bad typed value": "p\nSteps: abc, Seed: 5, Sampler: Euler, Size: 8x8",
    "zero steps": "p\nSteps: 0, Seed: 5, Sampler: Euler, Size: 8x8",
    "unicode key": "p\nSteps: 20, Größe: groß, Seed: 5, Size: 8x8",
    "prompt only": "just a prompt",
    "leading and trailing whitespace": "\n  p\nSteps: 20, Seed: 5, Size: 8x8\n\n",
}


@pytest.mark.parametrize("text", CASES.values(), ids=CASES.keys())
def test_round_trip_is_exact(text: str) -> None:
    assert dump(parse_text(text)) == text


def test_specific_parses() -> None:
    assert parse_text(CASES["no negative"]).negative_prompt == ""
    crlf = parse_text(CASES["crlf"])
    assert (crlf.prompt, crlf.negative_prompt, crlf.seed) == ("a cat", "ugly", 5)
    ml = parse_text(CASES["multi-line"])
    assert (ml.prompt, ml.negative_prompt) == ("line one\nline two\n", "n1\nn2")
    assert (ml.width, ml.height) == (3, 4)
    assert parse_text(CASES["empty prompt"]).negative_prompt == "only negative"
    assert parse_text(CASES["old comma quoting"]).extra["Template"] == 'a, b "q"'
    arr = parse_text(CASES["json array"])
    assert json.loads(arr.extra["Civitai resources"]) == [{"type": "lora", "weight": 0.6}]
    assert arr.sampler == "Euler"
    assert parse_text(CASES["date with colons"]).extra["Created Date"] == "2026-02-25T22:09:08.81Z"
    assert parse_text(CASES["duplicate key"]).steps == 30
    bad = parse_text(CASES["bad typed value"])
    assert bad.steps is None and bad.extra["Steps"] == "abc"
    assert parse_text(CASES["zero steps"]).extra["Steps"] == "0"
    assert parse_text(CASES["unicode key"]).extra["Größe"] == "groß"
    assert parse_text(CASES["negative seed resize"]).extra["Seed resize from"] == "-1x-1"
    po = parse_text(CASES["prompt only"])
    assert po.prompt == "just a prompt" and po.steps is None


def test_edit_changes_only_that_field() -> None:
    text = basic()
    p = parse_text(text)
    out = dump(p.edited(steps=30))
    assert out == text.replace("Steps: 28,", "Steps: 30,")
    out = dump(p.edited(seed=42, cfg_scale=7.0))
    assert out == text.replace("Seed: 3141592653", "Seed: 42").replace("CFG scale: 6.5",
                                                                        "CFG scale: 7")
    out = dump(p.edited(prompt="new prompt"))
    assert out == "new prompt\n" + text[text.index("Negative prompt:"):]


def test_edit_quotes_new_values_like_a1111() -> None:
    p = parse_text(basic())
    out = dump(update(p, {}, set_keys={"Custom key": 'a, "b": c'}))
    assert 'Custom key: "a, \\"b\\": c"' in out
    assert parse_text(out).extra["Custom key"] == 'a, "b": c'


def test_unset_and_add_keys() -> None:
    text = basic()
    p = parse_text(text)
    out = dump(update(p, {}, unset=["Clip skip", "Custom key"], set_keys={"New key": "1"}))
    assert "Clip skip" not in out and "Custom key" not in out
    assert out.endswith("Version: v1.10.1, New key: 1")
    assert out.replace(", New key: 1", "") == text.replace("Clip skip: 2, ", "").replace(
        "Custom key: kept as is, ", "")


def test_unset_first_entry_keeps_separators_right() -> None:
    out = dump(update(parse_text("p\nSteps: 20, Sampler: Euler, Seed: 5"), {}, unset=["steps"]))
    assert out == "p\nSampler: Euler, Seed: 5"


def test_typed_key_via_param_is_validated() -> None:
    from gendata.errors import ValidationError

    p = parse_text(basic())
    assert update(p, {}, set_keys={"Hires upscale": "2"}).hires_upscale == 2.0
    with pytest.raises(ValidationError, match="Hires upscale must be a number, got 'x'"):
        update(p, {}, set_keys={"Hires upscale": "x"})
    with pytest.raises(ValidationError, match="steps must be a positive integer, got 'abc'"):
        update(p, {"steps": "abc"})


def test_dump_without_origin_is_canonical() -> None:
    from gendata.model import GenParams, Lora

    p = GenParams(prompt="a, b", negative_prompt="c", steps=20, sampler="Euler a", cfg_scale=7.0,
                  seed=2**64 - 1, width=512, height=768, model="m", model_hash="abc",
                  loras=[Lora(name="x", weight=0.5, hash="123456789abc")],
                  extra={"Hashes": {"model": "abc"}, "Note": "x: y"})
    out = dump(p)
    assert out == ("a, b\nNegative prompt: c\nSteps: 20, Sampler: Euler a, CFG scale: 7, "
                   f"Seed: {2**64 - 1}, Size: 512x768, Model hash: abc, Model: m, "
                   'Hashes: {"model": "abc"}, Note: "x: y", Lora hashes: "x: 123456789abc"')
    back = parse_text(out)
    assert (back.seed, back.loras[0].hash if back.loras else None) == (2**64 - 1, None)
    assert back.extra["Lora hashes"] == "x: 123456789abc"


def test_quote_rule() -> None:
    assert quote("Euler a") == "Euler a"
    assert quote("a, b") == '"a, b"'
    assert quote("k: v") == '"k: v"'
    assert quote("two\nlines") == '"two\\nlines"'
    assert quote("テスト, x") == '"テスト, x"'


def test_round_trip_every_fixture_and_corpus_text(fixtures: Path) -> None:
    from ..conftest import CORPUS

    files = sorted(fixtures.glob("**/*.*"))
    if CORPUS.is_dir():
        files += sorted(p for p in CORPUS.rglob("*") if p.suffix.lower() in (
            ".png", ".jpg", ".jpeg", ".webp"))
    n = 0
    for path in files:
        try:
            raw = open_raw(path)
        except Exception:
            continue
        for entry in raw.entries:
            if entry.text and entry.key in ("parameters", "UserComment"):
                assert dump(parse_text(entry.text)) == entry.text, path
                n += 1
        text = infotext(raw)
        if text:
            assert dump(parse_text(text)) == text
    assert n >= 8


# --- property test -------------------------------------------------------------------------

_words = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"),
                 max_size=30)
_keys = st.from_regex(r"[A-Za-z][A-Za-z0-9 /\-]{1,15}[A-Za-z0-9]", fullmatch=True)


@st.composite
def infotexts(draw) -> str:
    prompt_lines = draw(st.lists(_words.filter(lambda s: "\n" not in s and "\r" not in s),
                                 max_size=3))
    neg = draw(st.one_of(st.none(), _words.filter(lambda s: "\n" not in s and "\r" not in s)))
    entries = []
    for key in draw(st.lists(_keys, min_size=3, max_size=8)):
        value = draw(st.one_of(st.integers(-10, 10**20).map(str),
                               st.floats(0, 100, allow_nan=False).map(repr),
                               _words.map(quote),
                               st.just('{"a": [1, 2, {"b": "c,d"}]}')))
        entries.append(f"{key}: {value}")
    parts = ["\n".join(prompt_lines)] if prompt_lines else []
    if neg is not None:
        parts.append("Negative prompt: " + neg)
    parts.append(", ".join(entries))
    return "\n".join(parts)


@settings(max_examples=300, deadline=None)
@given(infotexts())
def test_property_round_trip(text: str) -> None:
    assert dump(parse_text(text)) == text


@settings(max_examples=150, deadline=None)
@given(infotexts(), st.integers(1, 10_000), st.integers(0, 2**64 - 1))  # the edit ranges
def test_property_edit_round_trip(text: str, steps: int, seed: int) -> None:
    edited = parse_text(text).edited(steps=steps, seed=seed)
    again = parse_text(dump(edited))
    assert (again.steps, again.seed) == (steps, seed)
    assert again.prompt == edited.prompt and again.negative_prompt == edited.negative_prompt
    assert again.extra == {k: v for k, v in edited.extra.items() if k not in ("Steps", "Seed")}


_TYPED_KEYS = st.sampled_from(["Steps", "Seed", "CFG scale", "CFG Scale", "Size", "Clip skip",
                               "Denoising strength", "Sampler", "Model hash"])
_ODD_VALUES = st.one_of(st.integers(0, 10**6).map(str), st.floats(0, 30).map(repr),
                        st.sampled_from(["20Steps", "x", "1.5.2", "512x", "512x512x3", "-3",
                                         "", " 7", "7 ", "Euler a", "1e400"]))


@st.composite
def duplicated_lines(draw) -> str:
    """Settings lines where typed keys repeat and values may not read as their type
    ("Steps: 20, Steps: 20Steps"): what fuzzers and odd savers write."""
    pairs = draw(st.lists(st.tuples(_TYPED_KEYS, _ODD_VALUES), min_size=3, max_size=8))
    return "a cat\n" + draw(st.sampled_from([", ", ","])).join(f"{k}: {v}" for k, v in pairs)


@settings(max_examples=400, deadline=None)
@given(duplicated_lines())
def test_property_repeated_and_unreadable_entries_round_trip(text: str) -> None:
    assert dump(parse_text(text)) == text


def test_an_unreadable_duplicate_survives_edits_of_its_field() -> None:
    params = parse_text("a cat\nSteps: 20,Steps: 20Steps, Seed: 1")
    assert dump(params.edited(seed=9)) == "a cat\nSteps: 20,Steps: 20Steps, Seed: 9"
    assert dump(params.edited(steps=7)) == "a cat\nSteps: 7,Steps: 20Steps, Seed: 1"
    params = parse_text("a cat\nSteps: 20, Steps: 30x, Steps: 25, Seed: 1")
    assert dump(params.edited(steps=None)) == "a cat\nSeed: 1"


@settings(max_examples=200, deadline=None)
@given(duplicated_lines(), st.integers(0, 2**32), st.integers(1, 150))
def test_property_edits_of_repeated_and_unreadable_entries_read_back(text: str, seed: int,
                                                                     steps: int) -> None:
    params = parse_text(text)
    for name, value in (("seed", seed), ("steps", steps)):
        again = parse_text(dump(params.edited(**{name: value})))
        assert getattr(again, name) == value
