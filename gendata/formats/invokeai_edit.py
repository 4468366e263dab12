"""Dialect layer: writing an edit back into an InvokeAI file, in every record it keeps.

A file can hold several: `invokeai_metadata` (3.x+), the graph it ran (`invokeai_graph`,
with a `core_metadata` node repeating the metadata) and the editor workflow
(`invokeai_workflow`), or, from 1.x-2.x, the `Dream` command line and the `sd-metadata` JSON.
A value is set in each record that held the value being replaced (so copies that agreed
still agree), in its own place: a graph field or the primitive node feeding it
(invokeai_graph.walk), a `-S` switch, a key of the JSON. A field no record can hold is
refused, naming it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..containers.raw import Changes, RawMetadata
from ..errors import UsageError
from ._util import loads
from .editing import (
    Entries,
    apply_extra,
    changed_fields,
    coerce_like,
    extra_changes,
    no_node,
    refuse,
)
from .jsonedit import MISSING, JsonText

if TYPE_CHECKING:
    from ..model import GenParams

DISPLAY = "InvokeAI"

# GenParams field -> invokeai_metadata key (the `core_metadata` node uses the same names).
_META = {"prompt": "positive_prompt", "negative_prompt": "negative_prompt", "width": "width",
         "height": "height", "seed": "seed", "cfg_scale": "cfg_scale", "steps": "steps",
         "sampler": "scheduler", "clip_skip": "clip_skip", "version": "app_version",
         "denoising_strength": "strength"}


def edit(raw: RawMetadata, params: GenParams, old: GenParams, *, node: str | None = None
         ) -> Changes:
    no_node(node, DISPLAY)
    fields = changed_fields(old, params)
    texts = raw.texts()
    entries = Entries(raw)
    done: set[str] = set()
    extra = extra_changes(old, params)
    if "invokeai_metadata" in texts:
        doc = JsonText(texts["invokeai_metadata"], "invokeai_metadata")
        done |= _record(doc, (), fields, old)
        meta = loads(texts["invokeai_metadata"], "invokeai_metadata")
        apply_extra(doc, extra, lambda k: (k,) if k in meta or k not in _META.values() else None,
                    DISPLAY)
        extra = {}
        entries.put("invokeai_metadata", doc.text)
    metadata_owns = "invokeai_metadata" in texts
    for key in ("invokeai_graph", "invokeai_workflow"):
        if key in texts:
            done |= _graph(entries, key, texts[key], fields, old, metadata_owns)
    if "sd-metadata" in texts:
        done |= _sd_metadata(entries, texts["sd-metadata"], fields, old)
    if "Dream" in texts:
        done |= _dream(entries, texts["Dream"], fields, old)
    if extra:
        key = next(iter(extra))
        raise refuse(DISPLAY, f"extra key {key!r}", "this InvokeAI record has no place for it")
    lost = [f for f in fields if f not in done]
    if lost:
        raise refuse(DISPLAY, lost[0])
    return entries.changes()


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return float(a) == float(b)
    return bool(a == b)


def _record(doc: JsonText, at: tuple[Any, ...], fields: dict[str, Any], old: GenParams,
            path_of: Callable[[str], tuple[Any, ...]] | None = None) -> set[str]:
    """Set the fields a metadata record (the chunk, or a core_metadata node) holds."""
    done: set[str] = set()
    path_of = path_of or (lambda key: (*at, key))
    for field, value in fields.items():
        if field == "model" or field == "vae":
            path = path_of(field)
            current = doc.get(path)
            if isinstance(current, dict):
                sub = "name" if "name" in current else "model_name"
                doc.set((*path, sub), value)
                done.add(field)
            elif isinstance(current, str):
                doc.set(path, value)
                done.add(field)
            continue
        key = _META.get(field)
        if key is None:
            continue
        if field == "prompt" and doc.get(path_of(key)) is MISSING and doc.get(
                path_of("positive_conditioning")) is not MISSING:
            key = "positive_conditioning"
        if field == "negative_prompt" and doc.get(path_of(key)) is MISSING and doc.get(
                path_of("negative_conditioning")) is not MISSING:
            key = "negative_conditioning"
        path = path_of(key)
        current = doc.get(path)
        if field == "denoising_strength" and old.denoising_strength is None:
            continue  # txt2img: `strength` is not what the image was denoised with
        if value is None:
            if current is not MISSING:
                doc.remove(path)
            done.add(field)
        elif current is not MISSING or field not in ("denoising_strength", "clip_skip"):
            doc.set(path, coerce_like(current if current is not MISSING else None, value))
            done.add(field)
    return done


def _graph(entries: Entries, key: str, text: str, fields: dict[str, Any], old: GenParams,
           metadata_owns: bool) -> set[str]:
    """Set the fields in a graph (or workflow): its core_metadata node, and each node field
    the first pass read that held the old value (or any, when no metadata chunk says
    otherwise: then the graph is where the value is read from)."""
    from .invokeai_graph import core_metadata, walk

    data = loads(text, key)
    if not isinstance(data, dict):
        return set()
    doc = JsonText(text, key)
    at: tuple[Any, ...] = ()
    graph = data
    if key == "invokeai_workflow" and isinstance(data.get("graph"), dict):
        at, graph = ("graph",), data["graph"]
    done: set[str] = set()
    meta = core_metadata(graph)
    if meta is not None:
        done |= _record(doc, at, fields, old, lambda k: (*at, *meta[1](k)))
    found, _loras = walk(graph)
    for field, value in fields.items():
        if field not in found or field in ("model", "vae") or value is None:
            continue
        held, paths = found[field]
        if field == "denoising_strength":
            if not _same(held, old.denoising_strength):
                continue
            value = round(1 - float(value), 10)
        elif metadata_owns and not _same(held, getattr(old, field)):
            continue
        for path in paths:
            doc.set((*at, *path), coerce_like(doc.get((*at, *path)), value))
        done.add(field)
    entries.put(key, doc.text)
    return done


# --- 1.x-2.x: the Dream command line and sd-metadata -----------------------------------

_SWITCH = {"steps": "-s", "seed": "-S", "width": "-W", "height": "-H", "cfg_scale": "-C",
           "sampler": "-A", "denoising_strength": "-f"}
_LONG = {"-s": "--steps", "-S": "--seed", "-W": "--width", "-H": "--height",
         "-C": "--cfg_scale", "-A": "--sampler", "-f": "--strength"}


def _with_prompt(text: str, positive: str | None, negative: str | None) -> str:
    """A prompt with its positive part or its `[negative]` groups replaced: the groups stay
    where they were, the positive text takes the place of the text around them."""
    groups = re.findall(r"\[[^\[\]]*\]", text)
    if negative is not None:
        groups = [f"[{negative}]"] if negative else []
    if positive is None:
        # As invokeai._split_negative: `(?<!\s)` keeps a run of spaces from being rescanned
        # from each of its positions.
        positive = re.sub(r"(?<!\s)\s*\[[^\[\]]*\]", "", text).strip()
        if negative is not None:
            return (positive + (" " + " ".join(groups) if groups else "")).strip()
        return text
    return (positive + (" " + " ".join(groups) if groups else "")).strip()


def _dream(entries: Entries, text: str, fields: dict[str, Any], old: GenParams) -> set[str]:
    done: set[str] = set()
    m = re.match(r'\s*"((?:[^"\\]|\\.)*)"', text)
    for field, value in fields.items():
        if field in ("prompt", "negative_prompt"):
            if m is None:
                continue
            inner = m.group(1).replace('\\"', '"')
            new = _with_prompt(inner, value if field == "prompt" else None,
                               value if field == "negative_prompt" else None)
            quoted = '"' + new.replace('"', '\\"') + '"'
            text = text[:m.start(1) - 1] + quoted + text[m.end(1) + 1:]
            m = re.match(r'\s*"((?:[^"\\]|\\.)*)"', text)
            done.add(field)
            continue
        switch = _SWITCH.get(field)
        if switch is None:
            continue
        if field == "denoising_strength" and old.denoising_strength is None:
            continue
        start = m.end() if m else 0
        pattern = rf"(?<=\s)({re.escape(switch)}|{re.escape(_LONG[switch])})(=|\s*)(\S+)"
        found = re.compile(pattern).search(text, start)
        if value is None:
            if found:
                text = text[:found.start()].rstrip() + text[found.end():]
            done.add(field)
            continue
        shown = _number(value)
        if found:
            text = text[:found.start(3)] + shown + text[found.end(3):]
        else:
            text = text.rstrip() + f" {switch} {shown}"
        done.add(field)
    entries.put("Dream", text)
    return done


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


_V2_IMAGE = {"steps": "steps", "cfg_scale": "cfg_scale", "seed": "seed", "width": "width",
             "height": "height", "sampler": "sampler"}
_V2_META = {"model": "model_weights", "model_hash": "model_hash", "version": "app_version"}


def _sd_metadata(entries: Entries, text: str, fields: dict[str, Any], old: GenParams
                 ) -> set[str]:
    doc = JsonText(text, "sd-metadata")
    data = loads(text, "sd-metadata")
    image = data.get("image") if isinstance(data, dict) else None
    done: set[str] = set()
    for field, value in fields.items():
        if field in ("prompt", "negative_prompt") and isinstance(image, dict):
            prompt = image.get("prompt")
            path: tuple[Any, ...]
            if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], dict):
                path, current = ("image", "prompt", 0, "prompt"), prompt[0].get("prompt", "")
            elif isinstance(prompt, str):
                path, current = ("image", "prompt"), prompt
            else:
                continue
            new = _with_prompt(current, value if field == "prompt" else None,
                               value if field == "negative_prompt" else None)
            doc.set(path, new)
            done.add(field)
        elif field in _V2_IMAGE and isinstance(image, dict):
            if value is None:
                doc.remove(("image", _V2_IMAGE[field]))
            else:
                doc.set(("image", _V2_IMAGE[field]), value)
            done.add(field)
        elif field in _V2_META:
            if value is None:
                doc.remove((_V2_META[field],))
            else:
                doc.set((_V2_META[field],), value)
            done.add(field)
    if image is None and fields:
        raise UsageError("sd-metadata has no image object to hold the edit; nothing was "
                         "written")
    entries.put("sd-metadata", doc.text)
    return done
