"""Benchmark `gendata export` against plain loops over a realistic corpus (docs/batch.md).

Run by hand from the repository root:

    python benchmarks/bench_export.py                 # 5,000 PNGs + 2,000 JPEG + 2,000 WebP
    python benchmarks/bench_export.py --png 20000 --keep /tmp/corpus

It builds, in a temporary folder, 512x512 images shaped like Stable Diffusion output: PNGs
with a real-size IDAT (~400 KB, copied from one Pillow-encoded noisy picture) and a
`parameters` chunk (tEXt, or iTXt for the ~15% of prompts with Japanese words), JPEG and
WebP files with the text in EXIF UserComment (UTF-16), 20-80-word prompts, LoRA tags, nested
folders. Then, with the page cache warm, it prints files/s for:

- `gendata export -f csv|jsonl` run as a subprocess: process start and imports included;
- Pillow: `Image.open(p).info` in a loop (in-process: no start-up cost counted);
- a bare chunk scan: read the PNG chunk headers up to IDAT, the text chunks' bytes, nothing
  more (in-process);
- exiftool -j, when it is installed;

and the wall time of `python -c pass` beside `gendata show` of one file.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WORDS = [
    "masterpiece", "best", "quality", "ultra", "detailed", "portrait", "of", "a", "woman", "man",
    "girl", "knight", "wizard", "cat", "fox", "dragon", "castle", "forest", "city", "street",
    "night", "rain", "snow", "sunset", "cinematic", "lighting", "volumetric", "fog", "bokeh",
    "depth", "of", "field", "sharp", "focus", "8k", "photorealistic", "oil", "painting",
    "watercolor", "anime", "illustration", "concept", "art", "trending", "on", "artstation",
    "intricate", "elegant", "highly", "detailed", "smooth", "golden", "hour", "dramatic", "sky",
    "reflections", "neon", "cyberpunk", "steampunk", "armor", "dress", "hat", "flowers",
    "looking", "at", "viewer", "upper", "body", "full", "body", "close-up", "wide", "shot",
    "from", "above", "smile", "long", "hair",
]
JAPANESE = ["猫", "城", "桜", "夜景", "着物", "少女", "テスト", "雨の街"]
SAMPLERS = ["Euler a", "DPM++ 2M", "DPM++ SDE", "UniPC", "DDIM"]


def prompt(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(20, 80))]
    if rng.random() < 0.15:
        words[rng.randrange(len(words))] = rng.choice(JAPANESE)
    text = ", ".join(" ".join(words[i:i + 3]) for i in range(0, len(words), 3))
    if rng.random() < 0.5:
        text += f", <lora:style_{rng.randint(1, 40)}:{rng.choice([0.4, 0.6, 0.8, 1])}>"
    if rng.random() < 0.3:
        text = f"({text.split(',')[0]}:1.2)," + text
    return text


def infotext(rng: random.Random) -> str:
    w, h = rng.choice([(512, 512), (512, 768), (768, 512)])
    line = (f"Steps: {rng.randint(20, 40)}, Sampler: {rng.choice(SAMPLERS)}, "
            f"Schedule type: Karras, CFG scale: {rng.choice([5, 6.5, 7, 8])}, "
            f"Seed: {rng.randint(0, 2**32 - 1)}, Size: {w}x{h}, Model hash: 6ce0161689, "
            f"Model: v1-5-pruned-emaonly, VAE hash: 735e4c3a44, VAE: vae-ft-mse.safetensors, "
            f"Clip skip: 2")
    if rng.random() < 0.3:
        line += (", Denoising strength: 0.4, Hires upscale: 2, Hires steps: 10, "
                 "Hires upscaler: R-ESRGAN 4x+")
    if rng.random() < 0.2:
        line += ', ADetailer model: face_yolov8n.pt, ADetailer prompt: "smile, detailed eyes"'
    line += ", Version: v1.10.1"
    neg = "lowres, bad anatomy, bad hands, text, error, missing fingers, worst quality"
    return f"{prompt(rng)}\nNegative prompt: {neg}\n{line}"


def _chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I4s", len(data), ctype) + data + struct.pack(
        ">I", zlib.crc32(data, zlib.crc32(ctype)))


def _picture(rng: random.Random):
    from PIL import Image

    noise = bytes(rng.getrandbits(8) & 0x3F for _ in range(512 * 512 * 3))
    base = Image.linear_gradient("L").resize((512, 512)).convert("RGB")
    return Image.blend(base, Image.frombytes("RGB", (512, 512), noise), 0.5)


def make_corpus(root: Path, n_png: int, n_jpeg: int, n_webp: int, seed: int = 1) -> list[Path]:
    """Write the corpus under `root` in nested folders; return the file list."""
    import piexif

    sys.path.insert(0, str(ROOT))
    from gendata.containers.exif import encode_user_comment

    rng = random.Random(seed)
    pic = _picture(rng)
    buf = io.BytesIO()
    pic.save(buf, "PNG")
    png = buf.getvalue()
    # IHDR .. IDAT .. IEND of the base picture; the text chunk goes after IHDR.
    ihdr_end = 8 + 12 + 13
    head, body = png[:ihdr_end], png[ihdr_end:]

    def exif_block(text: str) -> bytes:
        """The TIFF block, without the `Exif\\0\\0` header piexif puts before it."""
        block = piexif.dump({"Exif": {piexif.ExifIFD.UserComment: encode_user_comment(text)}})
        return block[6:] if block.startswith(b"Exif\0\0") else block

    buf = io.BytesIO()
    pic.save(buf, "JPEG", quality=90)
    jpeg_body = buf.getvalue()[2:]  # after SOI
    buf = io.BytesIO()
    pic.save(buf, "WEBP", quality=90, exif=exif_block("x"))
    webp = buf.getvalue()
    webp_chunks = []
    pos = 12
    while pos < len(webp):
        ctype, size = webp[pos:pos + 4], struct.unpack("<I", webp[pos + 4:pos + 8])[0]
        webp_chunks.append((ctype, webp[pos + 8:pos + 8 + size]))
        pos += 8 + size + (size & 1)

    def webp_with(text: str) -> bytes:
        out = b""
        for ctype, data in webp_chunks:
            if ctype == b"EXIF":
                data = exif_block(text)
            out += ctype + struct.pack("<I", len(data)) + data + (b"\0" if len(data) & 1 else b"")
        return b"RIFF" + struct.pack("<I", len(out) + 4) + b"WEBP" + out

    files: list[Path] = []
    total = n_png + n_jpeg + n_webp
    for i in range(total):
        folder = root / f"{i % 10:02d}" / f"batch_{(i // 10) % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        text = infotext(rng)
        if i < n_png:
            try:
                chunk = _chunk(b"tEXt", b"parameters\0" + text.encode("latin-1"))
            except UnicodeEncodeError:
                chunk = _chunk(b"iTXt", b"parameters\0\0\0\0\0" + text.encode("utf-8"))
            path, data = folder / f"{i:06d}.png", head + chunk + body
        elif i < n_png + n_jpeg:
            exif = exif_block(text)
            app1 = b"\xff\xe1" + struct.pack(">H", len(exif) + 8) + b"Exif\0\0" + exif
            path, data = folder / f"{i:06d}.jpg", b"\xff\xd8" + app1 + jpeg_body
        else:
            path, data = folder / f"{i:06d}.webp", webp_with(text)
        path.write_bytes(data)
        files.append(path)
    return files


def bare_scan(files: list[Path]) -> int:
    """Read each PNG's chunk headers up to IDAT and its text chunks; the floor for Python."""
    found = 0
    for p in files:
        with open(p, "rb") as f:
            f.read(8)
            while True:
                head = f.read(8)
                if len(head) < 8:
                    break
                length, ctype = struct.unpack(">I4s", head)
                if ctype == b"IDAT":
                    break
                if ctype in (b"tEXt", b"iTXt", b"zTXt"):
                    f.read(length + 4)
                    found += 1
                else:
                    f.seek(length + 4, 1)
    return found


def pillow_loop(files: list[Path]) -> int:
    from PIL import Image

    n = 0
    for p in files:
        with Image.open(p) as im:
            n += len(im.info)
            if p.suffix != ".png":
                n += len(im.getexif())
    return n


def timed(fn, *args) -> float:
    t = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t


def child_env() -> dict[str, str]:
    """The environment gendata runs in: the checkout on the path and, as for an installed
    package (pip compiles it), its bytecode cached: in a folder of its own, so the checkout
    stays clean, and even when PYTHONDONTWRITEBYTECODE is set here (`--no-pyc` keeps that:
    then every start compiles gendata's sources, ~30 ms)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    if PYC_DIR is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = PYC_DIR
    return env


PYC_DIR: str | None = None


def run_cmd(cmd: list[str]) -> float:
    env = child_env()
    t = time.perf_counter()
    res = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True, check=False)
    took = time.perf_counter() - t
    if res.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed: {res.stderr[-2000:]}")
    return took


def best(n: int, fn) -> float:
    return min(fn() for _ in range(n))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--png", type=int, default=5000)
    ap.add_argument("--jpeg", type=int, default=2000)
    ap.add_argument("--webp", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs")
    ap.add_argument("--keep", type=Path, help="build the corpus here and keep it")
    ap.add_argument("--reuse", type=Path,
                    help="use the corpus an earlier --keep built here (build it if absent)")
    ap.add_argument("--jobs", type=int, default=None)
    ap.add_argument("--no-pyc", action="store_true",
                    help="run gendata without cached bytecode when PYTHONDONTWRITEBYTECODE "
                         "is set (as from a source tree that cannot write __pycache__)")
    ap.add_argument("--only", choices=["png", "jpeg", "webp"], action="append",
                    help="measure only these kinds (repeatable)")
    args = ap.parse_args()
    global PYC_DIR
    if not args.no_pyc:
        PYC_DIR = tempfile.mkdtemp(prefix="gendata-pyc-")

    tmp = None
    reused = bool(args.reuse and any((args.reuse / f"{k}.list").exists()
                                     for k in ("png", "jpeg", "webp")))
    if reused:
        root = args.reuse
    elif args.keep or args.reuse:
        root = args.keep or args.reuse
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
    else:
        tmp = tempfile.mkdtemp(prefix="gendata-bench-")
        root = Path(tmp)
    try:
        if reused:
            files = [Path(p) for kind in ("png", "jpeg", "webp")
                     if (root / f"{kind}.list").exists()
                     for p in (root / f"{kind}.list").read_text(encoding="utf-8").splitlines()]
            print(f"corpus: {len(files)} files reused from {root}; cores: {os.cpu_count()}")
        else:
            t = time.perf_counter()
            files = make_corpus(root, args.png, args.jpeg, args.webp)
            size = sum(p.stat().st_size for p in files)
            print(f"corpus: {len(files)} files, {size / 2**20:.0f} MiB in {root} "
                  f"(built in {time.perf_counter() - t:.1f} s); cores: {os.cpu_count()}")
        groups = {
            "png": [p for p in files if p.suffix == ".png"],
            "jpeg": [p for p in files if p.suffix == ".jpg"],
            "webp": [p for p in files if p.suffix == ".webp"],
        }
        for kind, group in groups.items():  # the export's input, and what --reuse finds
            if group:
                (root / f"{kind}.list").write_text("\n".join(map(str, group)) + "\n",
                                                   encoding="utf-8")
        for p in files:  # warm the page cache for what the readers look at
            with open(p, "rb") as f:
                f.read(65536)
        gd = [sys.executable, "-m", "gendata"]
        jobs = ["-j", str(args.jobs)] if args.jobs else []
        exiftool = shutil.which("exiftool")
        rows: list[tuple[str, str, int, float]] = []
        # One untimed run so that the bytecode cache is filled, as after an install.
        run_cmd([*gd, "show", "--json", str(files[0])])
        run_cmd([*gd, "show", str(files[0])])
        run_cmd([*gd, "export", "-q", "-o", os.devnull, str(files[0])])
        for kind, group in groups.items():
            if not group or (args.only and kind not in args.only):
                continue
            lst = root / f"{kind}.list"
            n = len(group)
            for fmt in ("csv", "jsonl"):
                took = best(args.repeat, lambda fmt=fmt, lst=lst: run_cmd(
                    ["sh", "-c", f'"$@" < "{lst}"', "sh", *gd, "export", "-q", "-f", fmt,
                     *jobs, "-o", os.devnull, "-"]))
                rows.append((kind, f"gendata export -f {fmt} (process)", n, took))
            rows.append((kind, "Pillow Image.open(p).info loop", n,
                         best(args.repeat, lambda g=group: timed(pillow_loop, g))))
            if kind == "png":
                rows.append((kind, "bare chunk scan loop", n,
                             best(args.repeat, lambda g=group: timed(bare_scan, g))))
            if exiftool:
                rows.append((kind, "exiftool -j (process)", n, best(1, lambda lst=lst: run_cmd(
                    ["sh", "-c", f'"$@" < "{lst}"', "sh", exiftool, "-j", "-@", "-"]))))
        print(f"\n{'kind':5} {'reader':40} {'files':>6} {'seconds':>8} {'files/s':>9}")
        for kind, name, n, took in rows:
            print(f"{kind:5} {name:40} {n:6d} {took:8.3f} {n / took:9,.0f}")
        if not exiftool:
            print("(exiftool not installed: skipped)")

        one = str(groups["png"][0] if groups["png"] else files[0])
        env = child_env()

        def wall(cmd: list[str]) -> float:
            ts = []
            for _ in range(7):
                t = time.perf_counter()
                subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, check=False)
                ts.append(time.perf_counter() - t)
            return statistics.median(ts) * 1000

        print(f"\nstart-up (median of 7): python -c pass {wall([sys.executable, '-c', 'pass']):.0f}"
              f" ms; gendata show one.png {wall([*gd, 'show', one]):.0f} ms; "
              f"gendata show --json one.png {wall([*gd, 'show', '--json', one]):.0f} ms")
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
        if PYC_DIR:
            shutil.rmtree(PYC_DIR, ignore_errors=True)


if __name__ == "__main__":
    main()
