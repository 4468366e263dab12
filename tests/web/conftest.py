"""Fixtures for the gallery's tests: one real library, indexed, per module.

The tests that need the serve extra (Starlette) skip themselves, each saying why, when it
is not installed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .library import build

if TYPE_CHECKING:
    from starlette.testclient import TestClient

class Library:
    def __init__(self, root: Path, db: Path, cache: Path, ids: dict[str, int]) -> None:
        self.root, self.db, self.cache, self.ids = root, db, cache, ids


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Library:
    work = tmp_path_factory.mktemp("gallery")
    ids = build(work / "outputs", work / "index.sqlite", extra=130)
    return Library(work / "outputs", work / "index.sqlite", work / "cache", ids)


@pytest.fixture
def client(library: Library) -> Iterator[TestClient]:
    from starlette.testclient import TestClient

    from gendata.web import create_app

    app = create_app(library.db, cache_dir=library.cache)
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c
