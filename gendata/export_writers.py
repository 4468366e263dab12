"""Service layer: the writers of `gendata export`, which run in the writing process and put
the rows the workers encoded (export.encode_chunk) into the output stream: one JSON array,
JSON Lines, CSV streamed, or CSV whose extra columns are known only at the end and so is
spilled to a temporary file first. They take a chunk's rows at a time (`write_rows`), so
this process does nothing per row beyond writing.
"""

from __future__ import annotations

import marshal
import re
import struct
import tempfile
from collections.abc import Iterable
from typing import IO

from .csvenc import csv_line

__all__ = ["JsonArrayWriter", "escape_surrogates"]

_EXTRA_ALL = "extra.*"  # placeholder for "every extra.<key> column, sorted"


_SURROGATE = re.compile("[\ud800-\udfff]")


def escape_surrogates(text: str) -> str:
    """`text` with every lone surrogate written as the six characters `\\udcff`: the CSV
    form of what jsonenc writes as a JSON escape (docs/guide.md#file-names-that-are-not-utf-8).

    Python reads a file name that is not UTF-8 with each undecodable byte as a lone
    surrogate (U+DC80-U+DCFF, `os.fsdecode`), and a file's JSON can escape one (`"\\ud800"`);
    neither can be written as UTF-8.
    """
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class JsonArrayWriter:
    """One JSON array, an element a line: `write` takes each element's JSON text as it comes;
    `close` ends the array, so stopping early still leaves valid JSON. The layout of
    `export -f json` and of every command's `-f json` output."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.sep = "[\n"

    def write(self, payload: str) -> None:
        self.out.write(self.sep + payload)
        self.sep = ",\n"

    def write_rows(self, rows: list[str], take: int) -> None:
        """The first `take` of `rows` (element texts), in one write."""
        if take:
            self.out.write(self.sep + ",\n".join(rows[:take]))
            self.sep = ",\n"

    def close(self) -> None:
        self.out.write("[]\n" if self.sep == "[\n" else "\n]\n")


class _LineWriter:
    def __init__(self, out: IO[str], header: str | None = None, end: str = "\n") -> None:
        self.out = out
        self.end = end
        if header is not None:
            out.write(escape_surrogates(header) + end)

    def write_rows(self, rows: list[str], take: int) -> None:
        if take:
            self.out.write(self.end.join(rows[:take]) + self.end)

    def close(self) -> None:
        pass


_BLOCK_SIZE = struct.Struct("<Q")  # the length of each marshal block in the spill file


class _SpillCsvWriter:
    """CSV with one column per extra key: rows go to a temporary file until every key is
    known; `close` writes the header and then the rows, each padded to the full key list.

    A chunk's rows arrive as one marshal block (encode_chunk), which goes to the spill file
    as it is: the writing process spends nothing per row until the end."""

    def __init__(self, out: IO[str], cols: list[str], guard: bool = True) -> None:
        self.out = out
        self.guard = guard
        i = cols.index(_EXTRA_ALL)
        self.before, self.after = cols[:i], cols[i + 1:]
        self.keys: set[str] = set()
        self.spill = tempfile.TemporaryFile(prefix="gendata-export-")  # noqa: SIM115
        self.blocks = 0

    def write_rows(self, block: tuple[bytes, tuple[str, ...]], take: int) -> None:
        blob, keys = block
        if not take:
            return
        rows = marshal.loads(blob)
        if take < len(rows):  # stopped inside the chunk: only the rows counted
            rows = rows[:take]
            blob = marshal.dumps(rows)
            keys = tuple({k for row in rows for k in row[2]})
        self.keys.update(keys)
        self.spill.write(_BLOCK_SIZE.pack(len(blob)))
        self.spill.write(blob)
        self.blocks += 1

    def close(self) -> None:
        keys = _sorted_keys(self.keys)
        header = [*self.before, *(f"extra.{k}" for k in keys), *self.after]
        out = self.out
        out.write(escape_surrogates(csv_line(header, self.guard)) + "\r\n")
        self.spill.seek(0)
        nb, na = bool(self.before), bool(self.after)
        read = self.spill.read
        for _ in range(self.blocks):
            # marshal.loads of the bytes: marshal.load from a file makes a call per object
            (size,) = _BLOCK_SIZE.unpack(read(_BLOCK_SIZE.size))
            lines = []
            for before, after, extras in marshal.loads(read(size)):
                get = extras.get
                cells = [get(k, "") for k in keys]
                if nb:
                    cells.insert(0, before)
                if na:
                    cells.append(after)
                lines.append((",".join(cells) or '""') + "\r\n")
            out.write("".join(lines))
        self.spill.close()


def _sorted_keys(keys: Iterable[str]) -> list[str]:
    return sorted(keys, key=lambda k: (k.casefold(), k))
