"""Front end: the matches of a search written as paths or as JSON Lines, the forms scripts run
once per query (`gendata search lora:x --paths | ...`).

Both the click command (`gendata.cli.search`) and the start-up path that answers without
loading click (`gendata.__main__`) write through `write_matches`, so the two print the same
bytes, errors and exit status (tests/cli/test_fast_search.py runs both).
"""

from __future__ import annotations

import os
import sys

__all__ = ["silence_stdout", "write_matches"]


def write_matches(query: str, db: str | None, *, jsonl: bool = False, null: bool = False,
                  limit: int | None = None, sort: str | None = None) -> int:
    """Print the paths (NUL-ended with `null`) or, with `jsonl`, the `show --json` objects
    of the indexed images that match `query`; the exit status as grep's: 0 when something
    matched, 1 when nothing did, 2 for a query the language refuses or an unusable index."""
    from .indexing.query import QueryError
    from .indexing.results import objects, open_index, rows
    from .indexing.schema import IndexDatabaseError

    try:
        conn = open_index(db)
    except IndexDatabaseError as exc:
        _error(str(exc))
        return 2
    found = 0
    out = sys.stdout
    try:
        if jsonl:
            from .jsonenc import json_text

            for obj in objects(query, conn, sort=sort, limit=limit):
                out.write(json_text(obj) + "\n")
                out.flush()  # a line as soon as it is found, as `show --json` does
                found += 1
        else:
            end = "\0" if null else "\n"
            for (path,) in rows(conn, query, "i.path", sort=sort, limit=limit):
                out.write(path + end)
                found += 1
            out.flush()
    except (QueryError, IndexDatabaseError) as exc:
        _error(str(exc))
        return 2
    except BrokenPipeError:
        silence_stdout()
    finally:
        conn.close()
    return 0 if found else 1


def _error(message: str) -> None:
    from .present.values import visible

    sys.stderr.write(f"gendata: error: {visible(message, '')}\n")
    sys.stderr.flush()


def silence_stdout() -> None:
    """After a broken pipe (`gendata search ... | head`), keep Python's exit flush quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
