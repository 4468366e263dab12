"""Every container module keeps the same read/write contract (gendata/containers/__init__.py).

The cases come from the registry, `containers.CONTAINERS`, and the images in fixtures/, so a
new container module is tested as soon as it is registered and has a fixture.
"""

from __future__ import annotations

import shutil
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from gendata import containers
from gendata.containers import Changes, RawMetadata
from gendata.errors import UsageError

from ..conftest import FIXTURES
from ..helpers import crc_ok, jpeg_scan_data, pixels, png_chunks

TEXTS = ("plain words\nSteps: 20, Seed: 1", "城の上の猫, café\nSteps: 20, Seed: 1")
# A1111's key, the EXIF UserComment every container addresses by this name, and a key of
# our own; each container either holds a key or refuses it.
KEYS = ("parameters", "UserComment", "gendata-conformance")


def _images() -> dict[str, list[Path]]:
    found: dict[str, list[Path]] = {kind: [] for kind in containers.CONTAINERS}
    for path in sorted(FIXTURES.rglob("*")):
        if path.is_file():
            kind = containers.detect(path.read_bytes()[:12])
            if kind is not None:
                found[kind].append(path)
    return found


IMAGES = _images()


def _cases(keys: tuple[str, ...], *, held: bool) -> list[object]:
    out = []
    for kind in containers.CONTAINERS:
        mod = containers.module(kind)
        for path in IMAGES[kind] or [None]:
            for key in keys:
                if mod.holds(key) == held:
                    out.append(pytest.param(kind, path, key,
                                            id=f"{kind}-{path.name if path else 'none'}-{key}"))
    return out


def _png_image_data(data: bytes) -> list[tuple[bytes, bytes, bytes]]:
    chunks = png_chunks(data)
    assert all(crc_ok(c) for c in chunks), "a chunk has a bad CRC"
    return [c for c in chunks if c[0] not in (b"tEXt", b"zTXt", b"iTXt", b"eXIf")]


def _jpeg_image_data(data: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    segments = []
    pos = 2
    while data[pos + 1] != 0xDA:
        marker = data[pos + 1]
        (length,) = struct.unpack(">H", data[pos + 2:pos + 4])
        payload = data[pos + 4:pos + 2 + length]
        if not (marker == 0xE1 and payload.startswith(b"Exif\0\0")):
            segments.append((marker, payload))
        pos += 2 + length
    return segments, jpeg_scan_data(data)


def _webp_image_data(data: bytes) -> list[tuple[bytes, bytes]]:
    out = []
    pos = 12
    while pos + 8 <= len(data):
        fourcc = data[pos:pos + 4]
        (n,) = struct.unpack("<I", data[pos + 4:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if fourcc == b"VP8X":  # its EXIF flag follows the metadata; the rest must not change
            body = bytes([body[0] & ~0x08 & 0xFF]) + body[1:]
        if fourcc != b"EXIF":
            out.append((fourcc, body))
        pos += 8 + n + (n & 1)
    return out


# Everything of a file that no metadata edit may change, per container. A new container
# needs its entry here: the conformance tests fail for it until it has one.
IMAGE_DATA: dict[str, Callable[[bytes], object]] = {
    "png": _png_image_data,
    "jpeg": _jpeg_image_data,
    "webp": _webp_image_data,
}


def _read(path: Path) -> RawMetadata:
    with open(path, "rb") as f:
        return containers.read_raw(f)


def _others(raw: RawMetadata, key: str) -> list[tuple[str, str, str | None]]:
    """The text entries a change to `key` must leave as they were."""
    return [(e.location, e.key, e.text) for e in raw.entries
            if e.key != key and e.text is not None]


def _assert_image_kept(kind: str, before: Path, after: Path) -> None:
    assert kind in IMAGE_DATA, f"tests need to know the image data of {kind} files"
    assert IMAGE_DATA[kind](after.read_bytes()) == IMAGE_DATA[kind](before.read_bytes())
    assert pixels(after) == pixels(before)


def test_every_container_has_a_fixture() -> None:
    assert {kind for kind, paths in IMAGES.items() if not paths} == set()


def test_every_module_keeps_the_contract() -> None:
    for kind in containers.CONTAINERS:
        mod = containers.module(kind)
        for name in ("read_raw", "rewrite", "holds", "removals"):
            assert callable(getattr(mod, name, None)), f"{kind}.{name} is missing"
        assert isinstance(mod.TEXT_LOCATIONS, frozenset)
        assert mod.holds("UserComment"), f"{kind} must hold the EXIF UserComment"


@pytest.mark.parametrize("kind,path,key", _cases(KEYS, held=True))
@pytest.mark.parametrize("text", TEXTS, ids=["latin1", "unicode"])
def test_set_read_back_and_remove(tmp_path: Path, kind: str, path: Path, key: str,
                                  text: str) -> None:
    raw = _read(path)
    assert raw.container == kind
    with open(path, "rb") as f:
        assert containers.module(kind).read_raw(f).entries == raw.entries

    edited = tmp_path / f"edited{path.suffix}"
    done = containers.write_raw(path, edited, Changes(set={key: text}))
    assert done, "a change must say what it did"
    after = _read(edited)
    assert after.text(key) == text
    assert _others(after, key) == _others(raw, key)
    assert not any("bad CRC" in w for w in after.warnings)
    _assert_image_kept(kind, path, edited)

    remove = Changes(remove=frozenset({key}))
    assert containers.removals(after, remove), "removals must list what rewrite takes out"
    containers.write_raw(edited, edited, remove)  # in place
    gone = _read(edited)
    assert gone.text(key) is None
    assert containers.removals(gone, remove) == []
    assert _others(gone, key) == _others(raw, key)
    _assert_image_kept(kind, path, edited)
    with Image.open(edited) as im:
        im.load()


@pytest.mark.parametrize("kind,path,key", _cases(KEYS, held=False))
def test_a_key_the_container_cannot_hold_is_refused(tmp_path: Path, kind: str, path: Path,
                                                     key: str) -> None:
    out = tmp_path / f"out{path.suffix}"
    with pytest.raises(UsageError, match="cannot hold"):
        containers.write_raw(path, out, Changes(set={key: "x"}))
    assert not out.exists()
    # Through `fallback` its text goes under a key the container holds.
    containers.write_raw(path, out, Changes(set={key: "x"}, fallback={key: "UserComment"}))
    assert _read(out).text("UserComment") == "x"
    # Removing it is nothing to do: the container never wrote it.
    assert containers.removals(_read(path), Changes(remove=frozenset({key}))) == []


@pytest.mark.parametrize("kind", containers.CONTAINERS)
def test_no_change_is_a_byte_identical_copy(tmp_path: Path, kind: str) -> None:
    for path in IMAGES[kind]:
        for changes in (Changes(), Changes(remove=frozenset({"no-such-key"}))):
            out = tmp_path / f"copy{path.suffix}"
            containers.write_raw(path, out, changes)
            assert out.read_bytes() == path.read_bytes(), path.name
            out.unlink()


@pytest.mark.parametrize("kind", containers.CONTAINERS)
def test_mirror_writes_only_where_the_key_is(tmp_path: Path, kind: str) -> None:
    path = IMAGES[kind][0]
    work = tmp_path / f"m{path.suffix}"
    shutil.copy(path, work)
    containers.write_raw(work, work, Changes(remove=frozenset({"UserComment"})))
    containers.write_raw(work, work, Changes(mirror={"UserComment": "mirrored"}))
    assert _read(work).text("UserComment") is None
    containers.write_raw(work, work, Changes(set={"UserComment": "first"}))
    containers.write_raw(work, work, Changes(mirror={"UserComment": "mirrored"}))
    assert _read(work).text("UserComment") == "mirrored"


def test_write_raw_dispatches_by_magic_bytes(tmp_path: Path) -> None:
    disguised = tmp_path / "really_a_png.jpg"
    shutil.copy(IMAGES["png"][0], disguised)
    containers.write_raw(disguised, disguised, Changes(set={"parameters": "x"}))
    raw = _read(disguised)
    assert raw.container == "png" and raw.text("parameters") == "x"


def test_changes_are_frozen() -> None:
    given = {"parameters": "a"}
    changes = Changes(set=given, remove={"x"})  # type: ignore[arg-type]
    given["parameters"] = "b"
    assert changes.set == {"parameters": "a"}
    assert changes.remove == frozenset({"x"})
    with pytest.raises(TypeError):
        changes.set["parameters"] = "c"  # type: ignore[index]


def test_stealth_keeps_the_pair(tmp_path: Path) -> None:
    """Stealth pnginfo is no registered container (it lives in the pixels, found by asking,
    not by magic bytes) but writes and reads through the same pair."""
    from gendata.containers import stealth

    src = FIXTURES / "a1111_basic.png"
    out = tmp_path / "hidden.png"
    assert stealth.rewrite(src, out, Changes(set={"parameters": "hidden"})) == [
        "wrote stealth copy"]
    with open(out, "rb") as f:
        raw = stealth.read_raw(f)
    assert raw.text("parameters") == "hidden"
    assert raw.entries[0].location.startswith("stealth:")
    assert _others(_read(out), "") == _others(_read(src), "")
    with pytest.raises(UsageError, match="cannot be removed"):
        stealth.rewrite(out, out, Changes(remove=frozenset({"parameters"})))
