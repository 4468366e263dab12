"""NovelAI: `Software: NovelAI` + `Description` + `Comment` JSON (docs/formats.md#novelai).

Also read from the lossless-WebP EXIF layout (Software = the `Source` string,
ImageDescription = prompt, UserComment = a JSON object holding every chunk with `Comment`
nested as a string, docs/formats.md#novelai) and from the stealth copy, whose text is that same JSON
object. V4/V4.5 character prompts go to `extra["NovelAI characters"]`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..containers.raw import Changes, RawMetadata
from ..errors import ParseError
from ._util import (
    FieldTable,
    build,
    get_str,
    loads,
    positive_int,
    read_fields,
    stamp,
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
_HASH = r"[0-9A-Fa-f]{8}"

_COMMENT: FieldTable = {
    "steps": ("steps", positive_int),
    "sampler": ("sampler", str_or_none),
    "scheduler": ("noise_schedule", str_or_none),
    "cfg_scale": ("scale", to_float),
    "seed": ("seed", to_int),
}


def _split_source(source: str) -> tuple[str, str | None]:
    r"""`Stable Diffusion XL 8BA2AF87` -> (model, hash): the hash is the last word when it is
    eight hex digits. Split at the last whitespace rather than with a regex: a lazy model
    group before `\s+` backtracks over every run of spaces, quadratic in its length."""
    parts = source.rsplit(None, 1)
    if len(parts) == 2 and re.fullmatch(_HASH, parts[1]) and "\n" not in parts[0]:
        return parts[0], parts[1]
    return source, None


def _chunks(raw: RawMetadata) -> dict[str, str] | None:
    """The NovelAI key -> text mapping, from PNG chunks, EXIF or a nested JSON object."""
    found = _where(raw)
    return found[1] if found else None


def _where(raw: RawMetadata) -> tuple[str | None, dict[str, str]] | None:
    """(None, the chunks) for PNG text chunks, or (the key of the entry holding them as one
    JSON object: WebP UserComment, a stealth copy, the chunks)."""
    texts = raw.texts()
    software = texts.get("Software", "")
    if "Comment" in texts and (
        software.startswith("NovelAI")
        or texts.get("Source", "").startswith(("NovelAI", "Stable Diffusion"))
    ):
        return None, texts
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
            return entry.key, merged
    return None


def owns(raw: RawMetadata) -> bool:
    """Whether the CONDITIONAL_KEYS are NovelAI's in this file (what `strip` removes)."""
    return raw.text("Software") == "NovelAI"


def score(raw: RawMetadata) -> float:
    return 0.95 if _chunks(raw) is not None else 0.0


# Comment keys shown as extra, by their own name.
_COMMENT_EXTRA = ("strength", "noise", "sm", "sm_dyn", "cfg_rescale", "uncond_scale",
                  "request_type", "n_samples")


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
    found = _where(raw)
    params = _parse(raw, found)
    key = found[0] if found and found[0] else "Comment"
    return stamp(params, NAME, key, raw.text(key) or "")


def _parse(raw: RawMetadata, found: tuple[str | None, dict[str, str]] | None = None
           ) -> GenParams:
    chunks = found[1] if found is not None else _chunks(raw)
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
        model, model_hash = _split_source(source.strip())
    extra: dict[str, Any] = {}
    for key in _COMMENT_EXTRA:
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


# --- writing it back -------------------------------------------------------------------
#
# One edit reaches every copy NovelAI keeps of a value: the Comment JSON (the legacy `prompt`
# and V4's `v4_prompt` caption), the Description chunk (the prompt again), Source (model and
# hash). In a WebP or a stealth copy those chunks are members of one JSON object, Comment a
# string of JSON inside it, and the WebP repeats the prompt in EXIF ImageDescription and
# Source in Software. `signed_hash` is left as it is: it signs the original request, so it
# no longer verifies after an edit (and verifies again once the values are set back).

_V4_BASE = ("caption", "base_caption")


def _description(old: str, old_prompt: str, new_prompt: str) -> str:
    """The Description (or ImageDescription) for a new prompt: it repeats the prompt, behind
    the NULs the WebP writer puts first."""
    body = old.lstrip("\x00")
    lead = old[:len(old) - len(body)]
    if body.strip() == old_prompt.strip() or not old_prompt:
        return lead + new_prompt
    return lead + body.replace(old_prompt, new_prompt) if old_prompt in body else old


def _comment_edit(comment: Any, fields: dict[str, Any], old: GenParams) -> None:
    from .editing import refuse

    for field, value in fields.items():
        if field == "prompt":
            if isinstance(comment.get(("prompt",)), str):
                comment.set(("prompt",), value)
            if isinstance(comment.get(("v4_prompt", *_V4_BASE)), str):
                comment.set(("v4_prompt", *_V4_BASE), value)
        elif field == "negative_prompt":
            if isinstance(comment.get(("v4_negative_prompt", *_V4_BASE)), str):
                comment.set(("v4_negative_prompt", *_V4_BASE), value)
            if isinstance(comment.get(("uc",)), str) or not isinstance(
                    comment.get(("v4_negative_prompt", *_V4_BASE)), str):
                comment.set(("uc",), value)
        elif field in _COMMENT or field in ("width", "height"):
            key = _COMMENT[field][0] if field in _COMMENT else field
            if value is None:
                comment.remove((key,))
            else:
                comment.set((key,), value)
        elif field == "denoising_strength" and old.denoising_strength is not None:
            comment.set(("strength",), value)
        elif field not in ("model", "model_hash"):
            raise refuse(DISPLAY_NAME, field)


def edit(raw: RawMetadata, params: GenParams, *, node: str | None = None) -> Changes:
    """Rewrite the changed values in every entry NovelAI keeps them in (see above)."""
    from .editing import (
        Entries,
        apply_extra,
        changed_fields,
        extra_changes,
        no_node,
        refuse,
    )
    from .jsonedit import JsonText

    no_node(node, DISPLAY_NAME)
    found = _where(raw)
    if found is None:
        raise ParseError("no NovelAI Comment chunk")
    holder = found[0]
    old = _parse(raw, found)
    fields = changed_fields(old, params)
    entries = Entries(raw)
    outer = JsonText(raw.text(holder) or "", holder) if holder else None

    def chunk(key: str) -> str | None:
        if outer is None:
            return entries.text(key)
        value = outer.get((key,))
        return value if isinstance(value, str) else None

    def put(key: str, text: str) -> None:
        if outer is None:
            entries.put(key, text)
        else:
            outer.set((key,), text)

    comment = JsonText(chunk("Comment") or "", "NovelAI Comment")
    _comment_edit(comment, fields, old)
    apply_extra(comment, {k: v for k, v in extra_changes(old, params).items()
                          if k in _COMMENT_EXTRA}, lambda k: (k,), DISPLAY_NAME)
    for key, value in extra_changes(old, params).items():
        if key in ("Title", "Generation time") and isinstance(value, str):
            put(key, value)
        elif key not in _COMMENT_EXTRA:
            raise refuse(DISPLAY_NAME, f"extra key {key!r}",
                         f"{DISPLAY_NAME} derives it from other values")
    put("Comment", comment.text)
    if "prompt" in fields:
        description = chunk("Description")
        if description is not None:
            put("Description", _description(description, old.prompt, params.prompt))
        image_description = raw.text("ImageDescription")
        if holder is not None and image_description is not None:
            entries.put("ImageDescription",
                        _description(image_description, old.prompt, params.prompt))
    if "model" in fields or "model_hash" in fields:
        if not params.model:
            raise refuse(DISPLAY_NAME, "model", "NovelAI names its model in Source")
        source = params.model + (f" {params.model_hash}" if params.model_hash else "")
        put("Source", source)
        if holder is not None and raw.text("Software") == old.extra.get("Source"):
            entries.put("Software", source)
    if outer is not None and holder is not None:
        entries.put(holder, outer.text)
    return entries.changes()
