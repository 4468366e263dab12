"""Benchmark `gendata export` against a Pillow loop, a bare chunk scan and exiftool on a library
shaped like real WebUI output (benchmarks/corpus.py; results in docs/batch.md).

    apt-get install -y libimage-exiftool-perl     # exiftool, from Debian
    python benchmarks/bench_export.py --root /tmp/gendata-bench          # builds it first
    python benchmarks/bench_export.py --root /tmp/gendata-bench --rounds 5

Every reader runs as its own process, whole (interpreter start and imports included), over
the same folder, found by walking it, in the same run: each round runs every command once,
in an order that rotates from round to round, so that a busy spell of the machine does not
land on one of them; the table gives the median of the rounds and their spread. Then:

- correctness: `export -f csv`'s rows against the manifest corpus.py wrote: missing rows,
  cells that differ, rows holding another file's values;
- start-up: `python -c pass` and `gendata show --json one.png`, interleaved;
- two workers against one: `-j 2` against `-j 1`, whole process and with the start-up (the
  export of one file) taken off both;
- cold cache: every file of the library dropped from the page cache (posix_fadvise
  DONTNEED, no root needed) before each run of the export and of the bare scan;
- memory: the peak resident size of the export over a fifth of the library and all of it.

gendata runs from this checkout with its bytecode cached in a temporary folder, as an
installed copy would (`PYTHONDONTWRITEBYTECODE` is dropped for it).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from corpus import build, infotext, load_manifest, make_corpus  # noqa: E402

__all__ = ["infotext", "make_corpus"]  # what other benchmarks take from here

SUFFIXES = (".png", ".jpg", ".webp")

# The readers compared with gendata, each a whole Python process walking the folder.
WALK = """
import os, sys
def files(root):
    for folder, subs, names in os.walk(root):
        subs.sort()
        for name in sorted(names):
            if name.endswith((".png", ".jpg", ".webp")):
                yield os.path.join(folder, name)
"""

# What a script using Pillow does to get the text: `.info` for PNG, the EXIF IFD for the rest.
PILLOW = WALK + """
from PIL import Image
found = 0
for p in files(sys.argv[1]):
    with Image.open(p) as im:
        if p.endswith(".png"):
            text = im.info.get("parameters")
        else:
            text = im.getexif().get_ifd(0x8769).get(0x9286)
    found += text is not None
print(found)
"""

# The floor for Python: read the chunk or segment headers up to the image data, take the
# text, split it into prompt and entries, and nothing else (no checks, no text after IDAT).
BARE = WALK + """
import struct
unpack = struct.unpack
def png(f):
    f.seek(8)
    while True:
        length, ctype = unpack(">I4s", f.read(8))
        if ctype == b"IDAT" or ctype == b"IEND":
            return None
        if ctype == b"tEXt" or ctype == b"iTXt":
            data = f.read(length)
            key, _, rest = data.partition(b"\\0")
            if ctype == b"iTXt":
                rest = rest[2:].split(b"\\0", 2)[2]
            return rest.decode("utf-8", "replace")
        f.seek(length + 4, 1)
def jpeg(f):
    f.seek(2)
    while True:
        marker, length = unpack(">2sH", f.read(4))
        data = f.read(length - 2)
        if marker == b"\\xff\\xe1" and data.startswith(b"Exif"):
            return exif(data)
        if marker == b"\\xff\\xda":
            return None
def webp(f):
    f.seek(12)
    while True:
        head = f.read(8)
        if len(head) < 8:
            return None
        fourcc, length = head[:4], unpack("<I", head[4:])[0]
        if fourcc == b"EXIF":
            return exif(f.read(length))
        f.seek(length + (length & 1), 1)
def exif(data):
    at = data.find(b"UNICODE\\0")
    return None if at < 0 else data[at + 8:].decode("utf-16-be", "replace")
found = 0
for p in files(sys.argv[1]):
    with open(p, "rb") as f:
        head = f.read(4)
        text = png(f) if head == b"\\x89PNG" else jpeg(f) if head[:2] == b"\\xff\\xd8" else webp(f)
    if text:
        head, _, line = text.rpartition("\\n")
        found += len(line.split(", ")) > 2
print(found)
"""

PYC_DIR = tempfile.mkdtemp(prefix="gendata-pyc-")
ENV = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONPYCACHEPREFIX=PYC_DIR)
ENV.pop("PYTHONDONTWRITEBYTECODE", None)
PY = sys.executable
GD = [PY, "-m", "gendata"]


def run(cmd: list[str], env: dict[str, str] | None = None) -> float:
    """Wall seconds of one command, from start to exit. It runs in the checkout named by
    the environment's PYTHONPATH: `python -m` puts the working folder first on sys.path."""
    env = env or ENV
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=env["PYTHONPATH"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, check=False)
    took = time.perf_counter() - t
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]!r}")
    return took


def rounds(commands: dict[str, Callable[[], float]], n: int) -> dict[str, list[float]]:
    """Run every command once per round, the order rotating by one each round."""
    names = list(commands)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(n):
        for name in names[r % len(names):] + names[:r % len(names)]:
            times[name].append(commands[name]())
    return times


def spread(ts: list[float]) -> str:
    return f"{statistics.median(ts):7.3f} s  ({min(ts):.3f}-{max(ts):.3f})"


def drop_cache(files: list[str]) -> None:
    for p in files:
        fd = os.open(p, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def warm(files: list[str]) -> None:
    for p in files:
        with open(p, "rb") as f:
            while f.read(1 << 20):
                pass


def check_rows(root: Path, manifest: dict[str, dict[str, str]]) -> tuple[int, int, int, int]:
    """(rows, missing or extra rows, wrong cells, rows with another file's values)."""
    with tempfile.NamedTemporaryFile(suffix=".csv") as out:
        subprocess.run([*GD, "export", "-q", "-r", "-f", "csv", "-o", out.name, str(root)],
                       env=ENV, cwd=ROOT, check=False)
        rows = list(csv.DictReader(io.StringIO(Path(out.name).read_text(encoding="utf-8"),
                                               newline="")))
    seeds = {cells["seed"]: rel for rel, cells in manifest.items()}
    seen: set[str] = set()
    wrong = foreign = 0
    for row in rows:
        rel = os.path.relpath(row["path"], root)
        seen.add(rel)
        want = manifest.get(rel)
        if want is None:
            continue
        if seeds.get(row["seed"], rel) != rel:
            foreign += 1
        extra = {k for k in row if k.startswith("extra.") and row[k]}
        for col in extra - want.keys():
            wrong += 1
            print(f"  {rel}: unexpected {col} = {row[col]!r}")
        for col, value in want.items():
            if row.get(col, "") != value:
                wrong += 1
                if wrong <= 10:
                    print(f"  {rel}: {col} = {row.get(col)!r}, want {value!r}")
    missing = len(set(manifest) ^ seen)
    return len(rows), missing, wrong, foreign


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n"))
    ap.add_argument("--root", "--keep", type=Path,
                    default=Path(tempfile.gettempdir()) / "gendata-bench",
                    help="the library (built here when it holds no manifest.jsonl)")
    ap.add_argument("--png", type=int, default=3000)
    ap.add_argument("--jpeg", type=int, default=1000)
    ap.add_argument("--webp", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--baseline", type=Path,
                    help="another gendata checkout (an older commit) whose export runs in the "
                         "same rounds, for a before/after comparison")
    ap.add_argument("--skip", action="append", default=[],
                    choices=["exiftool", "cold", "startup", "memory", "check"])
    args = ap.parse_args()
    root: Path = args.root
    if not (root / "manifest.jsonl").exists():
        root.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        build(root, args.png, args.jpeg, args.webp)
        print(f"built {root} in {time.perf_counter() - t:.0f} s")
    manifest = load_manifest(root)
    files = sorted(str(root / rel) for rel in manifest)
    n = len(files)
    size = sum(os.path.getsize(p) for p in files)
    kinds = {s: sum(p.endswith(s) for p in files) for s in SUFFIXES}
    print(f"library: {n} files ({', '.join(f'{c} {s[1:]}' for s, c in kinds.items())}), "
          f"{size / 2**20:,.0f} MiB, {root}")
    print(f"cores: {len(os.sched_getaffinity(0))}; load average at start: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    exiftool = shutil.which("exiftool") if "exiftool" not in args.skip else None
    export = [*GD, "export", "-q", "-r", "-f", "csv", "-o", os.devnull, str(root)]
    warm(files)
    run([*GD, "show", "--json", files[0]])  # fills the bytecode cache, as an install does

    if "check" not in args.skip:
        total, missing, wrong, foreign = check_rows(root, manifest)
        print(f"\ncorrectness (export -r -f csv against the manifest): {total} rows, "
              f"{missing} missing or extra, {wrong} wrong cells, {foreign} rows with "
              "another file's values")

    one = [*GD, "export", "-q", "-f", "csv", "-o", os.devnull, files[0]]
    commands: dict[str, Callable[[], float]] = {
        "gendata export -r -f csv": lambda: run(export),
        "gendata export -r -f csv -j 1": lambda: run([*export, "-j", "1"]),
        "gendata export -r -f jsonl": lambda: run([*export, "-f", "jsonl"]),
        "gendata export (one file)": lambda: run(one),
        "Pillow .info/getexif loop": lambda: run([PY, "-c", PILLOW, str(root)]),
        "bare chunk scan + split": lambda: run([PY, "-c", BARE, str(root)]),
    }
    if args.baseline:
        base_env = dict(ENV, PYTHONPATH=str(args.baseline.resolve()),
                        PYTHONPYCACHEPREFIX=PYC_DIR + "-baseline")
        run([*GD, "show", "--json", files[0]], base_env)
        commands["baseline export -r -f csv"] = lambda: run(export, base_env)
    if exiftool:
        commands["exiftool -j -r"] = lambda: run([exiftool, "-j", "-q", "-r", str(root)])
    times = rounds(commands, args.rounds)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\nwarm cache, whole process, median of {args.rounds} rounds (min-max):")
    for name, ts in times.items():
        rate = "" if "one file" in name else f"{n / statistics.median(ts):9,.0f} files/s"
        print(f"  {name:32} {spread(ts)} {rate}")
    gd = med["gendata export -r -f csv"]
    print(f"  export -f csv / Pillow loop: {med['Pillow .info/getexif loop'] / gd:.2f}x; "
          f"/ bare scan: {med['bare chunk scan + split'] / gd:.2f}x"
          + (f"; / exiftool: {med['exiftool -j -r'] / gd:.1f}x" if exiftool else
             "; exiftool not installed (apt-get install -y libimage-exiftool-perl)"))
    j1, start = med["gendata export -r -f csv -j 1"], med["gendata export (one file)"]
    print(f"  two workers (-j 2, the default here) against -j 1: {j1 / gd:.2f}x whole process, "
          f"{(j1 - start) / (gd - start):.2f}x without the start-up ({start * 1000:.0f} ms)")

    if "startup" not in args.skip:
        show = [*GD, "show", "--json", files[0]]
        lean = [PY, "-S", *GD[1:], "show", "--json", files[0]]
        st = rounds({"python -c pass": lambda: run([PY, "-c", "pass"]),
                     "gendata show --json one.png": lambda: run(show),
                     "python -S -c pass": lambda: run([PY, "-S", "-c", "pass"]),
                     "python -S -m gendata show --json": lambda: run(lean)}, 21)
        med = {k: statistics.median(v) for k, v in st.items()}
        print("\nstart-up, median of 21 interleaved (min-max); -S: without site's .pth files:")
        for name, ts in st.items():
            print(f"  {name:34} {med[name] * 1000:5.1f} ms "
                  f"({min(ts) * 1000:.1f}-{max(ts) * 1000:.1f})")
        plain = med["gendata show --json one.png"] / med["python -c pass"]
        lean = med["python -S -m gendata show --json"] / med["python -S -c pass"]
        print(f"  show --json / python -c pass: {plain:.2f}x; with -S: {lean:.2f}x")

    if "cold" not in args.skip:
        def cold(cmd: list[str]) -> Callable[[], float]:
            def go() -> float:
                drop_cache(files)
                return run(cmd)
            return go

        ct = rounds({"gendata export -r -f csv": cold(export),
                     "bare chunk scan + split": cold([PY, "-c", BARE, str(root)])}, args.rounds)
        print(f"\ncold cache (all files dropped before each run), median of {args.rounds}:")
        for name, ts in ct.items():
            print(f"  {name:32} {spread(ts)} {n / statistics.median(ts):9,.0f} files/s")
        ratio = (statistics.median(ct["gendata export -r -f csv"])
                 / statistics.median(ct["bare chunk scan + split"]))
        print(f"  export / bare scan: {ratio:.2f}x the time")
        warm(files)

    if "memory" not in args.skip:
        part = "".join(p + "\n" for p in files[:n // 5]).encode()
        whole = "".join(p + "\n" for p in files).encode()
        cmd = [*GD, "export", "-q", "-f", "csv", "-o", os.devnull, "-"]
        rss = []
        for data in (part, whole):
            script = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], "
                      "stdin=sys.stdin); print(resource.getrusage("
                      "resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)")
            res = subprocess.run([PY, "-c", script, *cmd], input=data, env=ENV, cwd=ROOT,
                                 capture_output=True, check=False)
            rss.append(int(res.stderr.split()[-1]))
        print(f"\npeak RSS of the export's largest process: {rss[0] / 1024:.1f} MiB for "
              f"{n // 5} files, {rss[1] / 1024:.1f} MiB for {n}")
    print(f"\nload average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    shutil.rmtree(PYC_DIR, ignore_errors=True)
    shutil.rmtree(PYC_DIR + "-baseline", ignore_errors=True)


if __name__ == "__main__":
    main()
