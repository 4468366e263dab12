"""`gendata tui -`: paths from a pipe, keys from the terminal, as a user runs it:
`gendata search ... --paths | gendata tui -` in a real pseudo-terminal, the screen read with a
terminal emulator (pyte). Without a terminal, a one-line error."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import shlex
import signal
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pyte
import pytest

from gendata import indexing

COLUMNS, LINES = 110, 30


class Terminal:
    """A shell command running under a pseudo-terminal of COLUMNS x LINES, and its screen."""

    def __init__(self, command: str, env: dict[str, str], cwd: Path) -> None:
        self.screen = pyte.Screen(COLUMNS, LINES)
        self.stream = pyte.ByteStream(self.screen)
        pid, fd = pty.fork()
        if pid == 0:  # the child: its controlling terminal is the pty
            os.chdir(cwd)
            os.execve("/bin/sh", ["/bin/sh", "-c", command], env)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", LINES, COLUMNS, 0, 0))
        self.status: int | None = None

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def pump(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if ready:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:  # the child closed the terminal
                    return
                if not data:
                    return
                self.stream.feed(data)
                # The app asks the terminal questions (colours, sync output); answer nothing.

    def wait_for(self, condition: Callable[[str], bool], timeout: float = 30.0) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.pump(0.1)
            if condition(self.text()):
                return self.text()
        raise AssertionError("screen never showed it; it shows:\n" + self.text())

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)

    def exit_status(self, timeout: float = 20.0) -> int:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.pump(0.05)
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        raise AssertionError("the app did not exit; it shows:\n" + self.text())

    def close(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(self.fd)


def gendata_env(tmp_path: Path, db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "TEXTUAL"))}
    env.update(TERM="xterm-256color", COLORTERM="truecolor", GENDATA_INDEX=str(db),
               HOME=str(tmp_path), LANG="C.UTF-8", LC_ALL="C.UTF-8")
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    return env


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs a pseudo-terminal")
def test_search_piped_into_the_tui(folder: Path, tmp_path: Path) -> None:
    db = tmp_path / "index.sqlite"
    indexing.index([str(folder)], db)
    gendata = f"{shlex.quote(sys.executable)} -m gendata"
    term = Terminal(f"{gendata} search 'steps:24' --paths | {gendata} tui - --no-preview",
                    gendata_env(tmp_path, db), folder)
    try:
        screen = term.wait_for(lambda s: "astronaut_4.png" in s and "4 images" in s)
        assert "standard input" in screen  # the title says where the list came from
        assert "a1111_basic" not in screen  # only what the search piped in
        # Keys come from the terminal: the filter searches the index.
        term.send(b"seed>=1003")
        screen = term.wait_for(lambda s: "2 of 4 images" in s)
        assert "astronaut_3.png" in screen and "astronaut_1.png" not in screen
        term.send(b"\x11")  # ctrl+q
        assert term.exit_status() == 0
    finally:
        term.close()


def test_without_a_terminal_the_error_is_one_line(folder: Path, tmp_path: Path) -> None:
    """No controlling terminal (a cron job, a pipeline under `setsid`): nothing to read keys
    from, said in one line, exit 2."""
    paths = "\n".join(str(p) for p in sorted((folder / "seed_sweep").iterdir()))
    proc = subprocess.run([sys.executable, "-m", "gendata", "tui", "-"], input=paths,
                          capture_output=True, text=True, start_new_session=True, timeout=60,
                          env=gendata_env(tmp_path, tmp_path / "none.sqlite"))
    assert proc.returncode == 2, proc.stderr
    assert "keys must come from the terminal" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_nothing_readable_on_standard_input(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "gendata", "tui", "-"],
                          input=f"{tmp_path / 'gone.png'}\n", capture_output=True, text=True,
                          start_new_session=True, timeout=60,
                          env=gendata_env(tmp_path, tmp_path / "none.sqlite"))
    assert proc.returncode == 2
    assert "no images among the paths on standard input" in proc.stderr
    assert "gone.png" in proc.stderr and "Traceback" not in proc.stderr
