"""Fooocus (both metadata schemes), RuinedFooocus and Fooocus-MRE (docs/formats.md#fooocus).

* PNG: `parameters` + `fooocus_scheme` ("fooocus" = JSON, "a1111" = infotext);
  JPEG/WebP: UserComment in IFD0 + Software "Fooocus v…" + MakerNote = the scheme.
* RuinedFooocus: `parameters` JSON with `"software": "RuinedFooocus"`.
* Fooocus-MRE: its own JSON (`real_prompt`, `base_model`, …), in a PNG `Comment` chunk.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..containers.raw import Changes, RawMetadata
from ..errors import ParseError
from ._util import (
    FieldTable,
    as_is,
    build,
    loads,
    new_lora,
    parse_size,
    positive_int,
    read_fields,
    stamp,
    str_or_empty,
    to_float,
    to_int,
    try_loads,
    unread,
)

if TYPE_CHECKING:
    from ..model import GenParams, Lora

NAME = "fooocus"
DISPLAY_NAME = "Fooocus"
KEYS = frozenset({"parameters", "UserComment", "fooocus_scheme"})
MARKERS = ("Fooocus",)  # the a1111 scheme's "Version: Fooocus v2"; the others are JSON
GENERATORS = {"ruinedfooocus": "RuinedFooocus", "fooocus-mre": "Fooocus-MRE"}

# The a1111 scheme ends its line with "Version: Fooocus v2.x" (docs/formats.md#fooocus).
# Patterns are kept as text and compiled by `re` on first use (and cached there): the
# registry loads every dialect for its declarations, and most files never need these.
_A1111_VERSION = r"(?m)(?:^|,\s*)Version:\s*Fooocus\b"


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
    found = _found(raw)
    return found[:3] if found else None


def _found(raw: RawMetadata) -> tuple[str, Any, str, str] | None:
    """`_payload` and the key of the entry it is in."""
    texts = raw.texts()
    scheme = _scheme(raw)
    for key in ("parameters", "UserComment", "Comment", "comment"):
        text = texts.get(key)
        if not text:
            continue
        data = try_loads(text)
        if isinstance(data, dict):
            if str(data.get("software", "")).startswith("RuinedFooocus"):
                return "ruined", data, text, key
            if key in ("parameters", "UserComment") and (
                scheme == "fooocus"
                or str(data.get("version", "")).startswith("Fooocus")
                or ("full_prompt" in data and "base_model" in data)
            ):
                return "fooocus", data, text, key
            if "real_prompt" in data or (
                "base_model" in data and "switch" in data and "cfg" in data
            ):
                return "mre", data, text, key
        elif key in ("parameters", "UserComment") and (
            scheme == "a1111" or ("Fooocus" in text and re.search(_A1111_VERSION, text))
        ):
            return "a1111", None, text, key
    return None


def score(raw: RawMetadata) -> float:
    return 0.9 if _payload(raw) is not None else 0.0


_MAX_LITERAL = 4096


def _literal(value: Any) -> Any:
    """Fooocus stores tuples and lists as Python literal text: "(768, 1280)". Longer text
    is left as it is: parsing a few MB of list literal takes seconds and gigabytes."""
    if isinstance(value, str) and len(value) <= _MAX_LITERAL:
        import ast

        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return value
    return value


def _default_vae(value: Any) -> Any:
    return None if value == "Default (model)" else value


_FOOOCUS: FieldTable = {
    "negative_prompt": ("negative_prompt", str_or_empty),
    "cfg_scale": ("guidance_scale", to_float),
    "seed": ("seed", to_int),
    "steps": ("steps", positive_int),
    "sampler": ("sampler", as_is),
    "scheduler": ("scheduler", as_is),
    "model": ("base_model", as_is),
    "model_hash": ("base_model_hash", as_is),
    "clip_skip": ("clip_skip", positive_int),
    "vae": ("vae", _default_vae),
    "version": ("version", as_is),
}


def _fooocus(data: dict[str, Any]) -> GenParams:
    size = _literal(data.get("resolution"))
    width = height = None
    if isinstance(size, (tuple, list)) and len(size) == 2:
        width, height = positive_int(size[0]), positive_int(size[1])
    elif isinstance(size, str):
        width, height = parse_size(size) or (None, None)
    loras: list[Lora] = []
    for entry in _literal(data.get("loras")) or []:
        if isinstance(entry, (list, tuple)) and entry and isinstance(entry[0], str):
            loras.append(
                new_lora(
                    name=entry[0],
                    weight=to_float(entry[1]) if len(entry) > 1 else None,
                    hash=entry[2] if len(entry) > 2 and isinstance(entry[2], str) else None,
                )
            )
    prompt = data.get("prompt")
    if not isinstance(prompt, str) or not prompt:
        full = data.get("full_prompt")
        prompt = ", ".join(full) if isinstance(full, list) else ""
    return build(
        NAME,
        {
            "prompt": prompt,
            **read_fields(data, _FOOOCUS),
            "width": width,
            "height": height,
            "loras": loras,
        },
        extra=unread(data, _FOOOCUS, "prompt", "resolution", "loras"),
    )


_RUINED: FieldTable = {
    "prompt": ("Prompt", str_or_empty),
    "negative_prompt": ("Negative", str_or_empty),
    "steps": ("steps", positive_int),
    "cfg_scale": ("cfg", to_float),
    "width": ("width", positive_int),
    "height": ("height", positive_int),
    "seed": ("seed", to_int),
    "sampler": ("sampler_name", as_is),
    "scheduler": ("scheduler", as_is),
    "model": ("base_model_name", as_is),
    "model_hash": ("base_model_hash", as_is),
    "clip_skip": ("clip_skip", positive_int),
    "denoising_strength": ("denoise", to_float),
    "version": ("software", as_is),
}


def _ruined(data: dict[str, Any]) -> GenParams:
    loras: list[Lora] = []
    for entry in data.get("loras") or []:
        if isinstance(entry, (list, tuple)) and entry and isinstance(entry[0], str):
            weight = to_float(entry[1]) if len(entry) > 1 else None
            loras.append(new_lora(name=entry[0], weight=weight))
        elif isinstance(entry, dict) and isinstance(entry.get("name"), str):
            loras.append(new_lora(name=entry["name"], weight=to_float(entry.get("weight"))))
    return build(
        "ruinedfooocus",
        {**read_fields(data, _RUINED), "loras": loras},
        extra=unread(data, _RUINED, "loras"),
    )


def _mre_clip_skip(value: Any) -> int | None:
    """MRE writes clip skip as a negative layer index (-2)."""
    return positive_int(abs(to_int(value) or 0) or None)


_MRE: FieldTable = {
    "prompt": ("prompt", str_or_empty),
    "negative_prompt": ("negative_prompt", str_or_empty),
    "seed": ("seed", to_int),
    "width": ("width", positive_int),
    "height": ("height", positive_int),
    "sampler": ("sampler", as_is),
    "scheduler": ("scheduler", as_is),
    "steps": ("steps", positive_int),
    "cfg_scale": ("cfg", to_float),
    "model": ("base_model", as_is),
    "clip_skip": ("base_clip_skip", _mre_clip_skip),
}


def _mre(data: dict[str, Any]) -> GenParams:
    return build("fooocus-mre", read_fields(data, _MRE), extra=unread(data, _MRE))


def parse(raw: RawMetadata) -> GenParams:
    found = _found(raw)
    if found is None:
        raise ParseError("no Fooocus metadata")
    kind, _data, text, key = found
    params = _parse(raw, found[:3])
    if kind == "a1111":
        # A1111 text: the A1111 dialect writes it back, word for word where unedited
        params.origin.key = key  # type: ignore[union-attr]
        return params
    return stamp(params, NAME, key, text)


def _parse(raw: RawMetadata, found: tuple[str, Any, str] | None = None) -> GenParams:
    found = found if found is not None else _payload(raw)
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


# --- writing it back -------------------------------------------------------------------

def _list_replace(old: str, new: str) -> Any:
    """A target for Fooocus' `full_prompt` lists (the prompt after its styles were applied):
    the raw prompt is replaced wherever a style put it."""

    def write(doc: Any, path: tuple[str, ...]) -> None:
        items = doc.get(path)
        if not old or not isinstance(items, list):
            return
        for i, item in enumerate(items):
            if isinstance(item, str) and old in item:
                doc.set((*path, i), item.replace(old, new))

    return write


def _fooocus_targets(old: GenParams, new: GenParams) -> dict[str, Any]:
    from .editing import size_target

    targets: dict[str, Any] = {f: (key,) for f, (key, _) in _FOOOCUS.items()}

    def prompt(doc: Any, value: Any) -> None:
        doc.set(("prompt",), value or "")
        _list_replace(old.prompt, value or "")(doc, ("full_prompt",))

    def negative(doc: Any, value: Any) -> None:
        doc.set(("negative_prompt",), value or "")
        _list_replace(old.negative_prompt, value or "")(doc, ("full_negative_prompt",))

    targets.update({"prompt": prompt, "negative_prompt": negative,
                    "width": size_target(("resolution",), "width", DISPLAY_NAME),
                    "height": size_target(("resolution",), "height", DISPLAY_NAME)})
    return targets


def _mre_targets() -> dict[str, Any]:
    targets: dict[str, Any] = {f: (key,) for f, (key, _) in _MRE.items()}

    def clip_skip(doc: Any, value: Any) -> None:
        doc.set(("base_clip_skip",), -value if value is not None else None)

    targets["clip_skip"] = clip_skip
    return targets


def edit(raw: RawMetadata, params: GenParams, *, node: str | None = None) -> Changes:
    """Rewrite the changed values in the JSON Fooocus, RuinedFooocus or Fooocus-MRE saved
    (the a1111 scheme's text is A1111's, written back by that dialect)."""
    from .editing import (
        Entries,
        apply_extra,
        apply_json,
        changed_fields,
        extra_changes,
        no_node,
    )
    from .jsonedit import JsonText

    no_node(node, DISPLAY_NAME)
    found = _found(raw)
    if found is None:
        raise ParseError("no Fooocus metadata")
    kind, _data, text, key = found
    old = _parse(raw, found[:3])
    fields = changed_fields(old, params)
    doc = JsonText(text, key)
    table: Any
    if kind == "ruined":
        table = _RUINED
        targets: dict[str, Any] = {f: (k,) for f, (k, _) in _RUINED.items()}
        read: tuple[str, ...] = ("loras",)
    elif kind == "mre":
        table, targets, read = _MRE, _mre_targets(), ()
    else:
        table, targets = _FOOOCUS, _fooocus_targets(old, params)
        read = ("prompt", "resolution", "loras")
    shown = GENERATORS.get(old.generator or "", DISPLAY_NAME)
    apply_json(doc, fields, targets, shown)
    known = {k for k, _ in table.values()} | set(read)
    apply_extra(doc, extra_changes(old, params), lambda k: None if k in known else (k,),
                shown)
    entries = Entries(raw)
    entries.put(key, doc.text)
    return entries.changes()
