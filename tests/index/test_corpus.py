"""The index over real files: the bundled fixtures, the shared real-world corpus (skipped when
absent), and a few hundred generated images in several scripts, checked against what
`gendata.read` gives for each file."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import gendata
from gendata.batch import expand_paths
from gendata.export import ExportOptions, to_text
from gendata.indexing import build
from gendata.indexing.results import objects, paths

from .conftest import comfy_png, make_image
from .test_query import brute_force

ROOT = Path(__file__).resolve().parents[2]


def _exported(folders: list[Path]) -> list[dict[str, Any]]:
    files = [str(Path(p).resolve()) for p in expand_paths(folders, recursive=True)]
    text = to_text(files, ExportOptions(fmt="jsonl"), jobs=1)
    return [json.loads(line) for line in text.splitlines()]


def _check_library(folders: list[Path], db: Path) -> list[dict[str, Any]]:
    build.index(folders, db)
    exported = [o for o in _exported(folders) if not o["error"]]
    indexed = {o["path"]: o for o in objects("", db)}
    assert indexed == {o["path"]: o for o in exported}
    seeded = [o for o in exported if o["seed"] is not None]
    for obj in seeded:
        assert obj["path"] in set(paths(f"seed:{obj['seed']}", db)), obj["path"]
    return exported


def test_fixtures(db: Path) -> None:
    exported = _check_library([ROOT / "fixtures"], db)
    assert len(exported) > 10
    assert set(paths("猫", db)) == {o["path"] for o in exported if "猫" in (o["prompt"] or "")}
    assert len(set(paths("猫", db))) >= 2
    assert set(paths("neg:悪い品質", db)) == set(paths("城", db))


def test_shared_corpus(corpus: Path, db: Path) -> None:
    exported = _check_library([corpus], db)
    generators = {o["generator"] for o in exported}
    assert {"a1111", "comfyui"} <= generators
    for generator in generators - {None}:
        found = set(paths(f"generator:{generator}", db))
        assert found == {o["path"] for o in exported if o["generator"] == generator}


WORDS = ["masterpiece", "best", "quality", "fox", "Fox", "cat", "castle", "rain", "café",
         "кошка", "Москва", "снег", "猫", "城の上の猫", "夜景", "桜", "고양이가", "서울", "눈",
         "1girl", "solo", "red_eyes", "close-up"]


def test_generated_library_in_many_scripts(tmp_path: Path, db: Path) -> None:
    rng = random.Random(3)
    lib = tmp_path / "lib"
    for i in range(150):
        prompt = ", ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 8)))
        lora = rng.choice(["", " <lora:detail:0.5>", " <lora:Стиль:1>", " <lora:スタイル:0.7>"])
        negative = ", ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 3)))
        ext = rng.choice(["png", "jpg", "webp"])
        make_image(lib / f"{i % 4}" / f"{i:03d}.{ext}", prompt + lora, negative,
                   Seed=rng.randint(0, 2**32), Steps=rng.randint(10, 50),
                   CFG_scale=rng.choice([5, 6.5, 7]), Model=rng.choice(["sdxl", "Модель"]),
                   Sampler=rng.choice(["Euler a", "DPM++ 2M"]))
    for i in range(5):
        comfy_png(lib / "comfy" / f"{i}.png", 2**64 - 1 - i, rng.choice(WORDS))
    exported = _check_library([lib], db)
    for query in ["fox", "FOX", "fox cat", "fo*", "-fox", "кошка", "москва", "猫", "城",
                  "고양이", "서울", "cafe", "neg:rain", "neg:снег", "-neg:猫", '"best quality"',
                  "red_eyes", "close-up", "lora:detail", "lora:стиль", "lora:スタ*",
                  "model:модель", "model:SDXL", "sampler:dpm*", "steps>=30", "cfg:6.5",
                  "seed<1000000000", f"seed>{2**64 - 4}", "generator:comfyui", "path:*/1/*",
                  "-lora:*", "кошка -fox steps<40"]:
        expected = brute_force(exported, query)
        assert sorted(paths(query, db)) == expected, query
        assert expected or query in ("-neg:猫",), query
    assert next(gendata.search("lora:стиль", db)).params.loras[0].name == "Стиль"
