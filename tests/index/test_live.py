"""Searching listed files through the index (what the TUI's filter box does): answers hold for
the files as they are now, whether the index holds them as they are, holds them as they were,
or does not hold them at all; and the index is never written."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from gendata import api, indexing
from gendata.indexing.live import LiveSearch
from gendata.indexing.query import QueryError
from gendata.indexing.schema import IndexDatabaseError

from .conftest import comfy_png, make_image

QUERIES = ["fox", "fox*", '"red fox"', "-fox", "neg:blurry", "seed:7", "seed>5", "steps<=20",
           "sampler:euler*", "lora:style*", "generator:comfyui", "path:*sub*", "cfg>=7",
           "снег", "雪", "model:sd_xl*", "fox seed<100", ""]


def listed(paths: list[Path]) -> list[tuple[str, api.Record, api.FileIdentity | None]]:
    """What a front end holds of each file: its read and the identity taken with it."""
    out = []
    for p in paths:
        rec = api.read_safe(p)
        out.append((str(p), rec, rec.identity))
    return out


def truth(paths: list[Path], query: str, tmp_path: Path) -> set[str]:
    """What `gendata search` answers from a fresh index of exactly `paths`."""
    fresh = tmp_path / f"truth-{hashlib.sha1(repr(sorted(map(str, paths))).encode()).hexdigest()}"
    if not fresh.exists():
        indexing.index([str(p) for p in paths], fresh)
    return {str(p) for p in paths if str(p.absolute()) in set(indexing.results.paths(query,
                                                                                       fresh))}


@pytest.fixture
def library(tmp_path: Path) -> list[Path]:
    root = tmp_path / "lib"
    return [
        make_image(root / "a.png", "a red fox in snow <lora:styleA:0.7>", "blurry", Seed=7),
        make_image(root / "b.jpg", "a grey wolf", "lowres", Seed=9, Steps=30),
        make_image(root / "sub" / "c.webp", "снег и лиса", "", Seed=3, Sampler="DPM++ 2M"),
        make_image(root / "sub" / "d.png", "雪の中の狐", "blurry", Seed=120, CFG_scale=5),
        comfy_png(root / "e.png", seed=42, prompt="a comfy fox"),
    ]


def test_current_files_are_answered_by_the_index(library: list[Path], db: Path,
                                                 tmp_path: Path) -> None:
    indexing.index([str(library[0].parent)], db)
    live = LiveSearch(db)
    files = listed(library)
    for query in QUERIES:
        assert live.match(query, files) == truth(library, query, tmp_path), query
    assert live._in_memory == {}  # every file was current: nothing read into memory


def test_changed_new_and_unindexed_files_are_answered_as_they_are_now(
        library: list[Path], db: Path, tmp_path: Path) -> None:
    indexing.index([str(library[0].parent)], db)
    live = LiveSearch(db)
    assert live.match("seed:7", listed(library)) == {str(library[0])}
    # Edited after indexing (the index still says seed 7), one added, one never indexed.
    api.write(library[0], api.read(library[0]).params.edited(seed=77, prompt="a blue fox"))
    added = make_image(library[0].parent / "new.png", "a red fox again", "", Seed=7)
    outside = make_image(tmp_path / "elsewhere" / "x.png", "fox", "", Seed=7)
    now = [*library, added, outside]
    files = listed(now)
    for query in QUERIES:
        assert live.match(query, files) == truth(now, query, tmp_path), query
    assert live.match("seed:7", files) == {str(added), str(outside)}
    assert live.match('"blue fox" seed:77', files) == {str(library[0])}
    assert set(live._in_memory) == {str(p.absolute()) for p in (library[0], added, outside)}
    # Once the index catches up, the files read into memory leave it.
    indexing.index([str(library[0].parent)], db)
    assert live.match("seed:7", listed(now)) == {str(added), str(outside)}
    assert set(live._in_memory) == {str(outside.absolute())}


def test_search_never_writes_the_index(library: list[Path], db: Path) -> None:
    indexing.index([str(library[0].parent)], db)
    api.write(library[1], api.read(library[1]).params.edited(seed=1))
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    stamp = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in db.parent.iterdir()}
    live = LiveSearch(db)
    assert live.match("seed:1", listed(library)) == {str(library[1])}
    live.close()
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in db.parent.iterdir()} == stamp


def test_a_file_listed_by_a_relative_path(library: list[Path], db: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    indexing.index([str(library[0].parent)], db)
    monkeypatch.chdir(library[0].parent)
    rec = api.read_safe("a.png")
    assert LiveSearch(db).match("seed:7", [("a.png", rec, rec.identity)]) == {"a.png"}


def test_a_vanished_file_and_an_unreadable_one_do_not_match(library: list[Path], db: Path,
                                                            tmp_path: Path) -> None:
    indexing.index([str(library[0].parent)], db)
    files = listed(library)
    library[0].unlink()
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    rec = api.read_safe(broken)
    assert rec.error
    got = LiveSearch(db).match("", [*files[1:], (str(library[0]), files[0][1], None),
                                    (str(broken), rec, rec.identity)])
    # The vanished file is answered from what was read of it; the broken one never matches.
    assert got == {str(p) for p in library}


def test_a_query_the_language_refuses(library: list[Path], db: Path) -> None:
    indexing.index([str(library[0].parent)], db)
    with pytest.raises(QueryError, match="seed: needs a number"):
        LiveSearch(db).match("seed:", listed(library))


def test_a_damaged_or_missing_index_is_a_clear_error(library: list[Path], db: Path) -> None:
    indexing.index([str(library[0].parent)], db)
    live = LiveSearch(db)
    assert live.match("fox", listed(library))
    os.remove(db)
    shutil.rmtree(db.parent)
    db.parent.mkdir()
    db.write_bytes(b"SQLite format 3\0" + b"\xff" * 4000)
    with pytest.raises(IndexDatabaseError):
        LiveSearch(db).match("fox", listed(library))


def test_rows_of_an_older_reader_are_not_trusted(tmp_path: Path, db: Path) -> None:
    """Until `gendata index` reads the files again, an index built by a reader that read
    them differently answers nothing: the files are searched from the fresh reads."""
    zero = make_image(tmp_path / "lib" / "zero.png", "a fox", "", Steps=0, Seed=4242)
    indexing.index([str(zero.parent)], db)
    conn = sqlite3.connect(db)
    with conn:  # what reader 1 stored: the seed of a `Steps: 0` line as text
        conn.execute("UPDATE images SET seed = NULL")
        conn.execute("DELETE FROM gendata_meta WHERE key = 'reader'")
    conn.close()
    live = LiveSearch(db)
    assert live.match("seed:4242", listed([zero])) == {str(zero)}
    assert set(live._in_memory) == {str(zero)}
