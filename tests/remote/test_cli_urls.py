"""`show`, `diff` and `export` given URLs, through the real command line and the S3 server;
the pieces they rest on (storage options, the Parquet schema's mending of odd values)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from gendata.cli import main
from gendata.errors import UsageError
from gendata.remote.parquet import row, table
from gendata.remote.urls import is_url, parse_storage_options

from . import images
from .conftest import BUCKET, put
from .s3server import CountingMotoServer

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture(scope="module")
def urls(s3: CountingMotoServer) -> dict[str, str]:
    out = {}
    for name in ("a1111_basic.png", "a1111.jpg", "a1111.webp", "a1111_unicode.png"):
        put(f"cli/{name}", (FIXTURES / name).read_bytes())
        out[name] = f"s3://{BUCKET}/cli/{name}"
    return out


def test_show_json_of_a_url(urls: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["show", "--json", urls["a1111_basic.png"]])
    assert result.exit_code == 0, result.output
    obj = json.loads(result.output)
    local = json.loads(CliRunner().invoke(
        main, ["show", "--json", str(FIXTURES / "a1111_basic.png")]).output)
    assert obj == {**local, "path": urls["a1111_basic.png"]}


def test_show_table_and_a_missing_object(urls: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["show", urls["a1111.webp"],
                                       f"s3://{BUCKET}/cli/missing.png"])
    assert result.exit_code == 1
    assert "dreamFox_v10" in result.output
    assert f"s3://{BUCKET}/cli/missing.png: no such object" in result.output


def test_diff_two_urls_and_a_prefix(urls: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["diff", "--json", urls["a1111_basic.png"],
                                       urls["a1111_unicode.png"]])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["changes"]
    batch = CliRunner().invoke(main, ["diff", "--jsonl", f"s3://{BUCKET}/cli/"])
    assert batch.exit_code == 0, batch.output
    assert len(batch.output.splitlines()) == 4


def test_export_jsonl_from_urls_equals_local(urls: dict[str, str], tmp_path: Path) -> None:
    names = sorted(urls)
    remote = CliRunner().invoke(main, ["export", "-j", "1", *(urls[n] for n in names)])
    local = CliRunner().invoke(main, ["export", "-j", "1", *(str(FIXTURES / n) for n in names)])
    assert remote.exit_code == local.exit_code == 0, remote.output
    for r, lo, n in zip(remote.output.splitlines(), local.output.splitlines(), names,
                        strict=True):
        assert json.loads(r) == {**json.loads(lo), "path": urls[n]}
    csv_r = CliRunner().invoke(main, ["export", "-j", "1", "--csv", *(urls[n] for n in names)])
    csv_l = CliRunner().invoke(main, ["export", "-j", "1", "--csv",
                                      *(str(FIXTURES / n) for n in names)])
    strip = [line.split(",", 1)[1] for line in csv_r.output.splitlines()]
    assert strip == [line.split(",", 1)[1] for line in csv_l.output.splitlines()]


def test_export_to_an_object_and_a_glob(urls: dict[str, str], s3: CountingMotoServer) -> None:
    out = f"s3://{BUCKET}/exports/cli.parquet"
    result = CliRunner().invoke(main, ["export", f"s3://{BUCKET}/cli/*.png", "-f", "parquet",
                                       "-o", out, "-j", "1"])
    assert result.exit_code == 0, result.output
    import fsspec
    import pyarrow.parquet as pq

    with fsspec.open(out, "rb") as f:
        paths = pq.read_table(f).column("path").to_pylist()
    assert paths == [urls["a1111_basic.png"], urls["a1111_unicode.png"]]


def test_usage_errors(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["export", str(FIXTURES), "--engine", "dask", "--jsonl"])
    assert r.exit_code == 2 and "-f parquet -o FOLDER" in r.output
    r = CliRunner().invoke(main, ["export", str(FIXTURES), "--resume", "-f", "parquet"])
    assert r.exit_code == 2
    r = CliRunner().invoke(main, ["export", "nope://x/y.png"])
    assert r.exit_code == 2
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "part-x-00000.parquet").write_bytes(b"")
    r = CliRunner().invoke(main, ["export", str(FIXTURES), "-f", "parquet", "-o",
                                  str(tmp_path / "p")])
    assert r.exit_code == 2 and "--resume" in r.output
    r = CliRunner().invoke(main, ["export", str(FIXTURES), "-f", "parquet", "--fields",
                                  "extra.Model", "-o", str(tmp_path / "x.parquet")])
    assert r.exit_code == 2


def test_local_paths_to_parquet_folder(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    out = tmp_path / "parts"
    r = CliRunner().invoke(main, ["export", str(FIXTURES), "-f", "parquet", "-o", str(out),
                                  "--batch-size", "4"])
    assert r.exit_code == 1  # two broken samples
    tbl = pq.read_table(out)
    assert tbl.num_rows == len([p for p in FIXTURES.iterdir() if p.is_file()
                                and p.suffix in (".png", ".jpg", ".webp")])
    assert len(list(out.iterdir())) == 3


def test_storage_options() -> None:
    assert parse_storage_options(["anon=true", "endpoint_url=http://127.0.0.1:9000",
                                  "client_kwargs.region_name=eu-west-1",
                                  'config_kwargs={"retries": {"max_attempts": 2}}']) == {
        "anon": True, "endpoint_url": "http://127.0.0.1:9000",
        "client_kwargs": {"region_name": "eu-west-1"},
        "config_kwargs": {"retries": {"max_attempts": 2}}}
    with pytest.raises(UsageError):
        parse_storage_options(["novalue"])
    assert is_url("s3://b/k.png") and is_url("file:///tmp/x.png")
    assert not is_url("C:\\x.png") and not is_url("./s3:/x") and not is_url("x.png")


def test_parquet_rows_mend_what_the_columns_cannot_hold() -> None:
    obj = {"path": "x", "seed": 2 ** 64 - 1, "steps": 10 ** 30, "prompt": "a\ud800b",
           "extra": {"k": {"nested": 1}, "n": 3}, "warnings": [], "loras": [
               {"name": "l", "weight": 0.5, "unet_weight": None, "hash": None, "kind": "lora"}]}
    r = row(obj)
    assert r["seed"] == Decimal(2 ** 64 - 1)
    assert r["steps"] is None and r["prompt"] == "a\ufffdb"
    assert dict(r["extra"]) == {"k": '{"nested": 1}', "n": "3"}
    assert len(r["warnings"]) == 2
    tbl = table([obj, {"path": "y"}])
    assert tbl.num_rows == 2 and tbl.column("seed").to_pylist()[1] is None
    _text, seed = images.infotext(2)
    assert seed == 2 ** 64 - 3
