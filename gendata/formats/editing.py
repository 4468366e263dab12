"""Dialect layer: writing an edited model back into the entries its dialect read it from.

A dialect that can write declares `edit(raw, params, *, node=None) -> Changes`: given the
file's entries and the edited model, it works out which fields changed (against its own
`parse(raw)`), rewrites only those values in its own text, in its own layout, and returns
the entries to set as container-neutral Changes. Untouched text stays character for
character, so setting a value and then setting it back gives the original entries.

`edit_changes` picks the dialect from `params.origin.dialect`; A1111-family text (an
InfotextOrigin, or a model with no origin: a file that had no data) is written by the A1111
dialect's `dump`. What a dialect cannot write it refuses with UsageError naming the field:
nothing is written then.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..containers.raw import Changes, RawMetadata
from ..errors import UsageError
from ..model_fields import SCALAR_FIELDS

if TYPE_CHECKING:
    from ..model import GenParams
    from .jsonedit import JsonText, Path

__all__ = [
    "Entries",
    "can_edit",
    "changed_fields",
    "edit_changes",
    "edit_refusal",
    "extra_changes",
    "graph_changes",
    "infotext_changes",
    "is_infotext",
    "refuse",
]

# Fields a user edits (`set`, the TUI form): everything but which generator wrote the file.
EDITABLE = tuple(f for f in SCALAR_FIELDS if f != "generator")


def _route(params: GenParams) -> str | None:
    """"a1111" for A1111-family text (or a fresh model for a file that had none), else the
    dialect that read `params`; None for a model no dialect can write back (built in code
    for a generator other than A1111)."""
    from .infotext_scan import InfotextOrigin

    origin = params.origin
    if origin is None:
        return "a1111" if params.generator in (None, "a1111") else None
    if isinstance(origin, InfotextOrigin) and origin.dialect == "a1111":
        return "a1111"
    return origin.dialect


def is_infotext(params: GenParams) -> bool:
    """Whether `params` is written back as A1111 text (A1111-family, or a fresh model)."""
    return _route(params) == "a1111"


def edit_refusal(params: GenParams) -> str | None:
    """Why `params` cannot be written back in its own dialect, or None when it can."""
    name = _route(params)
    if name == "a1111":
        return None
    from . import dialect, display_name

    if name is None or getattr(dialect(name), "edit", None) is None:
        shown = display_name(params.generator or name or "")
        return (f"holds {shown} data, which gendata cannot edit in place; `gendata convert "
                "--to a1111 --replace` rewrites it as A1111 parameters first")
    return None


def can_edit(params: GenParams) -> bool:
    return edit_refusal(params) is None


def edit_changes(raw: RawMetadata, params: GenParams, *, node: str | None = None) -> Changes:
    """The Changes that write `params` into the file `raw` was read from, in the dialect
    that read it (see the module docstring)."""
    name = _route(params)
    if name == "a1111":
        if node is not None:
            raise UsageError("--node names a node of a ComfyUI graph; this file holds "
                             "A1111-style text")
        return infotext_changes(params)
    refusal = edit_refusal(params)
    if refusal is not None or name is None:
        raise UsageError(refusal or "cannot edit this data in place")
    from . import dialect

    changes = dialect(name).edit(raw, params, node=node)
    _check_readback(raw, params, changes)
    return changes


def _check_readback(raw: RawMetadata, params: GenParams, changes: Changes) -> None:
    """Refuse an edit that would not read back as asked. A dialect may find where a value
    sits and still not be the one whose reading wins (a saver's text beside a graph that a
    custom node computes): what you set must be what you read back, so the edited entries
    are read again, as a reader would, before anything is written."""
    from . import detect

    texts = {**changes.set, **{k: v for k, v in changes.mirror.items()
                               if raw.text(k) is not None}}
    if not texts and not changes.remove:
        return
    entries = [e.replace(text=texts.pop(e.key)) if e.key in texts and e.text is not None
               else e for e in raw.entries if e.key not in changes.remove or e.key in texts]
    entries += [raw.entries[0].replace(key=k, text=t) for k, t in texts.items()
                if raw.entries]
    again = detect(RawMetadata(raw.container, entries, raw.width, raw.height))
    for field in EDITABLE:
        want = getattr(params, field)
        got = getattr(again, field, None) if again is not None else None
        if got != want and not (isinstance(got, float | int) and isinstance(want, float | int)
                                and float(got) == float(want)):
            raise UsageError(f"{field}: the file would read back {got!r}, not {want!r}, "
                             "because another part of its data decides it; nothing was "
                             "written")


def infotext_changes(params: GenParams, key: str = "parameters") -> Changes:
    """A1111 text goes to `parameters`, or UserComment where the container has no text
    chunks; a PNG's EXIF UserComment, which A1111 readers prefer, must not go stale."""
    from .a1111 import dump

    text = dump(params)
    return Changes(set={key: text}, mirror={"UserComment": text},
                   fallback={key: "UserComment"})


# --- what changed ----------------------------------------------------------------------

def changed_fields(old: GenParams, new: GenParams) -> dict[str, Any]:
    """Field -> new value for every editable scalar field whose value changed. LoRA, sampler
    pass and embedding lists cannot be edited in a dialect's own text: a change there is
    refused rather than lost."""
    out = {f: getattr(new, f) for f in EDITABLE if getattr(old, f) != getattr(new, f)
           or type(getattr(old, f)) is not type(getattr(new, f))}
    for name in ("loras", "embeddings", "samplers"):
        if getattr(old, name) != getattr(new, name):
            raise UsageError(f"{name} cannot be edited in place in this dialect; edit the "
                             "fields they come from")
    return out


def extra_changes(old: GenParams, new: GenParams) -> dict[str, Any]:
    """Extra key -> new value (MISSING from jsonedit when the key was removed)."""
    from .jsonedit import MISSING

    out: dict[str, Any] = {}
    for key, value in new.extra.items():
        if key not in old.extra or old.extra[key] != value:
            out[key] = value
    for key in old.extra:
        if key not in new.extra:
            out[key] = MISSING
    return out


def refuse(display: str, field: str, why: str = "") -> UsageError:
    """The error for a field a dialect cannot write: it names the field."""
    reason = why or f"{display} files have no place for it"
    return UsageError(f"cannot set {field}: {reason}; nothing was written")


class Entries:
    """The texts of a file's entries as an edit goes: reads the current text, takes new
    text, and gives the Changes of the entries whose text really changed."""

    def __init__(self, raw: RawMetadata) -> None:
        self.raw = raw
        self._new: dict[str, str] = {}

    def text(self, key: str) -> str | None:
        if key in self._new:
            return self._new[key]
        return self.raw.text(key)

    def put(self, key: str, text: str) -> None:
        self._new[key] = text

    def changes(self) -> Changes:
        return Changes(set={k: v for k, v in self._new.items() if v != self.raw.text(k)})


# --- text other dialects embed ---------------------------------------------------------

def infotext_edit(text: str, fields: Mapping[str, Any], extra: Mapping[str, Any] | None = None
                  ) -> str:
    """An A1111-style text (Civitai's, Fooocus' a1111 scheme, Stability Matrix's) with
    `fields` set, rewritten as the A1111 dialect rewrites its own: only the entries that
    change."""
    from .a1111 import dump, parse_text
    from .jsonedit import MISSING

    params = parse_text(text)
    if extra:
        merged = dict(params.extra)
        for key, value in extra.items():
            if value is MISSING:
                merged.pop(key, None)
            else:
                merged[key] = value
        fields = {**fields, "extra": merged}
    return dump(params.edited(**fields)) if fields else text


def graph_changes(raw: RawMetadata, keys: Iterable[str], fields: Mapping[str, Any],
                  generator: str, *, node: str | None = None,
                  refused: Callable[[str], UsageError] | None = None) -> Changes:
    """Set `fields` in the ComfyUI graph a dialect carries beside its own record (Stability
    Matrix, Tensor.Art, SwarmUI, Civitai), through the ComfyUI dialect's own edit, so the
    graph a ComfyUI reader loads agrees with the record. `keys` are the entries that hold
    the graph."""
    keys = set(keys)
    graph_raw = RawMetadata(raw.container, [e for e in raw.entries if e.key in keys],
                            raw.width, raw.height, raw.has_alpha, raw.lossless)
    if not fields or not graph_raw.entries:
        return Changes()
    from . import comfyui

    edit = getattr(comfyui, "edit", None)
    if edit is None:
        field = next(iter(fields))
        if refused is not None:
            raise refused(field)
        raise UsageError(f"cannot set {field}: the ComfyUI graph of this {generator} file "
                         "holds it and cannot be edited here; nothing was written")
    old = comfyui.parse(graph_raw)
    new = old.edited(**fields)
    return edit(graph_raw, new, node=node)


def merge(*parts: Changes) -> Changes:
    """One Changes from several; a later part's text for a key wins."""
    sets: dict[str, str] = {}
    for part in parts:
        sets.update(part.set)
    return Changes(set=sets)


# --- JSON records ----------------------------------------------------------------------

def apply_json(doc: JsonText, fields: Mapping[str, Any], targets: Mapping[str, Any],
               display: str) -> None:
    """Write each changed field where `targets` says; a field with no target is refused.
    A field set to None (unset) takes its key out of the record."""
    for field, value in fields.items():
        target = targets.get(field)
        if target is None:
            raise refuse(display, field)
        if callable(target):
            target(doc, value)
        elif value is None:
            doc.remove(target)
        else:
            doc.set(target, coerce_like(doc.get(target), value))


def apply_extra(doc: JsonText, changes: Mapping[str, Any],
                where: Callable[[str], Any], display: str) -> None:
    """Write changed `extra` keys back to the JSON members they were read from (`where`
    maps a key to its path, or None when the key is derived and cannot be written)."""
    from .jsonedit import MISSING

    for key, value in changes.items():
        path = where(key)
        if path is None:
            raise refuse(display, f"extra key {key!r}",
                         f"{display} derives it from other values")
        if value is MISSING or value is None:
            doc.remove(path)
        else:
            doc.set(path, coerce_like(doc.get(path), value))


def coerce_like(current: Any, value: Any) -> Any:
    """A value given as text (`--param key=value`) takes the JSON type the record already
    has there: "3" for a number is 3, "true" for a flag is true."""
    if not isinstance(value, str) or current is None or isinstance(current, str):
        return value
    text = value.strip()
    if isinstance(current, bool):
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        return value
    if isinstance(current, int):
        try:
            return int(text)
        except ValueError:
            pass
    if isinstance(current, (int, float)):
        try:
            return float(text)
        except ValueError:
            return value
    return value


def no_node(node: str | None, display: str) -> None:
    if node is not None:
        raise UsageError(f"--node names a node of a ComfyUI graph; {display} data has none")


def with_size(text: Any, width: int | None = None, height: int | None = None) -> str | None:
    """`text` ("1024 x 1024  (square)", "832x1216", "(768, 1280)") with its numbers
    replaced, its separators kept; None when it holds no size."""
    import re

    if not isinstance(text, str):
        return None
    m = re.search(r"(\d{1,6})(\s*[x×,*]\s*)(\d{1,6})", text)
    if not m:
        return None
    w = str(width) if width is not None else m.group(1)
    h = str(height) if height is not None else m.group(3)
    return text[:m.start()] + w + m.group(2) + h + text[m.end():]


def size_target(path: Path, which: str, display: str) -> Callable[[JsonText, Any], None]:
    """A target writing width or height into a size string such as "1024 x 1024"."""

    def write(doc: JsonText, value: Any) -> None:
        current = doc.get(path)
        new = with_size(current, **{which: value}) if value is not None else None
        if new is None:
            raise refuse(display, which, f"the {display} size is not written as W x H")
        doc.set(path, new)

    return write


def sync_graph(raw: RawMetadata, keys: Iterable[str], fields: Mapping[str, Any],
               generator: str, *, node: str | None = None,
               required: Iterable[str] = ()) -> Changes:
    """`graph_changes` for a dialect whose own record comes first: the fields it reads only
    from the graph (`required`) must be written there or the edit is refused; the others
    are kept in step where the graph can take them, and left as they are where it cannot."""
    required = {f for f in required if f in fields}
    try:
        return graph_changes(raw, keys, fields, generator, node=node)
    except UsageError:
        if required or node is not None:
            if set(fields) == required:
                raise
            return graph_changes(raw, keys, {f: fields[f] for f in required}, generator,
                                 node=node)
        return Changes()
