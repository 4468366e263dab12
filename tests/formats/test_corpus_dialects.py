"""Every generator dialect against real files from ../shared/corpus.

* role=positive files yield a generator and a prompt, or are listed in NO_PROMPT with the
  reason the file holds none (and the test checks that reason is what gendata reports);
* every case of the two expectation files matches on prompt, negative prompt, size, steps,
  sampler, scheduler, CFG, seed, model name and hash, except the differences listed in
  DIFFERENCES, each with the value gendata gives instead and why;
* role=negative files give no parameters and no error.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gendata import api
from gendata.containers import stealth

from ..conftest import CORPUS, corpus_rows
from .corpus_expect import sd_metadata_fields, sd_parsers_fields

ROWS = corpus_rows()
A1111_FAMILY = {"a1111", "forge", "forge-neo", "forge-classic", "reforge", "sdnext"}


def _rows(role: str) -> list[dict[str, str]]:
    return [r for r in ROWS if r["role"].split(" ")[0] == role]


def _id(row: dict[str, str]) -> str:
    return row["path"]


# path -> (a substring of a note gendata must give, why the file has no prompt)
NO_PROMPT: dict[str, tuple[str | None, str]] = {
    "ComfyUI_examples/3d/stable_zero123_example.png": (
        "no prompt text reachable",
        "Stable Zero123 conditions on an input image; the graph has no text encoder",
    ),
    "stable-diffusion-webui-forge/modules/textual_inversion/test_embedding.png": (
        None,
        "a textual-inversion embedding (sd-ti-embedding chunk), not generation data",
    ),
}



@pytest.mark.parametrize("row", _rows("positive"), ids=_id)
def test_positive_files_yield_generator_and_prompt(corpus: Path, row: dict[str, str]) -> None:
    rec = api.read(corpus / row["path"])
    assert rec.error is None, rec.error
    if row["path"] in NO_PROMPT:
        note, _why = NO_PROMPT[row["path"]]
        if note is None:
            assert rec.params is None
        else:
            assert rec.params is not None and rec.params.generator
            assert not rec.params.prompt
            assert any(note in n for n in rec.params.notes), rec.params.notes
        return
    assert rec.params is not None
    assert rec.params.generator
    assert rec.params.prompt.strip()


@pytest.mark.parametrize("row", _rows("negative"), ids=_id)
def test_negative_files_yield_nothing(corpus: Path, row: dict[str, str]) -> None:
    rec = api.read(corpus / row["path"])
    assert rec.params is None
    assert rec.error is None


def _cases(name: str) -> list[dict[str, Any]]:
    path = CORPUS / "expected" / name
    if not path.exists():
        return []
    return json.loads(path.read_text(encoding="utf-8"))["cases"]


def _a1111_lines(text: str) -> str:
    """A1111's reader strips every prompt line and the ends
    (docs/formats.md#reading-an-infotext)."""
    return "\n".join(line.strip() for line in text.strip().split("\n"))


# (image, field) -> (gendata's value, reason). Checked: gendata must give exactly this value.
DIFFERENCES: dict[tuple[str, str], tuple[Any, str]] = {
    ("samples/webp/comfyui-comfy-image-saver.webp", "generator"): (
        "comfyui",
        "the text ends in 'Version: ComfyUI': a ComfyUI saver node wrote it, not A1111",
    ),
    ("samples/jpg/civitai-upscale.jpg", "model"): (
        None,
        "extraMetadata only names the base-model family ('Illustrious'), not a checkpoint; "
        "gendata keeps it as extra['Civitai baseModel'] instead of calling it the model",
    ),
    ("samples/png/ruined-fooocus.png", "negative_prompt"): (
        "bad quality, worst quality, worst detail, sketch, censor, ",
        "RuinedFooocus JSON keeps the trailing space; gendata does not trim prompts",
    ),
}
for _img in ("samples/png/swarmui.png", "samples/png/swarmui-upscale.png",
             "samples/webp/swarmui.webp"):
    DIFFERENCES[(_img, "model_hash")] = (
        "0x22d8cb95b807b0c242576b676a12b07ae6b782b57ae4fe07a07254801b2d5d61",
        "sui_models carries the model's SHA-256; sd-metadata does not read it",
    )
for _img in ("samples/png/novelai-full.png", "samples/png/novelai-full-3char.png",
             "samples/webp/novelai-full-3char.webp"):
    DIFFERENCES[(_img, "model")] = (
        "NovelAI Diffusion V4.5",
        "model and hash come from the Source chunk (as sd-parsers reads it)",
    )
    DIFFERENCES[(_img, "model_hash")] = ("4BDE2A90", "from the Source chunk")


def _same(field: str, ours: Any, expected: Any, generator: str | None) -> bool:
    if field == "cfg_scale" and ours is not None and expected is not None:
        return float(ours) == float(expected)
    if field in ("prompt", "negative_prompt") and generator in A1111_FAMILY:
        # Deliberate: A1111-family text is read with A1111's own line rule
        # (docs/formats.md#reading-an-infotext), which strips each line; sd-metadata keeps the
        # spaces before line breaks.
        return _a1111_lines(ours) == _a1111_lines(expected or "")
    return ours == expected


@pytest.mark.parametrize("case", _cases("sd-metadata_expected.json"), ids=lambda c: c["image"])
def test_sd_metadata_expectations(corpus: Path, case: dict[str, Any]) -> None:
    rec = api.read(corpus / case["corpus_path"])
    assert rec.params is not None, rec.error
    p = rec.params
    for field, expected in sd_metadata_fields(case["expected"]).items():
        ours = getattr(p, field)
        if (case["image"], field) in DIFFERENCES:
            assert ours == DIFFERENCES[(case["image"], field)][0], field
            continue
        if expected is None and field == "scheduler":
            continue  # sd-metadata leaves it out when the tool folds it into the sampler
        assert _same(field, ours, expected, p.generator), (field, ours, expected)


@pytest.mark.parametrize("case", _cases("sd-parsers_expected.json"), ids=lambda c: c["id"])
def test_sd_parsers_expectations(corpus: Path, case: dict[str, Any]) -> None:
    rec = api.read(corpus / case["corpus_path"])
    assert rec.params is not None, rec.error
    p = rec.params
    assert p.generator == case["generator"].lower().replace("automatic1111", "a1111")
    for field, expected in sd_parsers_fields(case).items():
        ours = getattr(p, field)
        if field in ("prompt", "negative_prompt"):
            # sd-parsers lists every text encoder separately; gendata joins the encoders of
            # the headline sampler with newlines (and lists them in extra["ComfyUI prompts"]).
            # The Dream format puts the negative in [brackets], which gendata splits off.
            assert all(e in ours for e in expected), (field, ours, expected)
            continue
        if expected is None and field in ("model", "model_hash", "scheduler"):
            continue
        if isinstance(expected, (int, float)) and ours is not None:
            assert float(ours) == float(expected), field
        else:
            assert ours == expected, (field, ours, expected)


def test_comfyui_several_samplers_in_execution_order(corpus: Path) -> None:
    rec = api.read(corpus / "sd-parsers/tests/resources/parsers/ComfyUI/"
                   "night_evening_day_morning_cropped.png")
    p = rec.params
    assert [s.node for s in p.samplers] == ["3", "24"]
    assert p.samplers[1].model == "AbyssOrangeMix2_hard.safetensors"
    assert p.samplers[1].denoise == 0.5
    assert p.clip_skip == 2
    assert len(p.extra["ComfyUI prompts"]) == 5


def test_comfyui_hires_pass(corpus: Path) -> None:
    p = api.read(corpus / "sd-metadata/samples/png/comfyui-hires.png").params
    assert (p.hires_upscale, p.hires_steps, p.denoising_strength) == (1.5, 10, 0.3)
    assert p.hires_upscaler == "RealESRGAN_x4plus_anime_6B.pth"
    assert (p.hires_width, p.hires_height) == (1536, 1536)


def test_comfyui_loras_with_strengths(corpus: Path) -> None:
    p = api.read(corpus / "ComfyUI_examples/lora/lora_multiple.png").params
    # In the order they are applied: the loader next to the checkpoint first.
    assert [(lo.name, lo.weight) for lo in p.loras] == [
        ("theovercomer8sContrastFix_sd15.safetensors", 1.0),
        ("epiNoiseoffset_v2.safetensors", 1.0),
    ]


def test_novelai_character_prompts(corpus: Path) -> None:
    p = api.read(corpus / "sd-metadata/samples/png/novelai-full-3char.png").params
    chars = p.extra["NovelAI characters"]
    assert [c["prompt"] for c in chars] == [
        "girl, hatsune miku, spread arms, ",
        "girl, kagamine rin, hand up, ",
        "boy, kagamine len, hand up, ",
    ]
    assert chars[0]["center"] == {"x": 0.5, "y": 0.3}
    assert p.extra["use_coords"] is True


@pytest.mark.parametrize(
    "path, sig",
    [
        ("sd-parsers/tests/resources/automatic1111/automatic1111_stealth.png", "stealth_pnginfo"),
        ("sd-metadata/samples/png/novelai-full.png", "stealth_pngcomp"),
    ],
)
def test_corpus_stealth_samples_decode(corpus: Path, path: str, sig: str) -> None:
    found = stealth.read_stealth(corpus / path)
    assert found is not None and found[0] == sig
    assert found[1].strip()


def test_stealth_only_file_parses(corpus: Path) -> None:
    rec = api.read(corpus / "sd-parsers/tests/resources/automatic1111/automatic1111_stealth.png")
    assert rec.params is not None
    assert (rec.params.prompt, rec.params.seed) == ("photo of a duck", 235284042)


def test_novelai_stealth_json_is_recognised(corpus: Path) -> None:
    """The NovelAI stealth payload (a JSON object of its chunks) parses on its own."""
    from gendata.containers.raw import RawEntry, RawMetadata
    from gendata.formats import detect

    sig, text = stealth.read_stealth(corpus / "sd-metadata/samples/png/novelai-full.png")
    raw = RawMetadata("png", [RawEntry("png", f"stealth:{sig}", stealth.entry_key(text), text,
                                       len(text))])
    p = detect(raw)
    assert p is not None and p.generator == "novelai" and p.seed == 2043807047
