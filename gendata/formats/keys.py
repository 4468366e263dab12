"""Dialect layer: which entry keys carry generation data, for `strip` and `copy`.

The keys are the dialects' knowledge, not the containers': a container only knows that a
text chunk has a keyword, not that `invokeai_metadata` holds a prompt.
"""

from __future__ import annotations

from ..containers.raw import RawMetadata

__all__ = ["generation_keys"]

# Text chunk keywords / EXIF tags that carry generation data.
GENERATION_KEYS = frozenset({
    "parameters", "prompt", "workflow", "Dream", "sd-metadata", "invokeai_metadata",
    "invokeai_graph", "sui_image_params", "generation_data", "parameters-json", "smproj",
    "fooocus_scheme", "postprocessing", "extras", "UserComment",
})
# NovelAI spreads its data over generic-sounding chunks; they are its only in its files.
NOVELAI_KEYS = frozenset({"Title", "Description", "Software", "Source", "Generation time",
                          "Comment"})


def generation_keys(raw: RawMetadata) -> frozenset[str]:
    """The keys of `raw` whose entries hold generation data (what `strip` removes)."""
    if raw.text("Software") == "NovelAI":
        return GENERATION_KEYS | NOVELAI_KEYS
    return GENERATION_KEYS
