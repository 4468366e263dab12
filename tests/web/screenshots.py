"""Screenshots of the gallery for docs/index.md, taken in headless Chromium.

    python -m tests.web.screenshots [OUT_DIR]     # default: docs/img

Builds the test library in a temporary folder, runs `gendata serve` on it, and saves
gallery-grid.png, gallery-search.png and gallery-detail.png.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from .library import build
from .server import IMAGES_LOADED, ROOT, serving, wait_until

SIZE = {"width": 1200, "height": 760}


def main(out: Path) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.gettempdir()) / "gendata-demo"  # a short path for the pictures
    shutil.rmtree(work, ignore_errors=True)
    try:
        ids = build(work / "outputs", work / "index.sqlite", extra=16)
        with serving(work / "index.sqlite", work / "cache") as base, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=shutil.which("chromium"))
            page = browser.new_page(viewport=SIZE)
            page.goto(base)
            wait_until(page, IMAGES_LOADED)
            for _ in range(3):  # the keyboard's focus, on the third picture
                page.keyboard.press("ArrowRight")
            page.screenshot(path=str(out / "gallery-grid.png"))
            page.goto(base + "?q=lake+lora%3Awatercolor_v1")
            wait_until(page, IMAGES_LOADED)
            page.screenshot(path=str(out / "gallery-search.png"), clip={
                "x": 0, "y": 0, "width": SIZE["width"], "height": 420})
            page.goto(f"{base}image/{ids['fox_snow.png']}?q=fox")
            wait_until(page, "document.getElementById('picture').complete")
            page.screenshot(path=str(out / "gallery-detail.png"))
            page.goto(base + "?q=fox+colour:red")
            page.screenshot(path=str(out / "gallery-error.png"), clip={
                "x": 0, "y": 0, "width": SIZE["width"], "height": 200})
            browser.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for shot in out.glob("gallery-*.png"):
        shrink(shot)


def shrink(path: Path) -> None:
    """A screenshot in 256 colours: a quarter of the bytes, and no difference to the eye."""
    from PIL import Image

    with Image.open(path) as im:
        small = im.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "img")
