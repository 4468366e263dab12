"""Reading metadata by byte range, without a server: objects in fsspec's memory filesystem,
read through the same code as S3 objects, give the same records as the local reader, from
a few requests and a fraction of the bytes."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from gendata.api import read
from gendata.batch import read_one
from gendata.remote.listing import ObjectRef
from gendata.remote.rangefile import FetchStats
from gendata.remote.tasks import JobSpec, read_page

from . import images

fsspec = pytest.importorskip("fsspec")
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"


def _remote(data: bytes, name: str) -> tuple[Any, FetchStats]:
    fs = fsspec.filesystem("memory")
    fs.pipe_file(f"/ranges/{name}", data)
    stats = FetchStats()
    rec = read_page(JobSpec(concurrency=1), fs, [ObjectRef(f"/ranges/{name}", len(data))],
                    stats)[0]
    return rec, stats


def _same_as_local(data: bytes, name: str, tmp_path: Path) -> FetchStats:
    rec, stats = _remote(data, name)
    local = tmp_path / name
    local.write_bytes(data)
    want = read(local).to_json()
    got = rec.to_json()
    assert got["path"] == f"memory:///ranges/{name}"
    assert {**got, "path": None} == {**want, "path": None}
    return stats


@pytest.mark.parametrize("layout", [
    {}, {"after_idat": True}, {"idat_size": 8192}, {"after_idat": True, "idat_size": 8192},
    {"workflow_bytes": 40000}, {"workflow_bytes": 40000, "after_idat": True},
])
def test_png_layouts(layout: dict[str, Any], tmp_path: Path) -> None:
    text, _seed = images.infotext(5)
    data = images.png(text, **layout)
    stats = _same_as_local(data, "a.png", tmp_path)
    budget = 64 * 1024 + (40000 if "workflow_bytes" in layout else 0)
    assert stats.bytes <= budget, stats
    assert stats.requests <= 5, stats


def test_png_text_after_the_image_larger_than_the_tail_probe(tmp_path: Path) -> None:
    """The tail shows no IDAT where the last should be: the plan looks further back, and the
    text that starts before the tail is fetched when the parser reaches it."""
    text, _seed = images.infotext(6)
    data = images.png(text + ", pad: " + "z" * 30000, after_idat=True)
    stats = _same_as_local(data, "b.png", tmp_path)
    assert stats.bytes < 100 * 1024


@pytest.mark.parametrize("kind", ["jpeg", "webp"])
def test_exif_containers(kind: str, tmp_path: Path) -> None:
    text, _seed = images.infotext(7)
    data = images.exif_image(kind, text, str(tmp_path))
    assert len(data) > 300 * 1024
    stats = _same_as_local(data, f"c.{kind}", tmp_path)
    assert stats.bytes <= 32 * 1024 and stats.requests <= 3, stats


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.*")
                                       if p.suffix in (".png", ".jpg", ".webp")))
def test_fixtures(name: str, tmp_path: Path) -> None:
    """Every sample, broken ones included (their errors name the URL instead of the path)."""
    data = (FIXTURES / name).read_bytes()
    rec, _stats = _remote(data, name)
    local = tmp_path / name
    local.write_bytes(data)
    want = read(local).to_json() if name != "not_an_image.png" else None
    if want is None:
        assert "not a PNG, JPEG or WebP image" in (rec.error or "")
    else:
        want["error"] = want["error"] and want["error"].replace(str(local), rec.path)
        assert {**rec.to_json(), "path": None} == {**want, "path": None}


def test_corpus_matches_local_reads(tmp_path: Path) -> None:
    """The real-world samples: the same records (stealth data aside: it is in the pixels,
    which a remote read does not fetch unless asked), at a fraction of the bytes."""
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is absent")
    files = sorted(p for p in CORPUS.rglob("*") if p.suffix.lower() in (".png", ".jpg",
                                                                         ".jpeg", ".webp"))
    fs = fsspec.filesystem("memory")
    refs = []
    for i, p in enumerate(files):
        fs.pipe_file(f"/corpus/{i}", p.read_bytes())
        refs.append(ObjectRef(f"/corpus/{i}", p.stat().st_size))
    stats = FetchStats()
    records = read_page(JobSpec(concurrency=8), fs, refs, stats)
    total = sum(p.stat().st_size for p in files)
    for p, rec in zip(files, records, strict=True):
        # messages name the file: the path locally, the URL remotely
        local = json.loads(json.dumps(read_one(p, stealth=False).to_json()).replace(
            json.dumps(str(p))[1:-1], rec.path))
        got = rec.to_json()
        assert {**got, "path": None} == {**local, "path": None}, p
    assert stats.bytes < total / 10
    assert stats.requests <= 4 * len(files)


def test_stealth_on_request_reads_the_pixels() -> None:
    from gendata.remote.ranges import read_object

    data = (FIXTURES / "a1111_basic.png").read_bytes()
    buf = io.BytesIO(data)

    def fetch(start: int, end: int) -> bytes:
        buf.seek(start)
        return buf.read(end - start)

    rec = read_object("memory://x.png", len(data), fetch, stealth=True)
    assert rec.error is None and rec.to_json()["seed"] == 3141592653
