"""An edit keeps every byte it was not asked to change: data after the image, chunks of a
repeated keyword, unknown segments; and it never writes one copy of the generation text over
another that differs (issue 11, data loss)."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

import gendata
from gendata.containers import open_raw
from gendata.containers.exif import encode_user_comment
from gendata.errors import WriteError

from ..helpers import build_png, png_chunks, tiny_png_chunks, webp_image_chunks
from .exif_blocks import build, jpeg_with

TEXT = "a cat\nSteps: 20, Sampler: Euler a, Seed: 1"
NEW = "a dog\nSteps: 30, Sampler: Euler, Seed: 2"
TRAILER = b"\0\0trailing data some tools append (a zip, a signature)\xff\xd9"


def _png(*extra: tuple[bytes, bytes], trailer: bytes = b"") -> bytes:
    chunks = tiny_png_chunks()
    for chunk in reversed(extra):
        chunks.insert(1, chunk)
    return build_png(chunks) + trailer


def test_png_keeps_data_after_iend(tmp_path: Path) -> None:
    p = tmp_path / "a.png"
    p.write_bytes(_png((b"tEXt", b"parameters\0" + TEXT.encode()), trailer=TRAILER))
    gendata.write_text(p, NEW)
    assert p.read_bytes().endswith(b"IEND\xaeB`\x82" + TRAILER)
    assert gendata.read(p).params.seed == 2
    gendata.strip(p)
    assert p.read_bytes().endswith(TRAILER)


def test_webp_keeps_data_after_the_riff_and_unknown_chunks(tmp_path: Path) -> None:
    for lossless in (True, False):
        buf = io.BytesIO()
        Image.new("RGB", (9, 7), (3, 4, 5)).save(buf, "WEBP", lossless=lossless)
        data = bytearray(buf.getvalue())
        unknown = b"ZZZZ" + struct.pack("<I", 3) + b"abc\0"
        data += unknown
        struct.pack_into("<I", data, 4, len(data) - 8)
        p = tmp_path / f"a{lossless}.webp"
        p.write_bytes(bytes(data) + TRAILER)
        before = p.read_bytes()
        gendata.write_text(p, NEW)
        after = p.read_bytes()
        assert unknown in after and after.endswith(TRAILER)
        (riff,) = struct.unpack("<I", after[4:8])
        assert riff + 8 == len(after) - len(TRAILER)
        assert webp_image_chunks(after[:riff + 8]) == webp_image_chunks(before[:-len(TRAILER)])
        assert gendata.read(p).params.seed == 2
        gendata.strip(p)
        assert p.read_bytes().endswith(unknown + TRAILER)
        with Image.open(p) as im:
            assert im.size == (9, 7)


def test_jpeg_keeps_unknown_segments_fill_bytes_and_trailer(tmp_path: Path) -> None:
    exif = b"Exif\0\0" + build({"IFD0": {}, "Exif": {0x9286: (7, encode_user_comment(TEXT))}},
                               "MM")
    data = jpeg_with(exif, comment=b"kept comment")
    app9 = b"\xff\xe9" + struct.pack(">H", 6) + b"abcd"
    sos = data.index(b"\xff\xda")
    data = data[:sos] + b"\xff\xff" + app9 + data[sos:] + TRAILER  # fill bytes before APP9
    p = tmp_path / "a.jpg"
    p.write_bytes(data)
    gendata.write_text(p, NEW)
    after = p.read_bytes()
    assert b"\xff\xff" + app9 in after and b"kept comment" in after
    assert after.endswith(TRAILER)
    assert after[after.index(b"\xff\xda"):] == data[data.index(b"\xff\xda"):]
    assert gendata.read(p).params.seed == 2


def test_duplicate_keys_the_first_is_edited_the_rest_kept(tmp_path: Path) -> None:
    texts = [TEXT, "second\nSteps: 5, Sampler: Euler, Seed: 5",
             "third\nSteps: 6, Sampler: Euler, Seed: 6"]
    p = tmp_path / "three.png"
    p.write_bytes(_png(*[(b"tEXt", b"parameters\0" + t.encode()) for t in texts]))
    changes = gendata.write_text(p, NEW)
    found = [e.text for e in open_raw(p).entries if e.key == "parameters"]
    assert found == [NEW, texts[1], texts[2]]
    warning = next(c for c in changes if c.startswith("warning:"))
    assert "3 text chunks are named 'parameters'" in warning
    assert "the first" in warning and "kept unchanged" in warning
    (read_warning,) = gendata.read(p).warnings
    assert "3 text chunks are named 'parameters'; the first (tEXt at offset 33)" in read_warning
    gendata.strip(p)
    assert not [e for e in open_raw(p).entries if e.key == "parameters"]


def test_duplicate_after_idat_edits_the_first_and_keeps_the_later_one(tmp_path: Path) -> None:
    chunks = tiny_png_chunks()
    chunks.insert(1, (b"tEXt", b"parameters\0" + TEXT.encode()))
    chunks.insert(-1, (b"tEXt", b"parameters\0late"))
    p = tmp_path / "a.png"
    p.write_bytes(build_png(chunks))
    gendata.write_text(p, NEW)
    types = [(t, d) for t, d, _ in png_chunks(p.read_bytes()) if t == b"tEXt"]
    assert types == [(b"tEXt", b"parameters\0" + NEW.encode()),
                     (b"tEXt", b"parameters\0late")]


def _two_copies(tmp_path: Path, uc: str) -> Path:
    block = build({"IFD0": {0x010F: (2, b"cam\0")},
                   "Exif": {0x9286: (7, encode_user_comment(uc))}}, "II")
    p = tmp_path / "two.png"
    p.write_bytes(_png((b"tEXt", b"parameters\0" + TEXT.encode()), (b"eXIf", block)))
    return p


def test_differing_copies_are_refused_naming_both(tmp_path: Path) -> None:
    p = _two_copies(tmp_path, "other\nSteps: 9, Sampler: DDIM, Seed: 9")
    before = p.read_bytes()
    rec = gendata.read(p)
    with pytest.raises(WriteError) as err:
        gendata.write(p, gendata.update(rec.params, {"seed": 5}))
    assert "'parameters'" in str(err.value) and "EXIF UserComment" in str(err.value)
    assert p.read_bytes() == before
    gendata.write(p, gendata.update(rec.params, {"seed": 5}), force=True)
    raw = open_raw(p)
    assert raw.text("parameters") == raw.text("UserComment")
    assert gendata.read(p).params.seed == 5


def test_agreeing_copies_are_edited_together(tmp_path: Path) -> None:
    p = _two_copies(tmp_path, TEXT)
    rec = gendata.read(p)
    gendata.write(p, gendata.update(rec.params, {"seed": 5}))
    raw = open_raw(p)
    assert raw.text("parameters") == raw.text("UserComment") == TEXT.replace("Seed: 1",
                                                                            "Seed: 5")


def test_write_text_replaces_both_copies(tmp_path: Path) -> None:
    p = _two_copies(tmp_path, "other\nSteps: 9, Sampler: DDIM, Seed: 9")
    gendata.write_text(p, NEW)
    raw = open_raw(p)
    assert raw.text("parameters") == raw.text("UserComment") == NEW


_BYTES = st.binary(min_size=0, max_size=64)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["png", "jpeg", "webp"]), trailer=_BYTES,
       unknown=st.lists(st.binary(min_size=1, max_size=40), max_size=3),
       text=st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")),
                    min_size=1, max_size=80))
def test_set_then_strip_changes_nothing_else(tmp_path: Path, kind: str, trailer: bytes,
                                             unknown: list[bytes], text: str) -> None:
    """Whatever else a file holds, setting and then stripping the text gives back the same
    bytes outside the metadata the writer owns."""
    buf = io.BytesIO()
    Image.new("RGB", (5, 3), (7, 8, 9)).save(buf, {"jpeg": "JPEG"}.get(kind, kind.upper()))
    data = buf.getvalue()
    if kind == "png":
        chunks = [(t, d) for t, d, _ in png_chunks(data)]
        for i, blob in enumerate(unknown):
            chunks.insert(1, (b"zzA" + bytes([97 + i]), blob))
        data = build_png(chunks)
    elif kind == "jpeg":
        segs = b"".join(b"\xff\xeb" + struct.pack(">H", len(b) + 2) + b for b in unknown)
        data = data[:2] + segs + data[2:]
    else:
        body = bytearray(data)
        for blob in unknown:
            body += b"ZZZZ" + struct.pack("<I", len(blob)) + blob + b"\0" * (len(blob) & 1)
        struct.pack_into("<I", body, 4, len(body) - 8)
        data = bytes(body)
    p = tmp_path / f"x.{kind}"
    p.write_bytes(data + trailer)
    gendata.write_text(p, f"p {text}\nSteps: 3, Sampler: Euler, Seed: 4")
    assert gendata.read(p).params.seed == 4
    gendata.strip(p)
    after = p.read_bytes()
    assert after.endswith(trailer)
    for blob in unknown:
        assert blob in after
    if kind == "png":
        assert after == data + trailer
    elif kind == "jpeg":
        assert after == data + trailer  # the EXIF segment added by the write is gone again
    else:  # a simple WebP keeps the VP8X header it gained, without the EXIF flag

        def riff(b: bytes) -> bytes:
            return b[:8 + struct.unpack("<I", b[4:8])[0]]

        assert webp_image_chunks(riff(after)) == webp_image_chunks(data)
        assert after[12:16] != b"VP8X" or not after[20] & 0x08
