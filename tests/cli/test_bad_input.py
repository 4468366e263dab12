"""Bad input of every kind gets one clear line and exit 1, never a traceback or a changed file."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import piexif
import pytest
from click.testing import CliRunner
from PIL import Image

import gendata
from gendata.cli import main
from gendata.errors import ContainerError


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("name", ["a1111.jpg", "a1111.webp", "a1111_basic.png"])
@pytest.mark.parametrize("keep", [0.05, 0.3, 0.9])
def test_truncated_images(tmp_path: Path, fixtures: Path, name: str, keep: float) -> None:
    data = (fixtures / name).read_bytes()
    p = tmp_path / name
    p.write_bytes(data[:max(12, int(len(data) * keep))])
    with pytest.raises(ContainerError, match=r"truncated|ends before"):
        gendata.read(p)
    r = run("show", str(p))
    assert r.exit_code == 1 and r.stderr.count("\n") == 1 and "Traceback" not in r.output
    before = p.read_bytes()
    assert run("set", str(p), "--steps", "3").exit_code == 1
    assert p.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == [name]


def test_garbage_user_comment(tmp_path: Path) -> None:
    p = tmp_path / "g.jpg"
    exif = piexif.dump({"Exif": {piexif.ExifIFD.UserComment: b"UNICODE\0" + bytes(range(1, 60))}})
    Image.new("RGB", (8, 8)).save(p, "JPEG", exif=exif)
    r = run("show", str(p))
    assert r.exit_code == 1
    assert "g.jpg: EXIF UserComment does not decode to readable text" in r.stderr


def test_directory_and_missing(tmp_path: Path) -> None:
    r = run("show", str(tmp_path / "nope.png"))
    assert r.exit_code == 1 and "no such file" in r.stderr
    r = run("show", str(tmp_path))
    assert r.exit_code == 2  # click refuses a directory where a file is expected


def test_set_on_a_read_only_folder_fails_cleanly(tmp_path: Path, fixtures: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root ignores folder permissions")
    d = tmp_path / "ro"
    d.mkdir()
    shutil.copy(fixtures / "a1111_basic.png", d / "a.png")
    d.chmod(0o555)
    try:
        r = run("set", str(d / "a.png"), "--steps", "3")
        assert r.exit_code == 1 and "cannot create a temporary file" in r.stderr
    finally:
        d.chmod(0o755)
