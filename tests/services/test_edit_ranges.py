"""Edits keep values in the range their field means, the same way through the library
(GenParams.edited, api.update) and the edit form (present.form), while reading a file keeps
whatever it holds; renaming the model drops the old model's hash."""

from __future__ import annotations

import json

import pytest

from gendata import api
from gendata.errors import ValidationError
from gendata.formats.a1111 import dump, parse_text
from gendata.model import GenParams, edit_remarks
from gendata.model_fields import GENPARAMS, SEED_MAX, edit_problem
from gendata.present.form import typed_value

TEXT = ('a cat\nSteps: 20, Sampler: Euler, CFG scale: 7, Seed: 5, Size: 512x512, '
        'Model hash: 45a21ea00a, Model: dreamFox, VAE hash: 735e4c3a44, VAE: vae.pt, '
        'Hashes: {"model": "45a21ea00a", "vae": "735e4c3a44", "lora:x": "1"}')

REFUSED = [
    ("seed", "-1", "random"), ("seed", str(SEED_MAX + 1), "between 0 and"),
    ("variation_seed", "-1", "between 0 and"),
    ("steps", "10001", "between 1 and 10000"), ("steps", "0", "positive"),
    ("cfg_scale", "inf", "finite"), ("cfg_scale", "nan", "finite"),
    ("cfg_scale", "-inf", "finite"),
    ("width", "65537", "between 1 and 65536"), ("height", "0", "positive"),
    ("denoising_strength", "1.01", "between 0 and 1"),
    ("denoising_strength", "-0.1", "at least 0"),
    ("clip_skip", "13", "between 1 and 12"), ("hires_upscale", "17", "at most 16"),
    ("hires_steps", "10001", "between 0 and 10000"),
    ("variation_seed_strength", "2", "between 0 and 1"),
]
ACCEPTED = [("seed", "0"), ("seed", str(SEED_MAX)), ("steps", "10000"), ("cfg_scale", "-3.5"),
            ("width", "65536"), ("denoising_strength", "1"), ("denoising_strength", "0"),
            ("clip_skip", "12"), ("hires_upscale", "16")]


@pytest.mark.parametrize(("name", "text", "why"), REFUSED)
def test_out_of_range_edits_are_refused_alike_everywhere(name: str, text: str, why: str) -> None:
    p = parse_text(TEXT)
    with pytest.raises(ValidationError, match=why) as lib:
        p.edited(**{name: text})
    with pytest.raises(ValidationError) as form:
        typed_value(p, name, text)
    with pytest.raises(ValidationError) as upd:
        api.update(p, {name: text})
    assert str(lib.value) == str(form.value) == str(upd.value)
    assert name in str(lib.value) and "\n" not in str(lib.value)


@pytest.mark.parametrize(("name", "text"), ACCEPTED)
def test_the_bounds_themselves_are_accepted(name: str, text: str) -> None:
    p = parse_text(TEXT)
    value = p.edited(**{name: text})
    assert str(typed_value(p, name, text)) in (text, str(float(text)))
    again = parse_text(dump(value))
    assert getattr(again, name) == getattr(value, name)


def test_every_bound_lives_in_the_field_table() -> None:
    for name, spec in GENPARAMS.items():
        if spec.high is not None:
            assert edit_problem(name, spec.type(spec.high)) is None
            over = spec.high + (1 if spec.type is int else 0.5)
            assert name in (edit_problem(name, spec.type(over)) or "")
        if spec.low is not None:
            assert edit_problem(name, spec.type(spec.low)) is None
            assert name in (edit_problem(name, spec.type(spec.low - 1)) or "")


def test_files_keep_out_of_range_values_and_other_fields_stay_editable() -> None:
    text = "p\nSteps: 20000, Sampler: Euler, Seed: -1, Size: 70000x8, Denoising strength: 3"
    p = parse_text(text)
    assert (p.steps, p.seed, p.width, p.denoising_strength) == (20000, -1, 70000, 3.0)
    out = dump(p.edited(sampler="DDIM"))
    assert out == text.replace("Euler", "DDIM")
    with pytest.raises(ValidationError, match="steps must be between"):
        p.edited(steps=20001)


def test_renaming_the_model_clears_its_hash() -> None:
    p = parse_text(TEXT)
    new = api.update(p, {"model": "otherModel"})
    assert new.model_hash is None
    assert json.loads(new.extra["Hashes"]) == {"vae": "735e4c3a44", "lora:x": "1"}
    assert new.vae_hash == "735e4c3a44"
    (remark,) = edit_remarks(p, new)
    assert "'dreamFox' to 'otherModel'" in remark and "45a21ea00a" in remark
    back = parse_text(dump(new))
    assert back.model == "otherModel" and back.model_hash is None
    assert "Model hash" not in dump(new)


def test_renaming_the_model_with_its_hash_keeps_both_true() -> None:
    p = parse_text(TEXT)
    new = api.update(p, {"model": "otherModel", "model_hash": "0123456789"})
    assert new.model_hash == "0123456789"
    assert json.loads(new.extra["Hashes"])["model"] == "0123456789"
    assert edit_remarks(p, new) == []


def test_naming_a_model_or_unsetting_it_keeps_the_hash() -> None:
    p = parse_text("p\nSteps: 1, Seed: 2, Model hash: abc")
    assert p.edited(model="named").model_hash == "abc"
    q = parse_text(TEXT)
    assert api.update(q, {}, unset=["Model"]).model_hash == "45a21ea00a"
    assert q.edited(seed=9).model_hash == "45a21ea00a"


def test_renaming_the_vae_clears_its_hash_only() -> None:
    p = parse_text(TEXT)
    new = p.edited(vae="other.pt")
    assert (new.vae_hash, new.model_hash) == (None, "45a21ea00a")
    assert "vae" not in json.loads(new.extra["Hashes"])
    assert "VAE hash" in edit_remarks(p, new)[0]


def test_a_model_built_in_code_is_edited_alike() -> None:
    p = GenParams(model="a", model_hash="h", extra={"Hashes": {"model": "h"}})
    new = p.edited(model="b")
    assert new.model_hash is None and "Hashes" not in new.extra


def test_the_form_refuses_keys_the_infotext_cannot_carry() -> None:
    p = parse_text(TEXT)
    with pytest.raises(ValidationError, match=r"line 2: key 'Bad\.key' cannot be written"):
        typed_value(p, "extra", "Good key: 1\nBad.key: 2")
    assert typed_value(p, "extra", "Good key: a, b")["Good key"] == "a, b"


def test_a_size_is_written_whole() -> None:
    p = parse_text("p\nSteps: 1, Seed: 2, Sampler: x")
    with pytest.raises(ValidationError, match="width and height are written together"):
        dump(p.edited(width=512))
    with pytest.raises(ValidationError, match="hires_width and hires_height"):
        dump(p.edited(hires_height=0))
    q = p.edited(width=512, height=64, hires_width=0, hires_height=0)
    back = parse_text(dump(q))
    assert (back.width, back.height, back.hires_width, back.hires_height) == (512, 64, 0, 0)
    assert parse_text(dump(q.edited(width=None, height=None))).width is None


def test_json_to_write_is_held_to_the_ranges() -> None:
    from gendata.errors import ParseError

    with pytest.raises(ParseError, match=r"x\.json: seed must be between 0 and"):
        GenParams.from_json({"seed": -1}, "x.json")
    with pytest.raises(ParseError, match="cfg_scale must be a finite number"):
        GenParams.from_json({"cfg_scale": float("inf")}, "x.json")
    assert GenParams.from_json({"seed": SEED_MAX}, "x.json").seed == SEED_MAX


def test_the_form_says_at_once_what_saving_would_refuse_in_a_prompt() -> None:
    p = parse_text(TEXT)
    with pytest.raises(ValidationError, match="line 2 of the prompt starts with"):
        typed_value(p, "prompt", "x\nNegative prompt: evil")
    assert typed_value(p, "negative_prompt", "x\nNegative prompt: n") == (
        "x\nNegative prompt: n")
    with pytest.raises(ValidationError, match="lone surrogate"):
        typed_value(p, "negative_prompt", "x\udc80")
