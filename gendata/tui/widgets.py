"""Widgets of the main screen: the file list, the detail view and the image preview."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from textual import work
from textual.containers import VerticalScroll
from textual.widgets import DataTable, Static

from ..cli.render import (
    GENERATOR_NAMES,
    HIRES_FIELDS,
    MAIN_FIELDS,
    field_value,
    fmt,
    prompt_text,
)
from . import thumbs
from .library import Item

MARK = "●"


class FileList(DataTable):
    """Images on the left: mark, generator, name. Row keys are file paths."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)

    def on_mount(self) -> None:
        self.add_column(" ", key="mark", width=1)
        self.add_column("Gen", key="gen", width=7)
        self.add_column("Name", key="name")

    @staticmethod
    def cells(item: Item, marked: bool) -> tuple[Text, Text, Text]:
        gen = item.generator
        style = "dim" if gen == "—" else "red" if gen == "error" else "green"
        return (Text(MARK if marked else " ", style="bold yellow"),
                Text(gen[:7], style=style, no_wrap=True), Text(item.name, no_wrap=True))

    def append(self, items: list[Item], marked: set[str]) -> None:
        for item in items:
            self.add_row(*self.cells(item, item.path in marked), key=item.path)

    def current_path(self) -> str | None:
        if self.row_count == 0:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:
            return None
        return key.value

    def set_row(self, item: Item, marked: bool) -> None:
        mark, gen, name = self.cells(item, marked)
        try:
            self.update_cell(item.path, "mark", mark)
            self.update_cell(item.path, "gen", gen)
            self.update_cell(item.path, "name", name)
        except Exception:  # the row is filtered out right now
            pass


class Thumbnail(Static):
    """Half-block preview computed in a thread worker (decoding never blocks the UI)."""

    def __init__(self, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.path: str | None = None

    def show_image(self, path: str | None) -> None:
        self.path = path
        if path is None:
            self.update("")
            return
        w, h = max(4, self.content_size.width), max(2, self.content_size.height)
        text = thumbs.cached(path, w, h)
        if text is not None:
            self.update(text)
            return
        self.update(Text("loading preview…", style="dim"))
        self._render_thumb(path, w, h)

    @work(thread=True, exclusive=True, group="thumb")
    def _render_thumb(self, path: str, w: int, h: int) -> None:
        text = thumbs.thumbnail(path, w, h)
        self.app.call_from_thread(self._done, path, text)

    def _done(self, path: str, text: Text) -> None:
        if path == self.path:
            self.update(text)


class DetailView(VerticalScroll):
    """Prompt, negative prompt (highlighted), parameter tables and networks of one file."""

    def compose(self):
        yield Static(id="detail-body")

    def show(self, item: Item | None) -> None:
        body = self.query_one("#detail-body", Static)
        if item is None:
            body.update(Text("no image selected", style="dim"))
            return
        body.update(detail_view(item))
        self.scroll_home(animate=False)


def detail_view(item: Item) -> RenderableType:
    """One column, so it stays readable in the narrow pane of an 80-column terminal; the
    name is shown as listed (relative), never the absolute path."""
    rec = item.record
    p = rec.params
    head = Text(item.name, style="bold")
    sub = []
    if p is not None and p.generator:
        sub.append(GENERATOR_NAMES.get(p.generator, p.generator))
    if rec.container:
        sub.append(rec.container.upper())
    if rec.raw is not None and rec.raw.width:
        sub.append(f"{rec.raw.width}x{rec.raw.height}")
    parts: list[RenderableType] = [head]
    if sub:
        parts.append(Text(" · ".join(sub), style="dim"))
    if rec.error:
        parts.append(Text(rec.error.replace(rec.path, item.name), style="red"))
    if p is None:
        if not rec.error:
            keys = [f"{e.location}:{e.key}" for e in (rec.raw.entries if rec.raw else [])]
            msg = "no generation data"
            if keys:
                msg += f" (other metadata: {', '.join(keys)})"
            parts.append(Text(msg, style="yellow"))
        return Group(*parts)
    parts.append(Panel(prompt_text(p.prompt) if p.prompt else Text("(empty)", style="dim"),
                       title="Prompt", title_align="left", border_style="green"))
    if p.negative_prompt:
        parts.append(Panel(prompt_text(p.negative_prompt), title="Negative prompt",
                           title_align="left", border_style="red"))
    table = Table(show_header=False, box=None, padding=(0, 1), expand=False)
    table.add_column("key", style="cyan", no_wrap=True, max_width=24)
    table.add_column("value", overflow="fold")
    for f, label in MAIN_FIELDS + HIRES_FIELDS:
        value = field_value(p, f)
        if value is not None:
            table.add_row(label, fmt(value))
    for k, v in p.extra.items():
        table.add_row(k, fmt(v))
    parts.append(Text("Parameters", style="bold"))
    parts.append(table)
    if p.loras or p.embeddings:
        nets = Table(show_header=True, box=None, padding=(0, 1), header_style="bold")
        nets.add_column("network", style="magenta", overflow="fold")
        nets.add_column("weight", justify="right", no_wrap=True)
        nets.add_column("hash", overflow="fold")
        for lo in p.loras:
            w = fmt(lo.weight)
            if lo.unet_weight is not None:
                w += f"/{fmt(lo.unet_weight)}"
            nets.add_row(f"{lo.kind}: {lo.name}", w, lo.hash or "")
        for e in p.embeddings:
            nets.add_row(f"embedding: {e.name}", "", e.hash or "")
        parts.append(Text(""))
        parts.append(Text("LoRAs and embeddings", style="bold"))
        parts.append(nets)
    if len(p.samplers) > 1:
        parts.append(Text(""))
        parts.append(Text(f"{len(p.samplers)} sampler passes", style="bold"))
        for i, s in enumerate(p.samplers, 1):
            vals = [fmt(v) for v in (s.sampler, s.scheduler, s.steps, s.cfg_scale, s.seed,
                                     s.denoise) if v is not None]
            parts.append(Text(f" {i}. " + ", ".join(vals)))
    for note in p.notes:
        parts.append(Text(f"note: {note}", style="yellow"))
    for w in rec.warnings:
        parts.append(Text(f"warning: {w}", style="yellow"))
    return Group(*parts)
