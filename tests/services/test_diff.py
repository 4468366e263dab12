"""`gendata diff` and the diff service: pairs, prompts word by word, batches, --base."""

from __future__ import annotations

import csv
import io
import itertools
import json
import shutil
from pathlib import Path

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from gendata import api
from gendata.cli import main
from gendata.diff import (
    BatchDiff,
    FieldChange,
    PairDiff,
    batch_diff,
    diff_params,
    flatten,
    pair_diff,
    word_diff,
)

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "fixtures"
SWEEP = sorted(str(p) for p in (FIXTURES / "seed_sweep").glob("*.png"))

# What differs between a1111_basic.png and a1111_unicode.png, from their texts in
# scripts/make_fixtures.py (width is 512 in both).
BASIC_VS_UNICODE = [
    "generator", "prompt", "negative_prompt", "steps", "sampler", "scheduler", "cfg_scale",
    "seed", "height", "model", "model_hash", "vae", "vae_hash", "denoising_strength",
    "clip_skip", "hires_upscale", "hires_steps", "hires_upscaler", "version", "loras",
    "extra.Lora hashes", "extra.TI hashes", "extra.Hashes", "extra.ADetailer model",
    "extra.ADetailer prompt", "extra.Custom key",
]


def run(args: list[str]):
    return CliRunner().invoke(main, args)


def test_two_fixtures_list_exactly_the_fields_that_differ() -> None:
    a = api.read(FIXTURES / "a1111_basic.png")
    b = api.read(FIXTURES / "a1111_unicode.png")
    changes = diff_params(a.params, b.params)
    assert [c.field for c in changes] == BASIC_VS_UNICODE
    by = {c.field: c for c in changes}
    assert by["seed"] == FieldChange("seed", 3141592653, 42)
    assert by["vae"] == FieldChange("vae", "sdxl_vae.safetensors", None)
    assert by["loras"].old == {"foxStyle_v2": 0.8, "- Detail Tweaker XL -": 0.5}
    res = run(["diff", "--json", str(FIXTURES / "a1111_basic.png"),
               str(FIXTURES / "a1111_unicode.png")])
    assert res.exit_code == 0
    obj = json.loads(res.stdout)
    assert [c["field"] for c in obj["changes"]] == BASIC_VS_UNICODE
    assert {lo["change"] for lo in obj["loras"]} == {"removed"}
    assert obj["generators"] == ["a1111", "forge"]


def test_same_data_in_other_containers_has_no_differences() -> None:
    for other in ("a1111.jpg", "a1111.webp"):
        res = run(["diff", "--json", str(FIXTURES / "a1111_basic.png"), str(FIXTURES / other)])
        assert json.loads(res.stdout)["changes"] == []
    res = run(["diff", str(FIXTURES / "a1111_basic.png"), str(FIXTURES / "a1111.jpg")])
    assert "no differences" in res.stdout


def test_edited_copy_shows_the_edits_only(tmp_path: Path) -> None:
    src = FIXTURES / "a1111_basic.png"
    dst = tmp_path / "edited.png"
    shutil.copy(src, dst)
    rec = api.read(dst)
    assert rec.params is not None
    new_prompt = rec.params.prompt.replace("<lora:foxStyle_v2:0.8>", "<lora:foxStyle_v2:0.6>")
    new_prompt = new_prompt.replace("red fox", "grey fox") + ", <lora:snowFx:1>"
    api.write(dst, api.update(rec.params, {"seed": 5, "cfg_scale": 7.0,
                                           "prompt": new_prompt}))
    changes = diff_params(api.read(src).params, api.read(dst).params)
    assert [c.field for c in changes] == ["prompt", "cfg_scale", "seed", "loras"]
    from gendata.diff import lora_changes

    lora = changes[-1]
    assert lora_changes(lora.old, lora.new) == [
        ("reweighted", "foxStyle_v2", 0.8, 0.6), ("added", "snowFx", None, 1.0)]
    ops = word_diff(changes[0].old, changes[0].new)
    assert ("delete", "red") in ops and ("insert", "grey") in ops
    res = run(["diff", str(src), str(dst)])
    assert res.exit_code == 0
    out = res.stdout
    assert "[-red-]{+grey+}" in out  # no colours on a pipe: git-style word marks
    assert "CFG scale" in out and "6.5" in out and "→" in out
    assert "snowFx" in out and "0.8 → 0.6" in out


@given(st.text(alphabet=st.sampled_from("ab c,(:1.2)猫\n"), max_size=30),
       st.text(alphabet=st.sampled_from("ab c,(:1.2)猫\n"), max_size=30))
def test_word_diff_rebuilds_both_sides(a: str, b: str) -> None:
    ops = word_diff(a, b)
    assert "".join(t for op, t in ops if op != "insert") == a
    assert "".join(t for op, t in ops if op != "delete") == b
    assert all(op in ("equal", "insert", "delete") and t for op, t in ops)
    assert all(x[0] != y[0] for x, y in itertools.pairwise(ops))  # merged runs


def test_word_diff_changes_only_the_weight() -> None:
    assert word_diff("(fox:1.2), snow", "(fox:1.3), snow") == [
        ("equal", "(fox:"), ("delete", "1.2"), ("insert", "1.3"), ("equal", "), snow")]


def test_seed_sweep_batch_diff_shows_only_seed() -> None:
    recs = [api.read(p) for p in SWEEP]
    result = batch_diff(recs)
    assert isinstance(result, BatchDiff)
    assert result.varying == ["seed"]
    assert result.rows == [(p, {"seed": 1001 + i}) for i, p in enumerate(SWEEP)]
    assert result.constant == {k: v for k, v in flatten(recs[0].params).items() if k != "seed"}
    assert result.constant["prompt"] == "portrait of an astronaut, studio lighting"

    res = run(["diff", "--json", str(FIXTURES / "seed_sweep")])
    assert res.exit_code == 0
    obj = json.loads(res.stdout)
    assert obj["varying"] == ["seed"] and obj["count"] == 4
    assert obj["rows"] == [{"path": p, "seed": 1001 + i} for i, p in enumerate(SWEEP)]
    assert obj["constant"]["steps"] == 24

    res = run(["diff", *SWEEP])
    text = res.stdout
    assert "Same in all 4 images" in text
    assert text.count("portrait of an astronaut") == 1  # constant listed once
    table = text[text.index("Differences"):]
    assert "Seed" in table and "Steps" not in table and "Sampler" not in table
    for i in range(4):
        assert str(1001 + i) in table

    res = run(["diff", "--csv", str(FIXTURES / "seed_sweep")])
    rows = list(csv.reader(io.StringIO(res.stdout, newline="")))
    assert rows == [["path", "seed"], *([p, str(1001 + i)] for i, p in enumerate(SWEEP))]


def test_batch_diff_against_a_base() -> None:
    base = api.read(FIXTURES / "a1111_basic.png")
    recs = [api.read(p) for p in SWEEP]
    result = batch_diff(recs, base=base)
    assert result.rows[0][0] == base.path and len(result.rows) == 5
    assert "seed" in result.varying and "prompt" in result.varying
    assert result.constant == {"generator": "a1111", "sampler": "DPM++ 2M",
                               "scheduler": "Karras", "version": "v1.10.1"}
    # a base that is one of the images keeps its place
    same = batch_diff(recs, base=recs[2])
    assert [p for p, _ in same.rows] == SWEEP and same.varying == ["seed"]
    res = run(["diff", "--json", "--base", str(FIXTURES / "a1111_basic.png"), *SWEEP[:2]])
    obj = json.loads(res.stdout)
    assert obj["base"] == str(FIXTURES / "a1111_basic.png")
    assert obj["rows"][0]["path"] == obj["base"] and obj["rows"][0]["seed"] == 3141592653


def test_batch_with_unreadable_files_reports_them_and_exits_1(tmp_path: Path) -> None:
    for p in SWEEP[:3]:
        shutil.copy(p, tmp_path)
    shutil.copy(FIXTURES / "not_an_image.png", tmp_path)
    res = run(["diff", "--json", str(tmp_path)])
    assert res.exit_code == 1
    assert "not_an_image.png" in res.stderr
    assert json.loads(res.stdout)["varying"] == ["seed"]


def test_usage_errors() -> None:
    assert run(["diff", SWEEP[0]]).exit_code == 2
    assert run(["diff", "--csv", *SWEEP[:2]]).exit_code == 2
    res = run(["diff", SWEEP[0], str(FIXTURES / "not_an_image.png")])
    assert res.exit_code == 1 and "not a PNG" in res.stderr


def test_library_names() -> None:
    import gendata
    import gendata.diff as module

    assert gendata.diff is module
    changes = gendata.diff_images(SWEEP[0], SWEEP[1])
    assert changes == [FieldChange("seed", 1001, 1002)]
    assert gendata.batch_diff is batch_diff
    assert flatten(None) == {} and diff_params(None, None) == []


def _lora_png(tmp_path: Path, name: str, prompt: str) -> str:
    out = tmp_path / name
    new = api.update(api.read(FIXTURES / "a1111_basic.png").params, {"prompt": prompt})
    api.write(FIXTURES / "a1111_basic.png", new, output=out)
    return str(out)


def test_pair_diff_to_json_is_what_diff_json_prints(tmp_path: Path) -> None:
    a = _lora_png(tmp_path, "a.png", "fox, <lora:keep:0.8>, <lora:gone:1>")
    b = _lora_png(tmp_path, "b.png", "fox, <lora:keep:0.6:0.2>, <lyco:new:0.3>")
    result = pair_diff(api.read(a), api.read(b))
    assert isinstance(result, PairDiff)
    assert (result.a, result.b, result.generators) == (a, b, ("a1111", "a1111"))
    obj = result.to_json()
    assert list(obj) == ["a", "b", "generators", "changes", "prompt_diff", "loras"]
    assert obj["loras"] == [
        {"change": "reweighted", "name": "keep", "old": 0.8, "new": [0.6, 0.2]},
        {"change": "removed", "name": "gone", "old": 1.0, "new": None},
        {"change": "added", "name": "lyco:new", "old": None, "new": 0.3}]
    assert ["equal", "fox, <lora:keep:"] in obj["prompt_diff"]
    res = run(["diff", "--json", a, b])
    assert res.exit_code == 0
    assert res.stdout == json.dumps(obj, ensure_ascii=False, indent=2) + "\n"
    assert FieldChange("loras", {"x": (1.0, 0.5)}, None).to_json() == {
        "field": "loras", "old": {"x": [1.0, 0.5]}, "new": None}


def test_batch_diff_to_json_and_records() -> None:
    base = api.read(FIXTURES / "a1111_basic.png")
    result = batch_diff([api.read(p) for p in SWEEP[:2]], base=base)
    assert result.base == base.path
    assert batch_diff([api.read(p) for p in SWEEP[:2]]).base is None
    obj = result.to_json()
    assert list(obj) == ["base", "count", "constant", "varying", "rows"]
    assert obj["count"] == 3 and obj["rows"] == result.records()
    assert [r["path"] for r in result.records()] == [base.path, *SWEEP[:2]]
    assert all(list(r) == ["path", *result.varying] for r in result.records())
    assert isinstance(result.records()[0]["loras"], dict)
    res = run(["diff", "--json", "--base", base.path, *SWEEP[:2]])
    assert res.stdout == json.dumps(obj, ensure_ascii=False, indent=2) + "\n"


# --- across dialects ---------------------------------------------------------------------

def test_the_same_image_in_two_dialects_has_no_differences(tmp_path: Path) -> None:
    """A SwarmUI-style record and the A1111 text of the same values: different spellings
    (sampler labels, model file names, trailing spaces) are not differences; the values
    only one dialect records are listed apart, not compared."""
    import gendata
    from gendata.formats.a1111 import dump

    swarm = tmp_path / "swarm.png"
    shutil.copyfile(FIXTURES / "dialects" / "swarmui_refiner.png", swarm)
    params = gendata.read(swarm).params
    text = dump(params.model_copy(update={
        "sampler": "DPM++ 2M", "scheduler": "Karras", "model": "sdxl_base.safetensors",
        "prompt": params.prompt + " ", "extra": {}, "model_hash": None, "version": None}))
    a1111 = tmp_path / "a1111.png"
    shutil.copyfile(FIXTURES / "a1111_basic.png", a1111)
    gendata.write_text(a1111, text)
    result = pair_diff(api.read(swarm), api.read(a1111))
    assert [c.field for c in result.changes] == ["generator"]
    assert result.dialects == ("swarmui", "a1111")
    assert "extra.refinermethod" in result.only[0] and result.only[1] == {}
    obj = result.to_json()
    assert list(obj)[:6] == ["a", "b", "generators", "dialects", "only_a", "only_b"]
    out = run(["diff", str(swarm), str(a1111)]).stdout
    assert "Recorded only by" in out and "refinermethod" in out


def test_real_differences_across_dialects_still_show(tmp_path: Path) -> None:
    import gendata

    a, b = FIXTURES / "dialects" / "novelai_legacy.png", FIXTURES / "dialects" / "hfspace.png"
    fields = [c.field for c in pair_diff(api.read(a), api.read(b)).changes]
    assert {"prompt", "seed", "sampler", "cfg_scale", "width", "height"} <= set(fields)
    assert not [f for f in fields if f.startswith("extra.")]
    assert gendata.read(a).params.generator == "novelai"


def test_sampler_spellings_agree() -> None:
    from gendata.diff import sampling

    same = [("DPM++ 2M Karras", None), ("dpmpp_2m", "karras"), ("k_dpmpp_2m", "Karras"),
            ("dpmpp_2m_k", None), ("DPM++ 2M", "Karras")]
    assert {sampling(s, c) for s, c in same} == {("dpmpp_2m", "karras")}
    assert sampling("Euler a", "Automatic") == sampling("euler_ancestral", "normal") == (
        "euler_ancestral", None)
    assert sampling("dpmpp_2m_sde_gpu", "karras") == ("dpmpp_2m_sde", "karras")
    assert sampling("Euler", None) != sampling("Euler a", None)
