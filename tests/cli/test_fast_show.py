"""`gendata show --json FILE...` answered without click prints what the click command prints.

Each case runs `python -m gendata` (which takes the fast path where it can) and the click
command line itself, as processes, and compares standard output, standard error and the exit
status.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import FIXTURES, ROOT

FAST = [sys.executable, "-m", "gendata"]
CLICK = [sys.executable, "-c", "import sys; from gendata.cli import main; sys.argv[0] = "
         "'gendata'; main()"]


def _env() -> dict[str, str]:
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _both(args: list[str], cwd: Path | None = None) -> tuple[tuple, tuple]:
    out = []
    for cmd in (FAST, CLICK):
        res = subprocess.run([*cmd, *args], capture_output=True, env=_env(), cwd=cwd,
                             check=False)
        # click names the program after how it was started; the two runs start it differently
        out.append((res.returncode, res.stdout, res.stderr.replace(b"python -m gendata",
                                                                     b"gendata")))
    return out[0], out[1]


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.iterdir() if p.is_file()))
def test_each_fixture_prints_the_same(name: str) -> None:
    fast, slow = _both(["show", "--json", str(FIXTURES / name)])
    assert fast == slow


def test_several_files_missing_ones_and_option_last(tmp_path: Path) -> None:
    files = [str(FIXTURES / "a1111_basic.png"), str(tmp_path / "missing.png"),
             str(FIXTURES / "not_an_image.png"), str(FIXTURES / "a1111_unicode.jpg")]
    fast, slow = _both(["show", *files, "--json"])
    assert fast == slow and fast[0] == 1 and fast[2].count(b"gendata: error:") == 2


@pytest.mark.parametrize("args", [
    ["show", "--json", "{folder}"],  # click refuses folders: usage error
    ["show", "--json", "--raw", "{file}"],
    ["show", "--json", "--json", "{file}"],
    ["show", "--json"],
    ["show", "--", "--json"],
    ["show", "--json", "-"],
])
def test_other_forms_go_to_click(tmp_path: Path, args: list[str]) -> None:
    args = [a.format(folder=tmp_path, file=FIXTURES / "a1111.webp") for a in args]
    fast, slow = _both(args)
    assert fast == slow


def test_relative_and_odd_names(tmp_path: Path) -> None:
    for name in ("plain.png", "spa ce.png", "ユニコード.png", "comma,quote'.png"):
        shutil.copy(FIXTURES / "a1111_basic.png", tmp_path / name)
    fast, slow = _both(["show", "--json", "plain.png", "spa ce.png", "ユニコード.png",
                        "comma,quote'.png"], cwd=tmp_path)
    assert fast == slow and fast[0] == 0 and len(fast[1].splitlines()) == 4


def test_fast_path_loads_neither_click_nor_pydantic() -> None:
    code = ("import sys, gendata.__main__ as m\n"
            f"status = m._show_json(['show', '--json', {str(FIXTURES / 'a1111_basic.png')!r}])\n"
            "print(status, sorted({'click', 'pydantic', 'rich'} & set(sys.modules)), "
            "file=sys.stderr)\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=_env(), check=True)
    assert res.stderr.strip() == "0 []"
    assert '"generator": "a1111"' in res.stdout


def test_installed_command_runs_the_entry_point() -> None:
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["gendata"] == "gendata.__main__:run"
