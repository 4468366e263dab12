"""Service layer: export many images' generation data as JSON, JSON Lines or CSV, streaming.

Every record is the `show --json` object (Record.to_json, docs/json.md); bad files
become records with `error` set. The work that grows with the data — reading, parsing and
turning each record into output text — happens inside the worker processes of
`batch.map_files`; this process only writes the text out, in order.

CSV (docs/batch.md, "CSV columns"): the columns in `CSV_COLUMNS`, then one `extra.<key>`
column per extra key found in any file, sorted by key. Those keys are known only once every
file has been read, so by default rows are spilled to an anonymous temporary file (already
CSV-encoded, a few hundred bytes each) and written out with the full header at the end:
memory stays flat and nothing is parsed twice. `csv_extra="json"` (or a field list without
`extra`) streams rows immediately instead, with all extras in one JSON `extra` column.
"""

from __future__ import annotations

import contextlib
import io
import json
import marshal
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import IO, Any, BinaryIO

from .batch import map_chunks, read_ahead, read_one
from .containers.files import FileIdentity
from .csvenc import csv_line, csv_quote, csv_text, csv_value
from .errors import UsageError
from .export_writers import (
    _EXTRA_ALL,
    JsonArrayWriter,
    _LineWriter,
    _sorted_keys,
    _SpillCsvWriter,
    escape_surrogates,
)
from .jsonenc import json_text

__all__ = [
    "CSV_COLUMNS",
    "FORMATS",
    "JSON_FIELDS",
    "ExportOptions",
    "ExportSummary",
    "JsonArrayWriter",
    "csv_cell",
    "csv_columns",
    "export",
    "lora_cell",
    "output_file",
    "without_output",
]

FORMATS = ("json", "jsonl", "csv")

# The top-level keys of a `show --json` object, in order.
JSON_FIELDS: tuple[str, ...] = (
    "path", "container", "generator", "prompt", "negative_prompt", "steps", "sampler",
    "scheduler", "cfg_scale", "seed", "width", "height", "model", "model_hash", "vae",
    "vae_hash", "denoising_strength", "clip_skip", "hires_upscale", "hires_steps",
    "hires_upscaler", "hires_width", "hires_height", "variation_seed",
    "variation_seed_strength", "version", "loras", "embeddings", "samplers", "extra", "notes",
    "raw", "warnings", "error",
)

# Default CSV columns, before the `extra.<key>` ones. `raw` (the verbatim metadata text, up to
# megabytes for ComfyUI workflows, past a spreadsheet cell's limit) is left out unless asked
# for with `fields`.
CSV_COLUMNS: tuple[str, ...] = (
    *(f for f in JSON_FIELDS if f not in ("extra", "raw", "warnings", "error")),
    "warnings", "error",
)



def _known_field(name: str) -> bool:
    group, dot, key = name.partition(".")
    return name in JSON_FIELDS or name == "textual_inversion" or bool(
        dot and key and group in ("extra", "raw"))


@dataclass(frozen=True)
class ExportOptions:
    """What to write. `fields`: top-level `show --json` keys and `extra.<key>` names to keep
    (None: all); in CSV `extra` (or `extra.*`) stands for every extra column. `csv_extra`:
    "columns" (one column per key, written at the end) or "json" (one JSON column, streamed).
    `formula_guard`: CSV cells a spreadsheet would run as formulas get a `'` in front
    (csvenc; docs/batch.md, "Formula guard").
    """

    fmt: str = "jsonl"
    fields: tuple[str, ...] | None = None
    csv_extra: str = "columns"
    stealth: bool | None = None
    formula_guard: bool = True

    def __post_init__(self) -> None:
        from .errors import UsageError

        if self.fmt not in FORMATS:
            raise UsageError(f"unknown export format {self.fmt!r} (choose from json, jsonl, csv)")
        if self.csv_extra not in ("columns", "json"):
            raise UsageError(f"csv_extra must be 'columns' or 'json', not {self.csv_extra!r}")
        for f in self.fields or ():
            if not _known_field(f):
                raise UsageError(f"unknown field {f!r}; fields are {', '.join(JSON_FIELDS)}, "
                                 "extra.<key> and raw.<key>")

    def columns(self) -> list[str]:
        """CSV columns, with `extra.*` where the sorted extra columns go."""
        if self.fields is None:
            cols = [*CSV_COLUMNS, _EXTRA_ALL]
        else:
            cols = [_EXTRA_ALL if f == "extra" else f for f in self.fields]
        if self.csv_extra == "json":
            cols = ["extra" if c == _EXTRA_ALL else c for c in cols]
        return list(dict.fromkeys(cols))

    @property
    def spills(self) -> bool:
        return self.fmt == "csv" and _EXTRA_ALL in self.columns()


@dataclass
class ExportSummary:
    """How an export went. `failed` lists the first `MAX_LISTED` failures as (path, reason);
    `failed_count` counts them all."""

    MAX_LISTED = 1000

    count: int = 0
    failed_count: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    interrupted: bool = False

    def add_failure(self, path: str, reason: str) -> None:
        self.failed_count += 1
        if len(self.failed) < self.MAX_LISTED:
            self.failed.append((path, reason))


# --- turning one record into text (runs in the workers) -------------------------------------

def lora_cell(loras: list[dict[str, Any]]) -> str:
    """LoRAs as the tags a user would type: `<lora:name:0.8> <lyco:other:1.0:0.5>`.

    The weight is left out when the file gives none. Hashes stay in the JSON output (and in
    A1111 files in the `extra.Lora hashes` column).
    """
    tags = []
    for lo in loras:
        parts = [lo.get("kind") or "lora", lo["name"]]
        if lo.get("weight") is not None:
            parts.append(csv_value(lo["weight"]))
            if lo.get("unet_weight") is not None:
                parts.append(csv_value(lo["unet_weight"]))
        tags.append("<" + ":".join(parts) + ">")
    return " ".join(tags)


def csv_cell(obj: dict[str, Any], column: str) -> str:
    """The text of one CSV cell (docs/batch.md, "CSV columns"): numbers as Python writes them,
    empty for null, `loras` as tags, `embeddings` names joined by "; ", `notes`/`warnings`
    one a line, other lists and objects as JSON."""
    if column == "loras":
        return lora_cell(obj.get("loras") or [])
    if column == "embeddings":
        return "; ".join(e["name"] for e in obj.get("embeddings") or [])
    if column in ("notes", "warnings"):
        return "\n".join(obj.get(column) or [])
    if column == "samplers":
        return json.dumps(obj["samplers"], ensure_ascii=False) if obj.get("samplers") else ""
    if column not in obj and "." in column:
        group, _, key = column.partition(".")
        if group in ("extra", "raw"):
            return csv_value((obj.get(group) or {}).get(key))
    if column == "extra":
        return json.dumps(obj["extra"], ensure_ascii=False) if obj.get("extra") else ""
    return csv_value(obj.get(column))


# Columns whose cell is `csv_value` of the value under that key (everything csv_cell does not
# treat specially).
_SPECIAL = frozenset({"loras", "embeddings", "notes", "warnings", "samplers", "extra"})


@lru_cache(maxsize=16)
def _line_encoder(cols: tuple[str, ...], guard: bool = True
                  ) -> Callable[[dict[str, Any]], str]:
    """A function giving `csv_line([csv_cell(obj, c) for c in cols], guard)`, with the
    column dispatch of csv_cell done once instead of for every cell of every row."""
    if len(cols) == 1:
        col = cols[0]
        return lambda obj: csv_line([csv_cell(obj, col)], guard)
    plan = [(c, c not in _SPECIAL and "." not in c) for c in cols]

    def encode_line(obj: dict[str, Any]) -> str:
        get = obj.get
        return ",".join([csv_text(get(c), guard) if plain
                         else csv_quote(csv_cell(obj, c), guard)
                         for c, plain in plan])

    return encode_line


def select_fields(obj: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """Only `fields` of a `show --json` object (`extra.<key>`, `raw.<key>`, `extra.*`)."""
    out: dict[str, Any] = {}
    for f in fields:
        group, dot, key = f.partition(".")
        if dot and group in ("extra", "raw") and f not in obj:
            if key == "*":
                out[group] = obj.get(group) or {}
            else:
                out.setdefault(group, {})[key] = (obj.get(group) or {}).get(key)
        else:
            out[f] = obj.get(f)
    return out


@lru_cache(maxsize=16)
def _csv_plan(opts: ExportOptions) -> tuple[Callable[[dict[str, Any]], str] | None,
                                            Callable[[dict[str, Any]], str] | None, bool]:
    """(encoder of the cells before the extra columns, of those after, whether the extras
    are spilled) for `opts`, worked out once per export instead of once per file."""
    cols = opts.columns()
    guard = opts.formula_guard
    if _EXTRA_ALL not in cols:
        return _line_encoder(tuple(cols), guard), None, False
    i = cols.index(_EXTRA_ALL)
    before = _line_encoder(tuple(cols[:i]), guard) if i else None
    after = _line_encoder(tuple(cols[i + 1:]), guard) if i + 1 < len(cols) else None
    return before, after, True


def encode(path: str, opts: ExportOptions) -> tuple[str, Any, str | None]:
    """Read one file and return (path, output payload, error or None).

    The payload is the JSON text (json, jsonl), the finished CSV line (streamed CSV) or, for
    spilled CSV, (cells before the extras, cells after them, {extra key: cell}).
    """
    rec = read_one(path, opts.stealth)
    obj = rec.to_json()
    if opts.fmt != "csv":
        if opts.fields is not None:
            obj = select_fields(obj, opts.fields)
        return rec.path, json_text(obj), rec.error
    before, after, spilled = _csv_plan(opts)
    if not spilled:
        return rec.path, escape_surrogates(before(obj)), rec.error  # type: ignore[misc]
    guard = opts.formula_guard
    extras = {escape_surrogates(k): escape_surrogates(csv_text(v, guard))
              for k, v in obj["extra"].items()}
    return (rec.path, (escape_surrogates(before(obj)) if before else "",
                       escape_surrogates(after(obj)) if after else "", extras), rec.error)


def encode_chunk(paths: list[str], opts: ExportOptions
                 ) -> tuple[Any, int, list[tuple[int, str, str]]]:
    """`encode` every file of a chunk, in a worker: (the chunk's rows in the form its writer
    takes them, how many there are, (index, path, error) of those that failed).

    The rows go back to the writing process as one object per chunk, not one per file: a
    list of output lines, or for spilled CSV one marshal block of them and the extra keys
    they use, which the writer copies to its spill file as it is."""
    rows: list[Any] = []
    failures: list[tuple[int, str, str]] = []
    for i, path in enumerate(read_ahead(paths)):
        rec_path, payload, error = encode(path, opts)
        rows.append(payload)
        if error:
            failures.append((i, rec_path, error))
    if opts.fmt == "csv" and _csv_plan(opts)[2]:
        keys: set[str] = set()
        for row in rows:
            keys.update(row[2])
        return (marshal.dumps(rows), tuple(keys)), len(rows), failures
    return rows, len(rows), failures


# --- writers (run in this process): gendata/export_writers.py --------------------------------


def csv_columns(records: Iterable[dict[str, Any]], options: ExportOptions | None = None
                ) -> list[str]:
    """The CSV header export writes for these `show --json` objects: `options.columns()`,
    with one `extra.<key>` column per extra key found (sorted) where they go. For records
    already in memory (`show -f csv`); `export` learns the keys as it streams."""
    cols = (options or ExportOptions(fmt="csv")).columns()
    if _EXTRA_ALL not in cols:
        return cols
    keys: set[str] = set()
    for obj in records:
        keys.update(obj.get("extra") or ())
    i = cols.index(_EXTRA_ALL)
    return [*cols[:i], *(f"extra.{k}" for k in _sorted_keys(keys)), *cols[i + 1:]]


def _writer(out: IO[str], opts: ExportOptions) -> Any:
    if opts.fmt == "json":
        return JsonArrayWriter(out)
    if opts.fmt == "jsonl":
        return _LineWriter(out)
    cols = opts.columns()
    if _EXTRA_ALL in cols:
        return _SpillCsvWriter(out, cols, opts.formula_guard)
    return _LineWriter(out, csv_line(cols, opts.formula_guard), "\r\n")


def export(files: Iterable[str], out: IO[str], options: ExportOptions | None = None, *,
           jobs: int | None = None, ordered: bool = True,
           progress: Callable[[ExportSummary], None] | None = None,
           should_stop: Callable[[], bool] | None = None,
           summary: ExportSummary | None = None) -> ExportSummary:
    """Write one record per file to `out` (a text stream; open files with `newline=""`).

    `files` is what to read, e.g. `batch.expand_paths(["photos"], recursive=True)`. Files are
    read on `jobs` processes (None: every core), output in input order unless `ordered` is
    False. `progress` is called with the running summary every few dozen files and at the end;
    `should_stop` is polled after every file (the CLI sets it on Ctrl-C): the export then
    ends early with `interrupted` set and the output still complete and valid. The output is
    completed the same way if an exception (a full disk aside) ends the run.
    """
    opts = options or ExportOptions()
    summary = summary if summary is not None else ExportSummary()
    writer = _writer(out, opts)
    results = map_chunks(partial(encode_chunk, opts=opts), files, jobs=jobs, ordered=ordered)
    per_row = progress is not None or should_stop is not None
    try:
        for rows, n, failures in results:
            take = n
            if not per_row:
                summary.count += n
                for _i, path, error in failures:
                    summary.add_failure(path, error)
            else:
                failed = iter(failures)
                nxt = next(failed, None)
                for i in range(n):
                    summary.count += 1
                    if nxt is not None and nxt[0] == i:
                        summary.add_failure(nxt[1], nxt[2])
                        nxt = next(failed, None)
                    if progress is not None and summary.count % 32 == 0:
                        progress(summary)
                    if should_stop is not None and should_stop():
                        summary.interrupted = True
                        take = i + 1
                        break
            writer.write_rows(rows, take)
            if summary.interrupted:
                break
    finally:
        results.close()  # stops the workers when we leave early
        writer.close()
    if progress is not None:
        progress(summary)
    return summary


def to_text(files: Iterable[str], options: ExportOptions | None = None, **kwargs: Any) -> str:
    """The whole export as one string (for small batches and tests)."""
    buf = io.StringIO(newline="")
    export(files, buf, options, **kwargs)
    return buf.getvalue()



@contextlib.contextmanager
def output_file(path: str | os.PathLike[str], *, force: bool = False
                ) -> Iterator[tuple[BinaryIO, FileIdentity | None]]:
    """The file an export to `path` writes: (the file, the identity of what `path` held).

    The output goes to a temporary file that replaces `path` when the block ends without an
    error, so no input is overwritten before it is read (see `without_output`). Anything but
    a regular file or a new path is refused (a FIFO would block, a device be replaced), as
    are read-only and hard-linked files without `force`; /dev/null is written as it is.
    """
    from .containers.atomic import atomic_output, check_target, resolve_target, write_policy

    if os.path.realpath(path) == os.path.realpath(os.devnull):
        with open(os.devnull, "wb") as sink:
            yield sink, None
        return
    target = resolve_target(path)
    st = check_target(path, target, force=force)
    with write_policy(force=force), atomic_output(path) as f:
        yield f, FileIdentity.from_stat(st) if st is not None else None


def without_output(files: Iterable[str], output: FileIdentity | None) -> Iterator[str]:
    """`files`, stopping with UsageError at one that is the export's own output file (by
    device and inode, so links and other spellings of its name count)."""
    if output is None:
        yield from files
        return
    key = (output.device, output.inode)
    for path in files:
        try:
            st = os.stat(path)
        except (OSError, ValueError):
            yield path
            continue
        if (st.st_dev, st.st_ino) == key:
            raise UsageError(f"{path}: is also the output file; refusing to replace an input "
                             "with the export (choose another -o)")
        yield path
