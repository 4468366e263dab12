"""Front end (TUI): widgets of the main screen, the file list and the image preview (the
detail view is in `detail`)."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from ..present import visible
from . import thumbs
from .library import Item

MARK = "●"


class FileList(ScrollView, can_focus=True):
    """Images on the left: mark, generator, name. Only the visible lines are drawn, so a list
    of 10,000 files costs no more to draw, scroll or fill than a list of 30."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("enter", "select", "Edit", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "filelist--cursor", "filelist--mark", "filelist--gen", "filelist--nodata",
        "filelist--error"}
    DEFAULT_CSS = """
    FileList { background: $surface; }
    FileList > .filelist--cursor { background: $block-cursor-blurred-background; }
    FileList:focus > .filelist--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground;
        text-style: bold;
    }
    FileList > .filelist--mark { color: $warning; text-style: bold; }
    FileList > .filelist--gen { color: $success; }
    FileList > .filelist--nodata { color: $text-muted; }
    FileList > .filelist--error { color: $error; }
    """

    cursor: reactive[int] = reactive(0, always_update=True, init=False)

    class Highlighted(Message):
        def __init__(self, path: str | None) -> None:
            super().__init__()
            self.path = path

    class Selected(Message):
        def __init__(self, path: str) -> None:
            super().__init__()
            self.path = path

    def __init__(self, marked: set[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.items: list[Item] = []
        self.index: dict[str, int] = {}
        self.marked = marked

    # --- content ---------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self.items)

    def set_items(self, items: list[Item], keep: str | None = None, row: int = 0) -> None:
        """Show `items`, the cursor on the file `keep` if it is among them, else on `row`
        (the place of a file that went away)."""
        self.items = list(items)
        self.index = {it.path: i for i, it in enumerate(self.items)}
        self._resize()
        if keep is not None:
            row = self.index.get(keep, row)
        self.set_cursor(min(row, max(0, len(self.items) - 1)))

    def extend(self, items: list[Item]) -> None:
        start = len(self.items)
        self.items.extend(items)
        for i, it in enumerate(items, start):
            self.index[it.path] = i
        self._resize()
        if start == 0 and self.items:
            self.set_cursor(0)

    def _resize(self) -> None:
        # Names are shortened from the left to fit (the file name matters most), so the list
        # never scrolls sideways.
        self.virtual_size = Size(0, len(self.items))
        self.refresh()

    def refresh_item(self, path: str) -> None:
        row = self.index.get(path)
        if row is not None:
            self.refresh_line(row - self.scroll_offset.y)

    def current_path(self) -> str | None:
        if not self.items:
            return None
        return self.items[min(self.cursor, len(self.items) - 1)].path

    # --- cursor ----------------------------------------------------------------------------

    def set_cursor(self, row: int) -> None:
        if not self.items:
            self.cursor = 0
            self.post_message(self.Highlighted(None))
            return
        self.cursor = max(0, min(row, len(self.items) - 1))

    def watch_cursor(self, old: int, new: int) -> None:
        y = self.scroll_offset.y
        height = max(1, self.scrollable_content_region.height)
        if new < y:
            self.scroll_to(y=new, animate=False, immediate=True)
        elif new >= y + height:
            self.scroll_to(y=new - height + 1, animate=False, immediate=True)
        self.refresh()
        self.post_message(self.Highlighted(self.current_path()))

    def move_cursor(self, *, row: int) -> None:
        self.set_cursor(row)

    def action_move(self, delta: int) -> None:
        self.set_cursor(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.set_cursor(self.cursor + direction * max(1, self.scrollable_content_region.height - 1))

    def action_jump(self, row: int) -> None:
        self.set_cursor(row if row >= 0 else len(self.items) - 1)

    def action_select(self) -> None:
        path = self.current_path()
        if path is not None:
            self.post_message(self.Selected(path))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        row = offset.y + self.scroll_offset.y
        if 0 <= row < len(self.items):
            self.set_cursor(row)
            if event.chain >= 2:
                self.action_select()

    # --- drawing ---------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        row = y + self.scroll_offset.y
        width = self.scrollable_content_region.width
        base = self.rich_style
        if row >= len(self.items):
            return Strip.blank(width, base)
        item = self.items[row]
        gen = item.generator
        gen_style = self.get_component_rich_style(
            "filelist--nodata" if gen == "—" else "filelist--error" if gen == "error"
            else "filelist--gen")
        segments = [
            Segment(" "),
            Segment(MARK if item.path in self.marked else " ",
                    self.get_component_rich_style("filelist--mark")),
            Segment(" "),
            Segment(f"{visible(gen, '')[:7]:<7}", gen_style),
            Segment(" "),
            Segment(fit(item.shown_name, width - 11)),
        ]
        strip = Strip(Segment.apply_style(segments, base)).extend_cell_length(width, base)
        if row == self.cursor:
            strip = Strip(Segment.apply_style(
                list(strip), None, self.get_component_rich_style("filelist--cursor")))
        return strip.crop(0, width)


def fit(name: str, width: int) -> str:
    """`name` cut from the left with an ellipsis to at most `width` cells."""
    if width <= 1 or cell_len(name) <= width:
        return name
    out = name
    while cell_len(out) > width - 1:
        out = out[max(1, (cell_len(out) - width + 1) // 2 or 1):]
    return "…" + out


class Thumbnail(Static):
    """Half-block preview computed in a thread worker (decoding never blocks the UI)."""

    def __init__(self, **kwargs: Any) -> None:
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


class GraphicThumbnail(Container):
    """A real picture, for terminals that draw Kitty graphics or Sixel (`thumbs.graphics_widget`);
    decoded and scaled down in a thread worker, as the half-block preview is."""

    DEFAULT_CSS = """
    GraphicThumbnail > #thumb-image { width: 100%; height: auto; }
    """

    def __init__(self, image_widget: type, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.image_widget = image_widget
        self.path: str | None = None

    def compose(self) -> ComposeResult:
        yield self.image_widget(None, id="thumb-image")

    def show_image(self, path: str | None) -> None:
        self.path = path
        if path is None:
            image_widget: Any = self.query_one("#thumb-image")
            image_widget.image = None
            return
        self._load(path)

    @work(thread=True, exclusive=True, group="thumb")
    def _load(self, path: str) -> None:
        try:
            image = thumbs.downscaled(path)
        except Exception:  # any decoder failure: the preview is optional
            image = None
        self.app.call_from_thread(self._done, path, image)

    def _done(self, path: str, image: Any) -> None:
        if path == self.path:
            image_widget: Any = self.query_one("#thumb-image")
            image_widget.image = image
