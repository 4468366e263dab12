"""Service layer: generation data where the images live — object storage and other fsspec
filesystems (docs/scale.md).

Metadata is read with range requests, fetching only the bytes that hold it
(`gendata.remote.ranges`); many objects are in flight at once; results go to Parquet
(`gendata.remote.parquet`) or the usual text formats, on this machine's cores
(`gendata.remote.engine_local`) or a Dask cluster (`gendata.remote.engine_dask`).

Nothing here is imported for plain paths: `is_url` is the one cheap entry point, and the
filesystem libraries (fsspec, s3fs, pyarrow, dask; `pip install 'gendata[scale]'`) load only
when a URL, Parquet or `--engine dask` asks for them.
"""

from __future__ import annotations

from .urls import is_url

__all__ = ["is_url"]
