"""The filter box searches the index where one exists: the search language, answers for files
as they are now (changed after indexing, never indexed), a refused query explained under the
box while the list keeps its last answer, and a damaged index falling back to the word filter."""

from __future__ import annotations

from pathlib import Path

from gendata import api, indexing
from gendata.tui.search import SEARCH_PLACEHOLDER, TEXT_PLACEHOLDER

from .conftest import FIXTURES, drive, rows, until

SWEEP = [f"seed_sweep/astronaut_{i}.png" for i in range(1, 5)]


def error_text(app) -> str | None:
    note = app.query_one("#filter-error")
    return str(note.render()) if note.has_class("-shown") else None


async def type_query(app, pilot, text: str) -> None:
    await pilot.press("escape")
    app.query_one("#filter").value = ""
    await pilot.press("slash", *text)


def test_the_filter_takes_the_search_language(folder: Path, tmp_path: Path) -> None:
    db = tmp_path / "index.sqlite"
    indexing.index([str(folder)], db)

    async def body(app, pilot) -> None:
        assert app.query_one("#filter").placeholder == SEARCH_PLACEHOLDER
        await type_query(app, pilot, "seed>=1002 steps:24")
        await until(pilot, lambda: rows(app) == SWEEP[1:])
        await type_query(app, pilot, "path:*astronaut_3*")
        await until(pilot, lambda: rows(app) == [SWEEP[2]])
        # Plain words also match the names listed, as the word filter does ("astronaut_3"
        # is in no prompt); with any other term the query is the search language's alone.
        await type_query(app, pilot, "astronaut_3")
        await until(pilot, lambda: rows(app) == [SWEEP[2]])
        await type_query(app, pilot, "astronaut_3 steps:24")
        await until(pilot, lambda: rows(app) == [])
        await type_query(app, pilot, "seed:3141592653 -sampler:euler*")
        want = sorted(p.name for p in map(Path, indexing.results.paths(
            "seed:3141592653 -sampler:euler*", db)))
        assert len(want) == 3
        await until(pilot, lambda: rows(app) == want)
        assert "3 of 14 images" in app.sub_title

    drive([folder], body, index=db)


def test_files_changed_since_indexing_are_found_as_they_are(folder: Path,
                                                            tmp_path: Path) -> None:
    db = tmp_path / "index.sqlite"
    indexing.index([str(folder)], db)
    target = folder / "seed_sweep" / "astronaut_2.png"
    api.write(target, api.read(target).params.edited(seed=55555))

    async def body(app, pilot) -> None:
        await type_query(app, pilot, "seed:55555")
        await until(pilot, lambda: rows(app) == [SWEEP[1]])
        await type_query(app, pilot, "seed:1002")
        await until(pilot, lambda: rows(app) == [])
        # The index still says 1002: the file is answered as it is now, not as indexed.
        assert list(indexing.results.paths("seed:1002", db)) == [str(target)]
        # A file written while the app is open, never indexed, joins the answer.
        await type_query(app, pilot, "seed:55555")
        late = folder / "late.png"
        late.write_bytes((folder / "seed_sweep" / "astronaut_1.png").read_bytes())
        api.write(late, api.read(late).params.edited(seed=55555))
        await until(pilot, lambda: rows(app) == ["late.png", SWEEP[1]])

    drive([folder], body, index=db)


def test_a_refused_query_is_explained_under_the_box(folder: Path, tmp_path: Path) -> None:
    db = tmp_path / "index.sqlite"
    indexing.index([str(folder)], db)

    async def body(app, pilot) -> None:
        await type_query(app, pilot, "steps:24")
        await until(pilot, lambda: rows(app) == SWEEP)
        await pilot.press(*" seed:")
        await until(pilot, lambda: error_text(app) is not None)
        assert "seed: needs a number" in error_text(app)
        assert app.query_one("#filter").has_class("-invalid")
        assert rows(app) == SWEEP  # the last answer holds
        await pilot.press("1", "0", "0", "3")
        await until(pilot, lambda: rows(app) == [SWEEP[2]])
        assert error_text(app) is None
        assert not app.query_one("#filter").has_class("-invalid")

    drive([folder], body, index=db)


def test_a_damaged_index_falls_back_to_the_word_filter(folder: Path, tmp_path: Path) -> None:
    db = tmp_path / "index.sqlite"
    indexing.index([str(folder)], db)

    async def body(app, pilot) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        db.write_bytes(b"not a database at all" * 100)
        await type_query(app, pilot, "astronaut_3")
        await until(pilot, lambda: app.query_one("#filter").placeholder == TEXT_PLACEHOLDER)
        messages = [n.message for n in app._notifications]
        assert any("not a gendata index" in m and "names and prompts" in m for m in messages)
        await until(pilot, lambda: rows(app) == [SWEEP[2]])  # by name, as the word filter does

    drive([folder], body, index=db)


def test_without_an_index_the_box_filters_by_words(folder: Path) -> None:
    async def body(app, pilot) -> None:
        assert app.query_one("#filter").placeholder == TEXT_PLACEHOLDER
        await type_query(app, pilot, "astronaut_3")
        await until(pilot, lambda: rows(app) == [SWEEP[2]])
        await type_query(app, pilot, "seed:")  # no language here: just text, and a hint
        await until(pilot, lambda: rows(app) == [])
        assert "no index here" in (error_text(app) or "")
        assert not app.query_one("#filter").has_class("-invalid")
        await type_query(app, pilot, "astronaut")
        await until(pilot, lambda: error_text(app) is None)

    drive([folder], body)


def test_paths_given_out_of_order_are_listed_in_the_sort_shown(folder: Path) -> None:
    """Paths from standard input come in any order; the list shows them in the order its
    title names ("sort: name"), from the first rows on, named from the folder they share."""
    given = [folder / "seed_sweep" / "astronaut_3.png", folder / "a1111.jpg",
             folder / "seed_sweep" / "astronaut_1.png"]

    async def body(app, pilot) -> None:
        # named relative to the folder they all lie in, as a search's paths are told apart
        assert rows(app) == ["a1111.jpg", "seed_sweep/astronaut_1.png",
                             "seed_sweep/astronaut_3.png"]
        assert "sort: name ↑" in app.sub_title

    drive(given, body)


def test_data_hidden_in_pixels_is_known_without_showing_the_file(folder: Path) -> None:
    """The list reads chunks only; once it is read, a sweep checks the pixels of the files
    whose chunks hold nothing, so their generator, the title's count and the word filter
    know them without the cursor landing on each."""
    import shutil

    shutil.copy(FIXTURES / "dialects" / "novelai_stealth.png", folder / "zz_stealth.png")

    async def body(app, pilot) -> None:
        item = app.by_path[str(folder / "zz_stealth.png")]
        await until(pilot, lambda: item.generator == "novelai")
        assert app.current_item() is not item  # never shown
        await type_query(app, pilot, "dancing")
        await until(pilot, lambda: rows(app) == ["zz_stealth.png"])

    drive([folder], body)
