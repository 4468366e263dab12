"""Embedding cards: the PNGs A1111 writes with an embedding beside the picture, read and made.

A card carries its embedding twice (docs/formats.md#embedding-cards): as base64
JSON in the `sd-ti-embedding` text chunk and as coloured pixel blocks beside the picture. Both
are read here, the chunk first as A1111 does, and compared; making a card writes both in
A1111's own layout.
"""

from __future__ import annotations

import base64
import binascii
import warnings as pywarnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from PIL import Image, PngImagePlugin

from ..containers import open_raw, ti_blocks
from ..containers.pixels import decode_all
from ..containers.pixels import open_image as open_pixels
from ..containers.raw import RawMetadata
from ..errors import ContainerError, GenDataError, ParseError, UnsupportedFormat
from .codec import dumps_json, loads_json
from .model import TIEmbedding, TIInfo

__all__ = [
    "MAX_CARD_PIXELS",
    "MAX_JSON_BYTES",
    "TEXT_KEY",
    "CardRead",
    "PixelPolicy",
    "file_token",
    "inspect",
    "inspect_raw",
    "inspect_record",
    "make_card",
    "read_card",
]

TEXT_KEY = "sd-ti-embedding"
MAX_CARD_PIXELS = 40_000_000  # about 6300 x 6300; real cards are a preview plus two thin strips
MAX_JSON_BYTES = ti_blocks.DEFAULT_MAX_PAYLOAD
PixelPolicy = Literal["always", "fallback", "never"]


@dataclass(frozen=True)
class CardRead:
    """Both copies of a card's embedding, as far as they could be read."""

    path: Path
    text: TIEmbedding | None
    pixels: TIEmbedding | None
    has_text: bool
    pixels_checked: bool
    has_pixels: bool
    warnings: tuple[str, ...] = ()

    @property
    def embedding(self) -> TIEmbedding:
        emb = self.text or self.pixels
        assert emb is not None
        return emb

    @property
    def source(self) -> str:
        return "text" if self.text is not None else "pixels"

    @property
    def agree(self) -> bool | None:
        if self.text is None or self.pixels is None:
            return None
        return not self.text.differences(self.pixels)

    @property
    def token(self) -> str:
        """The prompt token A1111 gives it: the stored name, else the file name
        (docs/formats.md#the-embedding-dictionary)."""
        return self.embedding.name or file_token(self.path)

    def info(self) -> TIInfo:
        emb = self.embedding
        return TIInfo(
            path=str(self.path),
            name=emb.name,
            token=self.token,
            vectors=emb.vectors,
            width=emb.width,
            widths=tuple(emb.widths.items()) if emb.is_sdxl else (),
            family=emb.family,
            step=emb.step,
            sd_checkpoint=emb.sd_checkpoint,
            sd_checkpoint_name=emb.sd_checkpoint_name,
            source=self.source,
            has_text=self.has_text,
            has_pixels=self.has_pixels if self.pixels_checked else None,
            agree=self.agree,
            warnings=self.warnings,
        )


def file_token(path: Path) -> str:
    """The file name without its image or embedding suffix: the prompt token A1111 falls back to
    when the data holds no name."""
    name = path.name
    for suffix in (".png", ".webp", ".jxl", ".avif", ".safetensors", ".pt", ".bin"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


@contextmanager
def _open_image(path: Path) -> Iterator[Image.Image]:
    """The image at `path`, header read and nothing decoded; a FIFO or device is refused
    unopened, and Pillow's warnings about odd files (it prints them) are kept quiet."""
    with pywarnings.catch_warnings():
        pywarnings.simplefilter("ignore")
        with open_pixels(str(path)) as im:
            yield im


def _text_from_raw(raw: RawMetadata) -> tuple[str | None, list[str]]:
    """The `sd-ti-embedding` text, and a warning when the file holds several different ones.

    A1111 reads the chunk through Pillow, where the last of repeated keywords wins; so here.
    """
    values = [e.text for e in raw.entries if e.key == TEXT_KEY and e.text is not None]
    if not values:
        return None, []
    notes = []
    if len(set(values)) > 1:
        notes.append(f"{len(values)} different {TEXT_KEY} chunks; using the last, as A1111 does")
    return values[-1], notes


def _read_text(path: Path) -> tuple[str | None, list[str]]:
    # Chunk walk only, no pixel decoding; also finds chunks written after the image data.
    try:
        raw = open_raw(path)
    except UnsupportedFormat:
        # Not PNG/JPEG/WebP, so no text chunk; still an error unless Pillow knows the format.
        with _open_image(path):
            return None, []
    return _text_from_raw(raw)


def _decode_text(text: str, path: Path) -> TIEmbedding:
    what = f"{path}: {TEXT_KEY} chunk"
    if len(text) > MAX_JSON_BYTES * 4 // 3 + 4:
        raise ContainerError(f"{what}: {len(text)} characters, larger than any embedding")
    try:
        raw = base64.b64decode(text.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise ParseError(f"{what}: not base64 ({exc})") from None
    return loads_json(raw, what=what)


@contextmanager
def _open_capped(path: Path, max_pixels: int, role: str) -> Iterator[Image.Image]:
    """Open an image whose size is checked against `max_pixels` before anything is decoded."""
    with _open_image(path) as im:
        width, height = im.size
        if width * height > max_pixels:
            raise ContainerError(
                f"{path}: {width}x{height} pixels is more than the {max_pixels} a {role} may have"
            )
        yield im


def _pixel_payload(path: Path, *, strict: bool, max_pixels: int) -> bytes | None:
    try:
        im = decode_all(str(path), max_pixels, f"{path}: card")
        rgb = np.asarray(im.convert("RGB"))
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ContainerError(f"{path}: cannot decode pixels ({exc})") from None
    del im
    compressed = ti_blocks.decode_blocks(rgb, strict=strict)
    if compressed is None:
        return None
    return ti_blocks.inflate(compressed, MAX_JSON_BYTES, what=f"{path}: TI pixel blocks")


def read_card(
    path: str | Path,
    *,
    pixels: PixelPolicy = "always",
    strict_pixels: bool = False,
    max_pixels: int = MAX_CARD_PIXELS,
) -> CardRead | None:
    """Read an embedding card; None when the image carries no embedding.

    The text chunk is read first, as A1111 does. The data blocks are decoded `"always"` (so
    a mismatch between the two copies is reported), as a `"fallback"` when the chunk is
    missing or unreadable, or `"never"` (no pixel decoding at all). A copy that fails to
    decode becomes a warning when the other copy is good; when neither is, the error is
    raised. `strict_pixels` treats blocks that do not hold a zlib stream as damage rather
    than as an ordinary picture.
    """
    path = Path(path)
    text_value, notes = _read_text(path)
    return _read_card(
        path,
        text_value,
        notes,
        pixels=pixels,
        strict_pixels=strict_pixels,
        max_pixels=max_pixels,
    )


def _read_card(
    path: Path,
    text_value: str | None,
    notes: list[str],
    *,
    pixels: PixelPolicy,
    strict_pixels: bool,
    max_pixels: int,
) -> CardRead | None:
    warnings = list(notes)
    text_emb: TIEmbedding | None = None
    text_error: GenDataError | None = None
    if text_value is not None:
        try:
            text_emb = _decode_text(text_value, path)
        except GenDataError as exc:
            text_error = exc
    pix_emb: TIEmbedding | None = None
    has_pixels = False
    checked = pixels == "always" or (pixels == "fallback" and text_emb is None)
    if checked:
        try:
            payload = _pixel_payload(
                path, strict=strict_pixels and text_emb is None, max_pixels=max_pixels
            )
            if payload is not None:
                has_pixels = True
                pix_emb = loads_json(payload, what=f"{path}: TI pixel blocks")
        except GenDataError as exc:
            if text_emb is None:
                if text_error is not None:
                    raise type(text_error)(f"{text_error} (pixel blocks: {exc})") from None
                raise
            has_pixels = True
            warnings.append(f"pixel blocks unreadable: {exc}")
    if text_error is not None:
        if pix_emb is None:
            raise text_error
        warnings.append(f"{text_error}; using the pixel blocks")
    if text_emb is None and pix_emb is None:
        return None
    if text_emb is not None and pix_emb is not None:
        diff = text_emb.differences(pix_emb)
        if diff:
            warnings.append(
                "text chunk and pixel blocks disagree (" + "; ".join(diff) + "); "
                "using the text chunk, as A1111 does"
            )
    return CardRead(
        path=path,
        text=text_emb,
        pixels=pix_emb,
        has_text=text_value is not None,
        pixels_checked=checked,
        has_pixels=has_pixels,
        warnings=tuple(warnings),
    )


def inspect(path: str | Path, *, pixels: bool = False) -> TIInfo | None:
    """The embedding a card carries, or None; cheap unless `pixels`.

    Without `pixels` only the `sd-ti-embedding` text chunk is read (a chunk walk, no pixel
    decoding), so an image whose chunk was stripped reports None; with it the data blocks
    are decoded as well and compared with the chunk. Raises GenDataError subclasses for
    damaged payloads.
    """
    card = read_card(path, pixels="always" if pixels else "never")
    return None if card is None else card.info()


def inspect_raw(path: str | Path, raw: RawMetadata) -> TIInfo | None:
    """`inspect` for metadata already read (no file access): the text chunk only."""
    text_value, notes = _text_from_raw(raw)
    if text_value is None:
        return None
    card = _read_card(
        Path(path), text_value, notes, pixels="never", strict_pixels=False, max_pixels=0
    )
    return None if card is None else card.info()


def inspect_record(rec: Any) -> dict[str, Any] | None:
    """The `textual_inversion` section of `gendata show` for an `api.Record`, or None."""
    if rec.raw is None:
        return None
    info = inspect_raw(rec.path, rec.raw)
    return None if info is None else info.to_json()


# --------------------------------------------------------------------------- making cards


def make_card(
    emb: TIEmbedding, cover: Path, *, max_pixels: int = MAX_CARD_PIXELS
) -> tuple[Image.Image, PngImagePlugin.PngInfo]:
    """The card for `emb` on `cover`: the image and the text chunk to save it with.

    The blocks and the JSON follow A1111's writer exactly
    (docs/formats.md#the-sd-ti-embedding-chunk, docs/formats.md#the-pixel-blocks); the blocks
    are decoded again here, so a card that A1111's reader would misread is never returned.
    """
    picture = _load_cover(cover, max_pixels)
    payload = dumps_json(emb)
    low, high = ti_blocks.encode_blocks(payload, picture.shape[0], _edge_shades(emb))
    pixels = ti_blocks.compose(low, picture, high)
    if pixels.shape[0] * pixels.shape[1] > max_pixels:
        raise ContainerError(
            f"{cover}: the card would be {pixels.shape[1]}x{pixels.shape[0]} pixels, more than "
            f"{max_pixels}; use a smaller cover"
        )
    _verify_card(pixels, payload, cover)
    info = PngImagePlugin.PngInfo()
    info.add_text(TEXT_KEY, base64.b64encode(payload).decode("ascii"))
    return Image.fromarray(pixels, mode="RGB"), info


def _edge_shades(emb: TIEmbedding) -> np.ndarray:
    # A1111 shades the decoration by the first 1024 values of the first vector
    # (docs/formats.md#the-pixel-blocks, step 4).
    first = np.abs(emb.tensors[0][1][0][:1024].astype(np.float64))
    first = np.nan_to_num(first, nan=0.0, posinf=0.0, neginf=0.0)
    top = first.max() if first.size else 0.0
    if top <= 0:
        return np.zeros(first.size, dtype=np.uint8)
    return (first / top * 255).astype(np.uint8)



def _load_cover(cover: Path, max_pixels: int) -> np.ndarray:
    with _open_capped(cover, max_pixels, "cover") as im:
        try:
            im.load()
            if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info:
                # Transparent areas become black, as they would on A1111's black canvas.
                rgba = im.convert("RGBA")
                canvas = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
                canvas.alpha_composite(rgba)
                return np.asarray(canvas.convert("RGB"))
            return np.asarray(im.convert("RGB"))
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise ContainerError(f"{cover}: cannot decode pixels ({exc})") from None


def _verify_card(pixels: np.ndarray, payload: bytes, cover: Path) -> None:
    try:
        compressed = ti_blocks.decode_blocks(pixels, strict=True)
        back = None if compressed is None else ti_blocks.inflate(compressed, MAX_JSON_BYTES)
    except ContainerError:
        back = None
    if back != payload:
        raise ContainerError(
            f"{cover}: with this cover the data blocks would not read back (the cover is too "
            f"small: {pixels.shape[0]} rows); use a taller cover image"
        )
