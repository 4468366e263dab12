"""Regen service, pure: the "NV" noise source, a numpy Philox4x32-10 counter RNG.

A1111's `RNG: NV` option (docs/regen.md#how-a1111-is-matched, noise) draws noise with a Philox
generator that gives the numbers of `torch.randn(..., device="cuda")`, so an image made with the
default GPU RNG on an NVIDIA card can start from the same noise on a CPU. The algorithm is the
published Philox4x32 with 10 rounds (Salmon et al., SC'11) followed by curand's Box-Muller transform
on the first two output words; element i of one draw uses counter (offset, 0, i, 0) and key = the
64-bit seed split into two 32-bit halves. Each draw advances `offset` by one.

The Box-Muller arithmetic is A1111's (`modules/rng_philox.py`): its float32 constants meet uint32
arrays, which numpy promotes to float64, and the result is rounded to float32 at the end. That is
what `RNG: NV` images were made with, bit for bit. CUDA itself computes in float32 with the
`__sincosf` intrinsic, so the emulation of the GPU generator can differ from a real card in the
last bits (docs/regen.md, "GPU verification").

CUDA gives element i counter (offset, 0, i, 0) only while a card runs at least one thread per
element. torch launches at most SMs x (max threads per SM) threads; past that each thread draws
four values per round and the layout follows the card (`threads`, docs/regen.md#noise-and-the-gpu).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = [
    "ImageNoise", "NoiseGenerator", "PhiloxNV", "box_muller", "philox_words", "slerp",
    "wave_threads",
]

_MUL = (np.uint64(0xD2511F53), np.uint64(0xCD9E8D57))
_WEYL = (np.uint32(0x9E3779B9), np.uint32(0xBB67AE85))
_MASK32 = np.uint64(0xFFFFFFFF)
# curand's float constants: 2^-32 and 2^-32 * 2pi, both rounded to float32.
_INV32 = np.float32(2.3283064e-10)
_INV32_2PI = np.float32(2.3283064e-10 * 6.2831855)


def _mulhilo(a: np.ndarray, m: np.uint64) -> tuple[np.ndarray, np.ndarray]:
    prod = a.astype(np.uint64) * m
    return (prod >> np.uint64(32)).astype(np.uint32), (prod & _MASK32).astype(np.uint32)


def _philox_10(ctr: list[np.ndarray], key: list[np.ndarray]) -> list[np.ndarray]:
    c0, c1, c2, c3 = ctr
    k0, k1 = key
    with np.errstate(over="ignore"):
        for rnd in range(10):
            hi0, lo0 = _mulhilo(c0, _MUL[0])
            hi1, lo1 = _mulhilo(c2, _MUL[1])
            c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
            if rnd < 9:
                k0 = k0 + _WEYL[0]
                k1 = k1 + _WEYL[1]
    return [c0, c1, c2, c3]


def box_muller(x: np.ndarray, y: np.ndarray, cosine: bool = False) -> np.ndarray:
    """curand's Box-Muller on two uint32 words, in A1111's arithmetic: float64 with the float32
    constants, rounded to float32. `cosine` gives the transform's second value (curand_normal4's
    .y and .w), which only a card running fewer threads than elements uses."""
    u = x.astype(np.float64) * np.float64(_INV32) + np.float64(_INV32 / np.float32(2))
    v = y.astype(np.float64) * np.float64(_INV32_2PI) + np.float64(_INV32_2PI / np.float32(2))
    radius = np.sqrt(-2.0 * np.log(u))
    return (radius * (np.cos(v) if cosine else np.sin(v))).astype(np.float32)


def philox_words(seed: int, counter0: int, n: int) -> list[np.ndarray]:
    """The four Philox output words for counters (counter0, 0, i, 0), i < n."""
    idx = np.arange(n, dtype=np.uint32)
    zeros = np.zeros(n, dtype=np.uint32)
    ctr = [np.full(n, counter0 & 0xFFFFFFFF, dtype=np.uint32), zeros, idx, zeros.copy()]
    key = [np.full(n, seed & 0xFFFFFFFF, dtype=np.uint32),
           np.full(n, seed >> 32, dtype=np.uint32)]
    return _philox_10(ctr, key)


def wave_threads(sms: int, threads_per_sm: int) -> int:
    """The threads torch's CUDA random kernels launch at most on a card: 256-thread blocks,
    as many per SM as fit (ATen's calc_execution_policy)."""
    return int(sms) * (int(threads_per_sm) // 256) * 256


class PhiloxNV:
    """A generator with A1111's life cycle: one per image seed, `randn` once per draw.

    `threads` lays the numbers out as a card running that many threads at once does
    (`wave_threads`); None, A1111's NV, is a card with at least one thread per element.
    """

    def __init__(self, seed: int, offset: int = 0, threads: int | None = None) -> None:
        self.seed = int(seed) & 0xFFFFFFFFFFFFFFFF
        self.offset = int(offset)
        self.threads = threads

    def randn(self, shape: Sequence[int]) -> np.ndarray:
        """Standard normal float32 samples of `shape`: A1111's NV numbers for this seed."""
        n = int(np.prod(shape, dtype=np.int64)) if len(shape) else 1
        blocks = -(-n // 256)
        if self.threads is not None:
            blocks = max(1, min(blocks, self.threads // 256))
        grid = blocks * 256
        if grid >= n:
            w = philox_words(self.seed, self.offset, n)
            self.offset += 1
            return box_muller(w[0], w[1]).reshape(tuple(shape))
        # Each thread draws curand_normal4 per round: element k*4*grid + j*grid + t takes value j
        # of thread t's round k, and the generator's offset advances by the rounds used.
        rounds = -(-n // (4 * grid))
        parts = []
        for k in range(rounds):
            w = philox_words(self.seed, self.offset + k, grid)
            parts += [box_muller(w[0], w[1]), box_muller(w[0], w[1], True),
                      box_muller(w[2], w[3]), box_muller(w[2], w[3], True)]
        self.offset += rounds
        return np.concatenate(parts)[:n].reshape(tuple(shape))


class NoiseGenerator:
    """What `ImageNoise` needs from a generator: one draw of a given shape per call."""

    def randn(self, shape: Sequence[int]) -> np.ndarray:  # pragma: no cover - protocol
        raise NotImplementedError


def slerp(val: float, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """A1111's variation-seed interpolation, quirks kept (docs/regen.md#how-a1111-is-matched): norms
    over dim 1 of the per-image (C, H, W) noise, and a linear fallback with swapped weights when
    nearly parallel."""
    low64, high64 = low.astype(np.float64), high.astype(np.float64)
    low_n = low64 / np.linalg.norm(low64, axis=1, keepdims=True)
    high_n = high64 / np.linalg.norm(high64, axis=1, keepdims=True)
    dot = (low_n * high_n).sum(1)
    if dot.mean() > 0.9995:
        return (low64 * val + high64 * (1 - val)).astype(np.float32)
    omega = np.arccos(np.clip(dot, -1.0, 1.0))
    so = np.sin(omega)
    a = (np.sin((1.0 - val) * omega) / so)[:, None, :]
    b = (np.sin(val * omega) / so)[:, None, :]
    return (a * low64 + b * high64).astype(np.float32)


class ImageNoise:
    """A1111's per-image noise life cycle for one seed (ImageRNG), over any generator factory.

    `first()` is the initial latent noise: the seed's draw, slerped toward the variation seed,
    pasted centred from `Seed resize from`; afterwards the generator continues, or is re-created
    from seed + ENSD, and `next()` gives the noise ancestral samplers draw during sampling.
    """

    def __init__(
        self,
        factory: Callable[[int], NoiseGenerator],
        shape: Sequence[int],
        seed: int,
        subseed: int | None = None,
        subseed_strength: float = 0.0,
        resize_from: tuple[int, int] | None = None,
        ensd: int = 0,
    ) -> None:
        self.factory = factory
        self.shape = tuple(int(s) for s in shape)
        self.seed = seed
        self.subseed = subseed
        self.strength = subseed_strength
        self.resize_from = resize_from
        self.ensd = ensd
        self.generator = factory(seed)
        self.drawn_first = False

    def first(self) -> np.ndarray:
        c, h, w = self.shape
        rf = self.resize_from
        small = (c, rf[1] // 8, rf[0] // 8) if rf else None
        sub = None
        if self.subseed is not None and self.strength:
            sub = self.factory(self.subseed).randn(small or self.shape)
        if small is not None:
            noise = self.factory(self.seed).randn(small)
        else:
            noise = self.generator.randn(self.shape)
        if sub is not None:
            noise = slerp(self.strength, noise, sub)
        if small is not None:
            full = self.generator.randn(self.shape)
            dx, dy = (w - small[2]) // 2, (h - small[1]) // 2
            cw = small[2] if dx >= 0 else small[2] + 2 * dx
            ch = small[1] if dy >= 0 else small[1] + 2 * dy
            tx, ty = max(dx, 0), max(dy, 0)
            sx, sy = max(-dx, 0), max(-dy, 0)
            full[:, ty : ty + ch, tx : tx + cw] = noise[:, sy : sy + ch, sx : sx + cw]
            noise = full
        if self.ensd:
            self.generator = self.factory(self.seed + self.ensd)
        self.drawn_first = True
        return np.asarray(noise, dtype=np.float32)

    def next(self, shape: Sequence[int] | None = None) -> np.ndarray:
        if not self.drawn_first:
            return self.first()
        return np.asarray(self.generator.randn(tuple(shape or self.shape)), dtype=np.float32)
