"""Thumbnails of the files people really have: generator text Pillow dislikes, turned
photos, broken and hostile files."""

from __future__ import annotations

import io
import json
import struct
import time
import zlib
from pathlib import Path

import pytest
from PIL import Image

from gendata.web.thumbs import Thumbnails

from .library import picture


def chunk(kind: bytes, data: bytes, *, crc: int | None = None) -> bytes:
    value = zlib.crc32(kind + data) if crc is None else crc
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", value)


def png_with(path: Path, before: list[bytes], after: tuple[bytes, ...] = ()) -> Path:
    """A real PNG picture with extra chunks before its image data and after it."""
    buf = io.BytesIO()
    picture(5, (300, 200)).save(buf, "PNG")
    data = buf.getvalue()
    ihdr_end = 8 + 25
    iend = data.rindex(b"IEND") - 4
    path.write_bytes(data[:ihdr_end] + b"".join(before) + data[ihdr_end:iend]
                     + b"".join(after) + data[iend:])
    return path


def thumb(tmp_path: Path, path: Path) -> Image.Image:
    made = Thumbnails(tmp_path / "cache").get(str(path))
    assert made.reason == ""
    if made.data is not None:
        data = made.data
    else:
        assert made.path is not None
        data = made.path.read_bytes()
    im = Image.open(io.BytesIO(data))
    assert im.format == "WEBP"
    return im


def test_a_text_chunk_with_a_wrong_checksum(tmp_path: Path) -> None:
    """ComfyUI's example workflows ship so: gendata reads their text, Pillow refuses it."""
    path = png_with(tmp_path / "bad_crc.png",
                    [chunk(b"tEXt", b"prompt\0{\"3\": {}}", crc=0x12345678)])
    with pytest.raises(OSError):
        Image.open(path)
    assert thumb(tmp_path, path).size == (256, 171)


def test_a_workflow_larger_than_pillow_reads(tmp_path: Path) -> None:
    workflow = json.dumps({"nodes": [{"id": i, "widgets_values": ["x" * 200]}
                                     for i in range(20000)]})
    assert len(workflow) > 4 * 1024 * 1024
    path = png_with(tmp_path / "big.png", [chunk(b"zTXt", b"workflow\0\0"
                                                 + zlib.compress(workflow.encode()))],
                    (chunk(b"tEXt", b"prompt\0" + workflow.encode()),))
    assert thumb(tmp_path, path).size == (256, 171)


def test_an_exif_orientation_turns_the_thumbnail(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 clockwise
    path = tmp_path / "turned.jpg"
    picture(3, (300, 200)).save(path, "JPEG", exif=exif.tobytes())
    assert thumb(tmp_path, path).size == (171, 256)


def test_animated_pictures_give_their_first_frame(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (300, 200), colour) for colour in ("red", "lime", "blue")]
    for name in ("anim.png", "anim.webp"):
        frames[0].save(tmp_path / name, save_all=True, append_images=frames[1:], duration=100)
        im = thumb(tmp_path, tmp_path / name)
        assert im.size == (256, 171)
        r, g, b = im.convert("RGB").getpixel((100, 80))
        assert r > 200 and g < 60 and b < 60


@pytest.mark.parametrize("ihdr", [(30000, 30000), (2**31 - 1, 2)])
def test_a_bomb_is_refused_from_its_header(tmp_path: Path, ihdr: tuple[int, int]) -> None:
    header = struct.pack(">IIBBBBB", *ihdr, 8, 6, 0, 0, 0)
    idat = zlib.compress(b"\0" * (1 << 20))
    path = tmp_path / "bomb.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat)
                     + chunk(b"IEND", b""))
    started = time.process_time()
    made = Thumbnails(tmp_path / "cache").get(str(path))
    assert time.process_time() - started < 0.5
    assert made.data is None and made.path is None
    assert made.reason.startswith(f"refusing a huge picture: {ihdr[0]}x{ihdr[1]}")


def test_a_large_jpeg_is_decoded_at_a_reduced_scale(tmp_path: Path) -> None:
    path = tmp_path / "large.jpg"
    picture(2, (4000, 3000)).save(path, "JPEG", quality=80)
    assert thumb(tmp_path, path).size == (256, 192)


@pytest.mark.parametrize("content", [
    b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0" + b"\0" * 50, b"RIFF\0\0\0\0WEBPVP8 ",
    b"GIF89a" + b"\0" * 20, b"not a picture at all",
])
def test_broken_files_get_a_reason_not_an_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.png"
    path.write_bytes(content)
    made = Thumbnails(tmp_path / "cache").get(str(path))
    assert made.data is None and made.reason


def test_truncated_picture(tmp_path: Path) -> None:
    path = tmp_path / "cut.png"
    picture(1, (300, 300)).save(path, "PNG")
    path.write_bytes(path.read_bytes()[:2000])
    made = Thumbnails(tmp_path / "cache").get(str(path))
    assert made.data is None and made.reason


def test_an_unwritable_cache_still_gives_thumbnails(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    picture(4, (100, 100)).save(path, "PNG")
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache folder should be")
    made = Thumbnails(blocked).get(str(path))
    assert made.data is not None and made.path is None
