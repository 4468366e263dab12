"""Dialect layer: network tags in a prompt (`<lora:name:0.8>`, `<lyco:...>`,
`<hypernet:...>`) and the `Lora hashes` lists beside them (docs/formats.md#networks-and-hashes).

A1111 keeps LoRAs in the prompt text rather than in the settings line; every dialect that
carries an A1111-style prompt reads its networks here.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .infotext_fields import to_float

if TYPE_CHECKING:
    from ..model import Lora

__all__ = ["lora_hash_map", "network_tag_fields", "network_tags"]

_NET_TAG = re.compile(r"<(lora|lyco|hypernet):([^>]+)>", re.IGNORECASE)


def lora_hash_map(value: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in value.split(","):
        name, sep, h = item.partition(":")
        if sep and name.strip():
            out[name.strip()] = h.strip()
    return out


def _float_or_none(s: str) -> float | None:
    try:
        return to_float(s)
    except ValueError:
        return None


def network_tags(prompt: str, hashes: dict[str, str] | None = None) -> list[Lora]:
    """`<lora:name:te[:unet]>`, `<lyco:...>`, `<hypernet:name:w>` tags of a prompt
    (docs/formats.md#networks-and-hashes)."""
    from ..model import Lora

    return [Lora.model_validate(kw) for kw in network_tag_fields(prompt, hashes)]


def network_tag_fields(prompt: str, hashes: dict[str, str] | None = None
                        ) -> list[dict[str, Any]]:
    """The Lora fields of each network tag, as `network_tags` passes them to the model."""
    hashes = hashes or {}
    out: list[dict[str, Any]] = []
    if "<" not in prompt:
        return out
    # A tag ends at the first ">" after it: none can end past the last one, and searching
    # beyond it would rescan the rest of the text from every unclosed "<lora:".
    for m in _NET_TAG.finditer(prompt, 0, prompt.rfind(">") + 1):
        kind = m.group(1).lower()
        args = m.group(2).split(":")
        name = args[0].strip()
        positional = [a for a in args[1:] if "=" not in a]
        named = dict(a.split("=", 1) for a in args[1:] if "=" in a)
        weight = _float_or_none(positional[0]) if positional else 1.0
        if weight is None and "te" in named:
            weight = _float_or_none(named["te"])
        unet = _float_or_none(positional[1]) if len(positional) > 1 else None
        if unet is None and "unet" in named:
            unet = _float_or_none(named["unet"])
        key = name.replace(":", "").replace(",", "")
        out.append({"name": name, "weight": weight, "unet_weight": unet,
                    "hash": hashes.get(key), "kind": kind})
    return out
