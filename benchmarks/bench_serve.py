"""How fast `gendata serve` answers at 100,000 images: whole requests through the ASGI app
(query, template, HTML), in process, best of N.

    python benchmarks/bench_serve.py --db /tmp/gbench/large.sqlite     # an index already built
    python benchmarks/bench_serve.py --work /tmp/gserve                 # write and index 100,000

Wall milliseconds (the CPU time of a new query in brackets). For each query kind: the first
page of a new query (the page, the count and the four facets, which scan every match), the
same page again (count and facets kept), a page deep in the results (the one starting at the
middle match, found by keyset), the SQL an OFFSET page would cost there, and the detail page
of a match.
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

QUERIES = [
    ("everything", ""),
    ("word", "castle"),
    ("phrase", '"golden hour"'),
    ("text glob", "sampler:dpm*"),
    ("lora", "lora:style_7"),
    ("number range", "steps>=38"),
    ("combined", "castle lora:style_3* steps>30 -rain"),
]


def build(work: Path, n: int) -> Path:
    from benchmarks.bench_index import small_pngs

    root = work / f"large_{n}"
    if not root.exists():
        small_pngs(root, n)
    db = work / "large.sqlite"
    if not db.exists():
        subprocess.run([sys.executable, "-m", "gendata", "index", "-q", "--db", str(db),
                        str(root)], check=True, cwd=ROOT)
    return db


def best(fn: object, repeat: int) -> tuple[float, float]:
    """(wall, CPU) milliseconds of the fastest of `repeat` calls; the CPU time is the whole
    process's, the threads that count and facet included."""
    times = []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - t, time.process_time() - c))
    wall, cpu = min(times)
    return wall * 1000, cpu * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, default=None, help="an index to serve")
    ap.add_argument("--work", type=Path, default=Path("/tmp/gserve"),
                    help="where to write and index the images when there is no --db")
    ap.add_argument("--images", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    from starlette.testclient import TestClient

    from gendata.indexing.query import compile_query
    from gendata.web import create_app

    db = args.db or build(args.work, args.images)
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    total = conn.execute("SELECT count(*) FROM images").fetchone()[0]
    print(f"python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, {total:,} "
          f"images in {db}")
    print("milliseconds, best of", args.repeat)
    print(f"{'query':<14}{'':<36}{'new query (CPU)':>17}{'again':>8}{'deep':>8}{'OFFSET':>8}"
          f"{'detail':>8}   matches")
    app = create_app(db, cache_dir=args.work / "thumbs")
    with TestClient(app, base_url="http://127.0.0.1") as client:
        library = app.state.library
        client.get("/")  # templates compiled, connections opened
        for name, query in QUERIES:
            where, params = compile_query(query)
            matches = conn.execute(f"SELECT count(*) FROM images i WHERE {where}",
                                   params).fetchone()[0]
            middle = conn.execute(f"SELECT i.id FROM images i WHERE {where} ORDER BY i.path "
                                  "LIMIT 1 OFFSET ?", [*params, matches // 2]).fetchone()
            first = conn.execute(f"SELECT i.id FROM images i WHERE {where} ORDER BY i.path "
                                 "LIMIT 1", params).fetchone()

            def new_query(q: str = query) -> None:
                library._cache.clear()
                assert client.get("/", params={"q": q}).status_code == 200

            def again(q: str = query) -> None:
                assert client.get("/", params={"q": q}).status_code == 200

            def deep(q: str = query, start: int = middle[0]) -> None:
                assert client.get("/", params={"q": q, "start": start}).status_code == 200

            def offset(w: str = where, p: list[object] = params, at: int = matches // 2) -> None:
                conn.execute(f"SELECT i.id, i.path FROM images i WHERE {w} ORDER BY i.path "
                             "LIMIT 61 OFFSET ?", [*p, at]).fetchall()

            def detail(q: str = query, image: int = first[0]) -> None:
                assert client.get(f"/image/{image}", params={"q": q}).status_code == 200

            times = [best(f, args.repeat) for f in (new_query, again, deep, offset, detail)]
            print(f"{name:<14}{query:<36}{times[0][0]:9.1f} ({times[0][1]:5.1f})"
                  + "".join(f"{t[0]:8.1f}" for t in times[1:]) + f"   {matches:,}")
    conn.close()


if __name__ == "__main__":
    main()
