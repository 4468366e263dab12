"""Benchmark `gendata index` and `gendata search` (docs/index.md, "Speed").

Run by hand from the repository root:

    python benchmarks/bench_index.py                      # 3,000 files, then 100,000
    python benchmarks/bench_index.py --files 5000 --large 0 --keep /tmp/bench

Part 1, on the realistic corpus bench_export.py uses (benchmarks/corpus.py: a WebUI output
folder of Pillow-encoded PNGs, 512x512 to 1024x1024 in 64 KiB IDAT chunks, a third each of
PNG, JPEG and WebP here, JPEG and WebP with the text in an EXIF UserComment written by
piexif, A1111 infotexts with LoRA tags, hires fix and ADetailer, ~15% with Japanese words),
page cache warm, every command a whole process (start-up and imports included), best of
--repeat runs:

- `gendata index` into a new database against `gendata export -f jsonl` of the same files
  (target: at most 1.5x);
- `gendata index` again after 20 changes (8 rewritten, 6 deleted, 6 added) against the first
  index (target: at most 1/3);
- `gendata search seed:N --jsonl` and `--paths` against `gendata show --json` of one file
  (target: at most 1.5x);
- the TUI's filter box over every file of the corpus, in this process: with an index that
  holds them all as they are, and with one that holds none.

Part 2, with --large files (default 100,000): small real PNGs written straight from bytes (a
64x64 picture, a `parameters` chunk with the same kind of infotext), so that building them
takes seconds; then `gendata index` of all of them, the database's size, and the time of
each query kind in this process (open connection, all matching paths fetched; best of 5).
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_export import infotext, make_corpus  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
GENDATA = [sys.executable, "-m", "gendata"]


class Timing(tuple):
    """(wall seconds, CPU seconds of the process and its workers). The machine this runs on
    may be shared: CPU time is the steadier measure when others are busy."""

    @property
    def wall(self) -> float:
        return self[0]

    @property
    def cpu(self) -> float:
        return self[1]


def run(args: list[str], stdin: str | None = None) -> Timing:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(args, check=False, env=ENV, input=stdin, text=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing((wall, cpu))


def best(args: list[str], repeat: int, before: list[str] | None = None) -> Timing:
    times = []
    for _ in range(repeat):
        if before is not None:
            for p in before:
                Path(p).unlink(missing_ok=True)
        times.append(run(args))
    return Timing((min(t.wall for t in times), min(t.cpu for t in times)))


def remove_db(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def line(name: str, value: Timing, base: Timing | None = None, target: str = "") -> str:
    text = f"  {name:<40} {value.wall:7.3f} s wall {value.cpu:7.3f} s CPU"
    if base is not None:
        text += (f"   ratio {value.wall / base.wall:5.2f} wall, {value.cpu / base.cpu:5.2f} CPU"
                 f"  (target {target})")
    return text


def part1(work: Path, n: int, repeat: int) -> None:
    corpus = work / "corpus"
    if not corpus.exists():
        third = n // 3
        t = time.perf_counter()
        make_corpus(corpus, n - 2 * third, third, third)
        print(f"built {n} files in {time.perf_counter() - t:.1f} s under {corpus}")
    files = sorted(p for p in corpus.rglob("*") if p.is_file())
    db = work / "part1.sqlite"
    subprocess.run(["cat", *map(str, files)], stdout=subprocess.DEVNULL, check=True)  # warm

    export = best([*GENDATA, "export", "-r", "-f", "jsonl", "-o", os.devnull, str(corpus)],
                  repeat)
    index = best([*GENDATA, "index", "-q", "--db", str(db), str(corpus)], repeat,
                 before=[str(db), f"{db}-wal", f"{db}-shm"])
    print(f"\n{n} files, whole process, best of {repeat}")
    print(line("gendata export -r -f jsonl", export) + f"   {n / export.wall:,.0f} files/s")
    print(line("gendata index (new database)", index, export, "<= 1.5")
          + f"   {n / index.wall:,.0f} files/s")

    rng = random.Random(5)
    update_times = []
    for _ in range(repeat):
        remove_db(db)
        run([*GENDATA, "index", "-q", "--db", str(db), str(corpus)])
        current = sorted(p for p in corpus.rglob("*") if p.is_file())
        picked = rng.sample(current, 14)
        for p in picked[:8]:  # rewritten in place: new text, same file
            subprocess.run([*GENDATA, "set", str(p), "--seed", str(rng.randint(0, 2**31))],
                           env=ENV, check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        for p in picked[8:]:
            shutil.copy(p, p.with_name("new_" + p.name))  # added
            p.unlink()                                      # deleted
        update_times.append(run([*GENDATA, "index", "-q", "--db", str(db), str(corpus)]))
    update = Timing((min(t.wall for t in update_times), min(t.cpu for t in update_times)))
    print(line("gendata index after 20 changes", update, index, "<= 0.33"))

    one = str(next(p for p in files if p.suffix == ".png" and p.exists()))
    seed = sqlite3.connect(db).execute("SELECT seed FROM images WHERE path = ?",
                                       (one,)).fetchone()[0]
    show = best([*GENDATA, "show", "--json", one], repeat * 3)
    print(line("gendata show --json FILE", show))
    for flag in ("--jsonl", "--paths"):
        t = best([*GENDATA, "search", f"seed:{seed}", "--db", str(db), flag], repeat * 3)
        print(line(f"gendata search seed:N {flag}", t, show, "<= 1.5"))
    t = best([*GENDATA, "search", "masterpiece", "-n", "20", "--db", str(db)], repeat * 3)
    print(line("gendata search WORD -n 20 (table)", t, show, "-"))
    tui_filter(corpus, db, work / "empty.sqlite")


def tui_filter(corpus: Path, db: Path, empty: Path) -> None:
    """The TUI's filter box over every file of the corpus, in this process: answered by an
    index that holds them all as they are, and by one that holds none (every file then goes
    into the index in memory on the first query; later queries reuse it)."""
    from gendata import api
    from gendata.indexing.live import LiveSearch
    from gendata.indexing.schema import connect

    listed = []
    for p in sorted(corpus.rglob("*")):
        if p.is_file():
            rec = api.read_safe(p)
            listed.append((str(p), rec, rec.identity))
    remove_db(empty)
    connect(empty, create=True).close()
    print(f"\nTUI filter over {len(listed)} listed files, in process, ms")
    for label, target in (("index current", db), ("nothing indexed", empty)):
        live = LiveSearch(target)
        for query in ("masterpiece", "seed>1000 steps:30", "lora:*", "sampler:euler*"):
            times = []
            for _ in range(4):
                t = time.perf_counter()
                live.match(query, listed)
                times.append((time.perf_counter() - t) * 1000)
            print(f"  {label:16} {query!r:22} first {times[0]:7.1f}   then {min(times[1:]):6.1f}")
        live.close()


def _chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I4s", len(data), ctype) + data + struct.pack(
        ">I", zlib.crc32(data, zlib.crc32(ctype)))


def small_pngs(root: Path, n: int) -> None:
    """`n` small PNGs (64x64) with A1111 infotexts, in folders of 1,000."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (90, 120, 200)).save(buf, "PNG")
    png = buf.getvalue()
    head, body = png[:33], png[33:]
    rng = random.Random(11)
    for i in range(n):
        folder = root / f"{i // 1000:03d}"
        if i % 1000 == 0:
            folder.mkdir(parents=True, exist_ok=True)
        text = infotext(rng)
        try:
            chunk = _chunk(b"tEXt", b"parameters\0" + text.encode("latin-1"))
        except UnicodeEncodeError:
            chunk = _chunk(b"iTXt", b"parameters\0\0\0\0\0" + text.encode("utf-8"))
        (folder / f"{i:06d}.png").write_bytes(head + chunk + body)


QUERIES = [
    ("word", "castle"),
    ("two words", "castle rain"),
    ("prefix", "cyber*"),
    ("phrase", '"golden hour"'),
    ("excluded word", "castle -rain"),
    ("negative prompt", "neg:fingers"),
    ("CJK word", "夜景"),
    ("CJK single character", "猫"),
    ("text field", "sampler:unipc"),
    ("text glob", "sampler:dpm*"),
    ("lora", "lora:style_7"),
    ("lora glob", "lora:style_1*"),
    ("seed:N", "seed:{seed}"),
    ("number range", "steps>=38"),
    ("float equality", "cfg:6.5"),
    ("combined", "castle lora:style_3* steps>30 -rain"),
]


def part2(work: Path, n: int) -> None:
    from gendata.indexing.results import open_index, rows

    root = work / f"large_{n}"
    if not root.exists():
        t = time.perf_counter()
        small_pngs(root, n)
        print(f"\nwrote {n:,} small PNGs in {time.perf_counter() - t:.1f} s")
    db = work / "large.sqlite"
    remove_db(db)
    subprocess.run(f"find {root} -type f -exec cat {{}} + > /dev/null", shell=True, check=False)
    t = run([*GENDATA, "index", "-q", "--db", str(db), str(root)])
    size = sum(os.path.getsize(p) for p in (db, f"{db}-wal") if os.path.exists(p))
    print(f"\n{n:,} images: index built in {t.wall:.1f} s wall, {t.cpu:.1f} s CPU "
          f"({n / t.wall:,.0f} files/s); database {size / 2**20:.1f} MiB "
          f"({size / n:,.0f} bytes an image)")
    again = run([*GENDATA, "index", "-q", "--db", str(db), str(root)])
    print(f"  update with nothing changed: {again.wall:.2f} s wall")
    conn = open_index(db)
    seed = conn.execute("SELECT seed FROM images WHERE id = ?", (n // 2,)).fetchone()[0]
    print("  in-process query time, best of 5, ms (target < 50): every matching path "
          "fetched (wall, CPU), the first 50 by path (wall), the count (wall)")
    for name, query in QUERIES:
        query = query.format(seed=seed)
        walls, cpus, firsts, counts = [], [], [], []
        for _ in range(5):
            t2 = time.perf_counter()
            next(rows(conn, query, "count(*)"))
            counts.append(time.perf_counter() - t2)
            t0, c0 = time.perf_counter(), time.process_time()
            found = list(rows(conn, query, "i.path"))
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
            t1 = time.perf_counter()
            list(rows(conn, query, "i.path", limit=50))
            firsts.append(time.perf_counter() - t1)
        print(f"  {name:<21} {query:<36} {min(walls) * 1000:6.1f} {min(cpus) * 1000:6.1f}"
              f" {min(firsts) * 1000:6.1f} {min(counts) * 1000:6.1f}  {len(found):>7,} found")
    conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=3000, help="part 1 corpus size")
    ap.add_argument("--large", type=int, default=100_000, help="part 2 size (0: skip)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--keep", type=Path, default=None,
                    help="build the files here and keep them (reused when present)")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="gendata-bench-index-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, "
              f"SQLite {sqlite3.sqlite_version}")
        if args.files:
            part1(work, args.files, args.repeat)
        if args.large:
            part2(work, args.large)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
