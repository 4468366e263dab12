"""Property tests over every container's `read_raw` and `rewrite`, on random layouts of chunks
and segments built byte by byte (tests/hostile/builders.py), not by gendata's writers.

Reading finds every text entry, in file order, with its text; rewriting changes the entries
named and no other byte of any other chunk, segment or the image data; and no layout, however
broken, raises anything but a GenDataError.
"""

from __future__ import annotations

import contextlib
import struct
import tempfile
import zlib
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gendata.containers import Changes, open_raw, write_raw
from gendata.errors import GenDataError

from ..hostile import builders

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
KEYS = ["parameters", "prompt", "workflow", "Comment", "k", "XML:com.adobe.xmp"]
text_st = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"),
                  max_size=40)
latin1_st = st.text(st.characters(max_codepoint=255, blacklist_characters="\0"), max_size=40)
# UserComment text as generators write it, mostly ASCII: exif.decode_user_comment tells
# UTF-16 from other encodings, and its byte order, by where the NUL bytes fall, and misreads
# text of mostly other characters; its own tests cover that, these cover where bytes go.
comment_st = st.builds(
    lambda a, b: a + b[:len(a)],
    st.text(st.characters(min_codepoint=1, max_codepoint=0x7E), max_size=30),
    st.text(st.characters(min_codepoint=0xA0, max_codepoint=0xFFFD, blacklist_categories=("Cs",))
            .filter(lambda c: ord(c) & 0xFF), max_size=5))


def _tmp(data: bytes, suffix: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="gendata-layout-"))
    path = folder / ("f" + suffix)
    path.write_bytes(data)
    return path


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    out, pos = [], 8
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        out.append((data[pos + 4:pos + 8], data[pos:pos + 12 + n]))
        pos += 12 + n
    return out


def _tEXt_reads_as(value: str) -> str:
    """What a reader makes of tEXt bytes: Latin-1 by the spec, UTF-8 where they decode as
    such (docs/formats.md#png-text-chunks)."""
    raw = value.encode("latin-1")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return value


# --- PNG ---------------------------------------------------------------------------------

@st.composite
def png_layouts(draw: st.DrawFn) -> tuple[bytes, list[tuple[str, str, str, bool]]]:
    """A PNG of random text chunks (tEXt, zTXt, iTXt plain or compressed) and private chunks
    before and after the image data; with the (location, key, text, after_idat) expected."""
    before, after, expect = [], [], []
    for place in (before, after):
        for _ in range(draw(st.integers(0, 5))):
            kind = draw(st.sampled_from(["tEXt", "zTXt", "iTXt", "iTXtz", "private"]))
            key = draw(st.sampled_from(KEYS))
            if kind == "private":
                place.append(builders.chunk(b"prVt", draw(st.binary(max_size=30))))
                continue
            if kind in ("tEXt", "zTXt"):
                value = draw(latin1_st)
                body = key.encode() + b"\0" + (b"" if kind == "tEXt" else b"\0")
                raw = value.encode("latin-1")
                body += raw if kind == "tEXt" else zlib.compress(raw)
                place.append(builders.chunk(kind.encode(), body))
                shown = _tEXt_reads_as(value)
            else:
                value = draw(text_st)
                raw = value.encode("utf-8")
                flag = kind == "iTXtz"
                place.append(builders.chunk(b"iTXt", key.encode() + b"\0" + bytes([flag, 0])
                                            + b"\0\0" + (zlib.compress(raw) if flag else raw)))
                shown = value
            expect.append((kind[:4], key, shown, place is after))
    data = (builders.PNG_SIGNATURE + builders.ihdr(8, 8) + b"".join(before)
            + builders._tiny_idat() + b"".join(after) + builders.chunk(b"IEND", b""))
    return data, expect


@SETTINGS
@given(png_layouts())
def test_png_read_finds_every_text_chunk(layout: tuple[bytes, list]) -> None:
    data, expect = layout
    raw = open_raw(_tmp(data, ".png"))
    got = [(e.location, e.key, e.text, e.after_idat) for e in raw.entries if e.text is not None]
    assert got == expect


@SETTINGS
@given(png_layouts(), st.sampled_from(KEYS), text_st, st.booleans())
def test_png_rewrite_changes_only_the_named_key(layout: tuple[bytes, list], key: str,
                                                new: str, remove: bool) -> None:
    data, expect = layout
    assume(sum(k == key for _, k, _, _ in expect) <= 1)  # one entry for the key changed
    path = _tmp(data, ".png")
    changes = Changes(remove=frozenset({key})) if remove else Changes(set={key: new})
    write_raw(path, path, changes)
    raw = open_raw(path)
    texts = [(e.key, e.text) for e in raw.entries if e.text is not None]
    if remove:
        assert key not in [k for k, _ in texts]
    else:
        assert raw.text(key) == new
    kept = [c for t, c in _png_chunks(data) if not (
        t in (b"tEXt", b"zTXt", b"iTXt") and c[8:8 + len(key) + 1] == key.encode() + b"\0")]
    now = [c for t, c in _png_chunks(path.read_bytes()) if not (
        t in (b"tEXt", b"zTXt", b"iTXt") and c[8:8 + len(key) + 1] == key.encode() + b"\0")]
    assert now == kept


# --- JPEG --------------------------------------------------------------------------------

def _exif_with_comment(text: str, order: str) -> bytes:
    end = ">" if order == "MM" else "<"
    value = b"UNICODE\0" + text.encode("utf-16-be")
    exif_ifd = struct.pack(end + "H", 1) + struct.pack(end + "HHII", 0x9286, 7, len(value),
                                                       8 + 18 + 18) + b"\0" * 4
    ifd0 = struct.pack(end + "H", 1) + struct.pack(end + "HHII", 0x8769, 4, 1, 8 + 18) + \
        b"\0" * 4
    head = (b"MM\0*" if order == "MM" else b"II*\0") + struct.pack(end + "I", 8)
    return head + ifd0 + exif_ifd + value


@st.composite
def jpeg_layouts(draw: st.DrawFn) -> tuple[bytes, list[tuple[int, bytes]], str | None]:
    segs: list[tuple[int, bytes]] = []
    if draw(st.booleans()):
        segs.append((0xE0, b"JFIF\0\1\1\0\0\1\0\1\0\0"))
    comment = None
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["com", "app", "xmp", "exif"]))
        if kind == "com":
            segs.append((0xFE, draw(text_st).encode("utf-8")))
        elif kind == "app":
            segs.append((draw(st.integers(0xE2, 0xEF)), draw(st.binary(max_size=40))))
        elif kind == "xmp":
            segs.append((0xE1, b"http://ns.adobe.com/xap/1.0/\0" + draw(text_st).encode()))
        elif comment is None:
            comment = draw(comment_st)
            segs.append((0xE1, b"Exif\0\0" + _exif_with_comment(
                comment, draw(st.sampled_from(["MM", "II"])))))
    data = builders.jpeg(*(builders.segment(m, p) for m, p in segs))
    return data, segs, comment


def _jpeg_segments(data: bytes) -> tuple[list[bytes], bytes]:
    out, pos = [], 2
    while data[pos + 1] != 0xDA:
        (n,) = struct.unpack(">H", data[pos + 2:pos + 4])
        out.append(data[pos:pos + 2 + n])
        pos += 2 + n
    return out, data[pos:]


def _is_exif(seg: bytes) -> bool:
    return seg[1] == 0xE1 and seg[4:10] == b"Exif\0\0"


@SETTINGS
@given(jpeg_layouts())
def test_jpeg_read_finds_comments_xmp_and_user_comment(layout: tuple) -> None:
    data, segs, comment = layout
    raw = open_raw(_tmp(data, ".jpg"))
    assert [e.text for e in raw.entries if e.location == "COM"] == [
        p.rstrip(b"\0").decode("utf-8") for m, p in segs if m == 0xFE]
    assert len([e for e in raw.entries if e.location == "XMP"]) == sum(
        m == 0xE1 and p.startswith(b"http://ns.adobe.com/") for m, p in segs)
    assert raw.text("UserComment") == (comment.rstrip("\0") if comment is not None else None)


@SETTINGS
@given(jpeg_layouts(), comment_st, st.booleans())
def test_jpeg_rewrite_changes_only_the_user_comment(layout: tuple, new: str,
                                                    remove: bool) -> None:
    data, _segs, _comment = layout
    assume(new.strip("\0") == new)
    path = _tmp(data, ".jpg")
    changes = Changes(remove=frozenset({"UserComment"})) if remove else Changes(
        set={"UserComment": new})
    write_raw(path, path, changes)
    after = path.read_bytes()
    assert open_raw(path).text("UserComment") == (None if remove else new)
    old_segs, old_scan = _jpeg_segments(data)
    new_segs, new_scan = _jpeg_segments(after)
    assert new_scan == old_scan
    assert [s for s in new_segs if not _is_exif(s)] == [s for s in old_segs if not _is_exif(s)]


# --- WebP --------------------------------------------------------------------------------

@st.composite
def webp_layouts(draw: st.DrawFn) -> tuple[bytes, str | None]:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buf, "WEBP", lossless=True)
    image = buf.getvalue()[12:]
    chunks, comment = [], None
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["junk", "xmp", "exif"]))
        if kind == "junk":
            body = draw(st.binary(max_size=30))
            chunks.append(b"JUNK" + struct.pack("<I", len(body)) + body + b"\0" * (len(body) & 1))
        elif kind == "xmp":
            body = draw(text_st).encode()
            chunks.append(b"XMP " + struct.pack("<I", len(body)) + body + b"\0" * (len(body) & 1))
        elif comment is None:
            comment = draw(comment_st)
            body = _exif_with_comment(comment, draw(st.sampled_from(["MM", "II"])))
            chunks.append(b"EXIF" + struct.pack("<I", len(body)) + body + b"\0" * (len(body) & 1))
    body = b"WEBP" + image + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body, comment


def _riff(data: bytes) -> list[bytes]:
    out, pos = [], 12
    while pos + 8 <= len(data):
        (n,) = struct.unpack("<I", data[pos + 4:pos + 8])
        out.append(data[pos:pos + 8 + n + (n & 1)])
        pos += 8 + n + (n & 1)
    return out


@SETTINGS
@given(webp_layouts(), comment_st, st.booleans())
def test_webp_rewrite_changes_only_the_user_comment(layout: tuple, new: str,
                                                    remove: bool) -> None:
    data, comment = layout
    assume(new.strip("\0") == new)
    path = _tmp(data, ".webp")
    assert open_raw(path).text("UserComment") == (
        comment.rstrip("\0") if comment is not None else None)
    changes = Changes(remove=frozenset({"UserComment"})) if remove else Changes(
        set={"UserComment": new})
    write_raw(path, path, changes)
    assert open_raw(path).text("UserComment") == (None if remove else new)
    kept = [c for c in _riff(data) if c[:4] not in (b"EXIF", b"VP8X")]
    assert [c for c in _riff(path.read_bytes()) if c[:4] not in (b"EXIF", b"VP8X")] == kept


# --- anything at all ---------------------------------------------------------------------

@SETTINGS
@given(st.sampled_from([".png", ".jpg", ".webp"]), st.data())
def test_damaged_layouts_raise_only_gendata_errors(suffix: str, data: st.DataObject) -> None:
    layout = {".png": png_layouts(), ".jpg": jpeg_layouts(), ".webp": webp_layouts()}[suffix]
    blob = bytearray(data.draw(layout)[0])
    for _ in range(data.draw(st.integers(1, 6))):
        i = data.draw(st.integers(0, len(blob) - 1))
        blob[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(12, len(blob)))
    path = _tmp(bytes(blob[:cut]), suffix)
    before = path.read_bytes()
    for action in (lambda: open_raw(path),
                   lambda: write_raw(path, path.with_name("o" + suffix),
                                     Changes(set={"UserComment": "x"}))):
        with contextlib.suppress(GenDataError):
            action()
    assert path.read_bytes() == before
