"""Fixtures for the gallery's tests: one real library, indexed, per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the serve extra is not installed")

from starlette.testclient import TestClient

from gendata.web import create_app

from .library import build


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
    app = create_app(library.db, cache_dir=library.cache)
    with TestClient(app, base_url="http://127.0.0.1") as c:
        yield c
