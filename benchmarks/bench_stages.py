"""Where one file's time goes: each stage of an export's read, in one process, per container.

    python benchmarks/bench_stages.py --root /tmp/gendata-bench     # a corpus.py library

CPU time (time.process_time, so other jobs on the machine count less than in wall time), best
of `--repeat` passes over up to `--files` files of each kind, the files' pages in memory:

- open_raw: open, read the container's metadata entries, close;
- detect: pick the dialect and parse (model left unbuilt), from entries already read;
- read_one: both, as a worker does, into a Record;
- encode: read_one, the show --json object and the CSV line (export's per-file work);
- Pillow: Image.open and the text (`.info`, or the EXIF IFD's UserComment), for comparison.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gendata import formats  # noqa: E402
from gendata.batch import read_one  # noqa: E402
from gendata.containers import open_raw  # noqa: E402
from gendata.export import ExportOptions, encode  # noqa: E402


def best(fn: Callable[[Any], object], items: list[Any], repeat: int) -> float:
    """Microseconds per item, best of `repeat` passes (after one untimed pass)."""
    for item in items:
        fn(item)
    times = []
    for _ in range(repeat):
        t = time.process_time()
        for item in items:
            fn(item)
        times.append(time.process_time() - t)
    return min(times) / len(items) * 1e6


def pillow(path: str) -> object:
    from PIL import Image

    with Image.open(path) as im:
        if path.endswith(".png"):
            return im.info.get("parameters")
        return im.getexif().get_ifd(0x8769).get(0x9286)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", type=Path, required=True)
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    opts = ExportOptions(fmt="csv")
    print(f"{'kind':5} {'open_raw':>9} {'detect':>8} {'read_one':>9} {'encode':>8} "
          f"{'Pillow':>8}   (us a file, CPU)")
    for ext in ("png", "jpg", "webp"):
        files = sorted(str(p) for p in args.root.rglob(f"*.{ext}"))[:args.files]
        if not files:
            continue
        for p in files:  # pages in memory
            Path(p).read_bytes()
        raws = [open_raw(p) for p in files]
        row = [best(open_raw, files, args.repeat), best(formats.detect_deferred, raws, args.repeat),
               best(read_one, files, args.repeat),
               best(lambda p: encode(p, opts), files, args.repeat),
               best(pillow, files, args.repeat)]
        print(f"{ext:5} " + " ".join(f"{v:8.1f}" for v in row))


if __name__ == "__main__":
    main()
