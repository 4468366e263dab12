"""Service layer: telling URLs from paths, and opening the filesystem a URL names.

Any fsspec protocol works (`s3://`, `gs://`, `az://`, `hf://`, `http(s)://`, `memory://`,
`file://`); credentials and endpoints come from each filesystem's own configuration (for S3
the `AWS_*` variables, `AWS_ENDPOINT_URL` included, and `~/.aws`), and `--storage-option
KEY=VALUE` passes anything else (docs/scale.md#urls-and-credentials).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import UsageError

__all__ = ["filesystem", "is_local", "is_url", "join_url", "parse_storage_options",
           "scale_import_error", "url_of"]

# `scheme://` with a scheme of two or more characters: a Windows drive (`C:\`, `C://`) is a
# path, and so is anything without `://`.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+://")


def is_url(path: object) -> bool:
    """Whether `path` is a URL (`s3://bucket/key`, `file:///tmp/x.png`) rather than a path."""
    return isinstance(path, str) and _URL.match(path) is not None


def scale_import_error(exc: ImportError) -> UsageError:
    """The words for a missing optional dependency of this package."""
    name = exc.name or "a package"
    return UsageError(f"{name} is not installed: URLs, Parquet and --engine dask need "
                      "`pip install 'gendata[scale]'`")


def parse_storage_options(pairs: Iterable[str]) -> dict[str, Any]:
    """`KEY=VALUE` pairs as filesystem options. A value that reads as JSON (a number,
    `true`, an object such as `{"retries": {"max_attempts": 2}}`) is passed as that value,
    anything else as text; a dotted key (`client_kwargs.region_name=eu-west-1`) fills a
    nested dictionary, as fsspec's own configuration does."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"--storage-option: expected KEY=VALUE, got {pair!r}")
        try:
            value: Any = json.loads(text)
        except ValueError:
            value = text
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise UsageError(f"--storage-option: {key!r} sets inside {part!r}, which "
                                 "already has a value")
            node = child
        node[leaf] = value
    return out


def filesystem(url: str, options: Mapping[str, Any] | None = None) -> tuple[Any, str]:
    """(the fsspec filesystem, the path inside it) for `url`, with `options` on top of the
    filesystem's own configuration. Instances are cached by fsspec, so every object of a
    bucket shares one connection pool."""
    try:
        from fsspec.core import url_to_fs
    except ImportError as exc:
        raise scale_import_error(exc) from None
    try:
        return url_to_fs(url, **dict(options or {}))
    except ImportError as exc:  # the protocol's own library (s3fs, gcsfs, adlfs, ...)
        raise scale_import_error(exc) from None
    except ValueError as exc:  # an unknown protocol
        raise UsageError(f"{url}: {exc}") from None


def url_of(fs: Any, path: str) -> str:
    """The URL of `path` in `fs`, as records name it (`s3://bucket/key`)."""
    if is_local(fs):
        return path
    return str(fs.unstrip_protocol(path))


def is_local(fs: Any) -> bool:
    """Whether `fs` is this machine's own filesystem (then the local reader is used)."""
    protocol = fs.protocol
    names = (protocol,) if isinstance(protocol, str) else tuple(protocol)
    return "file" in names or "local" in names


def join_url(base: str, name: str) -> str:
    """`base` + "/" + `name`, for URLs and paths alike."""
    return base.rstrip("/") + "/" + name
