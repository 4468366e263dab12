"""Embedding files: reading every input an embedding comes in, and the two commands that write
files, `extract` (card -> .safetensors) and `embed` (embedding + cover -> card).

Both writers go through a temporary file renamed into place and refuse to overwrite without
`force`, so a failed or refused run leaves the folder as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO, Literal

from ..containers import safetensors as st
from ..containers.atomic import write_atomic
from ..containers.files import open_regular, os_reason
from ..errors import ContainerError, UsageError, ValidationError, WriteError
from .cards import MAX_CARD_PIXELS, TEXT_KEY, CardRead, file_token, make_card, read_card
from .codec import Layout, from_dict, safetensors_bytes
from .model import BOOKKEEPING, TIEmbedding

__all__ = [
    "EmbedResult",
    "ExtractResult",
    "Source",
    "check_name",
    "embed",
    "extract",
    "read_embedding",
]

Source = Literal["auto", "text", "pixels"]


def read_embedding(path: str | Path) -> TIEmbedding:
    """Load an embedding from .safetensors, a card image, or (with torch) a .pt/.bin pickle."""
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        with open_regular(path) as fh:  # a FIFO or device is refused, never waited on
            magic = fh.read(8)
    except OSError as exc:
        raise ContainerError(f"{path}: cannot read ({os_reason(exc)})") from None
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
        import torch
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

    def write(fh: BinaryIO) -> None:
        fh.write(data)

    _atomic_write(target, write, force=force)
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

    The card follows A1111's writer exactly and is checked before it is written (see
    `cards.make_card`), so a card that A1111's reader would misread is never saved.
    """
    embedding_path, cover, output = Path(embedding_path), Path(cover), Path(output)
    if output.suffix.lower() != ".png":
        raise UsageError(f"{output}: a card must be a .png file")
    emb = read_embedding(embedding_path)
    warnings: list[str] = []
    chosen = check_name(name) if name is not None else emb.name or file_token(embedding_path)
    if emb.is_sdxl:
        chosen = file_token(output)
        if name is not None or emb.name:
            warnings.append(
                "SDXL cards hold only clip_g and clip_l (A1111 rejects anything else), so the "
                f"name is not stored; A1111 will use the file name: <{chosen}>"
            )
        emb = TIEmbedding(tensors=emb.tensors)
    else:
        emb = replace(emb, name=check_name(chosen))
    image, info = make_card(emb, cover, max_pixels=max_pixels)

    def write(fh: BinaryIO) -> None:
        image.save(fh, format="PNG", pnginfo=info)

    _atomic_write(output, write, force=force)
    return EmbedResult(
        output=output,
        embedding=emb,
        token=chosen,
        size=image.size,
        warnings=tuple(warnings),
    )


