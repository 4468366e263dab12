"""The NV noise against A1111's own generator, and CUDA's layout on cards with few threads.

Both references are written here the way their sources are written (A1111's
modules/rng_philox.py; ATen's distribution_elementwise_grid_stride_kernel as a per-thread loop),
independently of the vectorised code under test.
"""

from __future__ import annotations

import numpy as np
import pytest

from gendata.model import GenParams
from gendata.regen import RegenOptions, plan
from gendata.regen.nvrng import PhiloxNV, _philox_10, box_muller, wave_threads
from gendata.regen.sampling import GPU_WAVE_CHECKED

_A1111_INV = np.array([2.3283064e-10], dtype=np.float32)
_A1111_INV_2PI = np.array([2.3283064e-10 * 6.2831855], dtype=np.float32)


def a1111_randn(seed: int, shape: tuple[int, ...], offset: int = 0) -> np.ndarray:
    """modules/rng_philox.py's Generator.randn: float32 constants in (1,)-arrays times uint32
    arrays, which numpy computes in float64."""
    n = int(np.prod(shape))
    counter = np.zeros((4, n), dtype=np.uint32)
    counter[0] = offset
    counter[2] = np.arange(n, dtype=np.uint32)
    key = np.empty(n, dtype=np.uint64)
    key.fill(seed)
    key32 = key.view(np.uint32).reshape(-1, 2).transpose(1, 0)
    g = _philox_10([counter[0], counter[1], counter[2], counter[3]], [key32[0], key32[1]])
    u = g[0] * _A1111_INV + _A1111_INV / 2
    v = g[1] * _A1111_INV_2PI + _A1111_INV_2PI / 2
    assert u.dtype == np.float64
    return (np.sqrt(-2.0 * np.log(u)) * np.sin(v)).astype(np.float32).reshape(shape)


@pytest.mark.parametrize("seed", [0, 1, 1234, 2**32 - 1, 2**40 + 7])
def test_nv_equals_a1111_generator_bit_for_bit(seed: int) -> None:
    g = PhiloxNV(seed)
    np.testing.assert_array_equal(g.randn((4, 16, 24)), a1111_randn(seed, (4, 16, 24)))
    np.testing.assert_array_equal(g.randn((3, 4)), a1111_randn(seed, (3, 4), offset=1))


def kernel_loop(seed: int, n: int, threads: int, offset: int = 0) -> tuple[np.ndarray, int]:
    """ATen's grid-stride kernel, thread by thread: 256-thread blocks capped at `threads`,
    curand_init(seed, thread, offset) and curand_normal4 per round."""
    blocks = min(-(-n // 256), threads // 256)
    grid = blocks * 256
    out = np.full(n, np.nan, dtype=np.float32)
    rounded = (-(-n // (grid * 4))) * grid * 4
    key = [np.array([seed & 0xFFFFFFFF], np.uint32), np.array([seed >> 32], np.uint32)]
    for t in range(grid):
        for k, linear in enumerate(range(t, rounded, grid * 4)):
            ctr = [np.array([v], np.uint32) for v in (offset + k, 0, t, 0)]
            w = _philox_10(ctr, [key[0].copy(), key[1].copy()])
            four = [box_muller(w[0], w[1]), box_muller(w[0], w[1], True),
                    box_muller(w[2], w[3]), box_muller(w[2], w[3], True)]
            for ii in range(4):
                li = linear + grid * ii
                if li < n:
                    out[li] = four[ii][0]
    return out, rounded // (grid * 4)


@pytest.mark.parametrize(("n", "threads"), [(1000, 256), (3000, 512), (700, 512)])
def test_threads_lay_noise_out_as_the_cuda_kernel(n: int, threads: int) -> None:
    want, rounds = kernel_loop(77, n, threads)
    g = PhiloxNV(77, threads=threads)
    np.testing.assert_array_equal(g.randn((n,)), want)
    assert g.offset == rounds
    later, _ = kernel_loop(77, n, threads, offset=rounds)
    np.testing.assert_array_equal(g.randn((n,)), later)


def test_enough_threads_is_the_nv_generator() -> None:
    assert wave_threads(132, 2048) == 270_336  # H200
    assert wave_threads(28, 1536) == 43_008  # RTX 3060
    assert wave_threads(24, 1536) == GPU_WAVE_CHECKED  # RTX 4060
    big = PhiloxNV(5, threads=wave_threads(132, 2048)).randn((4, 128, 128))
    np.testing.assert_array_equal(big, PhiloxNV(5).randn((4, 128, 128)))
    small = PhiloxNV(5, threads=wave_threads(28, 1536)).randn((4, 128, 128))
    assert (small != big).mean() > 0.3
    np.testing.assert_array_equal(small.reshape(-1)[:43_008], big.reshape(-1)[:43_008])


def _codes(size: int, **kw: object) -> list[str]:
    params = GenParams(prompt="a cat", steps=20, sampler="Euler a", cfg_scale=7, seed=1,
                       width=size, height=size, **kw)  # type: ignore[arg-type]
    return [d.code for d in plan(params, RegenOptions(device="cuda")).deviations]


def test_report_names_the_card_dependence_of_large_gpu_noise() -> None:
    assert "rng-gpu-threads" not in _codes(768)  # 36,864 values: every current card
    assert "rng-gpu-threads" in _codes(776)
    assert "rng-gpu-threads" in _codes(1024)
    assert "rng-gpu-threads" in _codes(512, hires_upscale=2.0)  # the hires noise is 1024²
    assert "rng-gpu-threads" not in _codes(1024, extra={"RNG": "NV"})
    assert "rng-gpu-threads" not in _codes(1024, extra={"RNG": "CPU"})
    cpu = plan(GenParams(prompt="a", steps=20, sampler="Euler", cfg_scale=7, seed=1, width=1024,
                         height=1024), RegenOptions(device="cpu"))
    assert {"rng-emulated", "rng-gpu-threads"} <= {d.code for d in cpu.deviations}
    assert cpu.fidelity == "close"
