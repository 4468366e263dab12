"""Service layer facade: the one place where containers and dialects meet.

`read` and `write` are what the CLI, the TUI, batch export and regen all call; nothing above
this module touches bytes, and nothing below it knows about files of several kinds at once.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import containers, formats
from .containers import container_of, open_raw
from .containers.files import FileIdentity, read_error
from .containers.raw import Changes, RawMetadata
from .errors import FileChangedError, UsageError, WriteError

if TYPE_CHECKING:
    from .model import GenParams

from .reading import (  # re-exported: the facade is both halves
    PathLike,
    Record,
    raw_as_read,
    read,
    read_raw,
    read_safe,
    read_stream,
)


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
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate: no container can store it
        from .errors import ValidationError

        raise ValidationError(f"text holds {text[exc.start]!a} at character {exc.start}, "
                              "a lone surrogate, which is not valid Unicode; nothing written"
                              ) from None
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
          stealth: bool = False, force: bool = False, expect: FileIdentity | None = None,
          node: str | None = None) -> list[str]:
    """Write the edited `params` back into `path` (or a copy at `output`), in the dialect
    it was read from: a NovelAI file stays NovelAI, with only the changed values rewritten
    in its own entries; A1111-family text keeps its original wording for every field that
    was not edited. Data found only in the pixels (stealth) is rewritten there, with the
    same signature and mode. `node` picks the node of a ComfyUI graph to edit. A dialect
    that cannot hold the edit refuses it with UsageError naming the field; nothing is
    written then.

    `stealth=True` also hides a copy of A1111 text in the alpha channel (PNG only; this one
    operation necessarily re-encodes pixels); when the image is too small for it, nothing is
    written. A file whose copies of the A1111 text (PNG `parameters` and EXIF UserComment)
    differ is refused unless `force`, which writes the new text to both.

    `expect` (a `Record.identity`): refuse with WriteError when the file is no longer the
    one that was read. For the edit to be safe against concurrent ones, read and write under
    one lock: `edit`.
    """
    with editing(path, force=force, expect=expect):
        return _write_params(path, raw_as_read(path), params, output, stealth, force, node)


def edit(path: PathLike, change: Callable[[Record], GenParams], *,
         output: PathLike | None = None, stealth: bool = False, force: bool = False,
         expect: FileIdentity | None = None, node: str | None = None) -> list[str]:
    """Read `path`, compute new parameters with `change(record)` and write them, all under
    the file's lock, so that concurrent edits (two `gendata set` runs) serialise and neither
    is lost. Otherwise as `write`."""
    with editing(path, force=force, expect=expect):
        rec = read(path)
        params = change(rec)
        raw = rec.raw if rec.raw is not None else raw_as_read(path)
        return _write_params(path, raw, params, output, stealth, force, node)


def _write_params(path: PathLike, raw: RawMetadata, params: GenParams,
                  output: PathLike | None, stealth: bool, force: bool, node: str | None
                  ) -> list[str]:
    from .formats.editing import is_infotext

    changes = _edit_changes(path, raw, params, node)
    if not is_infotext(params):
        if stealth:
            raise UsageError(f"{path}: --stealth hides A1111 text; this file keeps "
                             f"{formats.display_name(params.generator or '')} data")
        return apply_changes(path, raw, changes, output=output)
    if not force:
        _refuse_diverging(path, raw)
    if stealth:
        return _store(path, changes.set["parameters"], output, True)
    return apply_changes(path, raw, changes, output=output)


def edit_preview(path: PathLike, params: GenParams, *, node: str | None = None
                 ) -> dict[str, str]:
    """Entry key -> new text of every entry `write` would change (what `set --dry-run`
    prints); nothing is written."""
    raw = raw_as_read(path)
    return dict(_edit_changes(path, raw, params, node).set)


def _edit_changes(path: PathLike, raw: RawMetadata, params: GenParams, node: str | None
                  ) -> Changes:
    """formats.edit_changes, its refusals naming the file."""
    try:
        return formats.edit_changes(raw, params, node=node)
    except UsageError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise UsageError(f"{path}: {exc}") from None


def apply_changes(path: PathLike, raw: RawMetadata, changes: Changes, *,
                  output: PathLike | None = None) -> list[str]:
    """Write `changes` to `path` (or a copy at `output`); an entry that lives only in the
    pixels (stealth) is rewritten there, everything else through the container. Callers
    hold the file's lock (`editing`)."""
    kind = raw.container
    dst = output if output is not None else path
    if output is not None and container_of_name(output) not in (None, kind):
        raise UsageError(f"{output}: gendata does not re-encode images; the output must be "
                         f"a {kind.upper()} like {path}")
    if output is None and _changes_nothing(raw, changes):
        return []  # the file already holds it: not rewritten (its inode and mtime stay)
    changes, hidden = _split_hidden(raw, changes)
    if hidden is None:
        return containers.write_raw(path, dst, changes)
    from .containers import stealth as st
    from .containers.atomic import scratch_path

    signature, text = hidden
    # Chunks and pixels go through one staged copy: a refusal of either leaves the file.
    with scratch_path(dst) as staged:
        done = containers.write_raw(path, staged, changes)
        return done + st.rewrite_payload(staged, dst, text, signature)


def _changes_nothing(raw: RawMetadata, changes: Changes) -> bool:
    """Whether the file already reads as `changes` would make it: every text set is there
    under its key (or its fallback), every mirror matches, nothing to remove is there."""
    held = {e.key for e in raw.entries}
    for key, text in changes.set.items():
        where = key if key in held else changes.fallback.get(key, key)
        if raw.text(where) != text:
            return False
    for key, text in changes.mirror.items():
        if key in held and raw.text(key) != text:
            return False
    return not (changes.remove & held) or all(k in changes.set for k in changes.remove & held)


def _split_hidden(raw: RawMetadata, changes: Changes) -> tuple[Changes, tuple[str, str] | None]:
    """(the changes for the container, (stealth signature, new text) for the payload) when
    the entry a change sets exists only as a stealth payload."""
    hidden = next((e for e in raw.entries if e.location.startswith("stealth:")), None)
    if hidden is None or hidden.key not in changes.set or any(
            e.key == hidden.key and e is not hidden for e in raw.entries):
        return changes, None
    rest = Changes(set={k: v for k, v in changes.set.items() if k != hidden.key},
                   remove=changes.remove, mirror=changes.mirror,
                   fallback={k: v for k, v in changes.fallback.items() if k != hidden.key})
    return rest, (hidden.location.split(":", 1)[1], changes.set[hidden.key])


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
          force: bool = False, expect: FileIdentity | None = None,
          only: Collection[str] | None = None, keep: Collection[str] | None = None
          ) -> list[str]:
    """Remove generation data (text chunks that carry it, EXIF UserComment) without touching
    pixels. Returns what was (or, with dry_run, would be) removed.

    `only` removes just the parts named, `keep` everything but them: "prompt" (the positive
    and negative prompt text, blanked in every entry of the file's dialect that holds it),
    "workflow" (editor graphs), "parameters" (the other generation entries) or an entry's
    own key (docs/guide.md#removing-parts-of-the-data).
    """
    if dry_run:
        return _strip_plan(open_raw(path), only, keep)[1]
    with editing(path, force=force, expect=expect):
        raw = open_raw(path)
        changes, planned = _strip_plan(raw, only, keep)
        if planned:
            apply_changes(path, raw, changes, output=output)
        return planned


def _strip_plan(raw: RawMetadata, only: Collection[str] | None, keep: Collection[str] | None
                ) -> tuple[Changes, list[str]]:
    if only is None and keep is None:
        changes = Changes(remove=formats.generation_keys(raw))
        return changes, containers.removals(raw, changes)
    from .formats.parts import strip_plan

    return strip_plan(raw, only=only, keep=keep)


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
    """The parameters `set` and the edit form may change: those of the file's own dialect
    (written back in it by `write`), or a fresh model for a file with none. UsageError
    when the data cannot be written back in place."""
    if rec.params is None:
        if rec.error:
            raise UsageError(rec.error)
        size: dict[str, Any] = {}
        if rec.raw is not None and rec.raw.width and rec.raw.height:
            size = {"width": rec.raw.width, "height": rec.raw.height}
        from .model import GenParams

        return GenParams(generator="a1111", **size)
    refusal = formats.edit_refusal(rec.params)
    if refusal is not None:
        raise UsageError(f"{rec.path}: {refusal}")
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
        # another generator's data into a JPEG/WebP: its values as A1111 text
        params = rec.params.model_copy()
        params.origin = None
        return _store(dst, dump_a1111(params), output, False)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The text entries of a file as they were read: what `restore` puts back after edits,
    whatever dialect they are in."""

    texts: dict[str, str]


def snapshot(rec: Record) -> Snapshot:
    """The record's text entries (the first of repeated keys), stealth payload included."""
    texts: dict[str, str] = {}
    for entry in rec.raw.entries if rec.raw is not None else []:
        if entry.text is not None and entry.key not in texts:
            texts[entry.key] = entry.text
    return Snapshot(texts)


def restore(path: PathLike, snap: Snapshot, *, force: bool = False,
            expect: FileIdentity | None = None) -> list[str]:
    """Put the entries of `snap` back into `path`: those an edit changed get their text
    again, generation entries it added go; pixels and everything else are untouched."""
    with editing(path, force=force, expect=expect):
        raw = raw_as_read(path)
        now: dict[str, str] = {}
        for entry in raw.entries:
            if entry.text is not None and entry.key not in now:
                now[entry.key] = entry.text
        sets = {k: v for k, v in snap.texts.items() if now.get(k) != v}
        remove = frozenset(k for k in now if k not in snap.texts
                           and k in formats.generation_keys(raw))
        if not sets and not remove:
            return []
        return apply_changes(path, raw, Changes(set=sets, remove=remove))


@contextlib.contextmanager
def open_image(path: PathLike, draft: tuple[int, int] | None = None) -> Iterator[Any]:
    """Pillow's view of the image at `path`, its header read and no pixel decoded, for the
    views that show pixels (TUI previews). A FIFO or device is refused, and an image whose
    size (after a JPEG's `draft` reduction) passes the pixel cap raises ContainerError
    before anything is decoded (docs/guide.md#limits)."""
    from .containers.pixels import MAX_DECODE_PIXELS, check_size
    from .containers.pixels import open_image as open_pixels

    with open_pixels(os.fspath(path)) as im:
        if draft is not None:
            im.draft("RGB", draft)
        check_size(im.width, im.height, MAX_DECODE_PIXELS, os.fspath(path))
        yield im


__all__ = [
    "FileIdentity",
    "Record",
    "Snapshot",
    "apply_changes",
    "check_output",
    "copy",
    "edit",
    "edit_preview",
    "editable_params",
    "editing",
    "file_identity",
    "open_image",
    "read",
    "read_raw",
    "read_safe",
    "read_stream",
    "restore",
    "snapshot",
    "strip",
    "update",
    "write",
    "write_text",
]
