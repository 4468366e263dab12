"""NovelAI: `Software: NovelAI` + `Description` + `Comment` JSON (docs/formats.md#novelai).

Also read from the lossless-WebP EXIF layout (Software = the `Source` string,
ImageDescription = prompt, UserComment = a JSON object holding every chunk with `Comment`
nested as a string, docs/formats.md#novelai) and from the stealth copy, whose text is that same JSON
object. V4/V4.5 character prompts go to `extra["NovelAI characters"]`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..containers.raw import RawMetadata
from ..errors import ParseError
from ._util import (
    FieldTable,
    build,
    get_str,
    loads,
    positive_int,
    read_fields,
    str_or_none,
    strip_text,
    to_float,
    to_int,
    try_loads,
)

if TYPE_CHECKING:
    from ..model import GenParams

NAME = "novelai"
DISPLAY_NAME = "NovelAI"
KEYS: frozenset[str] = frozenset()
# The chunks are only NovelAI's in files NovelAI wrote: `Comment` or `Title` alone is
# anyone's.
CONDITIONAL_KEYS = frozenset({"Title", "Description", "Software", "Source", "Generation time",
                              "Comment"})
MARKERS = ("Comment",)  # its JSON, wherever it is (WebP UserComment, stealth copy)

# Patterns are kept as text and compiled by `re` on first use (and cached there): the
# registry loads every dialect for its declarations, and most files never need these.
_SOURCE_RE = r"^(?P<model>.*?)\s+(?P<hash>[0-9A-Fa-f]{8})$"

_COMMENT: FieldTable = {
    "steps": ("steps", positive_int),
    "sampler": ("sampler", str_or_none),
    "scheduler": ("noise_schedule", str_or_none),
    "cfg_scale": ("scale", to_float),
    "seed": ("seed", to_int),
}


def _chunks(raw: RawMetadata) -> dict[str, str] | None:
    """The NovelAI key -> text mapping, from PNG chunks, EXIF or a nested JSON object."""
    texts = raw.texts()
    software = texts.get("Software", "")
    if "Comment" in texts and (
        software.startswith("NovelAI")
        or texts.get("Source", "").startswith(("NovelAI", "Stable Diffusion"))
    ):
        return texts
    for entry in raw.entries:
        if not entry.text or "Comment" not in entry.text:
            continue
        data = try_loads(entry.text)
        if (
            isinstance(data, dict)
            and isinstance(data.get("Comment"), str)
            and (
                str(data.get("Software", "")).startswith("NovelAI")
                or str(data.get("Source", "")).startswith("NovelAI")
            )
        ):
            merged = {k: str(v) for k, v in data.items() if isinstance(v, (str, int, float))}
            if "Description" not in merged and texts.get("ImageDescription"):
                merged["Description"] = strip_text(texts["ImageDescription"])
            return merged
    return None


def owns(raw: RawMetadata) -> bool:
    """Whether the CONDITIONAL_KEYS are NovelAI's in this file (what `strip` removes)."""
    return raw.text("Software") == "NovelAI"


def score(raw: RawMetadata) -> float:
    return 0.95 if _chunks(raw) is not None else 0.0


def _caption(value: Any) -> tuple[str | None, list[dict[str, Any]]]:
    if not isinstance(value, dict) or not isinstance(value.get("caption"), dict):
        return None, []
    cap = value["caption"]
    base = get_str(cap, "base_caption")
    chars: list[dict[str, Any]] = []
    for c in cap.get("char_captions") or []:
        if isinstance(c, dict) and isinstance(c.get("char_caption"), str):
            centers = c.get("centers") if isinstance(c.get("centers"), list) else []
            center = centers[0] if centers and isinstance(centers[0], dict) else None
            chars.append({"prompt": c["char_caption"], "center": center})
    return base, chars


def parse(raw: RawMetadata) -> GenParams:
    chunks = _chunks(raw)
    if chunks is None:
        raise ParseError("no NovelAI Comment chunk")
    comment = loads(chunks["Comment"], "NovelAI Comment")
    if not isinstance(comment, dict):
        raise ParseError("NovelAI Comment: expected a JSON object")
    base, chars = _caption(comment.get("v4_prompt"))
    neg_base, neg_chars = _caption(comment.get("v4_negative_prompt"))
    prompt = get_str(comment, "prompt")
    prompt = prompt or base or strip_text(chunks.get("Description", ""))
    negative = get_str(comment, "uc")
    if negative is None:
        negative = neg_base or ""
    model = model_hash = None
    source = chunks.get("Source")
    if source:
        m = re.match(_SOURCE_RE, source.strip())
        model, model_hash = (m.group("model"), m.group("hash")) if m else (source.strip(), None)
    extra: dict[str, Any] = {}
    for key in (
        "strength",
        "noise",
        "sm",
        "sm_dyn",
        "cfg_rescale",
        "uncond_scale",
        "request_type",
        "n_samples",
    ):
        if key in comment:
            extra[key] = comment[key]
    if chars:
        extra["NovelAI characters"] = chars
        if any(c["prompt"] for c in neg_chars):
            extra["NovelAI character negatives"] = neg_chars
        v4 = comment["v4_prompt"]
        extra["use_coords"] = v4.get("use_coords")
        extra["use_order"] = v4.get("use_order")
    for key in ("Title", "Generation time"):
        if chunks.get(key):
            extra[key] = chunks[key]
    extra["Source"] = source
    denoise = None
    if str(comment.get("request_type", "")).lower().startswith("img2img") or comment.get("image"):
        denoise = to_float(comment.get("strength"))
    return build(
        NAME,
        {
            "prompt": prompt,
            "negative_prompt": negative,
            **read_fields(comment, _COMMENT),
            "width": positive_int(comment.get("width")) or raw.width,
            "height": positive_int(comment.get("height")) or raw.height,
            "model": model,
            "model_hash": model_hash,
            "denoising_strength": denoise,
            "version": str(comment["version"]) if "version" in comment else None,
        },
        extra=extra,
    )
