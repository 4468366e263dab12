"""Service layer facade: the one place where containers and dialects meet.

`read` and `write` are what the CLI, the TUI, batch export and regen all call; nothing above
this module touches bytes, and nothing below it knows about files of several kinds at once.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import containers, formats
from .containers import container_of, open_raw
from .containers.files import FileIdentity, read_error
from .containers.raw import Changes, RawMetadata
from .errors import FileChangedError, GenDataError, ParseError, UsageError, WriteError
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

    __slots__ = ("_params", "container", "error", "extras", "identity", "path", "raw")
    path: str
    container: str | None
    raw: RawMetadata | None
    error: str | None
    extras: dict[str, Any]
    identity: FileIdentity | None
    _params: GenParams | DeferredParams | None

    def __init__(self, path: str, container: str | None = None,
                 params: GenParams | DeferredParams | None = None,
                 raw: RawMetadata | None = None, error: str | None = None,
                 extras: dict[str, Any] | None = None,
                 identity: FileIdentity | None = None) -> None:
        self.path = path
        self.container = container
        self._params = params
        self.raw = raw
        self.error = error
        self.extras = {} if extras is None else extras
        # The file as it was when read: `write(..., expect=rec.identity)` refuses to
        # overwrite a file that changed since. Not part of equality.
        self.identity = identity

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
    try:  # before reading: a change while we read then shows as a change
        identity: FileIdentity | None = FileIdentity.from_stat(os.stat(path))
    except (OSError, ValueError):
        identity = None
    raw = open_raw(path)
    _note_duplicates(raw)
    rec = Record(path=str(path), container=raw.container, raw=raw, identity=identity)
    if stealth or (stealth is None and _worth_stealth(raw)):
        _add_stealth(path, raw)
    try:
        rec.params = formats.detect_deferred(raw)
    except ParseError as exc:
        rec.error = f"{path}: {exc}"
    return rec


_TEXT_CHUNKS = frozenset({"tEXt", "zTXt", "iTXt"})


def _note_duplicates(raw: RawMetadata) -> None:
    """Say which of several text chunks of one keyword is read (and edited): the first, where
    Pillow-based readers take the last."""
    if raw.container != "png":
        return
    found: dict[str, list[Any]] = {}
    for e in raw.entries:
        if e.location in _TEXT_CHUNKS:
            found.setdefault(e.key, []).append(e)
    for key, entries in found.items():
        if len(entries) > 1:
            first = entries[0]
            raw.warnings.append(
                f"{len(entries)} text chunks are named {key!r}; the first ({first.location} at "
                f"offset {first.offset}) is read and is the one an edit changes, the others "
                "are kept as they are")


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


def file_identity(path: PathLike) -> FileIdentity:
    """The identity of the file at `path` now (device, inode, size, mtime_ns), as
    `Record.identity` holds it from the read; ContainerError when it cannot be seen."""
    try:
        return FileIdentity.of(path)
    except OSError as exc:
        raise read_error(path, exc) from None


@contextlib.contextmanager
def editing(path: PathLike, *, force: bool = False, expect: FileIdentity | None = None
            ) -> Iterator[None]:
    """The scope of one edit of `path`: its advisory lock held from before the read to after
    the write, `expect` checked first, `force` in effect for every file written in the block.

    Every write function here opens one; open it yourself around a read and the writes that
    depend on it (the calls inside re-enter the same lock), e.g. `gendata convert`.
    """
    from .containers.atomic import write_policy
    from .containers.locks import locked

    with write_policy(force=force), locked(path) as held:
        if expect is not None and held.identity != expect:
            raise FileChangedError(f"{path}: changed on disk since it was read "
                             f"({expect.change(held.identity)}); not written. Read it again "
                             "to keep that change, or write without `expect` to overwrite it")
        yield


def check_output(output: PathLike, *, force: bool = False) -> None:
    """Refuse, before any work, an output that a write could not replace: anything but a
    regular file or a new path, and without `force` a read-only or hard-linked file."""
    from .containers.atomic import check_target, resolve_target

    check_target(output, resolve_target(output), force=force)


def write_text(path: PathLike, text: str, *, output: PathLike | None = None,
               force: bool = False, expect: FileIdentity | None = None) -> list[str]:
    """Store an A1111 infotext in `path` (or a copy at `output`), losslessly.

    PNG: the `parameters` chunk (tEXt when Latin-1, else iTXt), before IDAT, and the eXIf
    UserComment too if the file has one (A1111 readers prefer it). JPEG/WebP: EXIF
    UserComment as `UNICODE\\0` + UTF-16BE. Pixels and every other chunk are copied unchanged.

    How the file is replaced (links, modes, locks, `force`, `expect`): docs/guide.md, "How
    files are written". Returns what changed; lines starting with "warning:" say what was
    kept that a reader might trip over (duplicate chunks).
    """
    with editing(path, force=force, expect=expect):
        return _store_text(path, text, output)


def _store_text(path: PathLike, text: str, output: PathLike | None) -> list[str]:
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
          stealth: bool = False, force: bool = False, expect: FileIdentity | None = None
          ) -> list[str]:
    """Write `params` as an A1111 infotext into `path` (or a copy at `output`).

    A model parsed from A1111 text keeps its original wording for every field that was not
    edited. `stealth=True` also hides a copy in the alpha channel (PNG only; this one
    operation necessarily re-encodes pixels); when the image is too small for it, nothing is
    written. A file whose copies of the text (PNG `parameters` and EXIF UserComment) differ
    is refused unless `force`, which writes the new text to both.

    `expect` (a `Record.identity`): refuse with WriteError when the file is no longer the
    one that was read. For the edit to be safe against concurrent ones, read and write under
    one lock: `edit`.
    """
    text = dump_a1111(params)
    with editing(path, force=force, expect=expect):
        if not force:
            _refuse_diverging(path, open_raw(path))
        return _store(path, text, output, stealth)


def edit(path: PathLike, change: Callable[[Record], GenParams], *,
         output: PathLike | None = None, stealth: bool = False, force: bool = False,
         expect: FileIdentity | None = None) -> list[str]:
    """Read `path`, compute new parameters with `change(record)` and write them, all under
    the file's lock, so that concurrent edits (two `gendata set` runs) serialise and neither
    is lost. Otherwise as `write`."""
    with editing(path, force=force, expect=expect):
        rec = read(path)
        params = change(rec)
        if not force and rec.raw is not None:
            _refuse_diverging(path, rec.raw)
        return _store(path, dump_a1111(params), output, stealth)


def _store(path: PathLike, text: str, output: PathLike | None, stealth: bool) -> list[str]:
    if not stealth:
        return _store_text(path, text, output)
    kind = container_of(path)
    if kind != "png":
        raise UsageError(f"{path}: stealth copies need a lossless PNG; this is a "
                         f"{kind.upper()}")
    from .containers import stealth as st
    from .containers.atomic import scratch_path

    dst = output if output is not None else path
    # Text and pixels go through one staged copy, so that a refusal of either (an image too
    # small for the payload) leaves the file as it was.
    with scratch_path(dst) as staged:
        changes = _store_text(path, text, staged)
        return changes + st.rewrite(staged, dst, Changes(set={"parameters": text}))


_A1111_PLACES = frozenset({"tEXt", "zTXt", "iTXt", "EXIF:UserComment"})


def _refuse_diverging(path: PathLike, raw: RawMetadata) -> None:
    """Refuse to write one edit over two copies of the generation text that differ (a PNG's
    `parameters` and its EXIF UserComment): one of them would be lost."""
    copies = [e for e in raw.entries if e.location in _A1111_PLACES and e.text is not None
              and e.key == "UserComment"]
    first = next((e for e in raw.entries if e.location in _A1111_PLACES and e.text is not None
                  and e.key == "parameters"), None)
    if first is not None:
        copies.insert(0, first)
    texts = {e.text.strip().rstrip("\0") for e in copies if e.text is not None}
    if len(texts) < 2:
        return
    names = " and ".join(
        f"{'EXIF UserComment' if e.key == 'UserComment' else f'{e.location} chunk {e.key!r}'}"
        f" (at offset {e.offset})" for e in copies)
    raise WriteError(f"{path}: {names} hold different generation data; not written, so "
                     "neither is lost. `gendata write --from` replaces both; --force writes "
                     "this edit to both")


def strip(path: PathLike, *, output: PathLike | None = None, dry_run: bool = False,
          force: bool = False, expect: FileIdentity | None = None) -> list[str]:
    """Remove generation data (text chunks that carry it, EXIF UserComment) without touching
    pixels. Returns what was (or, with dry_run, would be) removed."""
    if dry_run:
        raw = open_raw(path)
        return containers.removals(raw, Changes(remove=formats.generation_keys(raw)))
    with editing(path, force=force, expect=expect):
        raw = open_raw(path)
        changes = Changes(remove=formats.generation_keys(raw))
        planned = containers.removals(raw, changes)
        if planned:
            containers.write_raw(path, output if output is not None else path, changes)
        return planned


def update(params: GenParams, changes: dict[str, Any], *, unset: Iterable[str] = (),
           set_keys: dict[str, str] | None = None) -> GenParams:
    """Apply typed-field changes, `Key=value` infotext keys and removals; validated.

    Infotext keys that map to a typed field (e.g. "Hires upscale") are converted and
    validated like the field; other keys go to `extra` as text. A key the infotext cannot
    carry (a newline, a comma, a colon) and a value outside its field's range are refused
    with ValidationError; renaming the model clears its hash (`model.edit_remarks` words
    what changed beside the request).
    """
    from .formats import a1111

    fields = dict(changes)
    extra = dict(params.extra)
    for key, value in (set_keys or {}).items():
        spec = a1111.TYPED.get(key)
        if spec is None:
            a1111.check_key(key)  # refused now, not when the text is written
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


def copy(src: PathLike, dst: PathLike, *, output: PathLike | None = None,
         force: bool = False, expect: FileIdentity | None = None) -> list[str]:
    """Copy the generation data of `src` onto `dst`, across containers.

    A1111-family text is copied word for word; data of other generators is copied verbatim
    between PNGs and written as A1111 parameters into JPEG/WebP. `dst` is locked while it
    is read and written; `expect` is its identity.
    """
    rec = read(src)
    if rec.params is None:
        raise UsageError(rec.error or f"{src}: has no generation data to copy")
    with editing(dst, force=force, expect=expect):
        dst_kind = container_of(dst)
        origin = rec.params.origin
        if isinstance(origin, _a1111_origin_type()):
            return _store_text(dst, dump_a1111(rec.params), output)  # origin.text, verbatim
        if (rec.raw is not None and containers.free_text(rec.raw.container)
                and containers.free_text(dst_kind)):
            texts = containers.keyed_texts(rec.raw, formats.generation_keys(rec.raw))
            return containers.write_raw(dst, output or dst, Changes(set=texts))
        return _store(dst, dump_a1111(rec.params), output, False)


__all__ = [
    "FileIdentity",
    "Record",
    "check_output",
    "copy",
    "edit",
    "editing",
    "file_identity",
    "read",
    "read_raw",
    "read_safe",
    "strip",
    "update",
    "write",
    "write_text",
]
