"""SwarmUI: `sui_image_params` JSON in `parameters` or UserComment (docs/formats.md#swarmui).

The JPEG/WebP UserComment is UTF-16LE (the container layer decodes it); old releases put
the JSON in EXIF Model and kept `date`/`generation_time` inside `sui_image_params`. The
ComfyUI `prompt` chunk the ComfyUI backend adds is ignored here: SwarmUI's own record is
the one the user set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..containers.raw import Changes, RawEntry, RawMetadata
from ..errors import ParseError
from ._util import (
    FieldTable,
    basename,
    build,
    get_str,
    loads,
    new_lora,
    positive_int,
    read_fields,
    stamp,
    str_or_empty,
    str_or_none,
    to_float,
    to_int,
    try_loads,
    unread,
)

if TYPE_CHECKING:
    from ..model import GenParams, Lora

NAME = "swarmui"
DISPLAY_NAME = "SwarmUI"
KEYS = frozenset({"sui_image_params", "parameters", "UserComment"})
MARKERS = ("sui_image_params",)

_FIELDS: FieldTable = {
    "prompt": ("prompt", str_or_empty),
    "negative_prompt": ("negativeprompt", str_or_empty),
    "seed": ("seed", to_int),
    "steps": ("steps", positive_int),
    "cfg_scale": ("cfgscale", to_float),
    "scheduler": ("scheduler", str_or_none),
    "variation_seed": ("variationseed", to_int),
    "variation_seed_strength": ("variationseedstrength", to_float),
    "denoising_strength": ("initimagecreativity", to_float),
    "vae": ("vae", str_or_none),
    "version": ("swarm_version", str_or_none),
}


_REFINER_READ = ("refinerupscale", "refinersteps", "refinerupscalemethod")


def _find(raw: RawMetadata) -> dict[str, Any] | None:
    found = _record(raw)
    return found[1] if found else None


def _record(raw: RawMetadata) -> tuple[RawEntry, dict[str, Any]] | None:
    """(the entry holding SwarmUI's JSON, the JSON)."""
    for entry in raw.entries:
        if entry.text and "sui_image_params" in entry.text:
            data = try_loads(entry.text)
            if isinstance(data, dict) and isinstance(data.get("sui_image_params"), dict):
                return entry, data
    return None


def score(raw: RawMetadata) -> float:
    for entry in raw.entries:
        if entry.text and "sui_image_params" in entry.text[:4096]:
            return 0.95
    return 0.0


def parse(raw: RawMetadata) -> GenParams:
    found = _record(raw)
    params = _parse(raw, found)
    assert found is not None  # _parse raised otherwise
    return stamp(params, NAME, found[0].key, found[0].text or "")


def _refiner(p: dict[str, Any], width: int | None, height: int | None,
             raw: RawMetadata) -> dict[str, Any]:
    """The refiner pass as hires fields: `refinerupscale` scales the first pass's width and
    height (the saved image has the upscaled size), `refinersteps`, `refinerupscalemethod`
    and `refinercontrolpercentage` (how much of the pass is re-run) as written."""
    upscale = to_float(p.get("refinerupscale"))
    if "refinercontrolpercentage" not in p and upscale is None:
        return {}
    out: dict[str, Any] = {
        "hires_steps": positive_int(p.get("refinersteps")),
        "hires_upscaler": p.get("refinerupscalemethod") if isinstance(
            p.get("refinerupscalemethod"), str) else None,
    }
    if upscale is not None and upscale > 0 and upscale != 1:
        out["hires_upscale"] = upscale
        if width and height:
            w, h = round(width * upscale), round(height * upscale)
            # SwarmUI rounds the upscaled size; the saved image says what it came to
            if raw.width and raw.height and abs(raw.width - w) <= 16 and abs(
                    raw.height - h) <= 16:
                w, h = raw.width, raw.height
            out["hires_width"], out["hires_height"] = w, h
    return out


def _parse(raw: RawMetadata, found: tuple[RawEntry, dict[str, Any]] | None = None
           ) -> GenParams:
    data = found[1] if found is not None else _find(raw)
    if data is None:
        for entry in raw.entries:
            if entry.text and "sui_image_params" in entry.text:
                loads(entry.text, f"{entry.location} {entry.key}")  # raises a precise ParseError
        raise ParseError("SwarmUI: sui_image_params is not a JSON object")
    p = data["sui_image_params"]
    extra_data = data["sui_extra_data"] if isinstance(data.get("sui_extra_data"), dict) else {}
    unused = extra_data.get("unused_parameters") or p.get("unused_parameters") or []
    unused = {u for u in unused if isinstance(u, str)} if isinstance(unused, list) else set()
    models = data["sui_models"] if isinstance(data.get("sui_models"), list) else []
    model_hash = None
    for m in models:
        if isinstance(m, dict) and m.get("param") == "model" and isinstance(m.get("hash"), str):
            model_hash = m["hash"]
    loras: list[Lora] = []
    names = p["loras"] if isinstance(p.get("loras"), list) else []
    weights = p["loraweights"] if isinstance(p.get("loraweights"), list) else []
    for i, name in enumerate(names):
        if isinstance(name, str):
            w = to_float(weights[i]) if i < len(weights) else None
            h = None
            for m in models:
                if (
                    isinstance(m, dict)
                    and m.get("param") == "loras"
                    and str(m.get("name", "")).startswith(name)
                ):
                    h = get_str(m, "hash")
            loras.append(new_lora(name=name, weight=w, hash=h))
    sampler = p.get("sampler") or p.get("comfyuisampler") or p.get("autowebuisampler")
    width = None if "width" in unused else positive_int(p.get("width"))
    height = None if "height" in unused else positive_int(p.get("height"))
    notes = []
    if width is None and positive_int(p.get("sidelength")):
        notes.append("size set through sidelength/aspect ratio; width/height were not used")
    extra = unread(
        p,
        _FIELDS,
        "model",
        "width",
        "height",
        "sampler",
        "comfyuisampler",
        "autowebuisampler",
        "loras",
        "loraweights",
        *_REFINER_READ,
    )
    for k, v in extra_data.items():
        extra.setdefault(f"sui_extra_data.{k}", v)
    model = get_str(p, "model")
    return build(
        NAME,
        {
            **read_fields(p, _FIELDS),
            "model": basename(model) if model and "/" in model else model,
            "model_hash": model_hash,
            "width": width,
            "height": height,
            "sampler": sampler if isinstance(sampler, str) else None,
            "loras": loras,
            **_refiner(p, width, height, raw),
        },
        extra=extra,
        notes=notes,
    )


# --- writing it back -------------------------------------------------------------------

_P = "sui_image_params"
# What the ComfyUI graph SwarmUI's ComfyUI backend saves beside its record also holds.
_GRAPH_FIELDS = ("prompt", "negative_prompt", "seed", "steps", "cfg_scale", "sampler",
                 "scheduler", "width", "height", "denoising_strength")


def _targets(doc: Any) -> dict[str, Any]:
    targets: dict[str, Any] = {field: (_P, key) for field, (key, _) in _FIELDS.items()}
    sampler = next((k for k in ("sampler", "comfyuisampler", "autowebuisampler")
                    if isinstance(doc.get((_P, k)), str)), "sampler")
    targets.update({"model": (_P, "model"), "width": (_P, "width"), "height": (_P, "height"),
                    "sampler": (_P, sampler), "hires_upscale": (_P, "refinerupscale"),
                    "hires_steps": (_P, "refinersteps"),
                    "hires_upscaler": (_P, "refinerupscalemethod")})
    models = doc.get(("sui_models",))
    for i, m in enumerate(models if isinstance(models, list) else []):
        if isinstance(m, dict) and m.get("param") == "model" and isinstance(m.get("hash"), str):
            targets["model_hash"] = ("sui_models", i, "hash")
    return targets


def _extra_path(key: str) -> tuple[str, ...] | None:
    if key.startswith("sui_extra_data."):
        return ("sui_extra_data", key[len("sui_extra_data."):])
    return (_P, key)


def edit(raw: RawMetadata, params: GenParams, *, node: str | None = None) -> Changes:
    """Rewrite the changed values in SwarmUI's JSON (`parameters` in a PNG, UserComment in
    a JPEG/WebP), in place; a ComfyUI graph saved beside it follows where it can."""
    from .editing import (
        Entries,
        apply_extra,
        apply_json,
        changed_fields,
        extra_changes,
        graph_changes,
        merge,
    )
    from .jsonedit import JsonText

    found = _record(raw)
    if found is None:
        raise ParseError("SwarmUI: sui_image_params is not a JSON object")
    entry = found[0]
    old = _parse(raw, found)
    fields = changed_fields(old, params)
    entries = Entries(raw)
    doc = JsonText(entry.text or "", f"{entry.location} {entry.key}")
    apply_json(doc, fields, _targets(doc), DISPLAY_NAME)
    apply_extra(doc, extra_changes(old, params), _extra_path, DISPLAY_NAME)
    entries.put(entry.key, doc.text)
    graph = {f: v for f, v in fields.items() if f in _GRAPH_FIELDS}
    from ..errors import UsageError

    try:  # SwarmUI reads its own record; the graph is a copy kept in step where it can be
        beside = graph_changes(raw, {"prompt"} - {entry.key}, graph, NAME, node=node)
    except UsageError:
        if node is not None:
            raise
        beside = Changes()
    return merge(beside, entries.changes())
