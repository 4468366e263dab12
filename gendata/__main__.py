"""`python -m gendata` and the `gendata` command.

`gendata show --json FILE...` is what scripts run once per image, and `gendata search
QUERY --paths` (or `--jsonl`) once per query, so they answer without loading click (~15 ms,
more than reading the file or the query): `run` recognises those forms and prints what the
click commands print, to the byte, with the same errors and exit status
(tests/cli/test_fast_show.py and test_fast_search.py run both). Any other arguments, or
anything click would check or refuse (an option more, a folder, an unreadable file), go to
gendata.cli.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def run() -> None:
    """Entry point: the fast `show --json` and `search --paths/--jsonl`, or the click
    command line."""
    args = sys.argv[1:]
    status = _show_json(args) if args[:1] == ["show"] else _search(args)
    if status is not None:
        sys.exit(status)
    from .cli import main

    main()


def _plain_file_args(args: list[str]) -> list[str] | None:
    """The paths of `show --json PATH...`, when click would take each as it is (its
    `click.Path(dir_okay=False)` refuses folders and unreadable files); else None."""
    if os.name != "posix" or len(args) < 3 or args[0] != "show" or args.count("--json") != 1:
        return None
    if not _utf8(sys.stdout):
        return None  # click rewraps a misconfigured stdout; leave that to it
    paths = [a for a in args[1:] if a != "--json"]
    for path in paths:
        if not path or path.startswith("-") or not path.isprintable() or "://" in path:
            return None  # options, URLs, and names that need click's care in messages
        try:
            st = os.stat(path)
        except (OSError, ValueError):
            continue  # click passes a missing path on; reading it gives the error record
        if (st.st_mode & 0o170000) == 0o040000 or not os.access(path, os.R_OK):
            return None
    return paths


def _utf8(stream: object) -> bool:
    encoding = getattr(stream, "encoding", None)
    return isinstance(encoding, str) and encoding.lower().replace("_", "-") in ("utf-8", "utf8")


def _show_json(args: list[str]) -> int | None:
    """Run `show --json PATH...` without click: its exit status, or None to use click."""
    paths = _plain_file_args(args)
    if paths is None:
        return None
    from .errors import GenDataError
    from .jsonenc import json_text
    from .reading import Record, read  # not .api: its edit half loads more than a read needs

    failed = 0
    out = sys.stdout
    try:
        for path in paths:
            try:
                rec = read(path)
            except GenDataError as exc:
                rec = Record(path=path, error=str(exc))
            if rec.raw is not None and any(e.key == "sd-ti-embedding" for e in rec.raw.entries):
                from .batch import attach_extras

                attach_extras(rec)
            out.write(json_text(rec.to_json()) + "\n")
            out.flush()
            if rec.error:
                failed += 1
                from .cli._common import error

                error(rec.error)
    except BrokenPipeError:  # `gendata show --json *.png | head`: as click ends it
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("\nAborted!\n")
        return 1
    return 1 if failed else 0


# search's options that take a value, and its flags; any other `--name`, and its other
# short options (click reads `-f jsonl` and `-h` as options, not query terms), go to click
_SEARCH_VALUES = ("--db", "-n", "--limit", "--sort")
_SEARCH_FLAGS = ("--paths", "--jsonl", "-0", "--null")
_SEARCH_OTHER_SHORT = ("-f", "-h")


def _search_options(args: list[str]) -> tuple[str, dict[str, Any]] | None:
    """The query and options of `search ... --paths|--jsonl`, read as click reads them (a
    `-word` is a query term, `--` ends the options); None for anything else, or anything
    click would check or refuse."""
    if os.name != "posix" or args[:1] != ["search"] or not _utf8(sys.stdout):
        return None
    seen: dict[str, str | None] = {}
    terms: list[str] = []
    rest = iter(args[1:])
    for arg in rest:
        if arg == "--":
            terms.extend(rest)
            break
        name, eq, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        value: str | None = None
        if name in _SEARCH_VALUES:
            value = inline if eq else next(rest, None)
            if value is None:
                return None
            name = {"-n": "--limit"}.get(name, name)
        elif name in _SEARCH_FLAGS and not eq:
            name = {"--null": "-0"}.get(name, name)
        elif arg.startswith("--") or arg in _SEARCH_OTHER_SHORT:
            return None
        else:
            terms.append(arg)
            continue
        if name in seen:
            return None  # repeated: click's rules decide
        seen[name] = value
    jsonl = "--jsonl" in seen
    if jsonl == ("--paths" in seen) or ("-0" in seen and jsonl):
        return None
    db, limit = seen.get("--db"), seen.get("--limit")
    if db is not None and (not db or os.path.isdir(db)):
        return None
    if limit is not None and not (limit.isascii() and limit.isdigit() and int(limit) >= 1):
        return None
    return " ".join(terms), {"db": db, "jsonl": jsonl, "null": "-0" in seen,
                             "limit": int(limit) if limit is not None else None,
                             "sort": seen.get("--sort")}


def _search(args: list[str]) -> int | None:
    """Run `search ... --paths|--jsonl` without click: its exit status, or None."""
    parsed = _search_options(args)
    if parsed is None:
        return None
    from .matches import write_matches

    query, options = parsed
    try:
        return write_matches(query, **options)
    except KeyboardInterrupt:
        sys.stderr.write("\nAborted!\n")
        return 1


if __name__ == "__main__":
    run()
