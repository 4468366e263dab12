"""Service: textual-inversion embeddings in images ("embedding cards") and in embedding files.

A1111 stores an embedding in a card twice (docs/formats.md#embedding-cards): as
base64 JSON in the `sd-ti-embedding` text chunk and as coloured pixel blocks beside the
picture. This package turns either copy into a `TIEmbedding`, writes it out as .safetensors
that A1111, Forge and diffusers load, and builds new cards in A1111's own layout.

`model` holds the embedding, `codec` its dict, JSON and .safetensors encodings, `cards` the
card images and `files` reading inputs and writing files. Everything public is importable
from here, which is where callers should import it from.
"""

from __future__ import annotations

from .cards import (
    MAX_CARD_PIXELS,
    MAX_JSON_BYTES,
    TEXT_KEY,
    CardRead,
    PixelPolicy,
    inspect,
    inspect_raw,
    inspect_record,
    read_card,
)
from .codec import A1111_TOKEN_ID, Layout, dumps_json, from_dict, loads_json, safetensors_bytes
from .files import (
    EmbedResult,
    ExtractResult,
    Source,
    check_name,
    embed,
    extract,
    read_embedding,
)
from .model import BOOKKEEPING, FAMILIES, SDXL_KEYS, TIEmbedding, TIInfo

__all__ = [
    "A1111_TOKEN_ID",
    "BOOKKEEPING",
    "FAMILIES",
    "MAX_CARD_PIXELS",
    "MAX_JSON_BYTES",
    "SDXL_KEYS",
    "TEXT_KEY",
    "CardRead",
    "EmbedResult",
    "ExtractResult",
    "Layout",
    "PixelPolicy",
    "Source",
    "TIEmbedding",
    "TIInfo",
    "check_name",
    "dumps_json",
    "embed",
    "extract",
    "from_dict",
    "inspect",
    "inspect_raw",
    "inspect_record",
    "loads_json",
    "read_card",
    "read_embedding",
    "safetensors_bytes",
]
