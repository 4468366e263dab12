"""What you set is what you read back: values, keys and prompts written into real files
through the library's write path, read back equal or refused before anything is written."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from gendata import api
from gendata.errors import ValidationError
from gendata.formats.a1111 import dump, parse_text
from gendata.formats.infotext_write import encode_value, normalize_prompt
from gendata.model import GenParams

BASE = ('a cat, "quoted", sitting\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, '
        'CFG scale: 7, Seed: 5, Size: 8x8, Template: "a, b", Hashes: {"model": "abc"}')


def png(path: Path, text: str = BASE) -> Path:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_itxt("parameters", text)
    Image.new("RGB", (8, 8), (1, 2, 3)).save(path, pnginfo=info)
    return path


def jpeg(path: Path) -> Path:
    Image.new("RGB", (8, 8), (1, 2, 3)).save(path, "JPEG")
    return path


def edit(path: Path, changes: dict[str, object] | None = None,
         keys: dict[str, str] | None = None) -> GenParams:
    """Set through the real write path and read the file back."""
    params = api.editable_params(api.read(path))
    api.write(path, api.update(params, changes or {}, set_keys=keys))
    back = api.read(path).params
    assert back is not None
    return back


def test_a_value_with_a_settings_entry_in_it_stays_one_value(tmp_path: Path) -> None:
    for path in (png(tmp_path / "a.png"), jpeg(tmp_path / "a.jpg")):
        back = edit(path, {"sampler": "Euler a, Steps: 99"}, {"Note": 'x", Seed: 1'})
        assert back.sampler == "Euler a, Steps: 99"
        assert back.extra["Note"] == 'x", Seed: 1'
        if path.suffix == ".png":
            assert (back.steps, back.seed) == (20, 5)


def test_a_prompt_line_that_reads_as_the_negative_marker_is_refused(tmp_path: Path) -> None:
    path = png(tmp_path / "a.png")
    before = path.read_bytes()
    for prompt in ("x\nNegative prompt: evil", "Negative prompt: evil", "x\n   Negative prompt:"):
        params = api.editable_params(api.read(path))
        with pytest.raises(ValidationError, match="Negative prompt:"):
            api.write(path, api.update(params, {"prompt": prompt}))
    assert path.read_bytes() == before
    # in the negative prompt the marker is only text, and reads back as such
    back = edit(path, {"negative_prompt": "x\nNegative prompt: evil"})
    assert (back.prompt, back.negative_prompt) == ('a cat, "quoted", sitting',
                                                   "x\nNegative prompt: evil")


def test_a_last_prompt_line_that_reads_as_the_settings_line_is_refused() -> None:
    with pytest.raises(ValidationError, match="would read as the settings line"):
        dump(GenParams(prompt="a cat\nSteps: 20, Sampler: Euler, Seed: 1"))
    with pytest.raises(ValidationError, match="would read as the settings line"):
        dump(parse_text(BASE).edited(prompt="Steps: 1, Seed: 2, Size: 3x4", negative_prompt="",
                                     steps=None, sampler=None, cfg_scale=None, seed=None,
                                     width=None, height=None, extra={}))
    # with a settings line after it, the same prompt is only a prompt
    text = dump(GenParams(prompt="a cat\nSteps: 20, Sampler: Euler, Seed: 1", steps=3))
    assert parse_text(text).prompt == "a cat\nSteps: 20, Sampler: Euler, Seed: 1"


def test_a_settings_line_too_short_to_be_one_is_refused() -> None:
    with pytest.raises(ValidationError, match="fewer than three entries"):
        dump(GenParams(prompt="p", extra={"Foo": "bar"}))
    with pytest.raises(ValidationError, match="fewer than three entries"):
        dump(GenParams(prompt="p", steps=2, extra={"Foo": "bar"}))
    assert parse_text(dump(GenParams(prompt="p", steps=2, seed=3, extra={"Foo": "bar"}))
                      ).extra == {"Foo": "bar"}


@pytest.mark.parametrize("key", ["a\nb", "a,b", "a:b", "x", " lead", "trail ", "a.b", 'a"b',
                                 "(x)", "", "a\rb", "\ud800x"])
def test_keys_that_cannot_be_written_are_refused(tmp_path: Path, key: str) -> None:
    path = png(tmp_path / "a.png")
    before = path.read_bytes()
    params = api.editable_params(api.read(path))
    with pytest.raises(ValidationError):
        api.update(params, {}, set_keys={key: "1"})
    with pytest.raises(ValidationError):  # the library's own models too
        api.write(path, params.edited(extra={**params.extra, key: "1"}))
    assert path.read_bytes() == before


def test_unedited_entries_keep_their_characters(tmp_path: Path) -> None:
    path = png(tmp_path / "a.png")
    edit(path, {"seed": 6})
    assert api.read(path).raw_texts()["parameters"] == BASE.replace("Seed: 5", "Seed: 6")


def test_quoting_is_a1111s_where_a1111s_reads_back() -> None:
    assert encode_value("Euler a") == "Euler a"
    assert encode_value("a, b") == '"a, b"'
    assert encode_value("k: v") == '"k: v"'
    assert encode_value('"q"') == '"\\"q\\""'  # A1111 would write it bare and read `q`
    assert encode_value(" x") == '" x"'
    assert encode_value("x\x1b") == '"x\\u001b"'
    assert encode_value('a "b" c') == 'a "b" c'


def test_changed_prompts_are_written_as_they_read_back() -> None:
    text = dump(parse_text(BASE).edited(prompt="  one  \n two\n\n", negative_prompt="\n n \n"))
    back = parse_text(text)
    assert (back.prompt, back.negative_prompt) == ("one\ntwo", "n")
    assert normalize_prompt("  one  \n two\n\n") == "one\ntwo"


# --- property: random keys, values and prompts through the real write path ----------------

_CHARS = st.sampled_from(list('aZ09 _-/.,:;"\'\\{}[]()<>=@\n\r\t\x00\x1b\x85\u2028\u202eßテ'))
_FRAGMENTS = st.sampled_from(["Negative prompt:", "Steps: 20", ", Seed: 1", "Sampler: x",
                              '"', '\\"', "\n", ", ", ": ", "{", "}", "Size: 1x1", " "])
_TEXT = st.lists(st.one_of(_FRAGMENTS, st.text(_CHARS, max_size=6)), max_size=6).map("".join)
_KEYS = st.one_of(st.from_regex(r"[A-Za-z][A-Za-z0-9 /\-_]{1,10}[A-Za-z0-9]", fullmatch=True),
                  st.text(_CHARS, min_size=1, max_size=8))


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(prompt=_TEXT, negative=_TEXT, sampler=_TEXT, key=_KEYS, value=_TEXT)
def test_property_what_is_set_reads_back(prompt: str, negative: str, sampler: str, key: str,
                                         value: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = png(Path(tmp) / "p.png")
        before = path.read_bytes()
        params = api.editable_params(api.read(path))
        try:
            new = api.update(params, {"prompt": prompt, "negative_prompt": negative,
                                      "sampler": sampler}, set_keys={key: value})
            api.write(path, new)
        except ValidationError as exc:
            assert str(exc) and "\n" not in str(exc)
            assert path.read_bytes() == before  # refused before anything was written
            return
        back = api.read(path).params
        assert back is not None
        assert back.prompt == normalize_prompt(prompt)
        assert back.negative_prompt == normalize_prompt(negative)
        assert back.sampler == (sampler if sampler else None) or back.sampler == sampler
        assert back.extra.get(key, "") == value
        assert (back.steps, back.seed, back.cfg_scale, back.width) == (20, 5, 7.0, 8)
        assert back.extra["Template"] == "a, b"


def test_property_examples_are_not_all_refused() -> None:
    """The refusals above are the exception: ordinary text with commas, colons, quotes and
    newlines in values reads back."""
    buf = io.StringIO()
    for value in ('a, b: c', 'x\ny', '"', '{"a": [1, 2]}', "trailing ", "\x1b[31m"):
        text = dump(parse_text(BASE).edited(sampler=value))
        buf.write(text)
        assert parse_text(text).sampler == value


def test_convert_spells_other_generators_keys_so_they_read_back() -> None:
    from gendata.convert import as_a1111
    from gendata.formats.infotext_write import writable_key

    assert writable_key("sui_extra_data.date") == "sui_extra_data/date"
    assert writable_key("a\nb") == "a/b" and writable_key("x") is None
    p = GenParams(generator="swarmui", prompt="p", steps=3, seed=4,
                  extra={"sui_extra_data.date": "2024-01-01", "a:b": "1", "a/b": "2", "x": "3"})
    back = parse_text(dump(as_a1111(p)))
    assert back.extra == {"sui_extra_data/date": "2024-01-01", "a/b": "1",
                          "Converted from": "swarmui"}
