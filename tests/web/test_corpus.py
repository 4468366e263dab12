"""The gallery over real images of every generator we read (../shared/corpus)."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest
from PIL import Image

pytest.importorskip("starlette", reason="the serve extra is not installed "
                    "(pip install 'gendata[serve]')")

from starlette.testclient import TestClient

import gendata
from gendata.web import create_app

A1111_FAMILY = {"a1111", "forge", "forge-neo", "forge-classic", "reforge", "sdnext"}


def test_every_real_image_has_a_page_a_thumbnail_and_its_file(corpus: Path,
                                                              tmp_path: Path) -> None:
    db = tmp_path / "corpus.sqlite"
    gendata.index([corpus], db=db, jobs=1)
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT id, path, generator FROM images WHERE error IS NULL").fetchall()
    conn.close()
    if not rows:
        pytest.skip("the corpus holds no image the index reads")
    app = create_app(db, cache_dir=tmp_path / "thumbs")
    with TestClient(app, base_url="http://127.0.0.1") as client:
        for image_id, path, generator in rows:
            page = client.get(f"/image/{image_id}")
            assert page.status_code == 200, path
            if generator:  # parameters to copy, or the reason A1111 text cannot hold them
                assert 'id="copy"' in page.text or "Not copyable" in page.text, path
            if generator in A1111_FAMILY:
                assert 'id="copy"' in page.text, path
            thumb = client.get(f"/thumb/{image_id}")
            assert thumb.headers["content-type"] == "image/webp", (
                path, thumb.headers.get("x-gendata-no-preview"))
            with Image.open(io.BytesIO(thumb.content)) as im:
                assert max(im.size) <= 256
            assert client.get(f"/file/{image_id}").content == Path(path).read_bytes()
        for generator in {g for _, _, g in rows if g}:
            found = client.get("/", params={"q": f"generator:{generator}"})
            assert found.status_code == 200 and "Nothing matches" not in found.text
