"""formats.detect's shortcut for plain A1111 files must give exactly what asking every
dialect gives: on our fixtures, on the real-world corpus, and on texts built to tempt
each other dialect."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gendata import formats
from gendata.containers import open_raw
from gendata.containers.raw import RawEntry, RawMetadata
from gendata.errors import GenDataError, ParseError

from ..conftest import CORPUS, FIXTURES

LINE = "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512"


def outcome(fn: Any, raw: RawMetadata) -> Any:
    try:
        params = fn(raw)
    except ParseError as exc:
        return ("error", str(exc))
    if params is None:
        return None
    return (params.model_dump(), type(params.origin).__name__)


def images() -> list[Path]:
    """Every fixture and corpus file that is an image (text files and broken ones left out)."""
    found = sorted(p for p in FIXTURES.rglob("*") if p.is_file())
    if CORPUS.is_dir():
        found += sorted(p for p in CORPUS.rglob("*") if p.is_file())
    out = []
    for p in found:
        try:
            open_raw(p)
        except GenDataError:
            continue
        out.append(p)
    return out


@pytest.mark.parametrize("path", images(), ids=str)
def test_shortcut_agrees_with_the_full_vote_on_files(path: Path) -> None:
    raw = open_raw(path)
    assert outcome(formats.detect, raw) == outcome(formats._vote, raw)


TEXTS = [
    f"a cat\nNegative prompt: dog\n{LINE}",
    f"a cat\n{LINE}, Version: ComfyUI",
    f"a cat\n{LINE}, Version: Fooocus v2.5.0",
    f'a cat\n{LINE}, Civitai resources: [{{"type":"checkpoint","modelVersionId":1}}]',
    f'a cat\n{LINE}, Civitai metadata: {{"remixOfId": 1}}',
    f"a cat, urn:air:sd1:checkpoint:civitai:1@2\n{LINE}",
    f"extraMetadata\n{LINE}",
    f"a Comment about cats\n{LINE}",
    '{"sui_image_params": {"prompt": "a cat", "seed": 1}}',
    f"a cat sui_image_params\n{LINE}",
    '{"prompt": "a cat", "num_inference_steps": 20, "seed": 1}',
    '  \x00{"prompt": "a cat", "use_stable_diffusion_model": "x", "seed": 1}',
    '{"prompt": {"3": {"class_type": "KSampler", "inputs": {"seed": 1}}}}',
    'prompt: {"3": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 20}}}',
    'Workflow: {"nodes": [], "links": []}',
    '[1, 2, 3]',
    '{"Comment": "{}", "Software": "NovelAI"}',
    "just a prompt without settings",
    "",
    "   ",
    f"a cat\n{LINE}\n\n",
    f"{{a|b}} cat, masterpiece: 1.2\n{LINE}, Hashes: {{\"vae\": \"735e4c3a44\"}}",
]


def raws_for(text: str) -> list[RawMetadata]:
    out = []
    for key in ("parameters", "UserComment"):
        container = "png" if key == "parameters" else "jpeg"
        location = "tEXt" if key == "parameters" else "EXIF:UserComment"
        out.append(RawMetadata(container, [RawEntry(container, location, key, text, len(text))]))
    extra = RawEntry("png", "tEXt", "Software", "NovelAI", 7)
    out.append(RawMetadata("png", [RawEntry("png", "tEXt", "parameters", text, len(text)),
                                   extra]))
    return out


@pytest.mark.parametrize("text", TEXTS, ids=lambda t: json.dumps(t[:40]))
def test_shortcut_agrees_with_the_full_vote_on_tempting_texts(text: str) -> None:
    for raw in raws_for(text):
        assert outcome(formats.detect, raw) == outcome(formats._vote, raw), raw


def test_shortcut_is_taken_only_for_plain_a1111_texts() -> None:
    assert formats._only_a1111(raws_for(TEXTS[0])[0])
    assert not formats._only_a1111(raws_for(TEXTS[0])[2])  # a Software entry
    for text in TEXTS[1:17]:
        assert not formats._only_a1111(raws_for(text)[0]), text
