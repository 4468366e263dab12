"""Front end: `gendata ti` — read, extract and make textual-inversion embedding cards."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn, TypeVar

import click

from .. import ti as service
from ..errors import ContainerError, GenDataError, UsageError
from ._common import error, warn

T = TypeVar("T")

_FILE = click.Path(dir_okay=False, path_type=Path)


def _fail(exc: GenDataError) -> NoReturn:
    error(str(exc))
    sys.exit(2 if isinstance(exc, UsageError) else 1)


def _run(call: Callable[[], T]) -> T:
    try:
        return call()
    except GenDataError as exc:
        _fail(exc)


def _warn(warnings: tuple[str, ...]) -> None:
    for line in warnings:
        warn(line)


def _stored_in(card: service.CardRead) -> str:
    if card.text is not None and card.pixels is not None:
        return "text chunk + pixel blocks (" + ("agree" if card.agree else "DISAGREE") + ")"
    if card.text is not None:
        return "text chunk" + (" (no pixel blocks)" if card.pixels_checked else "")
    return "pixel blocks" + (" (text chunk missing)" if not card.has_text else "")


@click.group("ti")
def ti() -> None:
    """Textual-inversion embedding cards (A1111's `sd-ti-embedding` PNGs)."""


@ti.command("info")
@click.argument("card", type=_FILE)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--pixels/--no-pixels",
    default=True,
    show_default=True,
    help="Also decode the pixel blocks and compare them with the text chunk.",
)
def info(card: Path, as_json: bool, pixels: bool) -> None:
    """Show the embedding CARD carries."""
    read = _run(lambda: service.read_card(card, pixels="always" if pixels else "fallback"))
    if read is None:
        if as_json:
            click.echo(json.dumps(None))
            return
        _fail(ContainerError(f"{card}: carries no textual-inversion embedding"))
    summary = read.info()
    if as_json:
        click.echo(json.dumps(summary.to_json(), indent=2, ensure_ascii=False))
        return
    emb = read.embedding
    click.echo(f"{card}: embedding <{summary.token}>")
    click.echo(
        f"  name        {emb.name if emb.name is not None else '- (file name is the token)'}"
    )
    family = f" ({emb.family})" if emb.family else ""
    click.echo(f"  vectors     {emb.shape_text()}{family}")
    click.echo(f"  step        {emb.step if emb.step is not None else '-'}")
    ckpt = " ".join(
        x for x in (emb.sd_checkpoint_name, emb.sd_checkpoint and f"[{emb.sd_checkpoint}]") if x
    )
    click.echo(f"  checkpoint  {ckpt or '-'}")
    click.echo(f"  stored in   {_stored_in(read)}")
    _warn(read.warnings)


@ti.command("extract")
@click.argument("card", type=_FILE)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Output .safetensors file or folder (default: <token>.safetensors here).",
)
@click.option(
    "--layout",
    type=click.Choice(["emb_params", "token"]),
    default="emb_params",
    show_default=True,
    help="emb_params: kohya layout A1111/Forge/diffusers load; token: tensor named after the "
    "token (diffusers). SDXL always keeps clip_g and clip_l.",
)
@click.option(
    "--from",
    "source",
    type=click.Choice(["auto", "text", "pixels"]),
    default="auto",
    show_default=True,
    help="Which copy to use: the text chunk (falling back to pixels), or insist on one.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing output file.")
def extract(card: Path, output: Path | None, layout: str, source: str, force: bool) -> None:
    """Write the embedding in CARD as a .safetensors file."""
    result = _run(
        lambda: service.extract(card, output, layout=layout, source=source, force=force)  # type: ignore[arg-type]
    )
    _warn(result.card.warnings)
    emb = result.embedding
    family = f" ({emb.family})" if emb.family else ""
    click.echo(
        f"wrote {result.output}: <{result.card.token}> {emb.shape_text()}{family}, "
        f"from {_stored_in(result.card)}"
    )


@ti.command("embed")
@click.argument("embedding", type=_FILE)
@click.option("--into", "cover", type=_FILE, required=True, help="Picture to put on the card.")
@click.option("-o", "--output", type=_FILE, required=True, help="The card to write (.png).")
@click.option("--name", help="Token to store (default: the embedding's name or file name).")
@click.option("--force", is_flag=True, help="Overwrite an existing output file.")
def embed(embedding: Path, cover: Path, output: Path, name: str | None, force: bool) -> None:
    """Make an A1111 embedding card from EMBEDDING (.safetensors, a card, or .pt with torch)."""
    result = _run(lambda: service.embed(embedding, cover, output, name=name, force=force))
    _warn(result.warnings)
    emb = result.embedding
    family = f" ({emb.family})" if emb.family else ""
    width, height = result.size
    click.echo(
        f"wrote {result.output} ({width}x{height}): <{result.token}> {emb.shape_text()}{family}"
    )
