"""`gendata serve` through the real command line and as a real process."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("starlette", reason="the serve extra is not installed "
                    "(pip install 'gendata[serve]')")

from gendata.cli import main

from .conftest import Library
from .server import ROOT, serving


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_help_names_the_options_and_the_default_host() -> None:
    code, out = run("serve", "--help")
    assert code == 0
    assert "--db" in out and "--port" in out and "--host" in out and "127.0.0.1" in out
    assert "serve" in run("--help")[1]


def test_no_index_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--db", str(tmp_path / "none.sqlite")])
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"gendata: error: no index at {tmp_path / 'none.sqlite'}: "
                                      "build one with `gendata index PATH`")


def test_a_port_in_use_is_said_plainly(library: Library) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "--db", str(library.db),
                                           "--port", str(port)])
    assert result.exit_code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.output


def test_the_served_page_lists_the_matches(library: Library) -> None:
    with serving(library.db, library.cache) as base:
        assert base.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(base + "?q=fox+lora:foxStyle*", timeout=30) as r:
            page = r.read().decode()
        assert r.status == 200
        assert "fox_snow.png" in page and "fox_forest.png" in page
        assert "castle" not in page.split('id="grid"', 1)[1]
        try:
            urllib.request.urlopen(urllib.request.Request(base, method="POST", data=b"x"),
                                   timeout=30)
            raise AssertionError("a POST was accepted")
        except urllib.error.HTTPError as exc:
            assert exc.code == 405


def test_without_the_serve_extra_it_says_how_to_get_it(library: Library) -> None:
    code = ("import sys; sys.modules['starlette'] = None; sys.modules['uvicorn'] = None; "
            "from gendata.cli import main; main()")
    done = subprocess.run([sys.executable, "-c", code, "serve", "--db", str(library.db)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 2
    assert "pip install 'gendata[serve]'" in done.stderr
