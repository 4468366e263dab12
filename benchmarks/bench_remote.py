"""Measure the inputs of the 10^8-image plan in docs/scale.md against a local S3 API.

Run by hand from the repository root (needs `pip install -e '.[scale,test]'`):

    python benchmarks/bench_remote.py                  # 2,000 images of ~400 KiB
    python benchmarks/bench_remote.py --images 5000 --workers 1 2

It starts moto's S3 server on 127.0.0.1 (in this process, counting what it serves),
stores the tests' image mix (PNGs with text before or after the image data, 64 and 8 KiB
IDAT chunks, some ComfyUI-sized workflows, JPEGs and WebPs with EXIF), and prints, as JSON
lines:

- `fetch`: requests and bytes per image, counted at the server;
- `export`: images/s of `gendata export -r s3://... -f parquet -o DIR -j N` for each
  worker count N, run as a command (start-up included), and the CPU time the command and
  its workers spent per image: what bounds a worker once the storage answers fast. The
  local server shares the machine's cores and is slower than S3; it bounds the wall time
  here;
- `list`: keys/s of one ListObjectsV2 stream (1,000 keys a page);
- `parquet`: rows/s of turning records into Arrow and writing a zstd Parquet part.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _cpu_children() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=2000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--concurrency", type=int, default=64)
    args = ap.parse_args()

    from tests.remote import images
    from tests.remote.s3server import CountingMotoServer

    server = CountingMotoServer()
    server.start()
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
                      AWS_DEFAULT_REGION="us-east-1", AWS_ENDPOINT_URL=server.endpoint)
    import boto3
    from moto.backends import get_backend

    bucket = "gendata-bench"
    boto3.client("s3").create_bucket(Bucket=bucket)
    backend = get_backend("s3")["123456789012"]["global"]
    scratch = tempfile.mkdtemp()
    total = 0
    for i in range(args.images):
        text, _seed = images.infotext(i)
        kind = "jpeg" if i % 10 == 7 else "webp" if i % 10 == 9 else "png"
        if kind == "png":
            data = images.png(text, variant=i % 3, after_idat=i % 4 == 1,
                              idat_size=8192 if i % 5 == 2 else None,
                              workflow_bytes=24000 if i % 25 == 3 else 0)
        else:
            data = images.exif_image(kind, text, scratch, variant=i % 2)
        total += len(data)
        backend.put_object(bucket, f"lib/p{i % 20:02d}/img-{i:06d}.{kind}", data)
    print(json.dumps({"images": args.images, "mean_object_kib": round(total / args.images
                                                                      / 1024, 1)}))

    import subprocess

    for workers in args.workers:
        server.counter.reset()
        out = tempfile.mkdtemp()
        cmd = [sys.executable, "-m", "gendata", "export", "-r", f"s3://{bucket}/lib/", "-f",
               "parquet", "-o", out, "-j", str(workers), "--concurrency",
               str(args.concurrency), "--batch-size", "500", "-q", "--stats"]
        cpu0 = _cpu_children()
        t0 = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
        wall = time.perf_counter() - t0
        cpu = _cpu_children() - cpu0  # the command and its worker processes
        served = sum(server.counter.bytes.values())
        requests = sum(server.counter.requests.values())
        if done.returncode:
            sys.exit(done.stderr)
        if workers == args.workers[0]:
            print(json.dumps({"fetch": {"requests_per_image": round(requests / args.images, 3),
                                        "kib_per_image": round(served / args.images / 1024,
                                                               2)}}))
        print(json.dumps({"export": {"workers": workers, "images": args.images,
                                     "seconds": round(wall, 2),
                                     "images_per_s": round(args.images / wall, 1),
                                     "client_cpu_ms_per_image": round(cpu * 1000 / args.images,
                                                                      2),
                                     "stats": done.stderr.strip().splitlines()[0]}}))

    fs_client = boto3.client("s3")
    t0 = time.perf_counter()
    keys, token = 0, None
    while True:
        kw = {"Bucket": bucket, "Prefix": "lib/", "MaxKeys": 1000}
        if token:
            kw["ContinuationToken"] = token
        resp = fs_client.list_objects_v2(**kw)
        keys += resp.get("KeyCount", 0)
        if not resp.get("IsTruncated"):
            break
        token = resp["NextContinuationToken"]
    print(json.dumps({"list": {"keys": keys, "keys_per_s": round(keys / (time.perf_counter()
                                                                         - t0))}}))

    from gendata.remote.parquet import table, write_table

    objs = [{"path": f"s3://b/{i}", "prompt": images.infotext(i)[0], "seed": i, "steps": 20,
             "extra": {"Model": "m", "Custom": "x"}, "loras": [{"name": "l", "weight": 0.5}],
             "warnings": []} for i in range(5000)]
    write_table(table(objs[:10]), os.path.join(tempfile.mkdtemp(), "warm.parquet"))  # imports
    t0 = time.perf_counter()
    write_table(table(objs), os.path.join(tempfile.mkdtemp(), "part.parquet"))
    print(json.dumps({"parquet": {"rows_per_s": round(5000 / (time.perf_counter() - t0))}}))
    server.stop()


if __name__ == "__main__":
    main()
