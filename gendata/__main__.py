"""`python -m gendata` and the `gendata` command.

`gendata show --json FILE...` is what scripts run once per image, so it answers without
loading click (~15 ms, more than reading the file): `run` recognises that exact form and
prints what the `show` command prints, to the byte, with the same errors and exit status
(tests/cli/test_fast_show.py runs both on every fixture). Any other arguments, or anything
click would check or refuse (an option more, a folder, an unreadable file), go to
gendata.cli.
"""

from __future__ import annotations

import os
import sys


def run() -> None:
    """Entry point: the fast `show --json`, or the click command line."""
    status = _show_json(sys.argv[1:])
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


if __name__ == "__main__":
    run()
