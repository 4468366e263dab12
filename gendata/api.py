"""Service layer facade: the one place where containers and dialects meet.

`read` and `write` are what the CLI, the TUI, batch export and regen all call; nothing above
this module touches bytes, and nothing below it knows about files of several kinds at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import containers, formats
from .containers import container_of, open_raw
from .containers.raw import Changes, RawMetadata
from .errors import GenDataError, ParseError, UsageError
from .model_fields import DeferredParams, empty_json_fields

if TYPE_CHECKING:
    from .model import GenParams

PathLike = str | os.PathLike[str]


class Record:
    """What gendata knows about one file: its raw metadata and the parameters parsed from it.

    `error` is set (and `params` may be None) when the file could not be read or its data
    not understood; batch commands turn it into an error row instead of stopping.

    `params` may be held unbuilt (formats.DeferredParams) and made into a GenParams on first
    access, so that `to_json` (show --json, export) never imports pydantic.
    """

    __slots__ = ("_params", "container", "error", "extras", "path", "raw")
    path: str
    container: str | None
    raw: RawMetadata | None
    error: str | None
    extras: dict[str, Any]
    _params: GenParams | DeferredParams | None

    def __init__(self, path: str, container: str | None = None,
                 params: GenParams | DeferredParams | None = None,
                 raw: RawMetadata | None = None, error: str | None = None,
                 extras: dict[str, Any] | None = None) -> None:
        self.path = path
        self.container = container
        self._params = params
        self.raw = raw
        self.error = error
        self.extras = {} if extras is None else extras

    @property
    def params(self) -> GenParams | None:
        p = self._params
        if isinstance(p, DeferredParams):
            p = self._params = p.build()
        return p

    @params.setter
    def params(self, value: GenParams | DeferredParams | None) -> None:
        self._params = value

    def _key(self) -> tuple[Any, ...]:
        return (self.path, self.container, self.params, self.raw, self.error, self.extras)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._key() == other._key()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (f"Record(path={self.path!r}, container={self.container!r}, "
                f"params={self.params!r}, raw={self.raw!r}, error={self.error!r}, "
                f"extras={self.extras!r})")

    @property
    def warnings(self) -> list[str]:
        return list(self.raw.warnings) if self.raw else []

    def raw_texts(self) -> dict[str, str]:
        """Container key -> text for every text entry; repeated keys get `#2`, `#3`..."""
        out: dict[str, str] = {}
        if self.raw is None:
            return out
        for entry in self.raw.entries:
            if entry.text is None:
                continue
            key = entry.key
            n = 2
            while key in out:
                key = f"{entry.key}#{n}"
                n += 1
            out[key] = entry.text
        return out

    def to_json(self) -> dict[str, Any]:
        """The documented `show --json` object (docs/json.md). Absent values are null.

        Unbuilt parameters give their fields without building the model (no pydantic)."""
        p = self._params
        obj: dict[str, Any] = {"path": self.path, "container": self.container}
        obj.update(empty_json_fields() if p is None else p.json_fields())
        obj["raw"] = self.raw_texts()
        obj.update(self.extras)
        obj["warnings"] = self.warnings
        obj["error"] = self.error
        return obj


def read_raw(path: PathLike) -> RawMetadata:
    """Raw metadata entries of `path` (any container), without decoding pixels."""
    return open_raw(path)


def parse_raw(raw: RawMetadata) -> GenParams | None:
    """Parameters from raw metadata by the dialect that claims it, or None."""
    return formats.detect(raw)


def read(path: PathLike, *, stealth: bool | None = None) -> Record:
    """Read one image's generation data.

    Raises ContainerError for a file that is not a readable image. A file whose data no
    dialect understands, or whose data is broken, gives a Record with `error` set and the raw
    entries kept, so nothing that is there goes unseen. `stealth=True` also looks for
    stealth pnginfo in the pixels (expensive); None looks only when the chunks gave nothing.
    """
    raw = open_raw(path)
    rec = Record(path=str(path), container=raw.container, raw=raw)
    if stealth or (stealth is None and _worth_stealth(raw)):
        _add_stealth(path, raw)
    try:
        rec.params = formats.detect_deferred(raw)
    except ParseError as exc:
        rec.error = f"{path}: {exc}"
    return rec


def _worth_stealth(raw: RawMetadata) -> bool:
    """Auto mode: only lossless images whose chunks carried no text at all."""
    return raw.lossless and raw.container in ("png", "webp") and not any(
        e.text for e in raw.entries)


def _add_stealth(path: PathLike, raw: RawMetadata) -> None:
    try:
        from .containers import stealth
    except ImportError:
        return
    try:
        found = stealth.read_stealth(path)
    except GenDataError as exc:
        raw.warnings.append(str(exc))
        return
    if found:
        raw.entries.append(stealth.raw_entry(raw.container, found))


def read_safe(path: PathLike, *, stealth: bool | None = None) -> Record:
    try:
        return read(path, stealth=stealth)
    except GenDataError as exc:
        return Record(path=str(path), error=str(exc))


def dump_a1111(params: GenParams) -> str:
    from .formats import a1111

    return a1111.dump(params)


def write_text(path: PathLike, text: str, *, output: PathLike | None = None) -> list[str]:
    """Store an A1111 infotext in `path` (or a copy at `output`), losslessly.

    PNG: the `parameters` chunk (tEXt when Latin-1, else iTXt), before IDAT, and the eXIf
    UserComment too if the file has one (A1111 readers prefer it). JPEG/WebP: EXIF
    UserComment as `UNICODE\\0` + UTF-16BE. Pixels and every other chunk are copied unchanged.
    """
    kind = container_of(path)
    dst = output if output is not None else path
    if output is not None and container_of_name(output) not in (None, kind):
        raise UsageError(f"{output}: gendata does not re-encode images; the output must be "
                         f"a {kind.upper()} like {path}")
    # A1111 keeps its infotext in `parameters`, and in UserComment where the container has
    # no text chunks; a PNG's EXIF UserComment, which A1111 readers prefer, must not go stale.
    changes = Changes(set={"parameters": text}, mirror={"UserComment": text},
                      fallback={"parameters": "UserComment"})
    return containers.write_raw(path, dst, changes)


def container_of_name(path: PathLike) -> str | None:
    """Container an output path's extension asks for (only to refuse a mismatch early)."""
    ext = Path(path).suffix.lower()
    return {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".webp": "webp"}.get(ext)


def write(path: PathLike, params: GenParams, *, output: PathLike | None = None,
          stealth: bool = False) -> list[str]:
    """Write `params` as an A1111 infotext into `path` (or a copy at `output`).

    A model parsed from A1111 text keeps its original wording for every field that was not
    edited. `stealth=True` also hides a copy in the alpha channel (PNG only; this one
    operation necessarily re-encodes pixels).
    """
    text = dump_a1111(params)
    kind = container_of(path) if stealth else "png"
    if kind != "png":
        raise UsageError(f"{path}: stealth copies need a lossless PNG; this is a "
                         f"{kind.upper()}")
    changes = write_text(path, text, output=output)
    if stealth:
        from .containers import stealth as st

        dst = output or path
        changes += st.rewrite(dst, dst, Changes(set={"parameters": text}))
    return changes


def strip(path: PathLike, *, output: PathLike | None = None, dry_run: bool = False
          ) -> list[str]:
    """Remove generation data (text chunks that carry it, EXIF UserComment) without touching
    pixels. Returns what was (or, with dry_run, would be) removed."""
    raw = open_raw(path)
    changes = Changes(remove=formats.generation_keys(raw))
    planned = containers.removals(raw, changes)
    if dry_run or not planned:
        return planned
    containers.write_raw(path, output if output is not None else path, changes)
    return planned


def update(params: GenParams, changes: dict[str, Any], *, unset: Iterable[str] = (),
           set_keys: dict[str, str] | None = None) -> GenParams:
    """Apply typed-field changes, `Key=value` infotext keys and removals; validated.

    Infotext keys that map to a typed field (e.g. "Hires upscale") are converted and
    validated like the field; other keys go to `extra` as text.
    """
    from .formats import a1111

    fields = dict(changes)
    extra = dict(params.extra)
    for key, value in (set_keys or {}).items():
        spec = a1111.TYPED.get(key)
        if spec is None:
            extra[key] = value
            continue
        try:
            typed = spec.parse(value)
        except ValueError:
            from .errors import ValidationError

            raise ValidationError(f"{key} must be {a1111.describe(key)}, got {value!r}") from None
        if len(spec.fields) == 1:
            fields[spec.fields[0]] = typed
        else:
            fields.update(zip(spec.fields, typed, strict=True))
    for key in unset:
        if key in type(params).model_fields:
            fields[key] = type(params).model_fields[key].get_default(call_default_factory=True)
            continue
        spec = a1111.TYPED.get(key)
        if spec is not None:
            for f in spec.fields:
                fields[f] = None
        if key in extra:
            del extra[key]
        elif spec is None:
            raise UsageError(f"no parameter named {key!r} to unset")
    fields["extra"] = extra
    return params.edited(**fields)


def editable_params(rec: Record) -> GenParams:
    """The parameters `set` may edit: A1111-family text, or a fresh model for a file with none."""
    if rec.params is None:
        if rec.error:
            raise UsageError(rec.error)
        size: dict[str, Any] = {}
        if rec.raw is not None and rec.raw.width and rec.raw.height:
            size = {"width": rec.raw.width, "height": rec.raw.height}
        from .model import GenParams

        return GenParams(generator="a1111", **size)
    if not isinstance(rec.params.origin, _a1111_origin_type()) and rec.params.generator:
        raise UsageError(
            f"{rec.path}: holds {rec.params.generator} data, which gendata cannot edit in place; "
            f"`gendata convert --to a1111 --replace` rewrites it as A1111 parameters first")
    return rec.params


def _a1111_origin_type() -> type:
    from .formats.a1111 import InfotextOrigin

    return InfotextOrigin


def copy(src: PathLike, dst: PathLike, *, output: PathLike | None = None) -> list[str]:
    """Copy the generation data of `src` onto `dst`, across containers.

    A1111-family text is copied word for word; data of other generators is copied verbatim
    between PNGs and written as A1111 parameters into JPEG/WebP.
    """
    rec = read(src)
    if rec.params is None:
        raise UsageError(rec.error or f"{src}: has no generation data to copy")
    dst_kind = container_of(dst)
    origin = rec.params.origin
    if isinstance(origin, _a1111_origin_type()):
        return write_text(dst, dump_a1111(rec.params), output=output)  # origin.text, verbatim
    if (rec.raw is not None and containers.free_text(rec.raw.container)
            and containers.free_text(dst_kind)):
        texts = containers.keyed_texts(rec.raw, formats.generation_keys(rec.raw))
        return containers.write_raw(dst, output or dst, Changes(set=texts))
    return write(dst, rec.params, output=output)


__all__ = [
    "Record",
    "copy",
    "read",
    "read_raw",
    "read_safe",
    "strip",
    "update",
    "write",
    "write_text",
]
