"""The gallery's routes, through Starlette's TestClient, on a real index of real files."""

from __future__ import annotations

import html
import io
import re
import shutil
import sqlite3
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from PIL import Image

pytest.importorskip("starlette", reason="the serve extra is not installed "
                    "(pip install 'gendata[serve]')")

from starlette.testclient import TestClient

import gendata
from gendata.indexing.query import QueryError, compile_query
from gendata.indexing.results import paths
from gendata.web.app import PAGE_SIZE

from ..conftest import FIXTURES
from .conftest import Library

_CELL = re.compile(r'class="cell" href="[^"]*" data-id="(\d+)"')
_LINK = re.compile(r'<a rel="(next|prev)" href="([^"]+)"')


def cells(page: str) -> list[int]:
    return [int(i) for i in _CELL.findall(page)]


def links(page: str) -> dict[str, str]:
    return {rel: html.unescape(href) for rel, href in _LINK.findall(page)}


def ids_of(library: Library, query: str) -> list[int]:
    """What `gendata search` finds, in path order: the gallery must show the same."""
    conn = sqlite3.connect(library.db)
    try:
        by_path = {p: i for i, p in conn.execute("SELECT id, path FROM images")}
    finally:
        conn.close()
    return [by_path[p] for p in paths(query, library.db)]


# --- the grid and the search box -----------------------------------------------------------

def test_grid_lists_every_readable_image_by_path(client: TestClient, library: Library) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert cells(r.text) == ids_of(library, "")[:PAGE_SIZE]
    assert library.ids["broken.png"] not in cells(r.text)  # indexed with an error
    assert f"{len(library.ids) - 1} images" in r.text


@pytest.mark.parametrize("query", [
    "fox", "castle -rain", '"golden hour"', "lora:foxStyle*", "кошка", "猫", "neg:watermark",
    "generator:comfyui", "steps>=29", "model:juggernautXL_v9", "seed:1001",
])
def test_search_shows_exactly_what_search_finds(client: TestClient, library: Library,
                                                query: str) -> None:
    r = client.get("/", params={"q": query})
    assert r.status_code == 200
    want = ids_of(library, query)
    assert want, query
    assert cells(r.text) == want[:PAGE_SIZE]
    box = re.search(r'<input id="q" name="q" type="search" value="([^"]*)"', r.text)
    assert box is not None and html.unescape(box.group(1)) == query  # the box keeps it


def test_nothing_found(client: TestClient) -> None:
    r = client.get("/", params={"q": "zeppelin"})
    assert r.status_code == 200
    assert cells(r.text) == [] and "Nothing matches" in r.text and "0 matches" in r.text


@pytest.mark.parametrize(("query", "term"), [
    ("fox colour:red", "colour:red"), ("steps>many", "steps>many"), ('fox "open', '"open'),
    ("castle -", "-"), ("sampler>3", "sampler>3"),
])
def test_bad_query_is_one_line_pointing_at_the_term(client: TestClient, query: str,
                                                    term: str) -> None:
    r = client.get("/", params={"q": query})
    assert r.status_code == 400
    with pytest.raises(QueryError) as caught:
        compile_query(query)
    message = str(caught.value)
    shown = re.search(r'<span class="message">(.*?)</span>', r.text)
    assert shown is not None and html.unescape(shown.group(1)) == message
    assert "\n" not in message
    marked = re.search(r"<mark>(.*?)</mark>", r.text)
    assert marked is not None and html.unescape(marked.group(1)) == term
    assert cells(r.text) == []


def test_paging_walks_every_match_once_and_back(client: TestClient, library: Library) -> None:
    query = "study"
    want = ids_of(library, query)
    assert len(want) > 2 * PAGE_SIZE
    seen: list[list[int]] = []
    url = "/?" + "q=" + query
    while True:
        page = client.get(url).text
        seen.append(cells(page))
        nxt = links(page).get("next")
        if nxt is None:
            break
        url = nxt
    assert [i for p in seen for i in p] == want
    assert all(len(p) == PAGE_SIZE for p in seen[:-1])
    # and back again, page by page
    back = [cells(page)]
    while (prev := links(page).get("prev")) is not None:
        page = client.get(prev).text
        back.append(cells(page))
    assert back[::-1] == seen


def test_paging_by_other_orders(client: TestClient, library: Library) -> None:
    first = cells(client.get("/", params={"sort": "path:desc"}).text)
    assert first == ids_of(library, "")[::-1][:PAGE_SIZE]
    r = client.get("/", params={"sort": "mtime:desc"})
    assert len(cells(r.text)) == PAGE_SIZE
    nxt = links(r.text)["next"]
    assert "sort=mtime%3Adesc" in nxt
    second = cells(client.get(nxt).text)
    assert not set(second) & set(cells(r.text))


def test_a_start_no_longer_in_the_index_gives_the_first_page(client: TestClient,
                                                             library: Library) -> None:
    r = client.get("/", params={"q": "fox", "start": "987654"})
    assert cells(r.text) == ids_of(library, "fox")
    assert client.get("/", params={"start": "x"}).status_code == 200


# --- facets --------------------------------------------------------------------------------

def _facet(page: str, name: str) -> dict[str, tuple[int, str | None]]:
    section = page.split(f'data-facet="{name}"', 1)[1].split("</section>", 1)[0]
    out = {}
    for m in re.finditer(r'<li class="[^"]*">\s*(?:<a href="([^"]*)"[^>]*>|<span[^>]*>)\s*'
                         r'<span class="label">([^<]*)</span><span class="n">([\d,]+)</span>',
                         section):
        href, label, n = m.groups()
        out[html.unescape(label)] = (int(n.replace(",", "")),
                                     html.unescape(href) if href else None)
    return out


def test_facets_count_the_matches_and_combine_with_the_query(client: TestClient,
                                                             library: Library) -> None:
    page = client.get("/").text
    generators = _facet(page, "generator")
    assert generators["ComfyUI"][0] == 2
    assert generators["AUTOMATIC1111"][0] == len(library.ids) - 1 - 2
    loras = _facet(page, "lora")
    assert loras["foxStyle_v2"][0] == 2
    samplers = _facet(page, "sampler")
    assert samplers["Euler a"][0] == len(ids_of(library, 'sampler:"Euler a"'))

    page = client.get("/", params={"q": "castle"}).text
    models = _facet(page, "model")
    assert sum(n for n, _ in models.values()) == len(ids_of(library, "castle"))
    href = models["dreamshaper_8"][1]
    assert href is not None
    assert parse_qs(urlsplit(href).query)["q"] == ["castle model:dreamshaper_8"]
    narrowed = client.get(href).text
    assert cells(narrowed) == ids_of(library, "castle model:dreamshaper_8")
    # the chosen value is marked, and its link takes the term out again
    chosen = _facet(narrowed, "model")["dreamshaper_8"][1]
    assert chosen is not None and parse_qs(urlsplit(chosen).query)["q"] == ["castle"]
    assert '<li class="active">' in narrowed

    sampler = _facet(client.get("/").text, "sampler")["Euler a"][1]
    assert sampler is not None and parse_qs(urlsplit(sampler).query)["q"] == ['sampler:"Euler a"']


# --- the detail page -----------------------------------------------------------------------

def test_detail_shows_every_field_loras_path_and_infotext(client: TestClient,
                                                          library: Library) -> None:
    image_id = library.ids["fox_snow.png"]
    r = client.get(f"/image/{image_id}")
    assert r.status_code == 200
    page = r.text
    for label, value in [("Steps", "30"), ("Sampler", "DPM++ 2M"), ("Schedule type", "Karras"),
                         ("CFG scale", "7"), ("Seed", "1001"), ("Size", "384x384"),
                         ("Model", "dreamshaper_8"), ("Model hash", "6ce0161689")]:
        assert f'<th scope="row">{label}</th><td>{html.escape(value)}</td>' in page
    assert "<td>lora</td><td>foxStyle_v2</td><td>0.8</td>" in page
    assert str(library.root / "fox_snow.png") in page
    text = re.search(r'<textarea id="infotext"[^>]*>(.*?)</textarea>', page, re.S)
    assert text is not None
    stored = gendata.read(library.root / "fox_snow.png").raw.text("parameters")
    assert html.unescape(text.group(1)) == stored
    assert 'id="copy"' in page
    assert "AUTOMATIC1111" in page


def test_detail_of_a_graph_offers_its_parameters_as_a1111_text(client: TestClient,
                                                                library: Library) -> None:
    page = client.get(f"/image/{library.ids['comfy/ComfyUI_00001_.png']}").text
    text = html.unescape(re.search(r'<textarea id="infotext"[^>]*>(.*?)</textarea>', page,
                                   re.S).group(1))  # type: ignore[union-attr]
    assert text.startswith("a lighthouse on a cliff at night")
    assert "Steps: 25" in text and "Seed: 424242" in text and "<lora:moody_light" in text
    assert "ComfyUI" in page and "moody_light" in page


def test_detail_neighbours_follow_the_query(client: TestClient, library: Library) -> None:
    fox = ids_of(library, "fox")
    page = client.get(f"/image/{fox[0]}", params={"q": "fox"}).text
    assert f'id="next" rel="next" href="/image/{fox[1]}?q=fox"' in page
    assert 'id="prev"' not in page
    assert f'id="back" href="/?q=fox&amp;start={fox[0]}"' in page


def test_hostile_text_is_escaped_and_its_controls_spelled_out(client: TestClient,
                                                              library: Library) -> None:
    image_id = library.ids["hostile.png"]
    for url in (f"/image/{image_id}", "/?q=evil", "/"):
        page = client.get(url).text
        assert "<script>alert" not in page
        assert "\x1b" not in page and "\u202e" not in page
    page = client.get(f"/image/{image_id}").text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    assert "\\x1b[31mred" in page and "\\u202eevil" in page
    assert '<span class="m-escape">\\x1b</span>' in page  # marked apart in the prompt
    assert "evil\\u202emodel" in page


def test_unknown_image_is_404(client: TestClient) -> None:
    assert client.get("/image/999999").status_code == 404
    assert client.get("/thumb/999999").status_code == 404
    assert client.get("/file/999999").status_code == 404


# --- thumbnails and pictures ---------------------------------------------------------------

def test_thumbnail_is_a_small_webp_made_once(client: TestClient, library: Library) -> None:
    image_id = library.ids["desert.webp"]
    r = client.get(f"/thumb/{image_id}")
    assert r.status_code == 200 and r.headers["content-type"] == "image/webp"
    with Image.open(io.BytesIO(r.content)) as im:
        assert im.format == "WEBP" and max(im.size) == 256
    made = list(library.cache.rglob("*.webp"))
    assert made
    again = client.get(f"/thumb/{image_id}")
    assert again.content == r.content and list(library.cache.rglob("*.webp")) == made
    etag = r.headers["etag"]
    assert client.get(f"/thumb/{image_id}", headers={"if-none-match": etag}).status_code == 304


@pytest.mark.parametrize("name", ["castle_dusk.jpg", "japanese.png",
                                  "comfy/ComfyUI_00002_.png"])
def test_thumbnails_of_every_container(client: TestClient, library: Library,
                                       name: str) -> None:
    r = client.get(f"/thumb/{library.ids[name]}")
    with Image.open(io.BytesIO(r.content)) as im:
        assert im.format == "WEBP" and im.size == (256, 256)
        # the picture, shrunk: its top-left corner keeps the sky's colour
        with Image.open(library.root / name) as src:
            want = src.convert("RGB").getpixel((4, 4))
        got = im.convert("RGB").getpixel((2, 2))
        assert all(abs(a - b) < 24 for a, b in zip(got, want, strict=True))


def test_a_decompression_bomb_is_never_decoded(client: TestClient, library: Library) -> None:
    started = time.process_time()
    r = client.get(f"/thumb/{library.ids['huge.png']}")
    assert time.process_time() - started < 1.0  # 3.6 GB of pixels were not decoded
    assert r.status_code == 200
    assert r.headers["content-type"] == "image/svg+xml"
    assert "huge" in r.headers["x-gendata-no-preview"]


def test_original_file_is_served_as_it_is(client: TestClient, library: Library) -> None:
    for name, media in (("fox_snow.png", "image/png"), ("castle_dusk.jpg", "image/jpeg"),
                        ("desert.webp", "image/webp")):
        r = client.get(f"/file/{library.ids[name]}")
        assert r.status_code == 200 and r.headers["content-type"] == media
        assert r.content == (library.root / name).read_bytes()


@pytest.mark.parametrize("url", [
    "/file/../../../etc/passwd", "/file/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/thumb/..%2f..%2fetc",
    "/static/../app.py", "/static/..%2fapp.py", "/static/%2e%2e/store.py", "/file/1/../../x",
    "/file/-1", "/thumb/1.5", "/image/%00", "/file//etc/passwd", "/static//etc/passwd",
])
def test_no_path_from_the_request_reaches_the_disk(client: TestClient, url: str) -> None:
    r = client.get(url)
    assert r.status_code == 404
    assert b"root:" not in r.content and b"def create_app" not in r.content


def test_static_files_are_the_gallerys_own(client: TestClient) -> None:
    assert client.get("/static/gallery.css").status_code == 200
    assert client.get("/static/gallery.js").status_code == 200


# --- read-only, headers, hosts -------------------------------------------------------------

def test_read_only(client: TestClient, library: Library) -> None:
    before = library.db.read_bytes()
    for method in ("post", "put", "delete", "patch"):
        r = getattr(client, method)("/")
        assert r.status_code == 405
        assert getattr(client, method)(f"/image/{library.ids['fox_snow.png']}").status_code \
            == 405
    client.get("/?q=fox")
    client.get(f"/image/{library.ids['fox_snow.png']}")
    assert library.db.read_bytes() == before
    conn = next(iter(client.app.state.library._all))  # type: ignore[attr-defined]
    with pytest.raises(sqlite3.OperationalError):
        conn.execute("DELETE FROM images")


def test_security_headers_and_no_outside_assets(client: TestClient, library: Library) -> None:
    for url in ("/", f"/image/{library.ids['fox_snow.png']}", "/?q=a:b"):
        r = client.get(url)
        csp = r.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert not re.search(r'(?:src|href|action)="(?:https?:)?//', r.text)
        assert "<script>" not in r.text and " on" + "click=" not in r.text


def test_only_the_hosts_it_was_bound_for(library: Library) -> None:
    from gendata.web.app import create_app

    app = create_app(library.db, cache_dir=library.cache)
    with TestClient(app, base_url="http://127.0.0.1:8765") as c:
        assert c.get("/").status_code == 200
        assert c.get("/", headers={"host": "localhost:8765"}).status_code == 200
        assert c.get("/", headers={"host": "[::1]:8765"}).status_code == 200
        assert c.get("/", headers={"host": "attacker.example:8765"}).status_code == 400
    open_app = create_app(library.db, cache_dir=library.cache, host="0.0.0.0")
    with TestClient(open_app, base_url="http://192.168.1.20:8765") as c:
        assert c.get("/").status_code == 200


# --- the index underneath ------------------------------------------------------------------

def test_missing_foreign_and_newer_indexes_are_refused(tmp_path: Path,
                                                       library: Library) -> None:
    from gendata.indexing.schema import IndexDatabaseError
    from gendata.web import create_app

    with pytest.raises(IndexDatabaseError, match="no index at"):
        create_app(tmp_path / "none.sqlite")
    foreign = tmp_path / "foreign.sqlite"
    sqlite3.connect(foreign).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(IndexDatabaseError, match="not a gendata index"):
        create_app(foreign)
    text = tmp_path / "notes.txt"
    text.write_text("hello " * 100)
    with pytest.raises(IndexDatabaseError, match="not a gendata index"):
        create_app(text)
    newer = tmp_path / "newer.sqlite"
    newer.write_bytes(library.db.read_bytes())
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA user_version=99")
    conn.close()
    with pytest.raises(IndexDatabaseError, match="schema version 99"):
        create_app(newer)


def test_a_changed_index_shows_at_once(tmp_path: Path) -> None:
    from gendata.web import create_app

    from .library import a1111, build

    ids = build(tmp_path / "lib", tmp_path / "index.sqlite")
    app = create_app(tmp_path / "index.sqlite", cache_dir=tmp_path / "cache")
    with TestClient(app, base_url="http://127.0.0.1") as c:
        assert "0 matches" in c.get("/", params={"q": "zebra"}).text
        a1111(tmp_path / "lib" / "zebra.png", 77, "a zebra <lora:stripes:1>")
        gendata.index([tmp_path / "lib"], db=tmp_path / "index.sqlite", jobs=1)
        page = c.get("/", params={"q": "zebra"}).text
        assert "1 match" in page and len(cells(page)) == 1
        assert "stripes" in page  # the facets are counted again too
        (tmp_path / "lib" / "fox_snow.png").unlink()
        gendata.index([tmp_path / "lib"], db=tmp_path / "index.sqlite", jobs=1)
        assert c.get(f"/image/{ids['fox_snow.png']}").status_code == 404


def test_a_file_that_changed_into_something_else_is_not_served(tmp_path: Path) -> None:
    import os

    from gendata.web import create_app

    from .library import build

    ids = build(tmp_path / "lib", tmp_path / "index.sqlite")
    app = create_app(tmp_path / "index.sqlite", cache_dir=tmp_path / "cache")
    lib = tmp_path / "lib"
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:secret\n")
    (lib / "fox_snow.png").unlink()
    (lib / "fox_snow.png").symlink_to(secret)       # a link to a file that is not a picture
    (lib / "castle_rain.png").write_text("root:x:0:0:secret\n")  # text in a picture's place
    (lib / "desert.webp").unlink()
    os.mkfifo(lib / "desert.webp")                  # a FIFO: opening it must not hang
    (lib / "cyrillic.png").unlink()                 # gone
    with TestClient(app, base_url="http://127.0.0.1") as c:
        for name in ("fox_snow.png", "castle_rain.png", "desert.webp", "cyrillic.png"):
            r = c.get(f"/file/{ids[name]}")
            assert r.status_code == 404 and b"root:" not in r.content, name
            t = c.get(f"/thumb/{ids[name]}")
            assert t.headers["content-type"] == "image/svg+xml", name
            assert b"root:" not in t.content


def test_detail_of_a_file_gone_from_disk_says_so(tmp_path: Path) -> None:
    """The index still holds a file deleted since: its page shows what was indexed and says
    the file is gone; the picture itself answers 404."""
    from gendata.web import create_app

    shutil.copy(FIXTURES / "a1111_basic.png", tmp_path / "gone.png")
    shutil.copy(FIXTURES / "a1111_basic.png", tmp_path / "here.png")
    db = tmp_path / "index.sqlite"
    gendata.index([str(tmp_path)], db)
    (tmp_path / "gone.png").unlink()
    with TestClient(create_app(db, cache_dir=tmp_path / "cache"),
                    base_url="http://127.0.0.1") as c:
        ids = {Path(p).name: i for i, p in sqlite3.connect(db).execute(
            "SELECT id, path FROM images")}
        page = c.get(f"/image/{ids['gone.png']}")
        assert page.status_code == 200 and 'id="gone"' in page.text
        assert "no longer on disk" in page.text
        assert c.get(f"/file/{ids['gone.png']}").status_code == 404
        assert 'id="gone"' not in c.get(f"/image/{ids['here.png']}").text
