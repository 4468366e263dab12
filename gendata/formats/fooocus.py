"""Fooocus (both metadata schemes), RuinedFooocus and Fooocus-MRE (formats.md section 9).

* PNG: `parameters` + `fooocus_scheme` ("fooocus" = JSON, "a1111" = infotext);
  JPEG/WebP: UserComment in IFD0 + Software "Fooocus v…" + MakerNote = the scheme.
* RuinedFooocus: `parameters` JSON with `"software": "RuinedFooocus"`.
* Fooocus-MRE: its own JSON (`real_prompt`, `base_model`, …), in a PNG `Comment` chunk.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from ..containers.raw import RawMetadata
from ..errors import ParseError
from ..model import GenParams, Lora
from ._util import build, get_str, loads, parse_size, positive_int, to_float, to_int, try_loads

NAME = "fooocus"

# The a1111 scheme ends its line with "Version: Fooocus v2.x" (section 9).
_A1111_VERSION = re.compile(r"(?:^|,\s*)Version:\s*Fooocus\b", re.MULTILINE)


def _scheme(raw: RawMetadata) -> str | None:
    texts = raw.texts()
    scheme = texts.get("fooocus_scheme") or texts.get("MakerNote")
    if scheme and scheme.strip().lower() in ("fooocus", "a1111"):
        return scheme.strip().lower()
    if texts.get("Software", "").startswith("Fooocus"):
        return "fooocus"
    return None


def _payload(raw: RawMetadata) -> tuple[str, Any, str] | None:
    """(kind, data, text): kind is fooocus / a1111 / ruined / mre."""
    texts = raw.texts()
    scheme = _scheme(raw)
    for key in ("parameters", "UserComment", "Comment", "comment"):
        text = texts.get(key)
        if not text:
            continue
        data = try_loads(text)
        if isinstance(data, dict):
            if str(data.get("software", "")).startswith("RuinedFooocus"):
                return "ruined", data, text
            if key in ("parameters", "UserComment") and (
                scheme == "fooocus"
                or str(data.get("version", "")).startswith("Fooocus")
                or ("full_prompt" in data and "base_model" in data)
            ):
                return "fooocus", data, text
            if "real_prompt" in data or (
                "base_model" in data and "switch" in data and "cfg" in data
            ):
                return "mre", data, text
        elif key in ("parameters", "UserComment") and (
            scheme == "a1111" or ("Fooocus" in text and _A1111_VERSION.search(text))
        ):
            return "a1111", None, text
    return None


def score(raw: RawMetadata) -> float:
    try:
        return 0.9 if _payload(raw) is not None else 0.0
    except Exception:
        return 0.0


def _literal(value: Any) -> Any:
    """Fooocus stores tuples and lists as Python literal text: "(768, 1280)"."""
    if isinstance(value, str):
        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return value
    return value


def _fooocus(data: dict[str, Any]) -> GenParams:
    size = _literal(data.get("resolution"))
    width = height = None
    if isinstance(size, (tuple, list)) and len(size) == 2:
        width, height = positive_int(size[0]), positive_int(size[1])
    elif isinstance(size, str) and parse_size(size):
        width, height = parse_size(size) or (None, None)
    loras: list[Lora] = []
    for entry in _literal(data.get("loras")) or []:
        if isinstance(entry, (list, tuple)) and entry and isinstance(entry[0], str):
            loras.append(
                Lora(
                    name=entry[0],
                    weight=to_float(entry[1]) if len(entry) > 1 else None,
                    hash=entry[2] if len(entry) > 2 and isinstance(entry[2], str) else None,
                )
            )
    prompt = data.get("prompt")
    if not isinstance(prompt, str) or not prompt:
        full = data.get("full_prompt")
        prompt = ", ".join(full) if isinstance(full, list) else ""
    known = {
        "prompt",
        "negative_prompt",
        "resolution",
        "loras",
        "guidance_scale",
        "seed",
        "steps",
        "sampler",
        "scheduler",
        "base_model",
        "base_model_hash",
        "clip_skip",
        "vae",
        "version",
    }
    extra = {k: v for k, v in data.items() if k not in known}
    return build(
        NAME,
        {
            "prompt": prompt,
            "negative_prompt": get_str(data, "negative_prompt", ""),
            "width": width,
            "height": height,
            "cfg_scale": to_float(data.get("guidance_scale")),
            "seed": to_int(data.get("seed")),
            "steps": positive_int(data.get("steps")),
            "sampler": data.get("sampler"),
            "scheduler": data.get("scheduler"),
            "model": data.get("base_model"),
            "model_hash": data.get("base_model_hash"),
            "clip_skip": positive_int(data.get("clip_skip")),
            "vae": data.get("vae") if data.get("vae") not in ("Default (model)", None) else None,
            "loras": loras,
            "version": data.get("version"),
        },
        extra=extra,
    )


def _ruined(data: dict[str, Any]) -> GenParams:
    loras: list[Lora] = []
    for entry in data.get("loras") or []:
        if isinstance(entry, (list, tuple)) and entry and isinstance(entry[0], str):
            loras.append(Lora(name=entry[0], weight=to_float(entry[1]) if len(entry) > 1 else None))
        elif isinstance(entry, dict) and isinstance(entry.get("name"), str):
            loras.append(Lora(name=entry["name"], weight=to_float(entry.get("weight"))))
    known = {
        "Prompt",
        "Negative",
        "steps",
        "cfg",
        "width",
        "height",
        "seed",
        "sampler_name",
        "scheduler",
        "base_model_name",
        "base_model_hash",
        "loras",
        "clip_skip",
        "denoise",
        "software",
    }
    return build(
        "ruinedfooocus",
        {
            "prompt": get_str(data, "Prompt", ""),
            "negative_prompt": get_str(data, "Negative", ""),
            "steps": positive_int(data.get("steps")),
            "cfg_scale": to_float(data.get("cfg")),
            "width": positive_int(data.get("width")),
            "height": positive_int(data.get("height")),
            "seed": to_int(data.get("seed")),
            "sampler": data.get("sampler_name"),
            "scheduler": data.get("scheduler"),
            "model": data.get("base_model_name"),
            "model_hash": data.get("base_model_hash"),
            "clip_skip": positive_int(data.get("clip_skip")),
            "denoising_strength": to_float(data.get("denoise")),
            "loras": loras,
            "version": data.get("software"),
        },
        extra={k: v for k, v in data.items() if k not in known},
    )


def _mre(data: dict[str, Any]) -> GenParams:
    known = {
        "prompt",
        "negative_prompt",
        "seed",
        "width",
        "height",
        "sampler",
        "scheduler",
        "steps",
        "cfg",
        "base_model",
        "base_clip_skip",
    }
    return build(
        "fooocus-mre",
        {
            "prompt": get_str(data, "prompt", ""),
            "negative_prompt": get_str(data, "negative_prompt", ""),
            "seed": to_int(data.get("seed")),
            "width": positive_int(data.get("width")),
            "height": positive_int(data.get("height")),
            "sampler": data.get("sampler"),
            "scheduler": data.get("scheduler"),
            "steps": positive_int(data.get("steps")),
            "cfg_scale": to_float(data.get("cfg")),
            "model": data.get("base_model"),
            "clip_skip": positive_int(abs(to_int(data.get("base_clip_skip")) or 0) or None),
        },
        extra={k: v for k, v in data.items() if k not in known},
    )


def parse(raw: RawMetadata) -> GenParams:
    found = _payload(raw)
    if found is None:
        raise ParseError("no Fooocus metadata")
    kind, data, text = found
    if kind == "a1111":
        from .a1111 import parse_text

        params = parse_text(text)
        return params.model_copy(update={"generator": NAME})
    if data is None:
        data = loads(text, "Fooocus parameters")
    if kind == "ruined":
        return _ruined(data)
    if kind == "mre":
        return _mre(data)
    return _fooocus(data)
