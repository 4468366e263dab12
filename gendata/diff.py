"""Service layer: what differs between the generation data of two or more images.

Everything here works on the model (GenParams / Record), never on text or bytes, so a ComfyUI
image compares against an A1111 one field by field: the dialects have already mapped their
keys onto the shared typed fields (docs/formats.md#the-common-model). Keys that only one
dialect knows are compared as `extra.<key>`.

Used by `gendata diff` and by the terminal UI; the public API is `flatten`, `diff_params`,
`word_diff`, `batch_diff`, `pair_diff` and the `FieldChange` / `PairDiff` / `BatchDiff`
records, plus `diff_images` for two paths or Records. The records' `to_json()` give the
objects `gendata diff --json` prints (docs/batch.md), so any front end or script writes the
same JSON.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import Record
    from .model import GenParams

__all__ = [
    "TEXT_FIELDS",
    "BatchDiff",
    "FieldChange",
    "PairDiff",
    "batch_diff",
    "dialect_of",
    "dialect_only",
    "diff_images",
    "diff_params",
    "flatten",
    "lora_changes",
    "pair_diff",
    "same_across",
    "sampling",
    "word_diff",
]

# Fields compared as text, word by word (`word_diff`), rather than as old -> new values.
TEXT_FIELDS = ("prompt", "negative_prompt")

# Typed fields in the order diffs list them (the `show --json` order).
_LIST_FIELDS = ("loras", "embeddings", "samplers", "extra", "notes")


def _typed_names() -> list[str]:
    from .model import GenParams

    return [k for k in GenParams.model_fields if k not in _LIST_FIELDS]


def flatten(params: GenParams | None) -> dict[str, Any]:
    """The comparable fields of `params` as one flat dict.

    Keys: the typed scalar fields (`prompt`, `seed`, ...), `extra.<key>` for every extra
    key, and `loras` as a dict name -> weight (`(weight, unet_weight)` when a separate UNet
    weight is given; names of non-LoRA networks are prefixed, e.g. `lyco:name`). Fields that
    are unset (None, empty text, no LoRAs) are left out, so "absent" and "empty" compare equal
    and a batch diff does not list a column of nothing. `flatten(None)` is `{}`.
    """
    if params is None:
        return {}
    out: dict[str, Any] = {}
    for name in _typed_names():
        value = getattr(params, name)
        if value is None or value == "":
            continue
        out[name] = value
    if params.loras:
        loras: dict[str, Any] = {}
        for lo in params.loras:
            key = lo.name if lo.kind == "lora" else f"{lo.kind}:{lo.name}"
            loras[key] = lo.weight if lo.unet_weight is None else (lo.weight, lo.unet_weight)
        out["loras"] = loras
    for key, value in params.extra.items():
        if value is None or value == "":
            continue
        out[f"extra.{key}"] = value
    return out


def _plain(value: Any) -> Any:
    """JSON-friendly form of a flattened value (LoRA weight tuples become lists)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


@dataclass
class FieldChange:
    """One field that differs: `old` is the value in the first image, `new` in the second;
    None means the field is absent on that side."""

    field: str
    old: Any
    new: Any

    def to_json(self) -> dict[str, Any]:
        """`{"field", "old", "new"}`, values as JSON (a `(weight, unet_weight)` is a list)."""
        return {"field": self.field, "old": _plain(self.old), "new": _plain(self.new)}


def _ordered_keys(dicts: Sequence[dict[str, Any]]) -> list[str]:
    """Union of keys: typed fields in model order, then `loras`, then extras as first seen."""
    typed = _typed_names()
    seen: dict[str, None] = {}
    for d in dicts:
        for k in d:
            seen.setdefault(k, None)
    order = [k for k in typed if k in seen]
    if "loras" in seen:
        order.append("loras")
    order += [k for k in seen if k not in order]
    return order


def diff_params(a: GenParams | None, b: GenParams | None) -> list[FieldChange]:
    """Fields whose values differ between `a` and `b` (see `flatten` for the field names),
    in display order. Numbers compare by value, so `7` and `7.0` are equal.

    Images of two dialects (a ComfyUI image against an A1111 one) compare field by field on
    common ground: each dialect's way of writing the same value is not a difference
    (`same_across`), and the extra keys only one of them records are not compared at all
    (`dialect_only` lists them)."""
    fa, fb = flatten(a), flatten(b)
    cross = dialect_of(a) != dialect_of(b) and a is not None and b is not None
    out = []
    for k in _ordered_keys([fa, fb]):
        old, new = fa.get(k), fb.get(k)
        if old == new:
            continue
        if cross and _bookkeeping(k) and (old is None or new is None):
            continue
        if cross and same_across(k, fa, fb):
            continue
        out.append(FieldChange(k, old, new))
    return out


def dialect_of(params: GenParams | None) -> str | None:
    """The dialect that read `params` (A1111's for every A1111-family front end)."""
    if params is None:
        return None
    origin = params.origin
    if origin is not None:
        return origin.dialect
    return params.generator


def dialect_only(a: GenParams | None, b: GenParams | None) -> tuple[dict[str, Any],
                                                                      dict[str, Any]]:
    """The extra values only `a`'s dialect records and those only `b`'s does, when the two
    differ (empty when they are the same dialect: then every key is compared)."""
    if a is None or b is None or dialect_of(a) == dialect_of(b):
        return {}, {}
    fa, fb = flatten(a), flatten(b)
    return ({k: v for k, v in fa.items() if _bookkeeping(k) and k not in fb},
            {k: v for k, v in fb.items() if _bookkeeping(k) and k not in fa})


def _bookkeeping(field: str) -> bool:
    """Fields a dialect records or not by its own habits, not by how the image was made:
    its extra keys, hashes and the front end's version."""
    return field.startswith("extra.") or field in ("model_hash", "vae_hash", "version")


# --- the same value, written by two dialects ------------------------------------------------

_EXTENSION = re.compile(r"\.(safetensors|ckpt|pt|pth|bin|gguf|sft)$", re.IGNORECASE)
# A1111 sampler labels (and other front ends' spellings) -> k-diffusion/ComfyUI names.
_SAMPLER_NAMES = {
    "euler a": "euler_ancestral", "euler ancestral": "euler_ancestral", "euler_a":
    "euler_ancestral", "dpm2": "dpm_2", "dpm2 a": "dpm_2_ancestral", "dpm++ 2m": "dpmpp_2m",
    "dpm++ sde": "dpmpp_sde", "dpm++ 2m sde": "dpmpp_2m_sde", "dpm++ 2m sde heun":
    "dpmpp_2m_sde_heun", "dpm++ 3m sde": "dpmpp_3m_sde", "dpm++ 2s a": "dpmpp_2s_ancestral",
    "dpm fast": "dpm_fast", "dpm adaptive": "dpm_adaptive", "unipc": "uni_pc",
    "euler_a_k": "euler_ancestral",
}
# Schedule spellings -> ComfyUI's names; None: the sampler's default.
_SCHEDULES = {"karras": "karras", "k": "karras", "exponential": "exponential",
              "sgm uniform": "sgm_uniform", "sgm_uniform": "sgm_uniform", "simple": "simple",
              "beta": "beta", "ays": "align_your_steps", "align your steps":
              "align_your_steps", "automatic": None, "normal": None, "uniform": None,
              "default": None}


def _stem(name: Any) -> Any:
    if not isinstance(name, str):
        return name
    return _EXTENSION.sub("", re.split(r"[\\/]", name.strip())[-1]).lower()


def _text(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    return "\n".join(line.strip() for line in value.strip().splitlines()).rstrip(", ")


def sampling(sampler: Any, scheduler: Any) -> tuple[str | None, str | None]:
    """(sampler, schedule) in ComfyUI's names, from any dialect's spelling: "DPM++ 2M
    Karras", "dpmpp_2m" + "karras", "k_dpmpp_2m", InvokeAI's "dpmpp_2m_k" and Fooocus'
    "dpmpp_2m_sde_gpu" agree where they mean the same sampler and schedule."""
    name = sampler.strip().lower() if isinstance(sampler, str) else None
    sched = scheduler.strip().lower() if isinstance(scheduler, str) else None
    sched = _SCHEDULES.get(sched, sched) if sched is not None else None
    if name is None:
        return None, sched
    for label, canon in _SCHEDULES.items():
        if canon is not None and (name.endswith(" " + label) or name.endswith("_" + label)):
            base = name[: -len(label) - 1]
            if base:
                name, sched = base, sched or canon
                break
    name = name.removeprefix("k_").removesuffix("_gpu")
    name = _SAMPLER_NAMES.get(name, name).replace(" ", "_").replace("++", "pp")
    return name, sched


def same_across(field: str, fa: dict[str, Any], fb: dict[str, Any]) -> bool:
    """Whether two dialects' values of `field` (flattened) say the same thing."""
    old, new = fa.get(field), fb.get(field)
    if field in ("sampler", "scheduler"):
        return sampling(fa.get("sampler"), fa.get("scheduler")) == sampling(
            fb.get("sampler"), fb.get("scheduler"))
    if old is None or new is None:
        return False
    if field in ("model", "vae"):
        return bool(_stem(old) == _stem(new))
    if field in TEXT_FIELDS:
        return bool(_text(old) == _text(new))
    if field in ("model_hash", "vae_hash") and isinstance(old, str) and isinstance(new, str):
        x, y = (h.lower().removeprefix("0x") for h in (old, new))
        return len(min(x, y, key=len)) >= 8 and (x.startswith(y) or y.startswith(x))
    if field == "loras" and isinstance(old, dict) and isinstance(new, dict):
        return {_stem(k): v for k, v in old.items()} == {_stem(k): v for k, v in new.items()}
    return False


_TOKEN = re.compile(r"\d+(?:\.\d+)?|\w+|\s+|[^\w\s]", re.UNICODE)
# SequenceMatcher's time grows faster than the product of the two token counts when tokens
# repeat (a long prompt of a few words over and over): 1000 x 1000 tokens take about half a
# second, 4000 x 4000 minutes. Past this product, or this many characters, only the common
# start and end are matched and the middle is shown replaced whole (docs/guide.md#limits).
MAX_DIFF_WORK = 1_000_000
MAX_DIFF_CHARS = 1 << 20


def _common_prefix(a: Sequence[Any], b: Sequence[Any]) -> int:
    """Length of the longest common prefix, by halving (slice comparisons run in C)."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _ends_diff(a: Sequence[Any], b: Sequence[Any]) -> list[tuple[str, int, int, int, int]]:
    """Opcodes matching only the common start and end of `a` and `b`: linear time."""
    start = _common_prefix(a, b)
    end = _common_prefix(a[start:][::-1], b[start:][::-1])
    ops = [("equal", 0, start, 0, start)] if start else []
    ops.append(("replace", start, len(a) - end, start, len(b) - end))
    if end:
        ops.append(("equal", len(a) - end, len(a), len(b) - end, len(b)))
    return ops


def word_diff(a: str, b: str) -> list[tuple[str, str]]:
    """Word-level diff of two prompts as (op, text) pieces, op in "equal", "insert", "delete".

    Tokens are words, numbers (`1.2` is one token), runs of whitespace and single punctuation
    marks, so `(fox:1.2)` -> `(fox:1.3)` changes only the weight. Joining the "equal" and
    "delete" pieces gives `a` back; "equal" and "insert" give `b`. Adjacent pieces with the
    same op are merged.
    """
    ta: Sequence[str]
    tb: Sequence[str]
    if len(a) + len(b) > MAX_DIFF_CHARS:  # too long to split into tokens: by character
        ta, tb = a, b
    else:
        ta, tb = _TOKEN.findall(a), _TOKEN.findall(b)
    out: list[tuple[str, str]] = []

    def add(op: str, seq: Sequence[str], i: int, j: int) -> None:
        text = seq[i:j] if isinstance(seq, str) else "".join(seq[i:j])
        if not text:
            return
        if out and out[-1][0] == op:
            out[-1] = (op, out[-1][1] + text)
        else:
            out.append((op, text))

    opcodes: Sequence[tuple[str, int, int, int, int]]
    if len(ta) * len(tb) > MAX_DIFF_WORK:
        opcodes = _ends_diff(ta, tb)
    else:
        opcodes = difflib.SequenceMatcher(None, ta, tb, autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            add("equal", ta, i1, i2)
        else:
            add("delete", ta, i1, i2)
            add("insert", tb, j1, j2)
    return out


@dataclass
class BatchDiff:
    """A batch compared field by field.

    `constant`: fields with the same value in every image (and in the base, when one is
    given), listed once. `varying`: the other fields, in display order. `rows`: one
    (path, {field: value}) per image, holding only the varying fields (None = absent there).
    With a base image the base's own row comes first.
    """

    constant: dict[str, Any]
    varying: list[str]
    rows: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    base: str | None = None  # the base image's path, when the batch was compared with one

    def records(self) -> list[dict[str, Any]]:
        """One JSON-ready object per row: `path`, then each varying field (null = absent)."""
        return [{"path": path, **_plain(values)} for path, values in self.rows]

    def to_json(self) -> dict[str, Any]:
        """The whole comparison: `{"base", "count", "constant", "varying", "rows"}`, rows as
        in `records()`."""
        return {"base": self.base, "count": len(self.rows), "constant": _plain(self.constant),
                "varying": self.varying, "rows": self.records()}


def batch_diff(records: Sequence[Record], base: Record | None = None) -> BatchDiff:
    """Compare many images: which fields vary across them, and each image's values for those.

    Without `base`, a field is constant when every record has the same value for it. With
    `base`, a field is constant when every record has the base's value; any field where some
    record differs from the base is varying, and the base's row is put first (unless the base
    is one of `records`, which then keeps its place) so each row can be read against it.
    Records without parameters (unreadable files) compare as having no fields at all; callers
    usually report and drop them first.
    """
    items: list[tuple[str, dict[str, Any]]] = [(r.path, flatten(r.params)) for r in records]
    base_flat: dict[str, Any] = {}
    if base is not None:
        base_flat = flatten(base.params)
        if not any(r is base or r.path == base.path for r in records):
            items.insert(0, (base.path, base_flat))
    flats = [f for _, f in items]
    if not flats:
        return BatchDiff({}, [], [])
    keys = _ordered_keys(flats)
    constant: dict[str, Any] = {}
    varying: list[str] = []
    for k in keys:
        ref = base_flat.get(k) if base is not None else flats[0].get(k)
        if all(f.get(k) == ref for f in flats):
            if ref is not None:
                constant[k] = ref
        else:
            varying.append(k)
    rows = [(path, {k: f.get(k) for k in varying}) for path, f in items]
    return BatchDiff(constant, varying, rows, base.path if base is not None else None)


def lora_changes(old: Any, new: Any) -> list[tuple[str, str, Any, Any]]:
    """Split a `loras` FieldChange into (kind, name, old weight, new weight) items, kind one
    of "added", "removed", "reweighted"."""
    old = old or {}
    new = new or {}
    out: list[tuple[str, str, Any, Any]] = []
    for name, w in old.items():
        if name not in new:
            out.append(("removed", name, w, None))
        elif new[name] != w:
            out.append(("reweighted", name, w, new[name]))
    out += [("added", name, None, w) for name, w in new.items() if name not in old]
    return out


@dataclass
class PairDiff:
    """Two images compared: their paths, generators (None: no generation data) and the
    fields that differ (`diff_params`)."""

    a: str
    b: str
    generators: tuple[str | None, str | None]
    changes: list[FieldChange]
    # Images of two dialects: the extra values only one of them records, not compared.
    only: tuple[dict[str, Any], dict[str, Any]] = ({}, {})
    dialects: tuple[str | None, str | None] = (None, None)

    def to_json(self) -> dict[str, Any]:
        """`{"a", "b", "generators", "changes"}`, plus a word diff (`prompt_diff`,
        `negative_prompt_diff`: [op, text] pairs) for a changed prompt and the `loras`
        changes ({"change", "name", "old", "new"}) when the LoRAs differ. Images of two
        dialects add `dialects` and `only_a`/`only_b` (field -> value: what only that
        dialect records, not compared) before `changes`."""
        obj: dict[str, Any] = {"a": self.a, "b": self.b, "generators": list(self.generators)}
        if self.dialects[0] != self.dialects[1] and None not in self.dialects:
            obj["dialects"] = list(self.dialects)
            obj["only_a"] = _plain(self.only[0])
            obj["only_b"] = _plain(self.only[1])
        obj["changes"] = [c.to_json() for c in self.changes]
        for c in self.changes:
            if c.field in TEXT_FIELDS:
                obj[f"{c.field}_diff"] = [list(p) for p in word_diff(c.old or "", c.new or "")]
            elif c.field == "loras":
                obj["loras"] = [{"change": k, "name": n, "old": _plain(o), "new": _plain(w)}
                                for k, n, o, w in lora_changes(c.old, c.new)]
        return obj


def pair_diff(a: Record, b: Record) -> PairDiff:
    """Compare two read images (see `diff_images` for paths)."""
    return PairDiff(a.path, b.path,
                    (a.params.generator if a.params else None,
                     b.params.generator if b.params else None),
                    diff_params(a.params, b.params), dialect_only(a.params, b.params),
                    (dialect_of(a.params), dialect_of(b.params)))


def diff_images(a: Record | str | os.PathLike[str], b: Record | str | os.PathLike[str]
                ) -> list[FieldChange]:
    """Fields that differ between two images, given as paths or Records.

    Raises ContainerError for a path that is not a readable image and ParseError when its
    generation data cannot be understood, like `gendata.read`.
    """
    ra, rb = _as_record(a), _as_record(b)
    return diff_params(ra.params, rb.params)


def _as_record(x: Record | str | os.PathLike[str]) -> Record:
    from .api import Record, read
    from .errors import ParseError

    if isinstance(x, Record):
        return x
    rec = read(x)
    if rec.error:
        raise ParseError(rec.error)
    return rec
