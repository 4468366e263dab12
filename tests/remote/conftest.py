"""Fixtures for the remote tests: a real S3 API (moto's server on 127.0.0.1, counting what it
serves) holding a library of real images, and the same files on local disk to compare with."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("fsspec")
pytest.importorskip("s3fs")
pytest.importorskip("pyarrow")
pytest.importorskip("moto.server")

from . import images
from .s3server import CountingMotoServer

BUCKET = "gendata-test"
N_IMAGES = 500
N_PREFIXES = 10


@pytest.fixture(scope="session")
def s3() -> Iterator[CountingMotoServer]:
    """moto's S3 server on a free port of 127.0.0.1; the AWS_* variables point every client
    (this process, worker processes, subprocesses) at it, as they would at a real bucket."""
    server = CountingMotoServer()
    server.start()
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                                            "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                      AWS_DEFAULT_REGION="us-east-1", AWS_ENDPOINT_URL=server.endpoint)
    import boto3

    boto3.client("s3").create_bucket(Bucket=BUCKET)
    try:
        yield server
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def put(key: str, data: bytes) -> None:
    """Store an object straight in the server's backend (uploading 500 images through HTTP
    would take most of the test's time; reading them is what is tested)."""
    from moto.backends import get_backend

    get_backend("s3")["123456789012"]["global"].put_object(BUCKET, key, data)


@dataclass
class Library:
    prefix: str  # s3://bucket/lib/
    local: Path  # the same files on disk
    names: list[str]  # relative names, e.g. "p03/img-0042.png"
    seeds: dict[str, int]
    prompts: dict[str, str]
    sizes: dict[str, int]


@pytest.fixture(scope="session")
def library(s3: CountingMotoServer, tmp_path_factory: pytest.TempPathFactory) -> Library:
    """500 images of about 400 KiB in ten prefixes: PNGs with their text before or after the
    image data, IDAT chunks of 64 or 8 KiB, some with a ComfyUI-sized workflow chunk, and
    JPEGs and WebPs with EXIF; the same bytes under a local folder."""
    root = tmp_path_factory.mktemp("library")
    scratch = tmp_path_factory.mktemp("scratch")
    lib = Library(f"s3://{BUCKET}/lib/", root, [], {}, {}, {})
    for i in range(N_IMAGES):
        text, seed = images.infotext(i)
        kind = "jpeg" if i % 10 == 7 else "webp" if i % 10 == 9 else "png"
        if kind == "png":
            data = images.png(text, variant=i % 3, after_idat=i % 4 == 1,
                              idat_size=8192 if i % 5 == 2 else None,
                              workflow_bytes=24000 if i % 25 == 3 else 0)
        else:
            data = images.exif_image(kind, text, str(scratch), variant=i % 2)
        ext = {"png": "png", "jpeg": "jpg", "webp": "webp"}[kind]
        name = f"p{i % N_PREFIXES:02d}/img-{i:04d}.{ext}"
        put(f"lib/{name}", data)
        (root / name).parent.mkdir(exist_ok=True)
        (root / name).write_bytes(data)
        lib.names.append(name)
        lib.seeds[name] = seed
        lib.prompts[name] = text.split("\nNegative prompt:")[0]
        lib.sizes[name] = len(data)
    return lib
