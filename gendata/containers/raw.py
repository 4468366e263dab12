"""Container layer: the raw, undecoded-meaning view of an image's metadata.

Containers produce these; dialects read them. Nothing here knows what a prompt is.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One metadata item as it sits in the file.

    `location` says where: a PNG chunk type ("tEXt", "zTXt", "iTXt", "eXIf"), an EXIF tag
    ("EXIF:UserComment", "EXIF:Make", ...), "XMP", "COM" (JPEG comment) or "stealth:<sig>".
    `text` is the decoded text (None for binary data such as eXIf); `size` is its size in the
    file, `offset` the byte offset of its chunk/segment, `after_idat` True for PNG text that
    follows the image data.
    """

    container: str
    location: str
    key: str
    text: str | None
    size: int
    offset: int = 0
    after_idat: bool = False
    data: bytes | None = None

    def to_json(self) -> dict[str, object]:
        """The entry as `show --json --raw` lists it under `raw_entries` (docs/json.md);
        binary `data` is left out (its `text` is null)."""
        return {"container": self.container, "location": self.location, "key": self.key,
                "size": self.size, "offset": self.offset, "after_idat": self.after_idat,
                "text": self.text}


@dataclass(slots=True)
class RawMetadata:
    """Every metadata entry of one file, in file order, plus what the container says about it."""

    container: str  # "png" | "jpeg" | "webp"
    entries: list[RawEntry] = field(default_factory=list)
    width: int | None = None
    height: int | None = None
    has_alpha: bool = False
    lossless: bool = True
    warnings: list[str] = field(default_factory=list)

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
        dups: list[str] = []
        for entry in self.entries:
            if entry.key in seen and entry.key not in dups:
                dups.append(entry.key)
            seen.add(entry.key)
        return dups
