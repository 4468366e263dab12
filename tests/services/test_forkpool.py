"""The forked worker pool under export: order, errors, dying workers, stopping early."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from gendata.errors import GenDataError
from gendata.forkpool import WorkerDied, fork_map

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the fork pool is for Linux")


def _chunks(n: int) -> list[list[str]]:
    return [[f"p{i}"] for i in range(n)]


def _slow_echo(chunk: list[str]) -> list[str]:
    time.sleep(0.002 * (int(chunk[0][1:]) % 3))  # finish out of order
    return chunk


def test_results_come_in_input_order_or_all_of_them_unordered() -> None:
    assert list(fork_map(_slow_echo, iter(_chunks(40)), 3)) == _chunks(40)
    unordered = list(fork_map(_slow_echo, iter(_chunks(40)), 3, ordered=False))
    assert sorted(unordered) == sorted(_chunks(40))


def test_results_larger_than_a_pipe_go_through() -> None:
    out = list(fork_map(lambda c: ["x" * 500_000], iter(_chunks(6)), 2))
    assert out == [["x" * 500_000]] * 6


def test_an_exception_in_a_worker_is_raised_here() -> None:
    def boom(chunk: list[str]) -> list[str]:
        if chunk == ["p5"]:
            raise KeyError("p5 is bad")
        return chunk

    with pytest.raises(KeyError, match="p5 is bad"):
        list(fork_map(boom, iter(_chunks(20)), 2))


def test_a_worker_that_dies_is_reported() -> None:
    def die(chunk: list[str]) -> list[str]:
        if chunk == ["p7"]:
            os.kill(os.getpid(), signal.SIGKILL)
        return chunk

    with pytest.raises(WorkerDied) as info:
        list(fork_map(die, iter(_chunks(20)), 2))
    assert isinstance(info.value, GenDataError)


def test_stopping_early_ends_every_worker() -> None:
    pids: list[int] = []

    def whoami(chunk: list[str]) -> int:
        return os.getpid()

    results = fork_map(whoami, iter(_chunks(10_000)), 2)
    pids = [next(results) for _ in range(6)]
    results.close()
    for pid in set(pids):
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # already reaped: no zombie, no straggler
