"""`gendata search QUERY --paths|--jsonl` answered without click prints what the click command
prints: each case runs `python -m gendata` (the fast path where it applies) and the click
command line, as processes, and compares standard output, standard error and exit status."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gendata import indexing

from ..conftest import FIXTURES, ROOT

FAST = [sys.executable, "-m", "gendata"]
CLICK = [sys.executable, "-c", "import sys; from gendata.cli import main; sys.argv[0] = "
         "'gendata'; main()"]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fast-search") / "index.sqlite"
    indexing.index([str(FIXTURES)], path)
    return path


def _env(db: Path | None) -> dict[str, str]:
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    if db is not None:
        env["GENDATA_INDEX"] = str(db)
    return env


def _both(args: list[str], db: Path | None) -> tuple[tuple, tuple]:
    out = []
    for cmd in (FAST, CLICK):
        res = subprocess.run([*cmd, *args], capture_output=True, env=_env(db), check=False)
        # click names the program after how it was started (usage lines, --help)
        out.append((res.returncode, *(stream.replace(b"python -m gendata", b"gendata")
                                      for stream in (res.stdout, res.stderr))))
    return out[0], out[1]


CASES = [
    ["search", "fox", "--paths"],
    ["search", "--paths", "fox", "-blurry"],
    ["search", "seed>=1002", "--jsonl"],
    ["search", "--jsonl", "--sort", "seed:desc", "-n", "2", "steps:24"],
    ["search", "--limit=1", "--paths", "--sort=steps", "seed>0"],
    ["search", "--paths", "-0", "seed>0"],
    ["search", "--paths", "--null", "--", "--paths", "fox"],  # after --: query terms
    ["search", "снег", "--paths"],
    ["search", "--paths"],  # no terms: every image
    ["search", "seed:", "--paths"],  # refused query: exit 2
    ["search", "--paths", "--sort", "nothing", "fox"],  # refused sort: exit 2
    ["search", "nothing_matches_this", "--jsonl"],  # exit 1
    # Forms the fast path leaves to click; they must come out the same anyway.
    ["search", "fox"],
    ["search", "--json", "fox"],
    ["search", "--paths", "--jsonl", "fox"],
    ["search", "--jsonl", "-0", "fox"],
    ["search", "--paths", "-n", "0", "fox"],
    ["search", "--paths", "-n", "x", "fox"],
    ["search", "--paths", "--paths", "fox"],
    ["search", "--paths", "--db"],
    ["search", "--paths", "--unknown", "fox"],
    ["search", "--help"],
    ["search", "-h", "--paths"],
    ["search", "cat", "-f", "jsonl", "--paths"],
    ["search", "fox", "-f", "table", "--paths"],
]


@pytest.mark.parametrize("args", CASES, ids=lambda a: " ".join(a[1:]) or "none")
def test_fast_and_click_print_the_same(db: Path, args: list[str]) -> None:
    fast, slow = _both(args, db)
    assert fast == slow


def test_the_cases_cover_every_outcome(db: Path) -> None:
    statuses = {_both(args, db)[0][0] for args in CASES[:12]}
    assert statuses == {0, 1, 2}


def test_a_missing_or_foreign_index(tmp_path: Path) -> None:
    foreign = tmp_path / "foreign.sqlite"
    foreign.write_bytes(b"not an index")
    for args in (["search", "fox", "--paths", "--db", str(tmp_path / "none.sqlite")],
                 ["search", "fox", "--jsonl", f"--db={foreign}"],
                 ["search", "fox", "--paths", "--db", str(tmp_path)]):  # a folder: click
        fast, slow = _both(args, None)
        assert fast == slow and fast[0] == 2, fast


def test_fast_path_loads_neither_click_nor_rich(db: Path) -> None:
    code = ("import sys, gendata.__main__ as m\n"
            "status = m._search(['search', 'seed>0', '--jsonl'])\n"
            "print(status, sorted({'click', 'pydantic', 'rich'} & set(sys.modules)), "
            "file=sys.stderr)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=_env(db), check=True)
    assert res.stderr.strip() == "0 []"
    assert '"seed": 1001' in res.stdout
