"""Hostile files are built once per session: two of them take a few seconds to compress."""

from __future__ import annotations

from pathlib import Path

import pytest

from .builders import HOSTILE


@pytest.fixture(scope="session")
def hostile_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("hostile")
    return {name: build(folder) for name, build in HOSTILE.items()}
