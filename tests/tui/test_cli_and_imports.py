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


def test_presentation_and_walker_import_no_front_end() -> None:
    """gendata.present serves the CLI, the TUI and a web gallery alike, so it must not pull in
    any of their toolkits (nor pydantic: `show` draws deferred parameters unbuilt)."""
    code = ("import sys, gendata.present, gendata.present.form, gendata.walk; "
            "bad = sorted({m.split('.')[0] for m in sys.modules} "
            "& {'click', 'rich', 'textual', 'pydantic'}); print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_tui_imports_only_public_layers() -> None:
    """The TUI is a front end over the library: nothing from the CLI, and no reaching past the
    facade into dialects or containers."""
    import ast

    bad = []
    for path in sorted((ROOT / "gendata" / "tui").rglob("*.py")):
        package = ["gendata", *path.relative_to(ROOT / "gendata").parent.parts]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = package[:len(package) - node.level + 1] if node.level else []
                if node.module:
                    names = [".".join([*base, node.module])]
                else:
                    names = [".".join([*base, a.name]) for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            bad += [f"{path.name}: {n}" for n in names
                    if n.split(".")[:2] in (["gendata", "cli"], ["gendata", "formats"],
                                            ["gendata", "containers"])]
    assert bad == []
