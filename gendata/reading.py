"""Service layer, the read half of the facade: one file's bytes to a Record.

`gendata.api` re-exports everything here; the split only keeps each module to one job (this
one reads, api.py edits).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, BinaryIO

from . import containers, formats
from .containers import open_raw
from .containers.files import FileIdentity
from .containers.raw import RawMetadata
from .errors import GenDataError, ParseError
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

    A plain class with slots, not a dataclass: importing dataclasses (and inspect with it)
    cost every `gendata show` ~7 ms.
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
        # The next number to try for each key: counting up from 2 again for every repeat
        # would make a file of 20,000 chunks under one key cost 200 million lookups.
        next_n: dict[str, int] = {}
        for entry in self.raw.entries:
            if entry.text is None:
                continue
            key = entry.key
            if key in out:
                n = next_n.get(entry.key, 2)
                while (key := f"{entry.key}#{n}") in out:  # a key already named `k#2`
                    n += 1
                next_n[entry.key] = n + 1
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
    return _record(str(path), raw, identity, path, stealth)


def read_stream(f: BinaryIO, path: str, *, stealth: bool | None = False) -> Record:
    """`read` of an open binary stream named `path`: an object in object storage read by
    byte range (gendata.remote), or any other file-like. The same Record, without a file
    identity. Stealth data is looked for only when asked (`stealth=True`, or None as `read`
    does): it lives in the pixels, so the whole stream is read."""
    raw = containers.read_raw(f)
    return _record(path, raw, None, f, stealth)


def _record(path: str, raw: RawMetadata, identity: FileIdentity | None,
            source: PathLike | BinaryIO, stealth: bool | None) -> Record:
    _note_duplicates(raw)
    rec = Record(path=path, container=raw.container, raw=raw, identity=identity)
    if stealth or (stealth is None and _worth_stealth(raw)):
        if not isinstance(source, (str, os.PathLike)):
            source.seek(0)
        _add_stealth(source, raw)
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


def _add_stealth(path: PathLike | BinaryIO, raw: RawMetadata) -> None:
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


def raw_as_read(path: PathLike) -> RawMetadata:
    """The entries as `read` found them, stealth payload included where `read` looked."""
    raw = open_raw(path)
    if _worth_stealth(raw):
        _add_stealth(path, raw)
    return raw
