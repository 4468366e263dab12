"""`gendata index` over a prefix in object storage: objects are read once, unchanged ones
are not read again, changed ones are, deleted ones leave the index."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from click.testing import CliRunner

from gendata.cli import main

from . import images
from .conftest import BUCKET, put
from .s3server import CountingMotoServer


def _delete(key: str) -> None:
    import boto3

    boto3.client("s3").delete_object(Bucket=BUCKET, Key=key)


def test_index_a_prefix(s3: CountingMotoServer, tmp_path: Path) -> None:
    for i in range(6):
        put(f"idx/sub/{i}.png", images.png(images.infotext(i)[0]))
    db = tmp_path / "index.db"
    prefix = f"s3://{BUCKET}/idx/"
    first = CliRunner().invoke(main, ["index", prefix, "--db", str(db)])
    assert first.exit_code == 0, first.output
    assert "6 files: 6 added, 0 updated, 0 unchanged; 0 removed" in first.output
    with sqlite3.connect(db) as conn:
        rows = dict(conn.execute("SELECT path, seed FROM images").fetchall())
    assert rows[f"{prefix}sub/3.png"] == images.infotext(3)[1]

    s3.counter.reset()
    again = CliRunner().invoke(main, ["index", prefix, "--db", str(db)])
    assert "0 added, 0 updated, 6 unchanged; 0 removed" in again.output, again.output
    assert not any(k.startswith(f"{BUCKET}/idx/") for k in s3.counter.requests)

    put("idx/sub/2.png", images.png(images.infotext(42)[0]))
    _delete("idx/sub/5.png")
    later = CliRunner().invoke(main, ["index", "--db", str(db)])  # the roots remembered
    assert "5 files: 0 added, 1 updated, 4 unchanged; 1 removed" in later.output, later.output
    search = CliRunner().invoke(main, ["search", "--db", str(db), "number 42", "--paths"])
    assert search.output.split() == [f"{prefix}sub/2.png"]
