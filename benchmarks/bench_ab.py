"""Export and `show --json` of two checkouts over one kept corpus, in interleaved rounds.

    python benchmarks/bench_export.py --png 3000 --jpeg 1000 --webp 1000 --keep /tmp/abcorpus
    git worktree add --detach /tmp/before <commit>
    python benchmarks/bench_ab.py /tmp/before . /tmp/abcorpus [--rounds 3]

Each round runs `python -m gendata export -f csv|jsonl -` of every kind's file list with one
checkout, then the other, so both see the same machine; the median and the spread (min-max)
of files/s are printed, and the medians of 15 `show --json` runs beside `python -c pass`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

KINDS = ("png", "jpeg", "webp")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("corpus")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    trees = {"before": os.path.abspath(args.before), "after": os.path.abspath(args.after)}
    env0 = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

    def run(tree: str, cmd: list[str], stdin: int | None = None) -> float:
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "gendata", *cmd], env=dict(env0, PYTHONPATH=tree),
                       cwd="/tmp", stdin=stdin, stdout=subprocess.DEVNULL, check=True)
        return time.perf_counter() - t

    res: dict[tuple[str, str, str], list[float]] = {}
    for _ in range(args.rounds):
        for name, tree in trees.items():
            for kind in KINDS:
                lst = os.path.join(args.corpus, f"{kind}.list")
                with open(lst, encoding="utf-8") as f:
                    n = sum(1 for _ in f)
                for fmt in ("csv", "jsonl"):
                    with open(lst, "rb") as f:
                        took = run(tree, ["export", "-q", "-f", fmt, "-o", os.devnull, "-"],
                                   stdin=f.fileno())
                    res.setdefault((kind, fmt, name), []).append(n / took)
    with open(os.path.join(args.corpus, "png.list"), encoding="utf-8") as f:
        one = f.readline().strip()
    for _ in range(15):
        for name, tree in trees.items():
            res.setdefault(("show --json", "ms", name), []).append(
                run(tree, ["show", "--json", one]) * 1000)
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", "pass"], env=env0, check=True)
            res.setdefault(("python -c pass", "ms", name), []).append(
                (time.perf_counter() - t) * 1000)
    print(f"load: {os.getloadavg()}")
    print(f"{'what':14} {'fmt':6} {'before':>10} {'after':>10}   (median; spread min-max)")
    for kind, fmt in sorted({k[:2] for k in res}, key=lambda k: (k[0] not in KINDS, k)):
        b, a = res[(kind, fmt, "before")], res[(kind, fmt, "after")]
        print(f"{kind:14} {fmt:6} {statistics.median(b):10,.0f} {statistics.median(a):10,.0f}   "
              f"({min(b):,.0f}-{max(b):,.0f} / {min(a):,.0f}-{max(a):,.0f})")


if __name__ == "__main__":
    main()
