"""Planning the files a run needs: the model, LoRAs and embeddings, found, identified and
checked against the hashes the image records (docs/regen.md#how-a1111-is-matched, LoRA and
embeddings; hashes: docs/regen.md#the-report).

The only planning module that touches the disk: existence, safetensors headers and hashes,
never the weights themselves.
"""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path
from typing import Any

from ..model import GenParams
from .emphasis import ExtraNetwork
from .hashing import addnet_hash, hash_matches
from .recipe import EmbeddingPlan, LoraPlan, PromptPlan, RegenOptions
from .report import Deviation
from .values import extra

__all__ = ["find_file", "hash_list", "model_base", "plan_embeddings", "plan_loras", "plan_model"]


def plan_model(
    params: GenParams, opts: RegenOptions, devs: list[Deviation], notes: list[str]
) -> tuple[str, str | None]:
    """(base, kind) of the model given: base sd1 (also when none is given), sdxl, or what is
    refused; kind diffusers or single-file, None without a usable model."""
    base, kind, model = "sd1", None, opts.model
    if model:
        mpath = Path(model)
        if not mpath.exists():
            devs.append(Deviation("missing-model", "refused", f"model not found: {model}"))
        else:
            kind, base = model_base(mpath)
            if base == "sd2":
                devs.append(Deviation("unsupported-model", "refused",
                                      f"{model} is an SD2 model; regen runs SD 1.x and SDXL "
                                      "models"))
            elif base == "sdxl-refiner":
                devs.append(Deviation("unsupported-model", "refused",
                                      f"{model} is an SDXL refiner (one text encoder, "
                                      "aesthetic-score conditioning); regen runs SD 1.x and "
                                      "SDXL base models"))
            elif base == "unknown":
                devs.append(Deviation("missing-model", "refused",
                                      f"{model} is not a diffusers pipeline folder "
                                      "(no model_index.json / unet/config.json)"))
            if params.model_hash and opts.check_hash:
                if kind == "single-file":
                    ok, actual = hash_matches(params.model_hash, mpath)
                    if not ok:
                        devs.append(Deviation("model-hash-mismatch", "degraded",
                                              f"the image was made with model hash "
                                              f"{params.model_hash}, {mpath.name} hashes to "
                                              f"{actual}"))
                    else:
                        notes.append(f"model hash {actual} matches the image")
                else:
                    notes.append("model hash not checked: a diffusers folder has no single "
                                 "file to hash as A1111 does")
    else:
        notes.append("no model given: plan only")
    if params.vae or params.vae_hash:
        notes.append(f"the image names VAE {params.vae or params.vae_hash}; the model's own VAE "
                     "is used")
    return base, kind


def plan_loras(
    params: GenParams, nets: list[ExtraNetwork], opts: RegenOptions, devs: list[Deviation]
) -> list[LoraPlan]:
    """The LoRAs the prompts' tags name, each found in `--lora-dir` and hash-checked; other
    extra networks are reported and left out."""
    loras: list[LoraPlan] = []
    hashes = hash_list(extra(params, "Lora hashes"))
    for lo in params.loras:
        if lo.hash and lo.name not in hashes:
            hashes[lo.name] = lo.hash
    for net in nets:
        if net.kind in ("hypernet",):
            devs.append(Deviation("hypernetwork", "degraded",
                                  f"hypernetwork {net.name!r} is not supported; ignored"))
            continue
        if net.kind not in ("lora", "lyco"):
            devs.append(Deviation("extension-params", "degraded",
                                  f"extra network <{net.kind}:{net.name}> ignored"))
            continue
        lp = LoraPlan(net.name, net.te_weight, net.unet_weight, expected_hash=hashes.get(net.name))
        path = (find_file(Path(opts.lora_dir), net.name, (".safetensors", ".pt", ".ckpt"))
                if opts.lora_dir and Path(opts.lora_dir).is_dir() else None)
        if path is None:
            where = f"in {opts.lora_dir}" if opts.lora_dir else "(no --lora-dir given)"
            devs.append(Deviation("missing-lora", "degraded",
                                  f"LoRA {net.name!r} not found {where}; generated without it"))
            continue
        lp.path = str(path)
        if lp.expected_hash:
            lp.actual_hash = addnet_hash(path)
            if not lp.actual_hash.startswith(lp.expected_hash.lower()[:12]):
                devs.append(Deviation("lora-hash-mismatch", "degraded",
                                      f"LoRA {net.name!r}: the image lists hash "
                                      f"{lp.expected_hash}, {path.name} hashes to "
                                      f"{lp.actual_hash}"))
        loras.append(lp)
    return loras


def plan_embeddings(
    params: GenParams, prompt: PromptPlan, negative: PromptPlan, opts: RegenOptions,
    devs: list[Deviation],
) -> list[EmbeddingPlan]:
    """The embeddings in `--embeddings-dir` whose names the prompts use, as A1111 picks them
    by word; those the image lists but that are not found are reported."""
    embeddings: list[EmbeddingPlan] = []
    available: dict[str, Path] = {}
    if opts.embeddings_dir and Path(opts.embeddings_dir).is_dir():
        for p in sorted(Path(opts.embeddings_dir).rglob("*")):
            if p.is_file() and p.suffix.lower() in (".pt", ".safetensors", ".bin"):
                available.setdefault(p.stem, p)
    both = prompt.text + "\n" + negative.text
    for name, p in available.items():
        if re.search(r"(?<![\w])" + re.escape(name) + r"(?![\w])", both):
            embeddings.append(EmbeddingPlan(name, str(p)))
    wanted = {e.name for e in params.embeddings} | set(hash_list(extra(params, "TI hashes")))
    for name in sorted(wanted - {e.name for e in embeddings}):
        devs.append(Deviation("missing-embedding", "degraded",
                              f"embedding {name!r} not found"
                              + (f" in {opts.embeddings_dir}" if opts.embeddings_dir
                                 else " (no --embeddings-dir given)")))
    return embeddings


def hash_list(value: Any) -> dict[str, str]:
    """Parse `Lora hashes` / `TI hashes`: "name: hash, name2: hash2"."""
    out: dict[str, str] = {}
    for part in str(value or "").strip().strip('"').split(","):
        name, sep, h = part.rpartition(":")
        if sep and name.strip():
            out[name.strip()] = h.strip()
    return out


def _safetensors_keys(path: Path) -> list[str]:
    with path.open("rb") as f:
        head = f.read(8)
        if len(head) < 8:
            return []
        (n,) = struct.unpack("<Q", head)
        if n > 100_000_000:
            return []
        try:
            return list(json.loads(f.read(n)))
        except ValueError:
            return []


def model_base(path: Path) -> tuple[str, str]:
    """(kind, base): kind diffusers|single-file; base sd1|sd2|sdxl|unknown, from files only."""
    if path.is_dir():
        try:
            index = json.loads((path / "model_index.json").read_text())
            unet = json.loads((path / "unet" / "config.json").read_text())
        except (OSError, ValueError):
            return "diffusers", "unknown"
        if "XL" in str(index.get("_class_name", "")) or unet.get("addition_embed_type") == \
                "text_time":
            # The refiner has only the second (OpenCLIP) text encoder.
            te1 = index.get("text_encoder")
            return "diffusers", "sdxl" if te1 and te1[0] else "sdxl-refiner"
        if unet.get("cross_attention_dim") == 1024:
            return "diffusers", "sd2"
        return "diffusers", "sd1"
    keys = _safetensors_keys(path) if path.suffix.lower() == ".safetensors" else []
    if any(k.startswith("conditioner.embedders.1") for k in keys):
        return "single-file", "sdxl"
    if any(k.startswith("conditioner.embedders.0.model.") for k in keys):
        return "single-file", "sdxl-refiner"
    if any(k.startswith("cond_stage_model.model.") for k in keys):
        return "single-file", "sd2"
    return "single-file", "sd1"


def find_file(folder: Path, name: str, suffixes: tuple[str, ...]) -> Path | None:
    for suf in suffixes:
        p = folder / f"{name}{suf}"
        if p.is_file():
            return p
    for p in sorted(folder.rglob("*")):
        if p.is_file() and p.stem == name and p.suffix.lower() in suffixes:
            return p
    return None

