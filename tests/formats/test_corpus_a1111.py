"""A1111-family images in the real-world corpus read as their source projects expect."""

from __future__ import annotations

import json

import pytest

import gendata

from ..conftest import CORPUS, corpus_rows

A1111_FAMILY = {"forge-neo", "reforge", "easy-reforge", "sd-next", "sd-webui", "forge-classic"}


def _cases() -> list[dict]:
    path = CORPUS / "expected" / "sd-metadata_expected.json"
    if not path.exists():
        return []
    cases = json.loads(path.read_text(encoding="utf-8"))["cases"]
    # ComfyUI saver nodes write A1111-like text with their own key spellings: see the
    # dialect tests.
    return [c for c in cases if c["expected"].get("software") in A1111_FAMILY
            and "comfyui" not in c["corpus_path"]]


def _norm(text: str | None) -> str:
    """sd-metadata trims each prompt line; A1111 keeps a blank line as a trailing LF."""
    return "\n".join(line.strip() for line in (text or "").strip().split("\n"))


@pytest.mark.parametrize("case", _cases() or [None],
                         ids=lambda c: c["corpus_path"] if c else "no-corpus")
def test_sd_metadata_expectations(case: dict | None) -> None:
    if case is None:
        pytest.skip("../shared/corpus is not present")
    exp = case["expected"]
    rec = gendata.read(CORPUS / case["corpus_path"])
    p = rec.params
    assert p is not None, rec.error
    assert _norm(p.prompt) == _norm(exp["prompt"])
    assert _norm(p.negative_prompt) == _norm(exp.get("negativePrompt"))
    assert (p.width, p.height) == (exp["width"], exp["height"])
    if exp.get("model"):
        assert p.model == exp["model"].get("name")
        assert p.model_hash == exp["model"].get("hash")
    s = exp.get("sampling") or {}
    assert p.sampler == s.get("sampler")
    assert p.scheduler == s.get("scheduler")
    assert p.steps == s.get("steps")
    assert p.cfg_scale == s.get("cfg")
    assert p.seed == s.get("seed")
    assert p.clip_skip == s.get("clipSkip")
    hires = exp.get("hires")
    if isinstance(hires, dict):
        scale = hires.get("scale")
        assert scale is None or (p.hires_upscale or p.extra.get("Hires scale")) in (
            scale, str(scale))
        assert hires.get("upscaler") in (None, p.hires_upscaler)
        assert hires.get("steps") in (None, p.hires_steps)
        assert hires.get("denoise") in (None, p.denoising_strength)


def _family_rows() -> list[dict]:
    keys = ("A1111", "Forge", "reForge", "SD.Next", "EasyReforge")
    return [r for r in corpus_rows() if r["role"] != "negative" and r["generator"].startswith(keys)
            and "stealth" not in r["generator"] and "embedding" not in r["generator"]]


@pytest.mark.parametrize("row", _family_rows() or [None],
                         ids=lambda r: r["path"] if r else "no-corpus")
def test_every_a1111_family_file_is_read(row: dict | None) -> None:
    if row is None:
        pytest.skip("../shared/corpus is not present")
    rec = gendata.read(CORPUS / row["path"])
    assert rec.error is None
    assert rec.params is not None and rec.params.prompt
    assert rec.params.steps and rec.params.seed is not None
