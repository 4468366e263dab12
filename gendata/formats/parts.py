"""Dialect layer: the parts of a file's generation data `strip --only/--keep` names.

- `prompt`: the positive and negative prompt text. Not an entry of its own in most dialects
  (it sits inside the parameters text, the ComfyUI graph, the NovelAI Comment), so it is
  blanked in place by the file's own dialect (formats/editing.py), everything around it
  kept: a ComfyUI image shared without its prompts still loads with its graph.
- `workflow`: editor graphs, which can be tens of KiB: ComfyUI's `workflow` (also behind a
  `workflow:` prefix in EXIF), InvokeAI's `invokeai_workflow`, Stability Matrix's project
  (`smproj`).
- `parameters`: every other entry that holds generation data.
- any other name: the entry with that key, whatever it holds.
"""

from __future__ import annotations

from collections.abc import Collection

from ..containers import removals
from ..containers.raw import Changes, RawMetadata
from ..errors import UsageError
from ._util import split_prefix
from .keys import generation_keys

__all__ = ["PARTS", "WORKFLOW_KEYS", "part_keys", "strip_plan"]

PARTS = ("prompt", "workflow", "parameters")
WORKFLOW_KEYS = frozenset({"workflow", "invokeai_workflow", "smproj"})


def _labelled(raw: RawMetadata, label: str) -> set[str]:
    """Keys of entries whose text starts with `label:` (ComfyUI's WebP EXIF tags)."""
    out = set()
    for entry in raw.entries:
        if entry.text:
            prefix, _ = split_prefix(entry.text[:64])
            if prefix is not None and prefix.lower() == label:
                out.add(entry.key)
    return out


def _present(raw: RawMetadata) -> set[str]:
    keys = generation_keys(raw)
    return {e.key for e in raw.entries if e.key in keys} | _labelled(raw, "workflow") | (
        _labelled(raw, "prompt"))


def part_keys(raw: RawMetadata, part: str) -> set[str]:
    """The keys of `raw`'s entries that make up `part` (see the module docstring)."""
    if part == "workflow":
        return {e.key for e in raw.entries if e.key in WORKFLOW_KEYS} | _labelled(raw, "workflow")
    if part == "parameters":
        return _present(raw) - part_keys(raw, "workflow")
    return {e.key for e in raw.entries if e.key == part}


def strip_plan(raw: RawMetadata, *, only: Collection[str] | None = None,
               keep: Collection[str] | None = None) -> tuple[Changes, list[str]]:
    """(the Changes, what they do in words) for `strip --only`/`--keep`."""
    if only and keep:
        raise UsageError("--only and --keep name what to remove and what to keep; give one")
    if keep is not None and "prompt" in keep:
        raise UsageError("--keep takes workflow, parameters or entry keys; the prompt lives "
                         "inside them (`--only workflow` keeps the rest)")
    names = list(only or keep or [])
    if not names:
        raise UsageError("name at least one part: prompt, workflow, parameters or an entry key")
    if only is not None:
        remove = set().union(*(part_keys(raw, n) for n in names if n != "prompt"))
    else:
        remove = _present(raw) - set().union(*(part_keys(raw, n) for n in names))
    sets: dict[str, str] = {}
    if only is not None and "prompt" in names:
        sets = {k: v for k, v in _blanked(raw).items() if k not in remove}
    changes = Changes(set=sets, remove=frozenset(remove))
    planned = removals(raw, Changes(remove=frozenset(remove)))
    planned += [f"blanked the prompts in {key}" for key in sets]
    return changes, planned


def _blanked(raw: RawMetadata) -> dict[str, str]:
    """Entry key -> text with the prompts emptied, in the file's own dialect."""
    from . import detect, edit_changes

    params = detect(raw)
    if params is None or not (params.prompt or params.negative_prompt):
        return {}
    changes = edit_changes(raw, params.edited(prompt="", negative_prompt=""))
    return dict(changes.set)
