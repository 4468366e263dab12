"""Map the corpus expectation files (other projects' vocabulary) onto GenParams fields.

Used by tests/formats/test_corpus_dialects.py; kept apart so the mapping reads as a table.
"""

from __future__ import annotations

from typing import Any

from gendata.model import GenParams

# sd-metadata "software" -> our generator name
SOFTWARE = {
    "sd-webui": "a1111",
    "forge-neo": "forge-neo",
    "forge-classic": "forge-classic",
    "reforge": "reforge",
    "easy-reforge": "reforge",
    "sd-next": "sdnext",
    "comfyui": "comfyui",
    "civitai": "civitai",
    "hf-space": "hfspace",
    "novelai": "novelai",
    "ruined-fooocus": "ruinedfooocus",
    "stability-matrix": "stabilitymatrix",
    "swarmui": "swarmui",
    "tensorart": "tensorart",
}


def sd_metadata_fields(exp: dict[str, Any]) -> dict[str, Any]:
    """Our field name -> expected value, for the fields the issue asks to compare."""
    out: dict[str, Any] = {
        "generator": SOFTWARE.get(exp.get("software"), exp.get("software")),
        "prompt": exp.get("prompt"),
        "negative_prompt": exp.get("negativePrompt") or "",
        "width": exp.get("width"),
        "height": exp.get("height"),
    }
    model = exp.get("model")
    out["model"] = model.get("name") if isinstance(model, dict) else None
    out["model_hash"] = model.get("hash") if isinstance(model, dict) else None
    sampling = exp.get("sampling") or {}
    out["steps"] = sampling.get("steps")
    out["sampler"] = sampling.get("sampler")
    out["scheduler"] = sampling.get("scheduler")
    out["cfg_scale"] = sampling.get("cfg")
    out["seed"] = sampling.get("seed")
    return out


def sd_parsers_fields(case: dict[str, Any]) -> dict[str, Any]:
    """sd-parsers returns a list of samplers; the first is the headline."""
    first = case["samplers"][0]
    params = first.get("parameters", {})
    model = first.get("model") or {}
    out: dict[str, Any] = {
        "prompt": [p["value"] for p in first.get("prompts", [])],
        "negative_prompt": [p["value"] for p in first.get("negative_prompts", [])],
        "sampler": first.get("name"),
        "steps": _num(params.get("steps", case.get("metadata", {}).get("steps"))),
        "cfg_scale": _num(params.get("cfg_scale")),
        "seed": _num(params.get("seed")),
        "scheduler": params.get("scheduler"),
        "model": model.get("name"),
        "model_hash": model.get("hash"),
    }
    meta = case.get("metadata", {})
    size = meta.get("Size")
    if isinstance(size, str) and "x" in size:
        w, h = size.split("x")
        out["width"], out["height"] = int(w), int(h)
    elif "width" in meta:
        out["width"], out["height"] = meta["width"], meta["height"]
    elif "EmptyLatentImage" in meta:
        out["width"] = meta["EmptyLatentImage"][0]["width"]
        out["height"] = meta["EmptyLatentImage"][0]["height"]
    return out


def _num(v: Any) -> Any:
    if isinstance(v, str):
        try:
            return int(v)
        except ValueError:
            return float(v)
    return v


def ours(p: GenParams, field: str) -> Any:
    return getattr(p, field)
