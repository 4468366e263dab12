"""Hostile files, built in code: bombs stay compressed, so each is small on disk.

Every builder takes a folder and returns the path of the file it wrote there. `HOSTILE`
names them all; the CLI suite runs every command on every one of them, and the timing tests
build the ones of their class. The PNG, JPEG and WebP structure is written here byte by
byte (not with gendata), so a reader bug cannot hide in the builder.
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from collections.abc import Callable
from functools import cache
from pathlib import Path

from PIL import Image

MiB = 1 << 20
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --- PNG pieces ----------------------------------------------------------------------------

def chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I4s", len(data), ctype) + data + struct.pack(
        ">I", zlib.crc32(data, zlib.crc32(ctype)))


def ihdr(width: int, height: int, color: int = 2, depth: int = 8, interlace: int = 0) -> bytes:
    return chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, interlace))


@cache
def _tiny_idat() -> bytes:
    """IDAT of an 8x8 RGB image (what `ihdr(8, 8)` describes)."""
    rows = b"".join(b"\0" + bytes([10, 200, 30]) * 8 for _ in range(8))
    return chunk(b"IDAT", zlib.compress(rows))


def png(*chunks: bytes, width: int = 8, height: int = 8, idat: bytes | None = None) -> bytes:
    """A PNG of an 8x8 picture (or the given header and image data) with `chunks` before
    its image data."""
    return (PNG_SIGNATURE + ihdr(width, height) + b"".join(chunks)
            + (_tiny_idat() if idat is None else idat) + chunk(b"IEND", b""))


def text(key: str, value: str) -> bytes:
    data = key.encode("latin-1") + b"\0"
    try:
        return chunk(b"tEXt", data + value.encode("latin-1"))
    except UnicodeEncodeError:
        return chunk(b"iTXt", data + b"\0\0\0\0" + value.encode("utf-8"))


def ztxt(key: str, compressed: bytes) -> bytes:
    return chunk(b"zTXt", key.encode("latin-1") + b"\0\0" + compressed)


def itxt_z(key: str, compressed: bytes) -> bytes:
    return chunk(b"iTXt", key.encode("latin-1") + b"\0\1\0\0\0" + compressed)


@cache
def deflate_bomb(mib: int, fill: bytes = b"a") -> bytes:
    """A valid zlib stream that inflates to `mib` MiB of `fill`, about 1 KiB per MiB.

    One fully flushed deflate block of 1 MiB repeated (a full flush resets the compressor, so
    every copy is the same bytes), then the end block and the checksum of the whole."""
    plain = fill * MiB
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(plain) + c.flush(zlib.Z_FULL_FLUSH)
    end = c.flush(zlib.Z_FINISH)
    adler = 1
    for _ in range(mib):
        adler = zlib.adler32(plain, adler)
    return b"\x78\xda" + block * mib + end + struct.pack(">I", adler)


def _zlib_rows(width: int, height: int, bpp: int, row: Callable[[int], bytes] | None = None
               ) -> bytes:
    """Compressed scanlines (filter 0) of a `width` x `height` image, built a row at a time;
    `row(y)` gives a row's pixel bytes (default: zeros)."""
    c = zlib.compressobj(9)
    zero = bytes(width * bpp)
    out = []
    for y in range(height):
        out.append(c.compress(b"\0" + (zero if row is None else row(y))))
    out.append(c.flush())
    return b"".join(out)


# --- memory ----------------------------------------------------------------------------------

def ztxt_many(folder: Path) -> Path:
    """About 3.5 MB of zTXt chunks that inflate to 3.5 GB: many keys, 4 MiB each."""
    bomb = deflate_bomb(4)
    keys = ["parameters", "prompt", "workflow", "Comment", "Description", "k"]
    body = b"".join(ztxt(keys[i % len(keys)], bomb) for i in range(850))
    return _write(folder / "ztxt_many.png", png(body))


def itxt_one_gib(folder: Path) -> Path:
    """One compressed iTXt `parameters` chunk that inflates to 1 GiB."""
    return _write(folder / "itxt_one_gib.png", png(itxt_z("parameters", deflate_bomb(1024))))


def ztxt_after_good(folder: Path) -> Path:
    """A good `parameters` chunk, then 40 bombs of 32 MiB each: the good text must survive."""
    good = text("parameters", "a cat\nSteps: 20, Sampler: Euler a, Seed: 7, Size: 8x8")
    bombs = b"".join(ztxt(f"x{i}", deflate_bomb(32, b" ")) for i in range(40))
    return _write(folder / "ztxt_after_good.png", png(good, bombs))


def huge_rgba(folder: Path) -> Path:
    """13000 x 13000 RGBA (676 MB decoded) with no text: what makes a reader look for
    stealth data in the pixels."""
    return _write(folder / "huge_rgba.png", _huge_rgba_bytes())


@cache
def _huge_rgba_bytes() -> bytes:
    w = h = 13000
    idat = _zlib_rows(w, h, 4)
    return (PNG_SIGNATURE + ihdr(w, h, color=6) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def huge_rgba_stealth(folder: Path) -> Path:
    """13000 x 13000 RGBA whose first alpha column starts a stealth payload that claims 12 MB:
    reading it would mean decoding every pixel."""
    w = h = 13000
    sig = b"stealth_pnginfo" + struct.pack(">I", 12_000_000 * 8)
    bits = [(byte >> (7 - i)) & 1 for byte in sig for i in range(8)]
    zero = bytes(w * 4)

    def row(y: int) -> bytes:
        if y >= len(bits):
            return zero
        return bytes([0, 0, 0, 254 | bits[y]]) + zero[4:]

    idat = _zlib_rows(w, h, 4, row)
    data = PNG_SIGNATURE + ihdr(w, h, color=6) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    return _write(folder / "huge_rgba_stealth.png", data)


def lying_header(folder: Path) -> Path:
    """IHDR claims 60000 x 60000 RGBA; the image data is 8x8's."""
    return _write(folder / "lying_header.png", PNG_SIGNATURE + ihdr(60000, 60000, color=6)
                  + _tiny_idat() + chunk(b"IEND", b""))


def huge_webp(folder: Path) -> Path:
    """A lossless WebP whose headers claim 16383 x 16383 (1 GiB decoded); no metadata."""
    buf = io.BytesIO()
    Image.new("RGBA", (8, 8), (1, 2, 3, 255)).save(buf, "WEBP", lossless=True)
    data = bytearray(buf.getvalue())
    i = data.find(b"VP8L")
    bits = int.from_bytes(data[i + 9:i + 13], "little")
    bits = (bits & ~0x0FFFFFFF) | (16382 << 14) | 16382
    data[i + 9:i + 13] = bits.to_bytes(4, "little")
    return _write(folder / "huge_webp.webp", bytes(data))


def exif_count_bomb(folder: Path) -> Path:
    """A small JPEG whose EXIF declares a UserComment of 2^32-1 bytes and a tag of 2^32-1
    LONGs."""
    entries = [(0x010F, 4, 0xFFFFFFFF, 26), (0x8769, 4, 1, 26)]
    ifd0 = struct.pack(">H", len(entries)) + b"".join(
        struct.pack(">HHII", *e) for e in entries) + b"\0\0\0\0"
    exif_ifd = struct.pack(">H", 1) + struct.pack(">HHII", 0x9286, 7, 0xFFFFFFFF, 8) + b"\0" * 4
    tiff = b"MM\0*\0\0\0\x08" + ifd0 + exif_ifd
    return _write(folder / "exif_count_bomb.jpg", jpeg(app1(b"Exif\0\0" + tiff)))


# --- JPEG pieces -----------------------------------------------------------------------------

@cache
def _jpeg_body() -> bytes:
    """Everything of an 8x8 JPEG after SOI and APP0."""
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(buf, "JPEG")
    data = buf.getvalue()
    (n,) = struct.unpack(">H", data[4:6])
    return data[4 + n:] if data[3] == 0xE0 else data[2:]


def segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def app1(payload: bytes) -> bytes:
    return segment(0xE1, payload)


def jpeg(*segments: bytes) -> bytes:
    return b"\xff\xd8" + b"".join(segments) + _jpeg_body()


# --- time: inputs that are slow to read when a loop or regex is not linear --------------------

def text_same_key(folder: Path) -> Path:
    """20,000 tEXt chunks with one key."""
    body = b"".join(text("parameters", f"p{i}") for i in range(20000))
    return _write(folder / "text_same_key.png", png(body))


def text_dup_keys(folder: Path) -> Path:
    """20,000 tEXt chunks, 10,000 keys each written twice, and keys that look like the
    numbered names duplicates are given (`k#2`)."""
    body = b"".join(text(f"k{i % 10000}", "v") + text(f"k{i % 10000}#2", "w")
                    for i in range(10000))
    return _write(folder / "text_dup_keys.png", png(body))


def jpeg_many_com(folder: Path) -> Path:
    """200,000 JPEG COM segments."""
    return _write(folder / "jpeg_many_com.jpg", jpeg(segment(0xFE, b"c") * 200_000))


def png_many_chunks(folder: Path) -> Path:
    """300,000 empty private ancillary chunks between the header and the image."""
    return _write(folder / "png_many_chunks.png", png(chunk(b"prVt", b"") * 300_000))


def webp_many_chunks(folder: Path) -> Path:
    """100,000 unknown RIFF chunks and 2,000 EXIF chunks in a WebP."""
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "WEBP", lossless=True)
    body = buf.getvalue()[12:]
    tiff = b"MM\0*\0\0\0\x08" + struct.pack(">H", 1) + struct.pack(
        ">HHII", 0x010E, 2, 4, 0x61626300) + b"\0" * 4
    extra = (b"JUNK" + struct.pack("<I", 2) + b"ab") * 100_000
    extra += (b"EXIF" + struct.pack("<I", len(tiff)) + tiff) * 2000
    riff = b"WEBP" + body + extra
    return _write(folder / "webp_many_chunks.webp", b"RIFF" + struct.pack("<I", len(riff)) + riff)


def novelai_source_spaces(folder: Path) -> Path:
    """A NovelAI file whose `Source` holds a 100 KB run of spaces."""
    comment = json.dumps({"prompt": "a cat", "steps": 28, "seed": 1, "uc": ""})
    return _write(folder / "novelai_source_spaces.png", png(
        text("Software", "NovelAI"), text("Comment", comment),
        text("Source", "Stable Diffusion" + " " * 100_000 + "x")))


def drawthings_unclosed(folder: Path) -> Path:
    """A Draw Things XMP with 20,000 unclosed `<rdf:li>` under both elements it reads."""
    xmp = ('<x:xmpmeta><rdf:Description xmp:CreatorTool="Draw Things">'
           + "<exif:UserComment><rdf:Alt><rdf:li>{" * 10000
           + "<dc:description><rdf:Alt><rdf:li>x" * 10000 + "</rdf:Description></x:xmpmeta>")
    return _write(folder / "drawthings_unclosed.png", png(text("XML:com.adobe.xmp", xmp)))


def a1111_unclosed(folder: Path) -> Path:
    """A1111 text whose settings line opens 30,000 brackets and quotes that never close, and
    whose prompt opens 30,000 network tags that never close."""
    line = "Steps: 20, " + "Ab: [x, Bc: {y, Cd: \"z, " * 10000 + "Seed: 1"
    prompt = "<lora:x " * 30000
    return _write(folder / "a1111_unclosed.png", png(text("parameters", prompt + "\n" + line)))


def a1111_many_entries(folder: Path) -> Path:
    """A1111 settings line of 30 MiB: 2.6 million entries, in one zTXt chunk."""
    line = "Steps: 20, Seed: 1, " + "Key: value, " * 2_600_000
    return _write(folder / "a1111_many_entries.png",
                  png(ztxt("parameters", zlib.compress(("p\n" + line).encode(), 9))))


def spaces_everywhere(folder: Path) -> Path:
    """Every key a dialect reads, holding a 100 KB run of whitespace between marker words,
    so that a regex which backtracks over whitespace shows."""
    run = " " * 100_000
    filler = f"a{run}[{run}x{run}({run}:{run}1{run}"
    keys = ["parameters", "Dream", "sd-metadata", "invokeai_metadata", "prompt", "workflow",
            "Comment", "Description", "Software", "Source", "sui_image_params",
            "generation_data", "fooocus_scheme", "smproj", "XML:com.adobe.xmp"]
    body = b"".join(ztxt(k, zlib.compress(f"{k} {filler}".encode(), 9)) for k in keys)
    dream = ztxt("Dream", zlib.compress(f'"a{run}[{run}b{run}" -s 20 -S 1'.encode(), 9))
    return _write(folder / "spaces_everywhere.png", png(body, dream))


def deep_json(folder: Path) -> Path:
    """Every JSON-carrying key holding JSON nested 100,000 deep (and 900 deep, which the
    decoder accepts), so that a parser or a recursive walk of the result runs out of stack."""
    deep = "[" * 100_000 + "]" * 100_000
    nested = '{"a":' * 900 + "1" + "}" * 900
    keys = ["prompt", "workflow", "Comment", "sd-metadata", "invokeai_metadata",
            "sui_image_params", "generation_data", "fooocus_scheme", "smproj",
            "parameters-json", "invokeai_graph"]
    body = b"".join(ztxt(k, zlib.compress(deep.encode(), 9)) for k in keys)
    body += text("parameters", "a cat\nSteps: 20, Civitai resources: " + nested + ", Seed: 1")
    return _write(folder / "deep_json.png", png(body))


def fooocus_literal(folder: Path) -> Path:
    """A Fooocus scheme whose `resolution` and `loras` are Python list literals of 6 MB
    (parsing one takes 17 s and 3 GB)."""
    big = "[" + "1," * 3_000_000 + "]"
    data = json.dumps({"version": "Fooocus v2.5.0", "full_prompt": "a cat", "base_model": "m",
                       "resolution": big, "loras": big, "steps": 30})
    return _write(folder / "fooocus_literal.png", png(
        text("fooocus_scheme", "fooocus"), ztxt("parameters", zlib.compress(data.encode(), 9))))


def dream_hostile(folder: Path) -> Path:
    """An InvokeAI 1.x `Dream` command line whose prompt has long runs of spaces before an
    unclosed bracket and a negative, and a long switch token that holds a newline (20 s and
    1 s before); under the length
    gendata splits (invokeai.MAX_DREAM_CHARS), so the patterns run on all of it."""
    run = " " * 28_000
    line = f'"a{run}[x{run}[neg]" "--{"a" * 8_000}\nx" -s 20 -S 1'
    return _write(folder / "dream_hostile.png", png(ztxt("Dream", zlib.compress(line.encode(), 9))))


def dream_long(folder: Path) -> Path:
    """A `Dream` command line of 30 MiB (shlex splits some 100 KB a second)."""
    return _write(folder / "dream_long.png", png(
        ztxt("Dream", zlib.compress(b"-s 1 " * 6_000_000, 9))))


def comfy_chain(folder: Path) -> Path:
    """A ComfyUI API graph whose sampler's model input runs through a chain of 50,000 nodes,
    and a second graph that is a cycle."""
    n = 50_000
    graph: dict[str, object] = {"1": {"class_type": "CheckpointLoaderSimple",
                                      "inputs": {"ckpt_name": "m.safetensors"}}}
    for i in range(2, n):
        graph[str(i)] = {"class_type": "LoraLoader",
                         "inputs": {"model": [str(i - 1), 0], "clip": [str(i - 1), 1],
                                    "lora_name": f"l{i}", "strength_model": 1}}
    graph[str(n)] = {"class_type": "KSampler", "inputs": {
        "model": [str(n - 1), 0], "seed": 1, "steps": 20, "cfg": 7, "sampler_name": "euler",
        "scheduler": "normal", "positive": ["p", 0], "negative": ["p", 0],
        "latent_image": ["l", 0], "denoise": 1}}
    graph["p"] = {"class_type": "CLIPTextEncode", "inputs": {"text": ["p", 0], "clip": ["p", 0]}}
    graph["l"] = {"class_type": "EmptyLatentImage", "inputs": {"width": 8, "height": 8,
                                                               "batch_size": 1}}
    body = ztxt("prompt", zlib.compress(json.dumps(graph).encode(), 9))
    return _write(folder / "comfy_chain.png", png(body))


def long_prompts(folder: Path) -> Path:
    """A1111 text with a 2 MB prompt of words that repeat: a word-level diff against another
    long prompt is where a quadratic matcher shows."""
    words = " ".join(f"w{i % 50}" for i in range(400_000))
    return _write(folder / "long_prompts.png", png(ztxt("parameters", zlib.compress(
        f"{words}\nNegative prompt: {words[::-1]}\nSteps: 20, Seed: 1".encode(), 9))))


def control_and_surrogates(folder: Path) -> Path:
    """Text whose JSON escapes decode to lone surrogates and control characters."""
    comfy = '{"1": {"class_type": "CLIPTextEncode", "inputs": {"text": "a\\ud800b\\u001b]52;c;"}}}'
    params = "a\udcff cat\x1b[2J\nSteps: 20, Seed: 1, Note: \"\\ud800\""
    return _write(folder / "control_and_surrogates.png", png(
        ztxt("prompt", zlib.compress(comfy.encode(), 9)),
        chunk(b"iTXt", b"parameters\0\0\0\0\0" + params.encode("utf-8", "surrogatepass"))))


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# Every hostile file, by name. Builders of files that take seconds to make are listed in SLOW.
HOSTILE: dict[str, Callable[[Path], Path]] = {
    f.__name__: f for f in (
        ztxt_many, itxt_one_gib, ztxt_after_good, huge_rgba, huge_rgba_stealth, lying_header,
        huge_webp, exif_count_bomb, text_same_key, text_dup_keys, jpeg_many_com,
        png_many_chunks, webp_many_chunks, novelai_source_spaces, drawthings_unclosed,
        a1111_unclosed, a1111_many_entries, spaces_everywhere, deep_json, fooocus_literal,
        dream_hostile, comfy_chain, long_prompts, control_and_surrogates, dream_long,
    )
}
