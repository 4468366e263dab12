"""The `tui` / `edit` commands are registered, and only they load Textual."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from gendata.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_import_gendata_does_not_import_textual() -> None:
    code = ("import sys, gendata, gendata.api, gendata.cli; "
            "from gendata.cli import COMMANDS; "
            "bad = [m for m in sys.modules if m.split('.')[0] == 'textual']; "
            "print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_commands_registered() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["--help"])
    assert "tui" in result.output and "edit" in result.output
    result = runner.invoke(main, ["tui", "--help"])
    assert result.exit_code == 0 and "folder" in result.output
    result = runner.invoke(main, ["edit", "--help"])
    assert result.exit_code == 0 and "ctrl+s" in result.output


def test_edit_refuses_a_file_that_is_not_an_image() -> None:
    result = CliRunner().invoke(main, ["edit", str(ROOT / "fixtures" / "not_an_image.png")])
    assert result.exit_code == 1
    assert "not a PNG, JPEG or WebP image" in result.output
