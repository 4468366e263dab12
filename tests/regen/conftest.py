"""Fixtures for the regen pipeline tests: one tiny SD pipeline per session, one CPU thread."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _build(tmp_path_factory: pytest.TempPathFactory, builder: str, folder: str) -> Path:
    """Run one of tiny.py's pipeline builders once torch and diffusers are known present."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("diffusers")
    torch.set_num_threads(1)
    import tiny

    return getattr(tiny, builder)(tmp_path_factory.mktemp(folder))


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(tmp_path_factory, "build_pipeline", "tinysd")


@pytest.fixture(scope="session")
def tiny_sdxl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(tmp_path_factory, "build_sdxl_pipeline", "tinysdxl")
