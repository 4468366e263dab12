"""`gendata export` from a real S3 API (moto's server on 127.0.0.1) to Parquet, on the local
engine and on a two-worker Dask cluster: rows equal a local export of the same files, every
seed and prompt is right, and the server sent no more than 64 KiB per image."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gendata.cli import main
from gendata.remote.parquet import row

from .conftest import Library
from .s3server import CountingMotoServer

pq = pytest.importorskip("pyarrow.parquet")

CAP = 64 * 1024


def _local_rows(library: Library) -> dict[str, dict[str, Any]]:
    """The local export of the same files (the library's own reader), as Parquet rows by
    relative name."""
    from gendata.batch import expand_paths
    from gendata.export import ExportOptions, to_text

    text = to_text(expand_paths([str(library.local)], recursive=True), ExportOptions(),
                   jobs=1)
    out = {}
    for line in text.splitlines():
        obj = json.loads(line)
        name = str(Path(obj["path"]).relative_to(library.local))
        out[name] = {**row(obj), "path": name}
    return out


def _rows(tbl: Any, library: Library) -> dict[str, dict[str, Any]]:
    out = {}
    for r in tbl.to_pylist():
        name = r["path"][len(library.prefix):]
        assert name not in out, f"{name} exported twice"
        r["extra"] = list(r["extra"])
        out[name] = {**r, "path": name}
    return out


def _check(rows: dict[str, dict[str, Any]], library: Library) -> None:
    assert sorted(rows) == sorted(library.names)
    for name, r in rows.items():
        assert r["error"] is None, r["error"]
        assert r["seed"] == Decimal(library.seeds[name]), name
        assert r["prompt"] == library.prompts[name], name


@pytest.fixture(scope="module")
def local_rows(library: Library) -> dict[str, dict[str, Any]]:
    return _local_rows(library)


def test_local_engine_to_parquet_file(s3: CountingMotoServer, library: Library,
                                      local_rows: dict[str, dict[str, Any]],
                                      tmp_path: Path) -> None:
    out = tmp_path / "lib.parquet"
    s3.counter.reset()
    result = CliRunner().invoke(main, ["export", "-r", library.prefix, "-f", "parquet",
                                       "-o", str(out), "-j", "2", "--batch-size", "100",
                                       "--stats", "-q"])
    assert result.exit_code == 0, result.output
    print(result.output)
    rows = _rows(pq.read_table(out), library)
    _check(rows, library)
    assert rows == local_rows
    # what the server sent, counted at the server
    served = sum(s3.counter.bytes[f"gendata-test/lib/{n}"] for n in library.names)
    requests = sum(s3.counter.requests[f"gendata-test/lib/{n}"] for n in library.names)
    assert served / len(library.names) <= CAP
    assert sum(library.sizes.values()) / len(library.names) > 380 * 1024
    stats = re.search(r"(\d+) requests \(([\d.]+) per image\), ([\d,]+) KiB fetched",
                      result.output)
    assert stats, result.output
    assert int(stats.group(1)) == requests
    assert abs(int(stats.group(3).replace(",", "")) - served / 1024) < 1


@pytest.fixture(scope="module")
def cluster(s3: CountingMotoServer) -> Any:
    """A Dask cluster of two worker processes, started here (after the AWS_* variables are
    set, which the workers inherit)."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                       dashboard_address=None)
    try:
        yield cluster
    finally:
        cluster.close()


def test_dask_cluster_to_parquet_folder(s3: CountingMotoServer, library: Library,
                                        local_rows: dict[str, dict[str, Any]], cluster: Any,
                                        tmp_path: Path) -> None:
    from gendata.remote.job import RemoteExport, run_export

    out = tmp_path / "parts"
    s3.counter.reset()
    summary = run_export(RemoteExport(inputs=(library.prefix,), output=str(out),
                                      fmt="parquet", recursive=True, engine="dask",
                                      address=cluster.scheduler_address, page=25))
    assert summary.count == len(library.names) and not summary.task_errors
    # each of the ten prefixes is a shard listed and written by its own task, spread over
    # both workers
    assert set(summary.tasks_per_worker) == set(cluster.scheduler_info["workers"])
    assert len(summary.cluster_workers) == 2
    parts = sorted(p.name for p in out.iterdir())
    assert len(parts) == summary.parts_written == 20
    rows = _rows(pq.read_table(out), library)
    _check(rows, library)
    assert rows == local_rows
    served = sum(s3.counter.bytes[f"gendata-test/lib/{n}"] for n in library.names)
    assert served / len(library.names) <= CAP
    assert summary.fetch.bytes == served


def test_duckdb_reads_the_parts(library: Library, cluster: Any, tmp_path: Path) -> None:
    duckdb = pytest.importorskip("duckdb")
    from gendata.remote.job import RemoteExport, run_export

    out = tmp_path / "parts"
    run_export(RemoteExport(inputs=(library.prefix + "p03/",), output=str(out),
                            fmt="parquet", engine="dask", address=cluster.scheduler_address))
    con = duckdb.connect()
    n, seeds = con.execute(
        f"select count(*), list(seed order by path) from read_parquet('{out}/*.parquet')"
    ).fetchone()
    names = sorted(n for n in library.names if n.startswith("p03/"))
    assert n == len(names)
    assert [int(s) for s in seeds] == [library.seeds[n] for n in names]
    extra = con.execute(f"select extra['Custom 0'] from read_parquet('{out}/*.parquet') "
                        "where path like '%img-0003.png'").fetchone()
    assert extra == ("yes",)
