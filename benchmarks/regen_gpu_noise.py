"""The noise checks of benchmarks/regen_gpu.py: the NV emulation against CUDA's generator.

`s` is regen_gpu's Session: `s.cuda`, `s.device` and `s.left()` (seconds of budget left). In the
smoke run (no CUDA) the emulation stands in for the card, which only exercises the code.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

NO_CUDA = "skipped: no CUDA"
BUDGET = "skipped: budget"
SHAPES = [(4, 64, 64), (4, 96, 96), (4, 128, 128)]
FIXED_SEEDS = [0, 1, 2**32 - 1]
# A1111's docstring values for PhiloxNV(0).randn((3, 4)) (modules/rng_philox.py).
A1111_SEED0 = [[-0.92466259, -0.42534415, -2.6438457, 0.14518388],
               [-0.12086647, -0.57972564, -0.62285122, -0.32838709],
               [-1.07454231, -0.36314407, -1.67105067, 2.26550497]]


def seeds() -> list[int]:
    return FIXED_SEEDS + [int(s) for s in np.random.default_rng(16).integers(0, 2**32, 12)]


def diff(a: np.ndarray, ref: np.ndarray) -> dict[str, Any]:
    d = np.abs(a.astype(np.float64) - ref.astype(np.float64))
    ulp = d / np.spacing(np.abs(ref).astype(np.float32)).astype(np.float64)
    return {"max_abs": float(d.max()), "differing": int((a != ref).sum()), "of": int(a.size),
            "max_ulp": float(ulp.max())}


def float32_randn(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    """curand's Box-Muller in float32 (what the card computes, but with numpy's sin and log)."""
    from gendata.regen.nvrng import philox_words

    w = philox_words(seed, 0, int(np.prod(shape)))
    inv, inv2pi = np.float32(2.3283064e-10), np.float32(2.3283064e-10 * 6.2831855)
    u = w[0].astype(np.float32) * inv + inv / np.float32(2)
    v = w[1].astype(np.float32) * inv2pi + inv2pi / np.float32(2)
    return (np.sqrt(np.float32(-2.0) * np.log(u)) * np.sin(v)).astype(np.float32).reshape(shape)


def card_draws(s: Any, seed: int, shape: tuple[int, ...], n: int = 2,
               threads: int | None = None) -> list[np.ndarray]:
    """`n` successive draws of one seeded generator: CUDA's, or in the smoke run the emulation
    standing in for it (which only exercises the code)."""
    if s.cuda:
        import torch

        g = torch.Generator("cuda").manual_seed(seed)
        return [torch.randn(shape, generator=g, device="cuda").cpu().numpy() for _ in range(n)]
    from gendata.regen.nvrng import PhiloxNV

    emu = PhiloxNV(seed, threads=threads)
    return [emu.randn(shape) for _ in range(n)]


def card_threads(s: Any) -> int:
    from gendata.regen.nvrng import wave_threads

    if not s.cuda:
        return 1024
    import torch

    p = torch.cuda.get_device_properties(0)
    return wave_threads(p.multi_processor_count, p.max_threads_per_multi_processor)


def nv_noise(s: Any) -> dict[str, Any]:
    from gendata.regen.nvrng import PhiloxNV

    out: dict[str, Any] = {"a1111_docstring_max_abs": float(np.abs(
        PhiloxNV(0).randn((3, 4)) - np.array(A1111_SEED0)).max())}
    shapes, seed_list = (SHAPES, seeds()) if s.cuda else ([(4, 8, 8)], FIXED_SEEDS)
    rows: list[Any] = []
    for shape in shapes:
        for seed in seed_list:
            if s.left() <= 0:
                rows.append(BUDGET)
                break
            first, second = card_draws(s, seed, shape)
            emu = PhiloxNV(seed)
            rows.append({"shape": list(shape), "seed": seed, "first": diff(emu.randn(shape), first),
                         "second": diff(emu.randn(shape), second),
                         "float32_first": diff(float32_randn(seed, shape), first)})
    done = [r for r in rows if isinstance(r, dict)]
    out["max_abs_diff"] = max((max(r["first"]["max_abs"], r["second"]["max_abs"]) for r in done),
                              default=None)
    out["float32_max_abs_diff"] = max((r["float32_first"]["max_abs"] for r in done), default=None)
    out["values_differing"] = sum(r["first"]["differing"] + r["second"]["differing"] for r in done)
    out["rows"] = rows
    out["wave"] = wave(s)
    return out if s.cuda else {"status": NO_CUDA, "smoke": out,
                               "a1111_docstring_max_abs": out["a1111_docstring_max_abs"]}


def wave(s: Any) -> list[Any]:
    """Latents just above one and four times the card's thread count: CUDA's layout changes,
    which PhiloxNV(threads=...) follows and plain PhiloxNV does not."""
    from gendata.regen.nvrng import PhiloxNV

    cap = card_threads(s)
    rows: list[Any] = []
    for target in (cap, 4 * cap):
        side = int(np.ceil(np.sqrt(target / 4) / 8) * 8)
        side += 8 if 4 * side * side <= target else 0
        shape = (4, side, side)
        for seed in FIXED_SEEDS:
            if s.left() <= 0:
                return [*rows, BUDGET]
            ref = card_draws(s, seed, shape, threads=cap)
            plain, laid = PhiloxNV(seed), PhiloxNV(seed, threads=cap)
            rows.append({"shape": list(shape), "seed": seed, "threads": cap,
                         "plain_first": diff(plain.randn(shape), ref[0]),
                         "threads_first": diff(laid.randn(shape), ref[0]),
                         "threads_second": diff(laid.randn(shape), ref[1])})
    return rows


def nv_variation(s: Any) -> dict[str, Any]:
    """regen's ImageNoise through the runner: the CUDA generator against the emulation."""
    from gendata.model import GenParams
    from gendata.regen import RegenOptions, plan
    from gendata.regen.runner import _noise

    cases = {
        "variation": ({"variation_seed": 99, "variation_seed_strength": 0.3}, {}),
        "resize_smaller": ({}, {"Seed resize from": "448x576"}),
        "resize_larger": ({}, {"Seed resize from": "768x640"}),
        "variation_resize": ({"variation_seed": 7, "variation_seed_strength": 0.6},
                             {"Seed resize from": "384x384"}),
        "ensd": ({}, {"ENSD": "31337"}),
    }
    sizes = [512, 1024] if s.cuda else [64]
    out: dict[str, Any] = {}
    for name, (fields, extra) in cases.items():
        for size in sizes:
            if s.left() <= 0:
                out[f"{name}_{size}"] = BUDGET
                continue
            if not s.cuda and "Seed resize from" in extra:
                extra = {"Seed resize from": "48x40"}
            p = plan(GenParams(prompt="a", steps=20, sampler="Euler a", cfg_scale=7, seed=1234,
                               width=size, height=size, extra=extra, **fields),
                     RegenOptions(device=s.device))
            ref_gen = "torch-cuda" if s.cuda else "philox"
            ref = _noise(replace(p.noise, generator=ref_gen), s.device)
            emu = _noise(replace(p.noise, generator="philox"), s.device)
            draws = [diff(emu.first(), ref.first())]
            draws += [diff(emu.next(), ref.next()) for _ in range(2)]
            out[f"{name}_{size}"] = {"first": draws[0], "steps": draws[1:],
                                     "max_abs": max(d["max_abs"] for d in draws)}
    return out if s.cuda else {"status": NO_CUDA, "smoke": out}
