"""PNG container: reading text chunks without pixels, and refusing bad input clearly."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest

import gendata
from gendata.containers import open_raw
from gendata.containers.png import MAX_TEXT_BYTES, rewrite
from gendata.containers.raw import Changes
from gendata.errors import ContainerError, UnsupportedFormat

from ..helpers import build_png, png_chunks, tiny_png_chunks


def _with_text(*extra: tuple[bytes, bytes], after: tuple[bytes, bytes] | None = None) -> bytes:
    chunks = tiny_png_chunks()
    out = [chunks[0], *extra, *chunks[1:-1]]
    if after:
        out.append(after)
    out.append(chunks[-1])
    return build_png(out)


def test_reads_text_before_and_after_idat(tmp_path: Path) -> None:
    p = tmp_path / "a.png"
    p.write_bytes(_with_text((b"tEXt", b"before\0one"), after=(b"tEXt", b"after\0two")))
    raw = open_raw(p)
    assert [(e.key, e.text, e.after_idat) for e in raw.entries] == [
        ("before", "one", False), ("after", "two", True)]
    assert (raw.width, raw.height) == (8, 8)


def test_text_encodings(tmp_path: Path) -> None:
    p = tmp_path / "a.png"
    p.write_bytes(_with_text(
        (b"tEXt", b"latin\0caf\xe9"),
        (b"tEXt", "utf8\0テスト\0\0".encode()),  # UTF-8 in tEXt, trailing NULs
        (b"zTXt", b"z\0\0" + zlib.compress("zipped é".encode("latin-1"))),
        (b"iTXt", "i\0\0\0en\0\0ユニコード".encode()),
        (b"iTXt", b"ic\0\x01\0\0\0" + zlib.compress("compressed ✓".encode())),
    ))
    assert open_raw(p).texts() == {"latin": "café", "utf8": "テスト", "z": "zipped é",
                                   "i": "ユニコード", "ic": "compressed ✓"}


def test_reading_never_touches_idat(tmp_path: Path) -> None:
    """A corrupt IDAT payload (wrong CRC, garbage bytes) does not matter to a metadata read."""
    chunks = [(t, d) for t, d in tiny_png_chunks()]
    idat = next(i for i, (t, _) in enumerate(chunks) if t == b"IDAT")
    data = bytearray(build_png([chunks[0], (b"tEXt", b"parameters\0x"), *chunks[1:]]))
    start = data.find(b"IDAT") + 4
    data[start:start + 4] = b"\xde\xad\xbe\xef"
    p = tmp_path / "a.png"
    p.write_bytes(bytes(data))
    assert open_raw(p).text("parameters") == "x"
    assert idat  # the file has image data


def test_bad_crc_ancillary_warns_and_keeps_reading(tmp_path: Path) -> None:
    data = bytearray(_with_text((b"tEXt", b"parameters\0hello")))
    pos = data.find(b"tEXt") + 4 + len(b"parameters\0hello")
    data[pos] ^= 0xFF
    p = tmp_path / "a.png"
    p.write_bytes(bytes(data))
    raw = open_raw(p)
    assert raw.text("parameters") == "hello"
    assert any("bad CRC" in w for w in raw.warnings)


def test_bad_crc_critical_refuses_to_write(tmp_path: Path) -> None:
    data = bytearray(_with_text((b"tEXt", b"parameters\0hello")))
    pos = data.find(b"IDAT") + 4
    data[pos + 2] ^= 0x01
    p = tmp_path / "a.png"
    p.write_bytes(bytes(data))
    before = p.read_bytes()
    with pytest.raises(ContainerError, match="bad CRC in critical chunk IDAT"):
        rewrite(p, p, Changes(set={"parameters": "new"}))
    assert p.read_bytes() == before
    assert list(tmp_path.iterdir()) == [p]  # no temp file left behind


@pytest.mark.parametrize("cut", [10, 30, 60])
def test_truncated_file(tmp_path: Path, cut: int) -> None:
    p = tmp_path / "t.png"
    p.write_bytes(_with_text((b"tEXt", b"parameters\0hello"))[:-cut])
    with pytest.raises(ContainerError, match="truncated"):
        open_raw(p)


def test_decompression_bomb_is_refused(tmp_path: Path) -> None:
    bomb = zlib.compress(b"A" * (MAX_TEXT_BYTES + 10), 9)
    p = tmp_path / "bomb.png"
    p.write_bytes(_with_text((b"zTXt", b"parameters\0\0" + bomb)))
    with pytest.raises(ContainerError, match="decompression bomb"):
        open_raw(p)


def test_corrupt_zlib_is_an_error(tmp_path: Path) -> None:
    p = tmp_path / "z.png"
    p.write_bytes(_with_text((b"zTXt", b"parameters\0\0not zlib at all")))
    with pytest.raises(ContainerError, match="corrupt compressed text"):
        open_raw(p)


def test_not_an_image(tmp_path: Path, fixtures: Path) -> None:
    with pytest.raises(UnsupportedFormat, match="not a PNG, JPEG or WebP"):
        open_raw(fixtures / "not_an_image.png")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    with pytest.raises(UnsupportedFormat, match="empty file"):
        open_raw(empty)


def test_detects_by_magic_not_extension(tmp_path: Path, fixtures: Path) -> None:
    p = tmp_path / "really_a_png.jpg"
    p.write_bytes((fixtures / "a1111_basic.png").read_bytes())
    assert gendata.read(p).container == "png"


def test_duplicate_keywords_are_all_kept(tmp_path: Path) -> None:
    p = tmp_path / "d.png"
    p.write_bytes(_with_text((b"tEXt", b"parameters\0one"), (b"tEXt", b"parameters\0two")))
    raw = open_raw(p)
    assert [e.text for e in raw.entries] == ["one", "two"]
    assert raw.duplicates() == ["parameters"]


def test_fixture_chunk_layout(fixtures: Path) -> None:
    types = [t for t, _, _ in png_chunks((fixtures / "a1111_basic.png").read_bytes())]
    assert types[:4] == [b"IHDR", b"iCCP", b"gdTa", b"tEXt"]
    assert types[-2:] == [b"tEXt", b"IEND"]  # a comment after IDAT
