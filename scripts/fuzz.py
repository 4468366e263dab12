"""Structured fuzzing of the readers, the dialects and the writers, on mutated real files.

Run from the repository root:

    python scripts/fuzz.py                      # 60 s, atheris when installed, else random
    python scripts/fuzz.py --runs 5000 --engine random --seed 3
    python scripts/fuzz.py --seconds 600 --engine atheris

Seeds are the images in fixtures/ and ../shared/corpus (when present), with their pixels
swapped for a tiny picture so a case costs the metadata, not the image. A case takes a seed
apart into chunks (PNG), segments (JPEG) or RIFF chunks (WebP), mutates it at that level —
drops, repeats and reorders entries, rewrites their text with markers the dialects look for
(settings lines, JSON, `<lora:` tags, XMP, escapes, deep nesting, long runs), lies in length
fields and CRCs, cuts or pads the file — and puts it back together. Then it reads the file
(`gendata.read`, the `show --json` object, every dialect on its own), writes it (`write_text`,
`strip`, a random `Changes`) and reads the output back.

A case passes when everything either works or raises a GenDataError, a failed write leaves
the file byte for byte as it was, a written text reads back, and nothing takes more than
`--slow` seconds. Anything else is printed once per place it was raised, and counted.
`tests/hostile/test_fuzz.py` runs a short slice of this in the test suite.
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import os
import random
import struct
import sys
import tempfile
import time
import traceback
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
PNG_SIG = b"\x89PNG\r\n\x1a\n"
# Pieces that steer a text towards a dialect's code paths (or past its edge cases).
MARKERS = [
    "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1, Size: 512x512", "\nNegative prompt: ",
    ", Hires upscale: 2", ', Lora hashes: "a: 1, b: 2"', ", Civitai resources: [{", "}]",
    "<lora:x:0.8>", "<lora:", "(word:1.2)", "[", "]", "{", "}", '"', "\\", "\\ud800", "\\u001b",
    "\x00", "\x1b]52;c;", "\r\n", ":", ",", "NaN", "1e999", "-1", "18446744073709551616",
    'Version: ComfyUI', "Version: f2.0.1v1.10.1", "Fooocus", '{"prompt": {"1": {"class_type": '
    '"KSampler", "inputs": {"seed": 1, "model": ["2", 0]}}}}', '{"Comment": "{}"}',
    '"class_type": "CLIPTextEncode", "inputs": {"text": "a"}', "sui_image_params",
    "extraMetadata", "urn:air:", 'xmp:CreatorTool="Draw Things"', "<exif:UserComment><rdf:Alt>"
    "<rdf:li>", "</rdf:li>", "<dc:description><rdf:Alt><rdf:li>", "Civitai metadata: {",
]
TEXT_KEYS = ["parameters", "prompt", "workflow", "Comment", "Description", "Software", "Source",
             "Dream", "sd-metadata", "invokeai_metadata", "sui_image_params", "generation_data",
             "fooocus_scheme", "smproj", "parameters-json", "XML:com.adobe.xmp",
             "sd-ti-embedding", "Title", "postprocessing"]


# --- taking files apart and putting them back ---------------------------------------------

@dataclass
class Parts:
    """A file as a list of (tag, payload) plus what frames them; `kind` says which."""

    kind: str
    items: list[tuple[bytes, bytes]]
    tail: bytes = b""  # PNG/WebP: bytes after the last entry; JPEG: SOS and the scan
    fix_crc: bool = True


def _png_parts(data: bytes) -> Parts:
    items, pos = [], 8
    while pos + 12 <= len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        ctype = data[pos + 4:pos + 8]
        items.append((ctype, data[pos + 8:pos + 8 + n]))
        pos += 12 + n
        if ctype == b"IEND":
            break
    return Parts("png", items, data[pos:])


def _jpeg_parts(data: bytes) -> Parts:
    items, pos = [], 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xDA:
            break
        (n,) = struct.unpack(">H", data[pos + 2:pos + 4])
        items.append((bytes([marker]), data[pos + 4:pos + 2 + n]))
        pos += 2 + n
    return Parts("jpeg", items, data[pos:])


def _webp_parts(data: bytes) -> Parts:
    items, pos = [], 12
    while pos + 8 <= len(data):
        fourcc = data[pos:pos + 4]
        (n,) = struct.unpack("<I", data[pos + 4:pos + 8])
        items.append((fourcc, data[pos + 8:pos + 8 + n]))
        pos += 8 + n + (n & 1)
    return Parts("webp", items, data[pos:])


def split(data: bytes) -> Parts | None:
    if data.startswith(PNG_SIG):
        return _png_parts(data)
    if data.startswith(b"\xff\xd8"):
        return _jpeg_parts(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp_parts(data)
    return None


def join(p: Parts) -> bytes:
    if p.kind == "png":
        out = [PNG_SIG]
        for ctype, body in p.items:
            crc = zlib.crc32(body, zlib.crc32(ctype)) if p.fix_crc else random.getrandbits(32)
            out.append(struct.pack(">I", len(body)) + ctype + body + struct.pack(">I", crc))
        return b"".join(out) + p.tail
    if p.kind == "jpeg":
        segs = [b"\xff" + m + struct.pack(">H", min(len(b) + 2, 0xFFFF)) + b[:0xFFFD]
                for m, b in p.items]
        return b"\xff\xd8" + b"".join(segs) + p.tail
    body = b"".join(c + struct.pack("<I", len(b)) + b + (b"\0" if len(b) & 1 else b"")
                    for c, b in p.items) + p.tail
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + body


def _tiny(kind: str) -> Parts:
    from PIL import Image

    buf = io.BytesIO()
    im = Image.new("RGBA" if kind != "jpeg" else "RGB", (8, 8), (200, 30, 30, 255))
    im.save(buf, {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}[kind], lossless=True)
    parts = split(buf.getvalue())
    assert parts is not None
    return parts


def slim(data: bytes) -> bytes:
    """`data` with its picture swapped for an 8x8 one, metadata entries kept."""
    parts = split(data)
    if parts is None:
        return data
    tiny = _tiny(parts.kind)
    if parts.kind == "png":
        keep = [(t, b) for t, b in parts.items if t not in (b"IHDR", b"IDAT", b"IEND", b"PLTE",
                                                            b"tRNS")]
        ihdr = [i for i in tiny.items if i[0] == b"IHDR"]
        pixels = [i for i in tiny.items if i[0] in (b"IDAT", b"IEND")]
        parts.items = ihdr + keep + pixels
        parts.tail = b""
    elif parts.kind == "jpeg":
        meta = [(m, b) for m, b in parts.items if m[0] in range(0xE0, 0xF0) or m[0] == 0xFE]
        parts.items = meta + [(m, b) for m, b in tiny.items if m[0] not in range(0xE0, 0xF0)]
        parts.tail = tiny.tail
    else:
        meta = [(c, b) for c, b in parts.items if c in (b"EXIF", b"XMP ", b"ICCP")]
        image = [(c, b) for c, b in tiny.items if c in (b"VP8L", b"VP8 ", b"ALPH")]
        header = bytearray(10)
        header[0] = 0x10 | (0x08 if any(c == b"EXIF" for c, _ in meta) else 0)
        header[0] |= 0x04 if any(c == b"XMP " for c, _ in meta) else 0
        header[4:7] = (7).to_bytes(3, "little")
        header[7:10] = (7).to_bytes(3, "little")
        parts.items = [(b"VP8X", bytes(header)), *image, *meta]
        parts.tail = b""
    return join(parts)


# --- mutations -------------------------------------------------------------------------------

def mutate_text(text: str, rng: random.Random) -> str:
    for _ in range(rng.randint(1, 4)):
        op = rng.random()
        i = rng.randint(0, len(text))
        if op < 0.4:
            text = text[:i] + rng.choice(MARKERS) + text[i:]
        elif op < 0.55:
            j = min(len(text), i + rng.randint(0, 40))
            text = text[:i] + text[j:]
        elif op < 0.65:
            text = text[:i] + rng.choice([" ", "[", "{", "a", "<lora:", "\\", ",", "0"]) * \
                rng.choice([10, 1000, 50000]) + text[i:]
        elif op < 0.72:
            depth = rng.choice([50, 900, 5000])
            text = text[:i] + "[" * depth + "]" * rng.choice([0, depth]) + text[i:]
        elif op < 0.8:
            text = text[:i] + chr(rng.choice([0xD800, 0xDCFF, 0x1B, 0x7F, 0x85, 0x2028,
                                              0xFFFD, 0x1F600])) + text[i:]
        elif op < 0.9 and text:
            j = rng.randint(0, len(text))
            text = text + text[min(i, j):max(i, j)] * rng.randint(1, 3)
        else:
            text = text[:i] + str(rng.choice([2**63, -2**64, 1e308, 0, -1])) + text[i:]
    return text


def _text_entry(key: str, text: str, rng: random.Random) -> tuple[bytes, bytes]:
    kb = key.encode("latin-1")
    body = text.encode("utf-8", "surrogatepass")
    how = rng.random()
    if how < 0.4:
        return b"tEXt", kb + b"\0" + body
    if how < 0.7:
        return b"zTXt", kb + b"\0\0" + zlib.compress(body, rng.choice([0, 1, 9]))
    flag = rng.random() < 0.5
    return b"iTXt", kb + b"\0" + bytes([flag, 0]) + b"\0\0" + (
        zlib.compress(body) if flag else body)


def _exif(text: str, rng: random.Random) -> bytes:
    """A TIFF block with a UserComment (and a Make), in either byte order."""
    end = rng.choice([">", "<"])
    value = rng.choice([b"UNICODE\0" + text.encode("utf-16-be", "surrogatepass"),
                        b"ASCII\0\0\0" + text.encode("utf-8", "surrogatepass"),
                        text.encode("utf-8", "surrogatepass")])
    count = len(value) if rng.random() < 0.9 else rng.choice([0xFFFFFFFF, len(value) * 3])
    ifd = struct.pack(end + "H", 2) + struct.pack(end + "HHII", 0x010F, 2, 4, 0x41424300)
    ifd += struct.pack(end + "HHII", 0x9286, 7, count, 8 + 2 + 24 + 4) + b"\0\0\0\0"
    return (b"MM\0*" if end == ">" else b"II*\0") + struct.pack(end + "I", 8) + ifd + value


def _texts_of(p: Parts) -> list[str]:
    out = []
    for tag, body in p.items:
        if tag in (b"tEXt", b"iTXt", b"zTXt"):
            _key, _, rest = body.partition(b"\0")
            if tag == b"tEXt":
                out.append(rest.decode("latin-1"))
    return out or ["a cat\nSteps: 20, Seed: 1"]


def mutate(data: bytes, rng: random.Random) -> bytes:
    parts = split(data)
    if parts is None or not parts.items:
        return data
    texts = _texts_of(parts)
    for _ in range(rng.randint(1, 3)):
        op = rng.random()
        items = parts.items
        i = rng.randrange(len(items))
        if op < 0.35 and parts.kind == "png":
            key = rng.choice(TEXT_KEYS)
            entry = _text_entry(key, mutate_text(rng.choice(texts), rng), rng)
            items.insert(rng.randint(1, len(items)), entry)
        elif op < 0.45 and parts.kind == "png":
            items.insert(rng.randint(1, len(items)), (b"eXIf", _exif(mutate_text(
                rng.choice(texts), rng), rng)))
        elif op < 0.5 and parts.kind != "png":
            text = mutate_text(rng.choice(texts), rng)
            if parts.kind == "jpeg":
                entry = rng.choice([(b"\xe1", b"Exif\0\0" + _exif(text, rng)),
                                    (b"\xfe", text.encode("utf-8", "surrogatepass")),
                                    (b"\xe1", b"http://ns.adobe.com/xap/1.0/\0"
                                     + text.encode("utf-8", "surrogatepass"))])
            else:
                entry = rng.choice([(b"EXIF", _exif(text, rng)),
                                    (b"XMP ", text.encode("utf-8", "surrogatepass"))])
            items.insert(rng.randint(0, len(items)), entry)
        elif op < 0.6:
            items.insert(rng.randint(0, len(items)), items[i])
        elif op < 0.65 and len(items) > 1:
            del items[i]
        elif op < 0.7:
            j = rng.randrange(len(items))
            items[i], items[j] = items[j], items[i]
        elif op < 0.78:
            tag, body = items[i]
            b = bytearray(body)
            for _ in range(rng.randint(1, 8)):
                if b:
                    b[rng.randrange(len(b))] = rng.randrange(256)
            items[i] = (tag, bytes(b))
        elif op < 0.82:
            parts.fix_crc = False
        elif op < 0.9:
            parts.tail += rng.choice([b"", b"\0" * 10, rng.randbytes(64), b"IEND" * 3])
        else:
            tag, body = items[i]
            items[i] = (tag, body[:rng.randint(0, len(body))])
    out = join(parts)
    if rng.random() < 0.1:
        out = out[:rng.randint(0, len(out))]
    if rng.random() < 0.1 and out:  # a lying length field
        pos = rng.randrange(len(out))
        out = out[:pos] + struct.pack(">I", rng.choice([0x7FFFFFFF, 0xFFFFFFFF, 1 << 20])) + \
            out[pos + 4:]
    return out


# --- running one case ------------------------------------------------------------------------

@dataclass
class Report:
    runs: int = 0
    uncaught: collections.Counter[str] = field(default_factory=collections.Counter)
    slow: int = 0
    broken: collections.Counter[str] = field(default_factory=collections.Counter)
    seconds: float = 0.0

    @property
    def broken_promises(self) -> int:
        return sum(self.broken.values())

    def line(self) -> str:
        kinds = ", ".join(f"{k}: {n}" for k, n in sorted(self.broken.items()))
        return (f"{self.runs} executions in {self.seconds:.0f} s: "
                f"{sum(self.uncaught.values())} uncaught exceptions "
                f"({len(self.uncaught)} distinct), {self.broken_promises} broken promises"
                f"{f' ({kinds})' if kinds else ''}, {self.slow} slow cases")


def _where(exc: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "gendata" in f.filename]
    f = frames[-1] if frames else traceback.extract_tb(exc.__traceback__)[-1]
    return f"{type(exc).__name__} at {Path(f.filename).name}:{f.lineno}"


def run_case(data: bytes, rng: random.Random, folder: Path, report: Report,
             slow: float = 5.0, verbose: bool = True, save: Path | None = None) -> None:
    from gendata import api, containers, formats
    from gendata.containers.raw import Changes
    from gendata.errors import GenDataError
    from gendata.export import escape_surrogates

    suffix = {"png": ".png", "jpeg": ".jpg", "webp": ".webp"}.get(
        containers.detect(data[:12]) or "", ".png")
    path = folder / ("case" + suffix)
    out = folder / ("out" + suffix)
    path.write_bytes(data)
    start = time.perf_counter()

    def keep(why: str, text: str | None = None) -> None:
        if save is not None:
            save.mkdir(parents=True, exist_ok=True)
            name = f"{why}-{report.runs}{suffix}"
            (save / name).write_bytes(data)
            if text is not None:  # what was written, escapes kept
                (save / (name + ".txt")).write_text(ascii(text), encoding="ascii")
            if verbose:
                print(f"  saved as {save / name}", flush=True)

    def note(kind: str, problem: str, text: str | None = None) -> None:
        report.broken[kind] += 1
        if verbose:
            print(f"broken: {problem}", flush=True)
        keep("broken", text)

    def step(call: Callable[[], object]) -> object:
        try:
            return call()
        except GenDataError:
            return None
        except Exception as exc:  # what this script looks for
            key = _where(exc)
            if key not in report.uncaught and verbose:
                print(f"uncaught {key}: {exc!s:.300}", flush=True)
                keep("uncaught")
            report.uncaught[key] += 1
            return None

    rec = step(lambda: api.read(path, stealth=rng.random() < 0.1))
    readable = rec is not None
    if rec is not None:
        step(lambda: escape_surrogates(json.dumps(rec.to_json(), ensure_ascii=False)))  # type: ignore[attr-defined]
        raw = rec.raw  # type: ignore[attr-defined]
        if raw is not None:
            for name in formats.DIALECTS:
                mod = formats.dialect(name)
                if step(lambda m=mod: m.score(raw)):
                    step(lambda m=mod: m.parse(raw))
    text = mutate_text(rng.choice(["a cat\nSteps: 20, Seed: 1", "x", "Steps: 1"]), rng)
    action = rng.random()
    if action < 0.4:
        step(lambda: api.write_text(path, text, output=out))
    elif action < 0.6:
        step(lambda: api.strip(path, output=out))
    else:
        keys = rng.sample([*TEXT_KEYS, "UserComment"], rng.randint(1, 3))
        changes = Changes(set={k: text for k in keys[:1]}, remove=frozenset(keys[1:]),
                          mirror={"UserComment": text}, fallback={"parameters": "UserComment"})
        step(lambda: containers.write_raw(path, out, changes))
    if path.read_bytes() != data:
        note("source changed", "a write with -o changed its source")
    if out.exists():
        back = step(lambda: api.read_raw(out))
        if back is None and readable:
            note("unreadable output", "a readable file was written unreadable")
        elif action < 0.4 and back is not None and _valid_text(text):
            key = "parameters" if suffix == ".png" else "UserComment"
            if back.text(key) != text:  # type: ignore[attr-defined]
                note(f"read-back {suffix[1:]}", f"the text written does not read back from "
                     f"{key}", text)
        out.unlink()
    path.unlink()
    left = os.listdir(folder)
    if left:
        note("files left", f"files left behind: {left}")
        for name in left:
            (folder / name).unlink()
    if time.perf_counter() - start > slow:
        report.slow += 1
        if verbose:
            print(f"slow case: {time.perf_counter() - start:.1f} s", flush=True)
        keep("slow")
    report.runs += 1


def _valid_text(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\0" not in text and text.strip() == text and "\r" not in text


def seeds(limit_bytes: int = 8 << 20) -> list[bytes]:
    found = [p for p in (ROOT / "fixtures").rglob("*") if p.suffix.lower() in SUFFIXES]
    corpus = ROOT.parent / "shared" / "corpus"
    if corpus.is_dir():
        found += [p for p in corpus.rglob("*") if p.suffix.lower() in SUFFIXES]
    out = []
    for p in sorted(found):
        if p.stat().st_size <= limit_bytes:
            data = p.read_bytes()
            out.append(slim(data) if "corpus" in p.parts else data)
    return out


def fuzz_random(runs: int | None, seconds: float | None, seed: int, slow: float = 5.0,
                verbose: bool = True, save: Path | None = None) -> Report:
    """The engine without atheris: `random.Random(seed)` drives the mutations."""
    rng = random.Random(seed)
    pool = seeds()
    report = Report()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(dir="/dev/shm" if os.path.isdir("/dev/shm") else None) as tmp:
        while (runs is None or report.runs < runs) and (
                seconds is None or time.perf_counter() - start < seconds):
            data = mutate(rng.choice(pool), rng)
            run_case(data, rng, Path(tmp), report, slow, verbose, save)
    report.seconds = time.perf_counter() - start
    return report


def fuzz_atheris(runs: int | None, seconds: float | None, slow: float,
                 save: Path | None = None) -> Report:
    """Coverage-guided: atheris picks the bytes that choose seeds and mutations."""
    import importlib
    import pkgutil

    import atheris  # type: ignore[import-not-found]

    with atheris.instrument_imports():
        import gendata

        for info in pkgutil.walk_packages(gendata.__path__, "gendata."):
            if not info.name.startswith(("gendata.cli", "gendata.tui", "gendata.regen",
                                         "gendata.__main__")):
                importlib.import_module(info.name)

    pool = seeds()
    report = Report()
    tmp = tempfile.mkdtemp(dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    start = time.perf_counter()

    def one(data: bytes) -> None:
        fdp = atheris.FuzzedDataProvider(data)
        rng = random.Random(fdp.ConsumeInt(8))
        base = pool[fdp.ConsumeIntInRange(0, len(pool) - 1)]
        case = mutate(base, rng) if fdp.ConsumeBool() else fdp.ConsumeBytes(1 << 16)
        run_case(case, rng, Path(tmp), report, slow, save=save)
        if (runs is not None and report.runs >= runs) or (
                seconds is not None and time.perf_counter() - start > seconds):
            report.seconds = time.perf_counter() - start
            print(report.line(), flush=True)
            os._exit(1 if report.uncaught or report.broken_promises else 0)

    crashes = save or Path(tempfile.gettempdir())
    crashes.mkdir(parents=True, exist_ok=True)
    atheris.Setup([sys.argv[0], "-rss_limit_mb=0", f"-artifact_prefix={crashes}/"], one)
    atheris.Fuzz()
    return report


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--engine", choices=("auto", "atheris", "random"), default="auto")
    ap.add_argument("--runs", type=int, default=None, help="stop after this many cases")
    ap.add_argument("--seconds", type=float, default=None, help="stop after this long (60)")
    ap.add_argument("--seed", type=int, default=0, help="random engine: the seed")
    ap.add_argument("--slow", type=float, default=5.0, help="seconds a case may take")
    ap.add_argument("--save", type=Path, default=None,
                    help="keep each failing or slow case as a file in this folder")
    ap.add_argument("--memory", type=float, default=2.0,
                    help="address-space limit in GiB: an allocation past it is a MemoryError, "
                         "reported as an uncaught exception where it was raised (default 2)")
    args = ap.parse_args()
    if args.memory > 0:
        import resource

        limit = int(args.memory * 1024**3)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    seconds = args.seconds if args.seconds is not None or args.runs else 60.0
    engine = args.engine
    if engine == "auto":
        try:
            import atheris  # type: ignore[import-not-found]  # noqa: F401

            engine = "atheris"
        except ImportError:
            engine = "random"
    if engine == "atheris":
        fuzz_atheris(args.runs, seconds, args.slow, args.save)
        return 0
    report = fuzz_random(args.runs, seconds, args.seed, args.slow, save=args.save)
    print(report.line())
    return 1 if report.uncaught or report.broken_promises else 0


if __name__ == "__main__":
    sys.exit(main())
