"""Building and updating the index: real files, real SQLite."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import gendata
from gendata.indexing import build, schema
from gendata.indexing.results import objects, paths
from gendata.indexing.schema import IndexDatabaseError

from .conftest import assert_fts_in_step, comfy_png, make_image

ROOT = Path(__file__).resolve().parents[2]


def library(root: Path) -> list[Path]:
    return [
        make_image(root / "a" / "fox.png", "a red fox in snow", "blurry", Seed=11,
                   Model="dreamFox_v10"),
        make_image(root / "a" / "cat.jpg", "a black cat <lora:catStyle:0.7>", Seed=12),
        make_image(root / "b" / "owl.webp", "an owl at night", "lowres", Seed=13),
        make_image(root / "b" / "deep" / "кот.png", "рыжий кот, 猫, 고양이가 잔다", Seed=14),
    ]


def _count_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    read: list[str] = []
    original = build.row_for

    def counting(path: str, stealth: bool | None = None):  # type: ignore[no-untyped-def]
        read.append(path)
        return original(path, stealth)

    monkeypatch.setattr(build, "row_for", counting)
    return read


def test_index_then_search(tmp_path: Path, db: Path) -> None:
    files = library(tmp_path / "lib")
    summary = gendata.index(tmp_path / "lib", db)
    assert (summary.added, summary.unchanged, summary.failed_count) == (4, 0, 0)
    assert [r.path for r in gendata.search("fox", db)] == [str(files[0])]
    rec = next(gendata.search("seed:12", db))
    assert rec.params.seed == 12 and rec.params.loras[0].name == "catStyle"
    assert rec.to_json() == gendata.read(files[1]).to_json()


def test_update_reads_only_what_changed(tmp_path: Path, db: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    lib = tmp_path / "lib"
    files = library(lib)
    extra = [make_image(lib / "c" / f"{i}.png", f"filler {i}", Seed=100 + i) for i in range(6)]
    build.index([lib], db)
    read = _count_reads(monkeypatch)

    make_image(files[0], "a blue fox in snow", Seed=21)                 # modified
    files[1].unlink()                                                   # deleted
    added = make_image(lib / "b" / "new.png", "a new heron", Seed=22)   # added
    shutil.rmtree(lib / "c")                                            # a folder gone
    summary = build.index([lib], db, jobs=1)

    assert sorted(read) == sorted([str(files[0]), str(added)])
    assert (summary.added, summary.updated, summary.removed) == (1, 1, 1 + len(extra))
    assert summary.unchanged == 2
    assert list(paths("red", db)) == []
    assert list(paths("blue fox", db)) == [str(files[0])]
    assert list(paths("seed:12", db)) == []
    assert list(paths("heron", db)) == [str(added)]
    assert list(paths("filler", db)) == []
    assert len(list(paths("", db))) == 4

    assert_fts_in_step(db)
    read.clear()
    again = build.index([lib], db)
    assert read == [] and again.unchanged == 4 and again.read == 0


def test_same_size_and_mtime_but_new_inode_is_read_again(tmp_path: Path, db: Path) -> None:
    path = make_image(tmp_path / "x.png", "first words", Seed=1)
    build.index([tmp_path], db)
    st = path.stat()
    copy = tmp_path / "copy.png"
    make_image(copy, "other words", Seed=2)  # same length text: same size
    assert copy.stat().st_size == st.st_size
    os.replace(copy, path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    summary = build.index([tmp_path], db)
    assert summary.updated == 1
    assert list(paths("other", db)) == [str(path)]


def test_overlapping_inputs_index_each_file_once(tmp_path: Path, db: Path) -> None:
    files = library(tmp_path / "lib")
    for _ in range(2):
        summary = build.index([tmp_path / "lib", tmp_path / "lib" / "b", files[0]], db)
        assert summary.scanned == 4 and summary.failed_count == 0
    assert len(list(paths("", db))) == 4
    assert build.roots(db) == [str(tmp_path / "lib")]


def test_no_paths_updates_the_folders_indexed_before(tmp_path: Path, db: Path) -> None:
    make_image(tmp_path / "one" / "a.png", "alpha", Seed=1)
    make_image(tmp_path / "two" / "b.png", "beta", Seed=2)
    build.index([tmp_path / "one"], db)
    build.index([tmp_path / "two"], db)
    assert build.roots(db) == sorted([str(tmp_path / "one"), str(tmp_path / "two")])
    make_image(tmp_path / "one" / "c.png", "gamma", Seed=3)
    summary = build.index([], db)
    assert summary.added == 1 and summary.unchanged == 2
    with pytest.raises(gendata.UsageError):
        build.index([], tmp_path / "empty.sqlite")


def test_bad_files_are_recorded(tmp_path: Path, db: Path) -> None:
    make_image(tmp_path / "good.png", "fine", Seed=1)
    shutil.copy(ROOT / "fixtures" / "not_an_image.png", tmp_path / "bad.png")
    (tmp_path / "truncated.png").write_bytes((tmp_path / "good.png").read_bytes()[:40])
    summary = build.index([tmp_path], db)
    assert summary.failed_count == 2
    listed = build.errors(db)
    assert [p for p, _ in listed] == [str(tmp_path / "bad.png"), str(tmp_path / "truncated.png")]
    assert all(reason for _, reason in listed)
    # errors never match a search, not even everything
    assert list(paths("", db)) == [str(tmp_path / "good.png")]
    # fixed files leave the error list
    make_image(tmp_path / "bad.png", "repaired", Seed=2)
    build.index([tmp_path], db)
    assert [p for p, _ in build.errors(db)] == [str(tmp_path / "truncated.png")]
    assert_fts_in_step(db)


def test_missing_inputs_are_reported_not_recorded(tmp_path: Path, db: Path) -> None:
    summary = build.index([tmp_path / "nope.png", str(tmp_path / "*.webp")], db)
    assert len(summary.missing) == 2 and summary.failed_count == 0
    assert build.errors(db) == []


def test_huge_comfyui_seeds(tmp_path: Path, db: Path) -> None:
    top = comfy_png(tmp_path / "top.png", 2**64 - 1)
    near = comfy_png(tmp_path / "near.png", 2**64 - 2)
    mid = comfy_png(tmp_path / "mid.png", 2**63)
    small = comfy_png(tmp_path / "small.png", 2**63 - 1)
    build.index([tmp_path], db)
    assert list(paths(f"seed:{2**64 - 1}", db)) == [str(top)]
    assert list(paths(f"seed:{2**64 - 2}", db)) == [str(near)]
    assert list(paths(f"seed:{2**63}", db)) == [str(mid)]
    assert list(paths(f"seed:{2**63 - 1}", db)) == [str(small)]
    assert sorted(paths(f"seed>={2**63}", db)) == sorted(map(str, [top, near, mid]))
    assert sorted(paths(f"seed<{2**64 - 1}", db)) == sorted(map(str, [near, mid, small]))
    assert list(paths(f"seed>{2**64 - 2}", db)) == [str(top)]
    assert next(gendata.search(f"seed:{2**64 - 1}", db)).params.seed == 2**64 - 1
    assert next(objects(f"seed:{2**63}", db))["seed"] == 2**63


def test_rebuild_and_foreign_or_damaged_databases(tmp_path: Path, db: Path) -> None:
    make_image(tmp_path / "lib" / "a.png", "alpha", Seed=1)
    build.index([tmp_path / "lib"], db)
    # damaged: a page overwritten in the middle of the file
    data = bytearray(db.read_bytes())
    data[4096:8192] = b"\xff" * 4096
    db.write_bytes(bytes(data))
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    with pytest.raises(IndexDatabaseError, match=r"damaged .*--rebuild"):
        build.index([tmp_path / "lib"], db)
    with pytest.raises(IndexDatabaseError, match=r"damaged .*--rebuild"):
        list(paths("alpha", db))
    summary = build.index([tmp_path / "lib"], db, rebuild=True)
    assert summary.added == 1 and list(paths("alpha", db)) == [str(tmp_path / "lib" / "a.png")]

    foreign = tmp_path / "notes.sqlite"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    conn.close()
    for rebuild in (False, True):
        with pytest.raises(IndexDatabaseError, match="not a gendata index"):
            build.index([tmp_path / "lib"], foreign, rebuild=rebuild)
    assert foreign.exists()
    text = tmp_path / "readme.txt"
    text.write_text("hello\n")
    with pytest.raises(IndexDatabaseError, match="not a gendata index"):
        list(paths("x", text))
    with pytest.raises(IndexDatabaseError, match="no index"):
        list(paths("x", tmp_path / "absent.sqlite"))


def test_newer_schema_is_refused(tmp_path: Path, db: Path) -> None:
    build.index([make_image(tmp_path / "a.png", "x")], db)
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version={schema.SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(IndexDatabaseError, match="newer"):
        list(paths("x", db))


def test_migrations_run_in_order(tmp_path: Path, db: Path, monkeypatch: pytest.MonkeyPatch
                                 ) -> None:
    build.index([make_image(tmp_path / "a.png", "x")], db)

    def add_rating(conn: sqlite3.Connection) -> None:
        conn.execute("ALTER TABLE images ADD COLUMN rating INTEGER")

    monkeypatch.setattr(schema, "SCHEMA_VERSION", schema.SCHEMA_VERSION + 1)
    monkeypatch.setitem(schema.MIGRATIONS, schema.SCHEMA_VERSION, add_rating)
    assert list(paths("x", db)) == [str(tmp_path / "a.png")]
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    assert "rating" in {r[1] for r in conn.execute("PRAGMA table_info(images)")}
    conn.close()


def test_an_index_of_version_1_gets_the_time_order(tmp_path: Path, db: Path) -> None:
    """Version 2 adds an index on the file time: a version-1 index is brought up to it by
    the next command that opens it, and "newest first" then walks that index."""
    build.index([make_image(tmp_path / "a.png", "x")], db)
    conn = sqlite3.connect(db)
    conn.execute("DROP INDEX images_mtime")
    conn.execute("PRAGMA user_version=1")
    conn.close()
    assert list(paths("x", db, sort="mtime:desc")) == [str(tmp_path / "a.png")]
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    plan = conn.execute("EXPLAIN QUERY PLAN SELECT id FROM images ORDER BY mtime_ns DESC, "
                        "id DESC LIMIT 60").fetchall()
    conn.close()
    assert "images_mtime" in str(plan)
    from gendata.indexing.query import order_by

    conn = sqlite3.connect(db)
    plan = conn.execute("EXPLAIN QUERY PLAN SELECT i.path FROM images i "
                        f"{order_by('mtime:desc')} LIMIT 60").fetchall()
    conn.close()
    assert "images_mtime" in str(plan) and "TEMP B-TREE" not in str(plan)


def test_a_newer_readers_index_is_left_as_it_is(tmp_path: Path, db: Path) -> None:
    """An older gendata opening an index a newer one built does not make every file be read
    again (and then again by the newer one)."""
    build.index([make_image(tmp_path / "a.png", "x")], db)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE gendata_meta SET value = ? WHERE key = 'reader'",
                     (str(schema.READER_VERSION + 1),))
    conn.close()
    assert build.index([tmp_path / "a.png"], db).unchanged == 1


def test_a_new_model_field_gets_its_column_and_files_are_read_again(
        tmp_path: Path, db: Path) -> None:
    lib = tmp_path / "lib"
    make_image(lib / "a.png", "x", Version="v1.9")
    build.index([lib], db)
    conn = sqlite3.connect(db)
    conn.execute("ALTER TABLE images DROP COLUMN version")  # an index from before the field
    conn.close()
    summary = build.index([lib], db)
    assert summary.updated == 1
    assert next(objects("", db))["version"] == "v1.9"


def test_an_index_made_by_an_older_reader_reads_every_file_again(
        tmp_path: Path, db: Path) -> None:
    """A file with `Steps: 0` read as it is read now: its seed is a field. An index built
    when the reader sent every typed key of such a line to text is brought up to date by
    the next `gendata index`, though no file changed, and searching alone writes nothing."""
    lib = tmp_path / "lib"
    make_image(lib / "zero.png", "a fox", Steps=0, Seed=4242)
    make_image(lib / "fine.png", "a cat", Seed=7)
    build.index([lib], db)
    assert list(paths("seed:4242", db)) == [str(lib / "zero.png")]
    conn = sqlite3.connect(db)
    with conn:  # what reader 1 stored for it, and no reader mark
        conn.execute("UPDATE images SET seed = NULL WHERE path LIKE '%zero.png'")
        conn.execute("DELETE FROM gendata_meta WHERE key = 'reader'")
    conn.close()
    assert list(paths("seed:4242", db)) == []
    summary = build.index([lib], db)
    assert (summary.updated, summary.unchanged) == (2, 0)
    assert list(paths("seed:4242", db)) == [str(lib / "zero.png")]
    assert build.index([lib], db).unchanged == 2  # once, not on every run


def test_interrupted_index_is_consistent(tmp_path: Path, db: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build, "BATCH", 5)
    for i in range(23):
        make_image(tmp_path / f"{i:02d}.png", f"word{i} common", Seed=i)
    seen = []

    def stop() -> bool:
        seen.append(1)
        return len(seen) > 12

    summary = build.index([tmp_path], db, jobs=1, should_stop=stop)
    assert summary.interrupted
    done = list(paths("common", db))
    assert 0 < len(done) < 23
    assert len(list(paths("", db))) == len(done)
    assert_fts_in_step(db)
    rest = build.index([tmp_path], db)
    assert rest.unchanged == len(done) and len(list(paths("common", db))) == 23


def test_search_runs_while_an_index_is_being_written(tmp_path: Path, db: Path) -> None:
    make_image(tmp_path / "a.png", "alpha", Seed=1)
    build.index([tmp_path], db)
    writer = schema.connect(db, create=True)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM images")
    started = time.perf_counter()
    assert list(paths("alpha", db)) == [str(tmp_path / "a.png")]  # the last committed state
    assert time.perf_counter() - started < 5
    writer.execute("ROLLBACK")
    writer.close()


def test_files_given_one_by_one_and_from_stdin(tmp_path: Path, db: Path) -> None:
    import io

    a = make_image(tmp_path / "a.png", "alpha", Seed=1)
    b = make_image(tmp_path / "b.jpg", "beta", Seed=2)
    summary = build.index(["-"], db, stdin=io.StringIO(f"{a}\n{b}\n"))
    assert summary.added == 2
    a.unlink()
    summary = build.index([a], db)
    assert summary.removed == 1 and list(paths("", db)) == [str(b)]


def wait_for_search(db: Path, query: str, expected: list[str]) -> None:
    """Wait until searching `db` for `query` finds `expected` (a watcher applies changes
    after its debounce, on a machine that may be busy)."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if sorted(paths(query, db)) == sorted(expected):
                return
        except IndexDatabaseError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{query}: {sorted(paths(query, db))} != {expected}")


@contextlib.contextmanager
def watching(root: str | Path, db: Path, **options: object) -> Iterator[None]:
    """`watch(root)` in a thread for the length of the block."""
    from gendata.indexing.watcher import watch

    stop = threading.Event()
    thread = threading.Thread(target=watch, args=([root], db), kwargs={
        "stop_event": stop, "debounce_ms": 100, **options}, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(10)


def test_watch_follows_changes(tmp_path: Path, db: Path) -> None:
    pytest.importorskip("watchfiles")
    lib = tmp_path / "lib"
    first = make_image(lib / "first.png", "alpha", Seed=1)
    batches: list[object] = []
    with watching(lib, db, on_change=batches.append):
        wait_for_search(db, "alpha", [str(first)])
        time.sleep(0.5)  # let the watcher start
        second = make_image(lib / "sub" / "second.png", "beta", Seed=2)
        wait_for_search(db, "beta", [str(second)])
        make_image(first, "gamma", Seed=3)
        wait_for_search(db, "gamma", [str(first)])
        second.unlink()
        wait_for_search(db, "beta", [])
        shutil.rmtree(lib / "sub")
        wait_for_search(db, "", [str(first)])
    assert batches
    assert_fts_in_step(db)


def test_watch_follows_a_glob_root_and_only_what_it_names(tmp_path: Path, db: Path) -> None:
    pytest.importorskip("watchfiles")
    lib = tmp_path / "lib"
    first = make_image(lib / "x0.png", "alpha", Seed=1)
    with watching(str(lib / "x*.png"), db):
        wait_for_search(db, "alpha", [str(first)])
        time.sleep(0.5)  # let the watcher start
        added = make_image(lib / "x1.png", "beta", Seed=2)
        make_image(lib / "other.png", "beta", Seed=3)  # beside the glob, not named by it
        make_image(lib / "xsub" / "x3.png", "beta", Seed=4)  # nor in a folder below it
        inner = make_image(lib / "xd.png" / "in.png", "beta", Seed=5)  # a folder it names:
        wait_for_search(db, "beta", [str(added), str(inner)])          # walked, as by index
        gendata.write(first, gendata.read(first).params.edited(seed=777))
        wait_for_search(db, "seed:777", [str(first)])
        added.unlink()
        wait_for_search(db, "", [str(first), str(inner)])
