"""Image previews as half-block characters: each cell shows two pixels ("▀" with the upper
pixel as foreground and the lower as background), which every truecolor terminal can draw.
Terminals that draw real pictures (Kitty graphics protocol, Sixel) get them through
textual-image instead; see `graphics_widget`.

Decoding is the slow part, so the UI calls `thumbnail` from a thread worker and keeps the
results in a small LRU cache keyed by file identity and size.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import Any

from rich.style import Style
from rich.text import Text

_CACHE: OrderedDict[tuple, Text] = OrderedDict()
_CACHE_SIZE = 256
_LOCK = threading.Lock()


def _key(path: str, width: int, height: int) -> tuple:
    try:
        st = os.stat(path)
        ident: tuple = (st.st_mtime_ns, st.st_size)
    except OSError:
        ident = ()
    return (path, *ident, width, height)


def cached(path: str, width: int, height: int) -> Text | None:
    with _LOCK:
        key = _key(path, width, height)
        text = _CACHE.get(key)
        if text is not None:
            _CACHE.move_to_end(key)
        return text


def thumbnail(path: str, width: int, height: int) -> Text:
    """A preview at most `width` cells wide and `height` cells tall, aspect kept."""
    key = _key(path, width, height)
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    text = render(path, width, height)
    with _LOCK:
        _CACHE[key] = text
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return text


def render(path: str, width: int, height: int) -> Text:
    from PIL import Image

    from ..api import open_image

    try:  # draft: a JPEG decodes at a reduced scale; the size is checked before decoding
        with open_image(path, draft=(width * 4, height * 8)) as im:
            im = im.convert("RGBA")
            im.thumbnail((max(1, width), max(2, height * 2)), Image.Resampling.BILINEAR)
            bg = Image.new("RGBA", im.size, (0, 0, 0, 255))
            im = Image.alpha_composite(bg, im).convert("RGB")
    except Exception as exc:  # any decoder failure: the preview is optional
        return Text(f"no preview: {type(exc).__name__}", style="dim")
    w, h = im.size
    px: Any = im.load()
    out = Text(no_wrap=True, overflow="crop")
    styles: dict[tuple, Style] = {}
    for y in range(0, h, 2):
        for x in range(w):
            top = px[x, y]
            bottom = px[x, y + 1] if y + 1 < h else None
            k = (top, bottom)
            style = styles.get(k)
            if style is None:
                style = Style(color=f"rgb({top[0]},{top[1]},{top[2]})",
                              bgcolor=None if bottom is None
                              else f"rgb({bottom[0]},{bottom[1]},{bottom[2]})")
                styles[k] = style
            out.append("▀", style)
        if y + 2 < h:
            out.append("\n")
    return out


def graphics_widget() -> type | None:
    """textual-image's picture widget when the terminal answers that it draws Kitty graphics
    or Sixel, else None (half-block previews). The answer is read from the terminal when
    textual_image is first imported, which only works before Textual takes over stdin, so
    `gendata tui` calls this before starting the app. GENDATA_PREVIEW=halfblock skips it."""
    import sys

    if os.environ.get("GENDATA_PREVIEW", "").lower() == "halfblock":
        return None
    if not (sys.__stdout__ and sys.__stdout__.isatty() and sys.__stdin__
            and sys.__stdin__.isatty()):
        return None
    try:
        from textual_image import renderable
        from textual_image.widget import Image
    except Exception:  # not installed, or the terminal probe failed: half-block it is
        return None
    if renderable.Image in (renderable.SixelImage, renderable.TGPImage):
        return Image
    return None


def downscaled(path: str, max_side: int = 768) -> Any:
    """A decoded copy small enough to send as a picture every time the cursor moves; the
    header's size is checked before anything is decoded (ContainerError when too large)."""
    from PIL import Image

    from ..api import open_image

    with open_image(path, draft=(max_side, max_side)) as im:
        im = im.convert("RGB")
        im.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
        return im
