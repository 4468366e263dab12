"""Front end: rich renderables for a Record (shared by `show`, `diff` and the TUI's text export)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..api import Record
from ..model_fields import DeferredParams

if TYPE_CHECKING:
    from ..model import GenParams

# model field -> label, in display order
MAIN_FIELDS = [
    ("steps", "Steps"), ("sampler", "Sampler"), ("scheduler", "Schedule type"),
    ("cfg_scale", "CFG scale"), ("seed", "Seed"), ("size", "Size"), ("model", "Model"),
    ("model_hash", "Model hash"), ("vae", "VAE"), ("vae_hash", "VAE hash"),
    ("clip_skip", "Clip skip"), ("variation_seed", "Variation seed"),
    ("variation_seed_strength", "Variation seed strength"), ("version", "Version"),
]
HIRES_FIELDS = [
    ("hires_upscale", "Hires upscale"), ("hires_size", "Hires resize"),
    ("hires_steps", "Hires steps"), ("hires_upscaler", "Hires upscaler"),
    ("denoising_strength", "Denoising strength"),
]
GENERATOR_NAMES = {
    "a1111": "AUTOMATIC1111", "forge": "Forge", "reforge": "reForge",
    "forge-classic": "Forge Classic", "forge-neo": "Forge Neo", "sdnext": "SD.Next",
    "comfyui": "ComfyUI", "novelai": "NovelAI", "invokeai": "InvokeAI", "fooocus": "Fooocus",
    "swarmui": "SwarmUI",
}


SECTION_TITLES = {"textual_inversion": "Textual-inversion embedding"}


def fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (dict, list)):
        import json

        return json.dumps(value, ensure_ascii=False)
    return str(value)


def field_value(p: GenParams, name: str) -> Any:
    if name == "size":
        return f"{p.width}x{p.height}" if p.width and p.height else None
    if name == "hires_size":
        return f"{p.hires_width}x{p.hires_height}" if p.hires_width and p.hires_height else None
    return getattr(p, name)


def _kv_table(title: str, rows: list[tuple[str, str]]) -> Table:
    table = Table(title=title, title_justify="left", show_header=False, box=None,
                  padding=(0, 1), title_style="bold", min_width=len(title))
    table.add_column("key", style="cyan", no_wrap=True)
    table.add_column("value", overflow="fold")
    for k, v in rows:
        table.add_row(k, v)
    return table


def prompt_text(text: str) -> Text:
    """Prompt with extra-network tags and emphasis brackets picked out."""
    out = Text(text)
    out.highlight_regex(r"<(?:lora|lyco|hypernet):[^>]+>", "magenta")
    out.highlight_regex(r"[()\[\]{}]", "yellow")
    out.highlight_regex(r":\d*\.?\d+(?=\))", "yellow")
    out.highlight_regex(r"\bBREAK\b|\bAND\b", "bold red")
    return out


def _params_view(rec: Record) -> Any:
    """The record's parameters for reading attributes off: the GenParams, or for parameters
    not built yet a plain view of the same values (rendering needs no pydantic)."""
    p = rec._params
    if not isinstance(p, DeferredParams):
        return rec.params
    values = p.json_fields()
    for key in ("loras", "embeddings", "samplers"):
        values[key] = [SimpleNamespace(**item) for item in values[key]]
    return SimpleNamespace(**values)


def prompt_panels(p: Any) -> list[RenderableType]:
    """The prompt, and the negative prompt when there is one, highlighted in frames."""
    panels: list[RenderableType] = [
        Panel(prompt_text(p.prompt) if p.prompt else Text("(empty)", style="dim"),
              title="Prompt", title_align="left", border_style="green")]
    if p.negative_prompt:
        panels.append(Panel(prompt_text(p.negative_prompt), title="Negative prompt",
                            title_align="left", border_style="red"))
    return panels


def summary_parts(rec: Record, p: Any) -> list[str]:
    """"ComfyUI", "PNG", "1024x1024": the line under a file name (show, TUI, diff)."""
    sub = []
    if p is not None and p.generator:
        sub.append(GENERATOR_NAMES.get(p.generator, p.generator))
    if rec.container:
        sub.append(rec.container.upper())
    if rec.raw is not None and rec.raw.width:
        sub.append(f"{rec.raw.width}x{rec.raw.height}")
    return sub


def no_data_message(rec: Record, hint: str = "") -> str:
    """"no generation data", naming what other metadata the file does hold, so a user never
    takes a file with a C2PA manifest or an unknown text chunk for an empty one."""
    keys = [f"{e.location}:{e.key}" if e.text is not None else e.key
            for e in (rec.raw.entries if rec.raw else [])
            if e.text is not None or e.location in ("caBX", "eXIf")]
    if not keys:
        return "no generation data"
    return f"no generation data (other metadata present: {', '.join(keys)}{hint})"


def record_view(rec: Record) -> RenderableType:
    parts: list[RenderableType] = []
    p = _params_view(rec)
    head = Text(rec.path, style="bold")
    sub = summary_parts(rec, p)
    if sub:
        head.append("  " + " · ".join(sub), style="dim")
    parts.append(head)
    if rec.error:
        parts.append(Text(f"error: {rec.error}", style="red"))
    if p is None:
        if not rec.error:
            parts.append(Text(no_data_message(rec, hint="; see --raw"), style="yellow"))
        parts.extend(_extras_views(rec))
        return Group(*parts)
    parts.extend(prompt_panels(p))
    rows = [(label, fmt(field_value(p, f))) for f, label in MAIN_FIELDS
            if field_value(p, f) is not None]
    hires = [(label, fmt(field_value(p, f))) for f, label in HIRES_FIELDS
             if field_value(p, f) is not None]
    hires += [(k, fmt(v)) for k, v in p.extra.items() if k.lower().startswith("hires")]
    other = [(k, fmt(v)) for k, v in p.extra.items() if not k.lower().startswith("hires")]
    parts.append(_kv_table("Parameters", rows))
    if hires:
        parts.append(_kv_table("Hires fix", hires))
    if other:
        parts.append(_kv_table("Other parameters", other))
    if p.samplers and len(p.samplers) > 1:
        t = Table(title="Sampler passes", title_justify="left", title_style="bold")
        for col in ("#", "sampler", "scheduler", "steps", "cfg", "seed", "denoise", "node"):
            t.add_column(col)
        for i, s in enumerate(p.samplers, 1):
            t.add_row(str(i), fmt(s.sampler), fmt(s.scheduler), fmt(s.steps), fmt(s.cfg_scale),
                      fmt(s.seed), fmt(s.denoise), fmt(s.node))
        parts.append(t)
    if p.loras or p.embeddings:
        t = Table(title="Networks", title_justify="left", title_style="bold")
        t.add_column("type")
        t.add_column("name", style="magenta")
        t.add_column("weight", justify="right")
        t.add_column("hash")
        for lo in p.loras:
            w = fmt(lo.weight)
            if lo.unet_weight is not None:
                w += f" / {fmt(lo.unet_weight)}"
            t.add_row(lo.kind, lo.name, w, lo.hash or "")
        for e in p.embeddings:
            t.add_row("embedding", e.name, "", e.hash or "")
        parts.append(t)
    parts.extend(_extras_views(rec))
    for note in p.notes:
        parts.append(Text(f"note: {note}", style="yellow"))
    for w in rec.warnings:
        parts.append(Text(f"warning: {w}", style="yellow"))
    return Group(*parts)


def _extras_views(rec: Record) -> list[RenderableType]:
    """Sections added by services, e.g. the embedding an A1111 embedding card carries."""
    views: list[RenderableType] = []
    for key, value in rec.extras.items():
        if isinstance(value, dict) and value:
            rows = [(k, fmt(v)) for k, v in value.items() if v not in (None, [], "")]
            title = SECTION_TITLES.get(key, key.replace("_", " ").capitalize())
            views.append(_kv_table(title, rows))
    return views


def raw_view(rec: Record) -> RenderableType:
    t = Table(title=f"{rec.path} ({(rec.container or '?').upper()})", title_justify="left",
              title_style="bold")
    for col in ("container", "where", "key", "size", "offset", "text"):
        t.add_column(col, overflow="fold" if col == "text" else "ellipsis",
                     no_wrap=col != "text")
    if rec.raw is None:
        return Text(f"{rec.path}: {rec.error}", style="red")
    for e in rec.raw.entries:
        where = e.location + (" (after IDAT)" if e.after_idat else "")
        text = e.text if e.text is not None else f"<{e.size} bytes binary>"
        if len(text) > 400:
            text = text[:400] + f"… ({len(text)} characters)"
        t.add_row(e.container, where, e.key, str(e.size), str(e.offset), text)
    if not rec.raw.entries:
        return Group(t, Text("no metadata chunks or tags", style="yellow"))
    return t
