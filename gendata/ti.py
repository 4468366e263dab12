"""Service: textual-inversion embeddings in images ("embedding cards") and in embedding files.

A1111 stores an embedding in a card twice (formats.md section 5): as base64 JSON in the
`sd-ti-embedding` text chunk (5.2) and as coloured pixel blocks beside the picture (5.3).
This module turns either copy into an `TIEmbedding`, writes it out as .safetensors that
A1111, Forge and diffusers load (5.4), and builds new cards in A1111's own layout.
"""

from __future__ import annotations

import base64
import binascii
import json
import warnings as pywarnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO, Literal

import numpy as np
from PIL import Image, PngImagePlugin, UnidentifiedImageError

from .containers import open_raw, ti_blocks
from .containers import safetensors as st
from .containers.atomic import write_atomic
from .containers.raw import RawMetadata
from .errors import (
    ContainerError,
    GenDataError,
    ParseError,
    UnsupportedFormat,
    UsageError,
    ValidationError,
    WriteError,
)

__all__ = [
    "TEXT_KEY",
    "CardRead",
    "EmbedResult",
    "ExtractResult",
    "TIEmbedding",
    "TIInfo",
    "dumps_json",
    "embed",
    "extract",
    "from_dict",
    "inspect",
    "inspect_raw",
    "inspect_record",
    "loads_json",
    "read_card",
    "read_embedding",
    "safetensors_bytes",
]

TEXT_KEY = "sd-ti-embedding"
A1111_TOKEN_ID = 265  # the constant `string_to_token` value A1111 writes (5.1)
MAX_CARD_PIXELS = 40_000_000  # about 6300 x 6300; real cards are a preview plus two thin strips
MAX_JSON_BYTES = ti_blocks.DEFAULT_MAX_PAYLOAD
SDXL_KEYS = ("clip_g", "clip_l")
FAMILIES = {768: "SD1", 1024: "SD2"}
Layout = Literal["emb_params", "token"]
Source = Literal["auto", "text", "pixels"]
PixelPolicy = Literal["always", "fallback", "never"]
# What A1111 keeps beside the vectors (5.1): TIEmbedding fields, JSON keys and the
# .safetensors metadata keys alike.
BOOKKEEPING = ("name", "step", "sd_checkpoint", "sd_checkpoint_name")


# --------------------------------------------------------------------------- model


@dataclass(frozen=True, eq=False)
class TIEmbedding:
    """One embedding: its vectors plus the bookkeeping A1111 keeps with them (5.1).

    `tensors` holds ("*", [n, dim]) for SD1/SD2 embeddings or ("clip_g", ...), ("clip_l", ...)
    for SDXL ones; arrays are read-only. `name` is the prompt token stored in the data, if any.
    """

    tensors: tuple[tuple[str, np.ndarray], ...]
    name: str | None = None
    step: int | None = None
    sd_checkpoint: str | None = None
    sd_checkpoint_name: str | None = None

    def __post_init__(self) -> None:
        for _, arr in self.tensors:
            arr.flags.writeable = False

    def __repr__(self) -> str:
        shapes = ", ".join(f"{k}: {list(a.shape)} {a.dtype}" for k, a in self.tensors)
        return f"TIEmbedding(name={self.name!r}, step={self.step!r}, tensors={{{shapes}}})"

    @property
    def is_sdxl(self) -> bool:
        return tuple(k for k, _ in self.tensors) == SDXL_KEYS

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        return dict(self.tensors)

    @property
    def vectors(self) -> int:
        return int(self.tensors[0][1].shape[0])

    @property
    def widths(self) -> dict[str, int]:
        return {k: int(a.shape[-1]) for k, a in self.tensors}

    @property
    def width(self) -> int | None:
        """Vector width of an SD1/SD2 embedding; None for SDXL (see `widths`)."""
        return None if self.is_sdxl else int(self.tensors[0][1].shape[-1])

    @property
    def family(self) -> str | None:
        if self.is_sdxl:
            return "SDXL"
        return FAMILIES.get(self.width or 0)

    def shape_text(self) -> str:
        return _shape_text(self.vectors, self.width, self.widths)

    def differences(self, other: TIEmbedding) -> list[str]:
        """What differs between two copies of an embedding, in words; empty when identical."""
        out: list[str] = []
        for label in BOOKKEEPING:
            a, b = getattr(self, label), getattr(other, label)
            if a != b:
                out.append(f"{label} {a!r} vs {b!r}")
        mine, theirs = self.arrays, other.arrays
        if list(mine) != list(theirs):
            out.append(f"tensors {list(mine)} vs {list(theirs)}")
            return out
        for key, arr in mine.items():
            label = "vector" if key == "*" else key
            if arr.shape != theirs[key].shape:
                out.append(f"{label} shape {list(arr.shape)} vs {list(theirs[key].shape)}")
            elif not np.array_equal(arr, theirs[key], equal_nan=True):
                out.append(f"{label} values differ")
        return out


def _shape_text(vectors: int, width: int | None, widths: Mapping[str, int]) -> str:
    """`8 vectors × 768`; SDXL (no single width): `8 vectors × (clip_l 768 + clip_g 1280)`."""
    if width is None:
        clip_l, clip_g = widths.get("clip_l"), widths.get("clip_g")
        return f"{vectors} vectors × (clip_l {clip_l} + clip_g {clip_g})"
    return f"{vectors} vectors × {width}"


@dataclass(frozen=True)
class TIInfo:
    """What `gendata show` reports about an embedding card (formats.md 5)."""

    path: str
    name: str | None
    token: str
    vectors: int
    width: int | None
    widths: tuple[tuple[str, int], ...]  # SDXL only: (("clip_g", 1280), ("clip_l", 768))
    family: str | None
    step: int | None
    sd_checkpoint: str | None
    sd_checkpoint_name: str | None
    source: str  # "text" (sd-ti-embedding chunk) or "pixels" (data blocks)
    has_text: bool
    has_pixels: bool | None  # None: the pixels were not looked at
    agree: bool | None  # None unless both copies were read
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "token": self.token,
            "vectors": self.vectors,
            "width": self.width,
            "widths": dict(self.widths) or None,
            "family": self.family,
            "step": self.step,
            "sd_checkpoint": self.sd_checkpoint,
            "sd_checkpoint_name": self.sd_checkpoint_name,
            "source": self.source,
            "has_text": self.has_text,
            "has_pixels": self.has_pixels,
            "agree": self.agree,
            "warnings": list(self.warnings),
        }

    def summary(self) -> str:
        """One line for human output, e.g. `<rick>: 8 vectors × 768 (SD1), step 60`."""
        shape = _shape_text(self.vectors, self.width, dict(self.widths))
        parts = [f"<{self.token}>: {shape}"]
        if self.family:
            parts[0] += f" ({self.family})"
        if self.step is not None:
            parts.append(f"step {self.step}")
        if self.sd_checkpoint_name or self.sd_checkpoint:
            ckpt = self.sd_checkpoint_name or ""
            if self.sd_checkpoint:
                ckpt = f"{ckpt} [{self.sd_checkpoint}]".strip()
            parts.append(f"checkpoint {ckpt}")
        return ", ".join(parts)


# --------------------------------------------------------------------------- dict <-> model


def from_dict(data: Mapping[str, Any], *, what: str = "embedding") -> TIEmbedding:
    """Interpret an embedding dict the way A1111's loader does (formats.md 5.4).

    Tried in order: `string_to_param` (A1111), `clip_g` + `clip_l` (SDXL), a dict holding
    exactly one tensor (kohya `emb_params`, diffusers `{token: tensor}`).
    """
    if not isinstance(data, Mapping):
        raise ParseError(f"{what}: expected a JSON object / dict, got {type(data).__name__}")
    meta = _bookkeeping(data)
    if "string_to_param" in data:
        params = data["string_to_param"]
        if not isinstance(params, Mapping) or len(params) != 1:
            n = len(params) if isinstance(params, Mapping) else type(params).__name__
            raise ParseError(f"{what}: string_to_param must hold exactly one tensor, found {n}")
        key, value = next(iter(params.items()))
        tensors = (("*", _as_matrix(value, f"{what}: string_to_param[{key!r}]")),)
    elif all(k in data for k in SDXL_KEYS):
        tensors = tuple((k, _as_matrix(data[k], f"{what}: {k}")) for k in SDXL_KEYS)
    else:
        arrays = [(k, v) for k, v in data.items() if isinstance(v, np.ndarray)]
        if not arrays:
            raise ParseError(
                f"{what}: holds no tensors (expected string_to_param, clip_g + clip_l, "
                "or a single tensor)"
            )
        if len(arrays) > 1:
            names = ", ".join(k for k, _ in arrays[:6])
            raise ParseError(f"{what}: holds {len(arrays)} tensors ({names}); an embedding has one")
        key, value = arrays[0]
        tensors = (("*", _as_matrix(value, f"{what}: {key}")),)
        if meta["name"] is None and key not in ("emb_params", "*"):
            meta["name"] = key  # diffusers names the tensor after its placeholder token
    return TIEmbedding(tensors=tensors, **meta)


def _bookkeeping(data: Mapping[str, Any]) -> dict[str, Any]:
    name = data.get("name")
    step = data.get("step")
    integral_text = isinstance(step, str) and step.strip().lstrip("-").isdigit()
    if integral_text or (isinstance(step, float) and step.is_integer()):
        step = int(step)
    elif not isinstance(step, int) or isinstance(step, bool):
        step = None
    return {
        "name": name if isinstance(name, str) and name else None,
        "step": step,
        "sd_checkpoint": _opt_str(data.get("sd_checkpoint")),
        "sd_checkpoint_name": _opt_str(data.get("sd_checkpoint_name")),
    }


def _opt_str(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list, np.ndarray)):
        return None
    return str(value)


def _as_matrix(value: Any, what: str) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        raise ParseError(f"{what} is not a tensor ({type(value).__name__})")
    if value.ndim == 1:
        value = value.reshape(1, -1)
    if value.ndim != 2 or value.shape[0] == 0 or value.shape[1] == 0:
        raise ParseError(f"{what} has shape {list(value.shape)}; expected [vectors, width]")
    if value.dtype.kind != "f":
        raise ParseError(f"{what} has dtype {value.dtype}; expected floats")
    return np.array(value, copy=True)


def _tensor_from_json(value: Any, what: str) -> np.ndarray:
    try:
        arr = np.array(value)
    except (ValueError, TypeError) as exc:
        raise ParseError(f"{what}: TORCHTENSOR is not a rectangular array ({exc})") from None
    if arr.dtype.kind not in "iuf" or arr.size == 0:
        raise ParseError(f"{what}: TORCHTENSOR must hold numbers, got {arr.dtype} {arr.shape}")
    arr = arr.astype(np.float64)
    # JSON keeps no dtype. A1111 trains in float32, whose values survive the round trip
    # through Python floats exactly; keep float32 when that is lossless so bits are preserved.
    narrow = arr.astype(np.float32)
    if np.array_equal(narrow.astype(np.float64), arr, equal_nan=True):
        return narrow
    return arr


def loads_json(data: bytes | str, *, what: str = "embedding JSON") -> TIEmbedding:
    """Decode A1111's embedding JSON: objects `{"TORCHTENSOR": [...]}` become arrays (5.2)."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(f"{what}: not UTF-8 ({exc})") from None

    def hook(obj: dict[str, Any]) -> Any:
        if "TORCHTENSOR" in obj:
            return _tensor_from_json(obj["TORCHTENSOR"], what)
        return obj

    try:
        parsed = json.loads(data, object_hook=hook)
    except json.JSONDecodeError as exc:
        raise ParseError(f"{what}: not JSON ({exc})") from None
    except RecursionError:
        raise ParseError(f"{what}: JSON nested too deeply") from None
    return from_dict(parsed, what=what)


def _to_a1111_dict(emb: TIEmbedding) -> dict[str, Any]:
    if emb.is_sdxl:
        # A1111 turns every value of an SDXL dict into a tensor, so nothing else may be stored.
        return dict(emb.tensors)
    return {
        "string_to_token": {"*": A1111_TOKEN_ID},
        "string_to_param": {"*": emb.tensors[0][1]},
        **{k: getattr(emb, k) for k in BOOKKEEPING},
    }


def dumps_json(emb: TIEmbedding) -> bytes:
    """The JSON A1111 writes for a card: its default json.dumps spacing, key order and floats."""

    def default(obj: Any) -> Any:
        if isinstance(obj, np.ndarray):
            return {"TORCHTENSOR": obj.tolist()}
        raise TypeError(f"cannot serialise {type(obj).__name__}")

    return json.dumps(_to_a1111_dict(emb), default=default).encode("utf-8")


def _edge_shades(emb: TIEmbedding) -> np.ndarray:
    # A1111 shades the decoration by the first 1024 values of the first vector (5.3 step 4).
    first = np.abs(emb.tensors[0][1][0][:1024].astype(np.float64))
    first = np.nan_to_num(first, nan=0.0, posinf=0.0, neginf=0.0)
    top = first.max() if first.size else 0.0
    if top <= 0:
        return np.zeros(first.size, dtype=np.uint8)
    return (first / top * 255).astype(np.uint8)


# --------------------------------------------------------------------------- cards


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
        """The prompt token A1111 gives it: the stored name, else the file name (5.1)."""
        return self.embedding.name or _stem(self.path)

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


def _stem(path: Path) -> str:
    name = path.name
    for suffix in (".png", ".webp", ".jxl", ".avif", ".safetensors", ".pt", ".bin"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def _open_image(path: Path) -> Image.Image:
    try:
        with pywarnings.catch_warnings():
            # Our own pixel cap (MAX_CARD_PIXELS) applies before any decoding; Pillow's
            # warning would only repeat it less clearly.
            pywarnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(path)
    except Image.DecompressionBombError as exc:
        raise ContainerError(f"{path}: refusing a huge image ({exc})") from None
    except FileNotFoundError:
        raise ContainerError(f"{path}: no such file") from None
    except UnidentifiedImageError:
        raise ContainerError(f"{path}: not an image Pillow can read") from None
    except OSError as exc:
        raise ContainerError(f"{path}: cannot open ({exc})") from None


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


def _open_capped(path: Path, max_pixels: int, role: str) -> Image.Image:
    """Open an image whose size is checked against `max_pixels` before anything is decoded."""
    im = _open_image(path)
    width, height = im.size
    if width * height > max_pixels:
        im.close()
        raise ContainerError(
            f"{path}: {width}x{height} pixels is more than the {max_pixels} a {role} may have"
        )
    return im


def _pixel_payload(path: Path, *, strict: bool, max_pixels: int) -> bytes | None:
    with _open_capped(path, max_pixels, "card") as im:
        try:
            rgb = np.asarray(im.convert("RGB"))
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise ContainerError(f"{path}: cannot decode pixels ({exc})") from None
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


# --------------------------------------------------------------------------- files


def read_embedding(path: str | Path) -> TIEmbedding:
    """Load an embedding from .safetensors, a card image, or (with torch) a .pt/.bin pickle."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        with path.open("rb") as fh:
            magic = fh.read(8)
    except OSError as exc:
        raise ContainerError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if magic.startswith(b"\x89PNG") or suffix in (".png", ".webp", ".jxl", ".avif"):
        card = read_card(path, pixels="fallback", strict_pixels=True)
        if card is None:
            raise ContainerError(f"{path}: image carries no embedding")
        return card.embedding
    if suffix in (".pt", ".bin", ".ckpt", ".pth") or magic.startswith(b"PK"):
        return _read_torch(path)
    tensors, metadata = st.load(path)
    data: dict[str, Any] = dict(tensors)
    for key in BOOKKEEPING:
        if key in metadata and key not in data:
            data[key] = metadata[key]
    return from_dict(data, what=str(path))


def _read_torch(path: Path) -> TIEmbedding:
    try:
        import torch  # type: ignore[import-not-found]
    except ImportError:
        raise UsageError(
            f"{path}: .pt/.bin embeddings are Python pickles, which can run code when loaded; "
            "gendata reads them only through torch.load(weights_only=True) and torch is not "
            "installed. Convert the embedding to .safetensors, or install torch."
        ) from None
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for refused or broken pickles
        raise ContainerError(f"{path}: torch refused to load it safely ({exc})") from None

    def convert(obj: Any) -> Any:
        if isinstance(obj, torch.Tensor):
            obj = obj.detach().cpu()
            if obj.dtype == torch.bfloat16:
                obj = obj.float()
            return obj.numpy()
        if isinstance(obj, Mapping):
            inner = getattr(obj, "_parameters", obj)
            return {k: convert(v) for k, v in inner.items()}
        return obj

    return from_dict(convert(data), what=str(path))


def safetensors_bytes(emb: TIEmbedding, *, layout: Layout = "emb_params") -> bytes:
    """The embedding as .safetensors: `emb_params` (kohya, what most shared files use) or
    `token` (diffusers: the tensor named after the token); SDXL keeps clip_g and clip_l.
    Name, step and checkpoint go into the string metadata, which every loader ignores.
    """
    if emb.is_sdxl:
        tensors = dict(emb.tensors)
    elif layout == "emb_params":
        tensors = {"emb_params": emb.tensors[0][1]}
    elif layout == "token":
        if not emb.name:
            raise UsageError("the 'token' layout needs a name; give one with --name")
        tensors = {emb.name: emb.tensors[0][1]}
    else:
        raise UsageError(f"unknown layout {layout!r} (emb_params or token)")
    metadata = {
        k: str(v) for k in BOOKKEEPING if (v := getattr(emb, k)) is not None
    }
    return st.dumps(tensors, metadata)


def check_name(name: str) -> str:
    """A name must be usable as a prompt token and as a file name: no path separators."""
    bad = [c for c in name if c in "/\\\0" or ord(c) < 32 or ord(c) == 127]
    if not name.strip() or name in (".", "..") or bad:
        reason = "path separators" if any(c in "/\\" for c in bad) else "control characters"
        if not name.strip() or name in (".", ".."):
            reason = "no usable characters"
        raise ValidationError(f"embedding name {name!r} is not usable ({reason})")
    if len(name.encode("utf-8")) > 200:
        raise ValidationError(f"embedding name is {len(name)} characters long; 200 at most")
    return name


def _atomic_write(path: Path, write: Callable[[BinaryIO], None], *, force: bool) -> None:
    """A new file (an existing one only with `force`), written as every writer does: through
    a temporary file renamed over it, so a failure leaves nothing behind."""
    if path.exists() and not force:
        raise WriteError(f"{path} exists; pass --force to overwrite it")
    if path.is_dir():
        raise WriteError(f"{path} is a directory")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise WriteError(f"{path}: folder {folder} does not exist")
    write_atomic(path, write)


@dataclass(frozen=True)
class ExtractResult:
    output: Path
    card: CardRead
    layout: str

    @property
    def embedding(self) -> TIEmbedding:
        return self.card.embedding


def extract(
    card_path: str | Path,
    output: str | Path | None = None,
    *,
    layout: Layout = "emb_params",
    source: Source = "auto",
    force: bool = False,
) -> ExtractResult:
    """Write a card's embedding as .safetensors.

    `source="auto"` takes the text chunk and falls back to the pixel blocks, checking one
    against the other; "text" or "pixels" insist on one copy. Without `output`, the file is
    `<token>.safetensors` in the current folder; a directory as `output` puts it there. The
    token must then be a plain file name: a card cannot choose where its file lands.
    """
    card_path = Path(card_path)
    card = read_card(card_path, pixels="always", strict_pixels=True)
    if card is None:
        raise ContainerError(f"{card_path}: no {TEXT_KEY} chunk and no TI pixel blocks")
    if source == "text" and card.text is None:
        raise ContainerError(f"{card_path}: no readable {TEXT_KEY} chunk")
    if source == "pixels":
        if card.pixels is None:
            raise ContainerError(f"{card_path}: no readable TI pixel blocks")
        card = replace(card, text=None, pixels_checked=True, has_pixels=True)
    target = _output_path(output, card.token, ".safetensors", card_path)
    if target.suffix.lower() != ".safetensors":
        raise UsageError(f"{target}: output must end in .safetensors")
    data = safetensors_bytes(card.embedding, layout=layout)
    _atomic_write(target, lambda fh: fh.write(data), force=force)
    return ExtractResult(output=target, card=card, layout=layout)


def _output_path(output: str | Path | None, token: str, suffix: str, source: Path) -> Path:
    if output is not None and not Path(output).is_dir():
        return Path(output)
    try:
        check_name(token)
    except ValidationError as exc:
        raise ValidationError(f"{source}: {exc}; choose the output file with -o") from None
    return (Path(output) if output is not None else Path()) / f"{token}{suffix}"


@dataclass(frozen=True)
class EmbedResult:
    output: Path
    embedding: TIEmbedding
    token: str
    size: tuple[int, int]
    warnings: tuple[str, ...] = field(default=())


def embed(
    embedding_path: str | Path,
    cover: str | Path,
    output: str | Path,
    *,
    name: str | None = None,
    force: bool = False,
    max_pixels: int = MAX_CARD_PIXELS,
) -> EmbedResult:
    """Build a card A1111 loads: `cover` with the data blocks beside it and the text chunk.

    The blocks and the JSON follow A1111's writer exactly (5.2, 5.3); the card is decoded
    again before it is written, so a card that A1111's reader would misread is never saved.
    """
    embedding_path, cover, output = Path(embedding_path), Path(cover), Path(output)
    if output.suffix.lower() != ".png":
        raise UsageError(f"{output}: a card must be a .png file")
    emb = read_embedding(embedding_path)
    warnings: list[str] = []
    chosen = check_name(name) if name is not None else emb.name or _stem(embedding_path)
    if emb.is_sdxl:
        chosen = _stem(output)
        if name is not None or emb.name:
            warnings.append(
                "SDXL cards hold only clip_g and clip_l (A1111 rejects anything else), so the "
                f"name is not stored; A1111 will use the file name: <{chosen}>"
            )
        emb = TIEmbedding(tensors=emb.tensors)
    else:
        emb = replace(emb, name=check_name(chosen))
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
    image = Image.fromarray(pixels, mode="RGB")

    def write(fh: BinaryIO) -> None:
        image.save(fh, format="PNG", pnginfo=info)

    _atomic_write(output, write, force=force)
    return EmbedResult(
        output=output,
        embedding=emb,
        token=chosen,
        size=(pixels.shape[1], pixels.shape[0]),
        warnings=tuple(warnings),
    )


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
