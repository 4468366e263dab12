"""Every command on every hostile file, through the real CLI in a child process: each finishes
within the time and memory limits, exits 0 or with one-line errors and no traceback, and the
read-only commands change no byte (tests/hostile/runner.py has the limits)."""

from __future__ import annotations

import hashlib
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .builders import HOSTILE
from .runner import Result, run_gendata

ROOT = Path(__file__).resolve().parents[2]
BASIC = ROOT / "fixtures" / "a1111_basic.png"

# command name -> (arguments after `gendata`, given the file; whether it may change the file)
COMMANDS: dict[str, tuple[tuple[str, ...], bool]] = {
    "show": (("show", "{f}"), False),
    "show --json": (("show", "--json", "{f}"), False),
    "set": (("set", "{f}", "--steps", "3"), True),
    "strip": (("strip", "{f}"), True),
    "export": (("export", "-f", "csv", "{d}"), False),
    "diff": (("diff", "{f}", str(BASIC)), False),
    "ti info": (("ti", "info", "{f}"), False),
}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run(command: str, source: Path, work: Path) -> list[str]:
    args, writes = COMMANDS[command]
    folder = work / command.replace(" ", "_")
    folder.mkdir()
    target = folder / source.name
    shutil.copyfile(source, target)
    before = _digest(target)
    result: Result = run_gendata(*(a.format(f=target, d=folder) for a in args), cwd=folder)
    problems = result.problems()
    changed = _digest(target) != before
    if changed and (not writes or result.returncode != 0):
        problems.append("changed the file" + ("" if writes else " (read-only command)"))
    left = sorted(set(os.listdir(folder)) - {source.name})
    if left:
        problems.append(f"left files behind: {left}")
    return [f"{command}: {p} ({result.seconds:.1f} s)" for p in problems]


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_every_command_survives(name: str, hostile_files: dict[str, Path],
                                tmp_path: Path) -> None:
    source = hostile_files[name]
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        found = pool.map(lambda c: _run(c, source, tmp_path), COMMANDS)
        problems = [p for ps in found for p in ps]
    assert not problems, "\n".join(problems)
