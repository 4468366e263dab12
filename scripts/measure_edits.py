"""How many real images that carry a seed `gendata set --seed` edits in place, by generator.

Run from the repository root: `python scripts/measure_edits.py [CORPUS]` (default
../shared/corpus). Every image of MANIFEST.tsv and MANIFEST-new.tsv that reads with a seed is
copied to a temporary folder, its seed set one higher, and read back.
"""

from __future__ import annotations

import csv
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import gendata  # noqa: E402
from gendata import api  # noqa: E402
from gendata.errors import GenDataError  # noqa: E402


def main() -> None:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "corpus"
    rows: list[dict[str, str]] = []
    for name in ("MANIFEST.tsv", "MANIFEST-new.tsv"):
        if (corpus / name).exists():
            with open(corpus / name, encoding="utf-8", newline="") as f:
                rows += list(csv.DictReader(f, delimiter="\t"))
    seeded, edited, refused = 0, Counter(), Counter()
    with tempfile.TemporaryDirectory() as tmp:
        for row in rows:
            src = corpus / row["path"]
            try:
                rec = gendata.read(src)
            except GenDataError:
                continue
            if rec.params is None or rec.params.seed is None:
                continue
            seeded += 1
            copy = Path(tmp) / src.name
            shutil.copyfile(src, copy)
            try:
                params = api.editable_params(rec)
                gendata.write(copy, api.update(params, {"seed": params.seed + 1}))
                ok = gendata.read(copy).params.seed == params.seed + 1
            except GenDataError:
                ok = False
            (edited if ok else refused)[rec.params.generator or "?"] += 1
    print(f"{seeded} images carry a seed; {sum(edited.values())} edited in place")
    print("edited:", dict(sorted(edited.items())))
    print("not edited:", dict(sorted(refused.items())))


if __name__ == "__main__":
    main()
