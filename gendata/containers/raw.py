"""Container layer: the raw, undecoded-meaning view of an image's metadata.

Containers produce these; dialects read them. Nothing here knows what a prompt is.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from types import MappingProxyType

from ..errors import UsageError
from .values import Frozen, Value


class RawEntry(Frozen):
    """One metadata item as it sits in the file.

    `location` says where: a PNG chunk type ("tEXt", "zTXt", "iTXt", "eXIf"), an EXIF tag
    ("EXIF:UserComment", "EXIF:Make", ...), "XMP", "COM" (JPEG comment) or "stealth:<sig>".
    `text` is the decoded text (None for binary data such as eXIf); `size` is its size in the
    file, `offset` the byte offset of its chunk/segment, `after_idat` True for PNG text that
    follows the image data.
    """

    _fields = ("container", "location", "key", "text", "size", "offset", "after_idat", "data")
    __slots__ = _fields
    container: str
    location: str
    key: str
    text: str | None
    size: int
    offset: int
    after_idat: bool
    data: bytes | None

    def __init__(self, container: str, location: str, key: str, text: str | None, size: int,
                 offset: int = 0, after_idat: bool = False, data: bytes | None = None) -> None:
        put = object.__setattr__
        put(self, "container", container)
        put(self, "location", location)
        put(self, "key", key)
        put(self, "text", text)
        put(self, "size", size)
        put(self, "offset", offset)
        put(self, "after_idat", after_idat)
        put(self, "data", data)

    def to_json(self) -> dict[str, object]:
        """The entry as `show --json --raw` lists it under `raw_entries` (docs/json.md);
        binary `data` is left out (its `text` is null)."""
        return {"container": self.container, "location": self.location, "key": self.key,
                "size": self.size, "offset": self.offset, "after_idat": self.after_idat,
                "text": self.text}


class RawMetadata(Value):
    """Every metadata entry of one file, in file order, plus what the container says about it."""

    _fields = ("container", "entries", "width", "height", "has_alpha", "lossless", "warnings")
    __slots__ = _fields
    container: str  # "png" | "jpeg" | "webp"
    entries: list[RawEntry]
    width: int | None
    height: int | None
    has_alpha: bool
    lossless: bool
    warnings: list[str]

    def __init__(self, container: str, entries: list[RawEntry] | None = None,
                 width: int | None = None, height: int | None = None, has_alpha: bool = False,
                 lossless: bool = True, warnings: list[str] | None = None) -> None:
        self.container = container
        self.entries = [] if entries is None else entries
        self.width = width
        self.height = height
        self.has_alpha = has_alpha
        self.lossless = lossless
        self.warnings = [] if warnings is None else warnings

    def text(self, key: str) -> str | None:
        """The first text entry named `key` (exact match), or None."""
        for entry in self.entries:
            if entry.key == key and entry.text is not None:
                return entry.text
        return None

    def texts(self) -> dict[str, str]:
        """Key -> text for every text entry; the first of duplicate keys wins, order kept."""
        out: dict[str, str] = {}
        for entry in self.entries:
            if entry.text is not None and entry.key not in out:
                out[entry.key] = entry.text
        return out

    def duplicates(self) -> list[str]:
        """Keys that occur more than once (Pillow silently keeps only the last)."""
        seen: set[str] = set()
        dups: dict[str, None] = {}  # ordered, and linear however many keys repeat
        for entry in self.entries:
            if entry.key in seen:
                dups[entry.key] = None
            seen.add(entry.key)
        return list(dups)


class Changes(Frozen):
    """One edit of a file's metadata, said the same way whatever the container.

    Keys are entry keys as `RawMetadata` reports them; "UserComment" is the EXIF UserComment
    in every container. How an entry is stored is the container's choice, never the
    caller's: PNG writes tEXt when the text is Latin-1 and iTXt otherwise and puts new text
    before IDAT; JPEG and WebP hold nothing but UserComment.

    - `set`: key -> text, replacing what the file holds under that key or adding it.
    - `remove`: keys whose entries go; a key the container does not write is left alone.
    - `mirror`: key -> text, written only where the file already holds that key, so that a
      second copy a reader may prefer (a PNG's EXIF UserComment) cannot go stale, and none
      is added where there was none.
    - `fallback`: key of `set` -> the key that carries its text in a container that cannot
      hold the first (JPEG and WebP keep an A1111 infotext in UserComment).

    A key both set and removed is set.
    """

    _fields = ("set", "remove", "mirror", "fallback")
    __slots__ = _fields
    set: Mapping[str, str]
    remove: frozenset[str]
    mirror: Mapping[str, str]
    fallback: Mapping[str, str]

    def __init__(self, set: Mapping[str, str] | None = None,
                 remove: Collection[str] = frozenset(), mirror: Mapping[str, str] | None = None,
                 fallback: Mapping[str, str] | None = None) -> None:
        # Callers pass plain dicts and sets; keep what they hand over from changing under us.
        put = object.__setattr__
        put(self, "set", MappingProxyType(dict(set or {})))
        put(self, "remove", frozenset(remove))
        put(self, "mirror", MappingProxyType(dict(mirror or {})))
        put(self, "fallback", MappingProxyType(dict(fallback or {})))

    def resolve(self, holds: Callable[[str], bool], present: Collection[str], where: str
                ) -> tuple[dict[str, str], frozenset[str]]:
        """(key -> text to write, keys to delete) for one container and one file.

        `holds(key)` says whether the container can store an entry under `key`; `present`
        holds the keys the file already has where the container writes them. A key of
        `set` that the container cannot hold, even through `fallback`, is refused with
        UsageError before anything is written.
        """
        sets: dict[str, str] = {}
        for key, text in self.set.items():
            target = key if holds(key) else self.fallback.get(key)
            if target is None or not holds(target):
                raise UsageError(f"{where}: cannot hold an entry named {key!r}")
            sets[target] = text
        for key, text in self.mirror.items():
            if key in present and holds(key):
                sets.setdefault(key, text)
        removes = frozenset(k for k in self.remove if k not in sets and holds(k))
        return sets, removes
