"""Throw damaged images at the reader and the writer; report anything that is not a clear error.

Run from the repository root: `python scripts/fuzz_files.py [N] [SEED]`. Each case takes a file
from fixtures/ (and ../shared/corpus when present), flips bytes, cuts it short or splices in
random bytes, then reads it with `gendata.read` and edits it with `gendata.write`. A case
passes when the library either works or raises a GenDataError, and a failed write leaves the
file byte for byte as it was with no temporary file beside it.
"""

from __future__ import annotations

import collections
import os
import random
import sys
import tempfile
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gendata import api  # noqa: E402
from gendata.errors import GenDataError  # noqa: E402

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


def sources() -> list[Path]:
    found = [p for p in (ROOT / "fixtures").rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES]
    corpus = ROOT.parent / "shared" / "corpus"
    if corpus.is_dir():
        found += [p for p in corpus.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES]
    return sorted(found)


def damage(data: bytearray, rng: random.Random) -> bytearray:
    head = min(len(data), 30000)
    mode = rng.random()
    if mode < 0.4 and head:
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(head)] = rng.randrange(256)
    elif mode < 0.7:
        data = data[:rng.randrange(len(data) + 1)]
    elif head:
        i = rng.randrange(head)
        data[i:i + rng.randint(1, 64)] = rng.randbytes(rng.randint(0, 64))
    return data


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
    files = sources()
    uncaught: collections.Counter[tuple[str, str, int]] = collections.Counter()
    changed_on_failure = 0
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(n):
            src = rng.choice(files)
            data = damage(bytearray(src.read_bytes()), rng)
            path = Path(tmp) / ("case" + src.suffix)
            path.write_bytes(data)
            try:
                rec = api.read(path)
                rec.to_json()
                params = api.editable_params(rec)
                api.write(path, api.update(params, {"steps": 33}))
            except GenDataError:
                if path.read_bytes() != data:
                    changed_on_failure += 1
            except Exception as exc:  # what this script is looking for
                frame = traceback.extract_tb(exc.__traceback__)[-1]
                key = (type(exc).__name__, frame.filename, frame.lineno or 0)
                if key not in uncaught:
                    print(f"uncaught {key}: {exc!s:.200} (from {src})")
                uncaught[key] += 1
            leftovers = [p for p in os.listdir(tmp) if p != path.name]
            if leftovers:
                print(f"temporary files left behind: {leftovers}")
                return 1
            path.unlink()
    print(f"{n} cases: {sum(uncaught.values())} uncaught exceptions, "
          f"{changed_on_failure} files changed by a failed write")
    return 1 if uncaught or changed_on_failure else 0


if __name__ == "__main__":
    sys.exit(main())
