"""Service: rewrite any generator's parameters as an A1111 infotext, in place or into a copy.

A1111 text (docs/formats.md#a1111-infotext) is what Civitai, A1111's PNG Info and most
browsers read, so a ComfyUI, NovelAI or SwarmUI image converted this way shows its prompt and
resources there.
Graph dialects keep their LoRAs outside the prompt; here they become `<lora:name:weight>`
tags (and `Lora hashes` where a hash is known), the way A1111 records them.

Same container: only the generation text changes; other chunks stay unless `replace`, which
first removes the original generator's chunks. Another container (`-o out.jpg`): the pixels
are re-encoded (the one unavoidable lossy step; PNG -> WebP is lossless) and the A1111 text
is written into the new file.
"""

from __future__ import annotations

import io
import os
import re
import shutil
from pathlib import Path
from typing import Any, BinaryIO

from PIL import Image

from . import api
from .containers.atomic import write_atomic
from .errors import ContainerError, UsageError
from .model import GenParams, Lora

PathLike = str | os.PathLike[str]
TARGETS = ("a1111",)
_A1111_FAMILY = {"a1111", "forge", "forge-neo", "forge-classic", "reforge", "sdnext"}
_TAG_RE = re.compile(r"<(?:lora|lyco):([^:>]+)", re.IGNORECASE)
_EXTENSIONS = re.compile(r"\.(safetensors|ckpt|pt|pth|bin)$", re.IGNORECASE)


def _stem(name: str) -> str:
    return _EXTENSIONS.sub("", re.split(r"[\\/]", name)[-1])


def _fmt(weight: float | None) -> str:
    if weight is None:
        return "1"
    return f"{weight:g}"


def as_a1111(params: GenParams) -> GenParams:
    """The same parameters, shaped so `a1111.dump` writes everything A1111 can express."""
    from .formats.a1111 import InfotextOrigin

    if isinstance(params.origin, InfotextOrigin):
        return params  # already A1111-style text: keep its exact wording
    tagged = {_stem(n).lower() for n in _TAG_RE.findall(params.prompt)}
    tags: list[str] = []
    loras: list[Lora] = []
    for lo in params.loras:
        stem = _stem(lo.name)
        loras.append(lo.model_copy(update={"name": stem}))
        if stem.lower() in tagged or lo.kind not in ("lora", "lyco"):
            continue
        weights = _fmt(lo.weight)
        if lo.unet_weight is not None and lo.unet_weight != lo.weight:
            weights += f":{_fmt(lo.unet_weight)}"
        tags.append(f"<{lo.kind}:{stem}:{weights}>")
    prompt = params.prompt
    if tags:
        prompt = (prompt.rstrip() + (" " if prompt.strip() else "") + " ".join(tags)).strip()
    from .formats.infotext_write import writable_key

    extra: dict[str, Any] = {}
    for key, value in params.extra.items():  # keys an infotext can carry, the first of a name
        spelled = writable_key(key)
        if spelled is not None:
            extra.setdefault(spelled, value)
    if params.generator and params.generator not in _A1111_FAMILY:
        extra.setdefault("Converted from", params.generator)
    out = params.model_copy(update={"prompt": prompt, "loras": loras, "extra": extra})
    out.origin = None
    return out


def _reencode(src: PathLike, dst: PathLike, kind: str) -> None:
    try:
        with Image.open(src) as im:
            im.load()
            buf = io.BytesIO()
            if kind == "jpeg":
                rgb = im.convert("RGB")
                rgb.save(buf, format="JPEG", quality=95)
            elif kind == "webp":
                conv = im.convert("RGBA" if "A" in im.getbands() else "RGB")
                conv.save(buf, format="WEBP", lossless=True)
            else:
                im.save(buf, format="PNG")
    except (OSError, ValueError) as exc:
        raise ContainerError(f"{src}: cannot re-encode the pixels: {exc}") from None
    data = buf.getvalue()

    def produce(f: BinaryIO) -> None:
        f.write(data)

    write_atomic(dst, produce)


def convert(path: PathLike, *, to: str = "a1111", output: PathLike | None = None,
            replace: bool = False) -> tuple[str, list[str]]:
    """Write `path`'s parameters as `to` into `output` (default: in place).

    Returns (the text written, what changed). Raises UsageError when the file has no
    generation data or the target is unknown.
    """
    if to not in TARGETS:
        raise UsageError(f"cannot convert to {to!r}; supported: {', '.join(TARGETS)}")
    rec = api.read(path)
    if rec.params is None:
        raise UsageError(rec.error or f"{path}: has no generation data to convert")
    params = as_a1111(rec.params)
    text = api.dump_a1111(params)
    src_kind = rec.container or api.container_of(path)
    dst = Path(output) if output is not None else Path(path)
    dst_kind = api.container_of_name(dst) or src_kind
    changes: list[str] = []
    work: PathLike = path
    if dst_kind != src_kind:
        _reencode(path, dst, dst_kind)
        changes.append(f"re-encoded {src_kind.upper()} pixels as {dst_kind.upper()}")
        work = dst
    elif replace:
        if output is not None and Path(output) != Path(path):
            shutil.copyfile(path, dst)
            work = dst
        removed = api.strip(work)
        changes += [f"removed {r}" for r in removed]
    if Path(work) == dst:
        changes += api.write_text(dst, text)
    else:
        changes += api.write_text(work, text, output=dst)
    return text, changes
