"""Service layer: remote records written as export's text formats (JSON, JSON Lines, CSV),
byte for byte as `gendata.export` writes local files, from the same public pieces
(`ExportOptions`, `csv_columns`, `csv_cell`, `JsonArrayWriter`)."""

from __future__ import annotations

import pickle
import tempfile
from typing import IO, Any

from ..csvenc import csv_line
from ..export import ExportOptions, JsonArrayWriter, csv_cell, csv_columns, select_fields
from ..jsonenc import json_text

__all__ = ["TextSink"]


class TextSink:
    """Writes `show --json` objects to `out` in `opts.fmt`. CSV with one column per extra
    key keeps the rows in a temporary file until every key is known, as export does."""

    def __init__(self, out: IO[str], opts: ExportOptions) -> None:
        self.out = out
        self.opts = opts
        self.array = JsonArrayWriter(out) if opts.fmt == "json" else None
        self.columns: list[str] | None = None
        self.spill: IO[bytes] | None = None
        self.rows = 0
        if opts.fmt == "csv":
            cols = opts.columns()
            if any(c == "extra.*" for c in cols):
                self.spill = tempfile.TemporaryFile(prefix="gendata-export-")  # noqa: SIM115
            else:
                self.columns = cols
                out.write(csv_line(cols, opts.formula_guard) + "\r\n")

    def write(self, obj: dict[str, Any]) -> None:
        if self.opts.fmt == "csv":
            if self.spill is not None:
                pickle.dump(obj, self.spill, pickle.HIGHEST_PROTOCOL)
                self.rows += 1
            else:
                assert self.columns is not None
                self.out.write(csv_line([csv_cell(obj, c) for c in self.columns],
                                        self.opts.formula_guard) + "\r\n")
            return
        if self.opts.fields is not None:
            obj = select_fields(obj, self.opts.fields)
        text = json_text(obj)
        if self.array is not None:
            self.array.write(text)
        else:
            self.out.write(text + "\n")

    def _spilled(self) -> Any:
        assert self.spill is not None
        self.spill.seek(0)
        for _ in range(self.rows):
            yield pickle.load(self.spill)

    def close(self) -> None:
        if self.array is not None:
            self.array.close()
        if self.spill is not None:
            cols = csv_columns(self._spilled(), self.opts)
            guard = self.opts.formula_guard
            self.out.write(csv_line(cols, guard) + "\r\n")
            for obj in self._spilled():
                self.out.write(csv_line([csv_cell(obj, c) for c in cols], guard) + "\r\n")
            self.spill.close()
