"""InvokeAI: 1.x `Dream` switches, 2.x `sd-metadata` JSON, 3.x+ `invokeai_metadata` JSON.

docs/formats.md#invokeai. Every key is optional (schema drift across releases). A file with
only `invokeai_graph`/`invokeai_workflow` is recognised but yields just a note.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..containers.raw import Changes, RawMetadata
from ..errors import ParseError
from ._util import (
    FieldTable,
    build,
    loads,
    new_lora,
    positive_int,
    read_fields,
    stamp,
    str_or_none,
    to_float,
    to_int,
    unread,
)

if TYPE_CHECKING:
    from ..model import GenParams, Lora

NAME = "invokeai"
DISPLAY_NAME = "InvokeAI"
KEYS = frozenset({"Dream", "sd-metadata", "invokeai_metadata", "invokeai_graph"})
MARKERS: tuple[str, ...] = ()  # only its own chunks

# Longest InvokeAI 1.x `Dream` command line parsed (docs/guide.md#limits): real ones are a
# few hundred characters.
MAX_DREAM_CHARS = 64 * 1024
_KEYS = ("invokeai_metadata", "sd-metadata", "Dream", "invokeai_graph", "invokeai_workflow")


def score(raw: RawMetadata) -> float:
    texts = {k: v for k, v in raw.texts().items() if k in _KEYS and v.strip()}
    if "invokeai_metadata" in texts or "sd-metadata" in texts:
        return 0.95 if any(v.lstrip().startswith("{") for v in texts.values()) else 0.0
    if "Dream" in texts:
        return 0.9
    if "invokeai_graph" in texts or "invokeai_workflow" in texts:
        return 0.7
    return 0.0


def _model_name(model: Any) -> tuple[str | None, str | None]:
    if isinstance(model, str):
        return model, None
    if isinstance(model, dict):
        name = model.get("name") or model.get("model_name")
        h = model.get("hash")
        return (name if isinstance(name, str) else None), (h if isinstance(h, str) else None)
    return None, None


_V3: FieldTable = {
    "width": ("width", positive_int),
    "height": ("height", positive_int),
    "seed": ("seed", to_int),
    "cfg_scale": ("cfg_scale", to_float),
    "steps": ("steps", positive_int),
    # InvokeAI's "scheduler" names the sampling algorithm (euler, euler_a),
    # docs/formats.md#invokeai.
    "sampler": ("scheduler", str_or_none),
    "clip_skip": ("clip_skip", positive_int),
    "version": ("app_version", str_or_none),
}


def _v3(meta: dict[str, Any]) -> GenParams:
    model, model_hash = _model_name(meta.get("model"))
    loras: list[Lora] = []
    for entry in meta.get("loras") or []:
        if not isinstance(entry, dict):
            continue
        name, h = _model_name(entry.get("model") or entry.get("lora"))
        if name:
            loras.append(new_lora(name=name, weight=to_float(entry.get("weight")), hash=h))
    vae, vae_hash = _model_name(meta.get("vae"))
    positive = meta.get("positive_prompt", meta.get("positive_conditioning", ""))
    negative = meta.get("negative_prompt", meta.get("negative_conditioning", ""))
    rest = unread(
        meta,
        _V3,
        "positive_prompt",
        "negative_prompt",
        "positive_conditioning",
        "negative_conditioning",
        "model",
        "vae",
        "loras",
        "strength",
    )
    extra = {k: v for k, v in rest.items() if isinstance(v, (str, int, float, bool))}
    strength = to_float(meta.get("strength"))
    mode = str(meta.get("generation_mode", ""))
    return build(
        NAME,
        {
            "prompt": positive if isinstance(positive, str) else "",
            "negative_prompt": negative if isinstance(negative, str) else "",
            **read_fields(meta, _V3),
            "model": model,
            "model_hash": model_hash,
            "vae": vae,
            "vae_hash": vae_hash,
            "loras": loras,
            "denoising_strength": strength if ("img2img" in mode or "inpaint" in mode) else None,
        },
        extra=extra,
    )


def _split_negative(prompt: str) -> tuple[str, str]:
    """Dream/2.x prompts carry the negative in square brackets: `text [neg, neg]`."""
    negs = re.findall(r"\[([^\[\]]*)\]", prompt)
    if not negs:
        return prompt.strip(), ""
    # `(?<!\s)`: the spaces before a group go with it, matched from the first one only, so a
    # long run of spaces is not rescanned from each of its positions.
    positive = re.sub(r"(?<!\s)\s*\[[^\[\]]*\]", "", prompt).strip()
    return positive, ", ".join(n.strip() for n in negs)


# sd-metadata keeps the sampling values in its `image` object and the model beside it.
_V2_IMAGE: FieldTable = {
    "steps": ("steps", positive_int),
    "cfg_scale": ("cfg_scale", to_float),
    "seed": ("seed", to_int),
    "width": ("width", positive_int),
    "height": ("height", positive_int),
    "sampler": ("sampler", str_or_none),
}
_V2_META: FieldTable = {
    "model": ("model_weights", str_or_none),
    "model_hash": ("model_hash", str_or_none),
    "version": ("app_version", str_or_none),
}


def _v2(meta: dict[str, Any]) -> GenParams:
    image = meta["image"] if isinstance(meta.get("image"), dict) else {}
    prompt_val = image.get("prompt")
    if isinstance(prompt_val, list):
        text = " ".join(p.get("prompt", "") for p in prompt_val if isinstance(p, dict))
    else:
        text = prompt_val if isinstance(prompt_val, str) else ""
    positive, negative = _split_negative(text)
    notes = [] if image else ["sd-metadata has no image object"]
    return build(
        NAME,
        {
            "prompt": positive,
            "negative_prompt": negative,
            **read_fields(image, _V2_IMAGE),
            **read_fields(meta, _V2_META),
        },
        extra={"postprocessing": image.get("postprocessing")}
        if image.get("postprocessing")
        else None,
        notes=notes,
    )


_DREAM_SWITCHES = {
    "-s": "steps",
    "--steps": "steps",
    "-S": "seed",
    "--seed": "seed",
    "-W": "width",
    "--width": "width",
    "-H": "height",
    "--height": "height",
    "-C": "cfg_scale",
    "--cfg_scale": "cfg_scale",
    "-A": "sampler",
    "--sampler": "sampler",
    "-f": "strength",
    "--strength": "strength",
}


def _dream(text: str) -> GenParams:
    import shlex

    if len(text) > MAX_DREAM_CHARS:  # shlex splits some 100 KB a second
        raise ParseError(f"Dream: a command line of {len(text):,} characters is longer than "
                         f"the {MAX_DREAM_CHARS:,} gendata reads")
    try:
        tokens = shlex.split(text)
    except ValueError as exc:
        raise ParseError(f"Dream: cannot split the command line ({exc})") from None
    if not tokens:
        raise ParseError("Dream: empty")
    prompt_parts: list[str] = []
    values: dict[str, str] = {}
    extra: dict[str, Any] = {}
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        # A switch with a newline inside never matched (`.` stops there, `$` is the end);
        # checking first keeps the pattern from backtracking over a long token.
        m = None if "\n" in tok[:-1] else re.match(r"^(-[A-Za-z]{1,2}|--[a-z_]+)(.*)$", tok)
        if m and not re.fullmatch(r"-?\d+(\.\d+)?", tok):
            switch, attached = m.group(1), m.group(2)
            args: list[str] = [attached] if attached else []
            j = i + 1
            while j < len(tokens) and not re.match(r"^-[A-Za-z-]", tokens[j]):
                args.append(tokens[j])
                j += 1
            i = j
            field = _DREAM_SWITCHES.get(switch)
            if field and args:
                values[field] = args[0]
            else:
                extra[switch.lstrip("-")] = " ".join(args) if args else True
            continue
        prompt_parts.append(tok)
        i += 1
    positive, negative = _split_negative(" ".join(prompt_parts))
    return build(
        NAME,
        {
            "prompt": positive,
            "negative_prompt": negative,
            "steps": positive_int(values.get("steps")),
            "seed": to_int(values.get("seed")),
            "width": positive_int(values.get("width")),
            "height": positive_int(values.get("height")),
            "cfg_scale": to_float(values.get("cfg_scale")),
            "sampler": values.get("sampler"),
            "denoising_strength": to_float(values.get("strength")),
        },
        extra=extra,
    )


def parse(raw: RawMetadata) -> GenParams:
    params = _parse(raw)
    texts = raw.texts()
    key = next((k for k in _KEYS if k in texts), "invokeai_metadata")
    return stamp(params, NAME, key, texts.get(key, ""))


def _parse(raw: RawMetadata) -> GenParams:
    texts = raw.texts()
    if "invokeai_metadata" in texts:
        meta = loads(texts["invokeai_metadata"], "invokeai_metadata")
        if not isinstance(meta, dict):
            raise ParseError("invokeai_metadata: expected a JSON object")
        return _v3(meta)
    if "sd-metadata" in texts:
        meta = loads(texts["sd-metadata"], "sd-metadata")
        if not isinstance(meta, dict):
            raise ParseError("sd-metadata: expected a JSON object")
        params = _v2(meta)
        if "Dream" in texts and not params.prompt:
            return _dream(texts["Dream"])
        return params
    if "Dream" in texts:
        return _dream(texts["Dream"])
    for key in ("invokeai_graph", "invokeai_workflow"):
        if key in texts:
            found = _from_graph(texts[key], key)
            if found is not None:
                return found
    if "invokeai_graph" in texts or "invokeai_workflow" in texts:
        return build(
            NAME,
            {},
            notes=[
                "the InvokeAI graph/workflow holds no denoise node gendata can follow; "
                "gendata reads InvokeAI parameters from invokeai_metadata"
            ],
        )
    raise ParseError("no InvokeAI metadata")


def _from_graph(text: str, key: str) -> GenParams | None:
    """Parameters of a file that has only the graph (or the editor workflow): its metadata
    node when it has one, else what its first pass ran (invokeai_graph.walk)."""
    from .invokeai_graph import core_metadata, walk

    graph = loads(text, key)
    if not isinstance(graph, dict):
        raise ParseError(f"{key}: expected a JSON object")
    if key == "invokeai_workflow" and isinstance(graph.get("graph"), dict):
        graph = graph["graph"]
    meta = core_metadata(graph)
    if meta is not None:
        params = _v3({k: v for k, v in meta[0].items() if k not in ("id", "type")})
    else:
        found, loras = walk(graph)
        if not found:
            return None
        values = {field: value for field, (value, _paths) in found.items()}
        params = build(NAME, {
            "prompt": values.get("prompt", ""),
            "negative_prompt": values.get("negative_prompt", ""),
            "steps": positive_int(values.get("steps")),
            "cfg_scale": to_float(values.get("cfg_scale")),
            "sampler": str_or_none(values.get("sampler")),
            "seed": to_int(values.get("seed")),
            "width": positive_int(values.get("width")),
            "height": positive_int(values.get("height")),
            "model": str_or_none(values.get("model")),
            "denoising_strength": to_float(values.get("denoising_strength")),
            "loras": [new_lora(name=lo["name"], weight=to_float(lo.get("weight")))
                      for lo in loras],
        })
    params.notes.append(f"read from {key}: the file has no invokeai_metadata")
    return params


def edit(raw: RawMetadata, params: GenParams, *, node: str | None = None) -> Changes:
    """Write the edit into every InvokeAI record of the file (invokeai_edit)."""
    from .invokeai_edit import edit as _edit

    return _edit(raw, params, _parse(raw), node=node)
