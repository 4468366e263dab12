"""Regen service, pure: A1111's sigma schedules, computed the way k-diffusion computes them.

docs/regen.md#how-a1111-is-matched, samplers: A1111 resolves a "Schedule type" to a list of sigmas
from the model's 1000 discrete sigmas (SD1: scaled-linear betas 0.00085..0.012). Having the exact
list in plain numpy lets the plan print it, lets tests check it without torch, and lets the runner
hand it to schedulers that accept custom sigmas. Everything is float64 except the model's
alphas_cumprod, which LDM stores as float32, as A1111 does.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

__all__ = [
    "AYS_SD1",
    "SCHEDULE_LABELS",
    "a1111_sigmas",
    "model_sigmas",
    "sigma_to_t",
    "t_to_sigma",
]

# Schedule-type label (as written in the infotext) -> internal name.
SCHEDULE_LABELS: dict[str, str] = {
    "Automatic": "automatic",
    "Uniform": "uniform",
    "Karras": "karras",
    "Exponential": "exponential",
    "Polyexponential": "polyexponential",
    "SGM Uniform": "sgm_uniform",
    "KL Optimal": "kl_optimal",
    "Align Your Steps": "align_your_steps",
    "Simple": "simple",
    "Normal": "normal",
    "DDIM": "ddim",
    "Beta": "beta",
}

# Align Your Steps, SD1.5 reference sigmas (NVIDIA's published 11-value list). A1111 uses it
# as is only for 11 steps; any other count is a log-linear interpolation to `steps` values.
AYS_SD1 = [14.615, 6.475, 3.861, 2.697, 1.886, 1.396, 0.963, 0.652, 0.399, 0.152, 0.029]

_DEFAULT_RHO = {"karras": 7.0, "polyexponential": 1.0}


def model_sigmas(
    beta_start: float = 0.00085, beta_end: float = 0.012, n: int = 1000
) -> np.ndarray:
    """The model's discrete sigmas, sqrt((1 - acp) / acp), from a scaled-linear beta schedule."""
    betas = np.linspace(beta_start**0.5, beta_end**0.5, n, dtype=np.float64) ** 2
    acp = np.cumprod(1.0 - betas).astype(np.float32).astype(np.float64)
    return np.sqrt((1.0 - acp) / acp)


def t_to_sigma(t: np.ndarray | float, sigmas: np.ndarray) -> np.ndarray:
    """k-diffusion's DiscreteSchedule.t_to_sigma: linear interpolation of log sigma in t."""
    t = np.asarray(t, dtype=np.float64)
    log_s = np.log(sigmas)
    lo = np.floor(t).astype(np.int64)
    hi = np.ceil(t).astype(np.int64)
    w = t - lo
    return np.exp((1.0 - w) * log_s[lo] + w * log_s[hi])


def sigma_to_t(sigma: float, sigmas: np.ndarray) -> float:
    """k-diffusion's DiscreteSchedule.sigma_to_t: the inverse, interpolating in log sigma."""
    log_s = np.log(sigmas)
    ls = math.log(sigma)
    dists = ls - log_s
    low = int(np.clip(np.cumsum(dists >= 0).argmax(), 0, len(sigmas) - 2))
    high = low + 1
    w = (log_s[low] - ls) / (log_s[low] - log_s[high])
    w = min(max(w, 0.0), 1.0)
    return float((1 - w) * low + w * high)


def _uniform(n: int, sig: np.ndarray, **_: float) -> np.ndarray:
    t = np.linspace(len(sig) - 1, 0, n)
    return np.append(t_to_sigma(t, sig), 0.0)


def _karras(n: int, sig: np.ndarray, smin: float, smax: float, rho: float) -> np.ndarray:
    ramp = np.linspace(0, 1, n)
    lo, hi = smin ** (1 / rho), smax ** (1 / rho)
    return np.append((hi + ramp * (lo - hi)) ** rho, 0.0)


def _exponential(n: int, sig: np.ndarray, smin: float, smax: float, rho: float) -> np.ndarray:
    return np.append(np.exp(np.linspace(math.log(smax), math.log(smin), n)), 0.0)


def _polyexponential(n: int, sig: np.ndarray, smin: float, smax: float, rho: float) -> np.ndarray:
    ramp = np.linspace(1, 0, n) ** rho
    return np.append(np.exp(ramp * (math.log(smax) - math.log(smin)) + math.log(smin)), 0.0)


def _normal(n: int, sig: np.ndarray, smin: float, smax: float, sgm: bool = False) -> np.ndarray:
    start, end = sigma_to_t(smax, sig), sigma_to_t(smin, sig)
    ts = np.linspace(start, end, n + 1)[:-1] if sgm else np.linspace(start, end, n)
    return np.append(t_to_sigma(ts, sig), 0.0)


def _sgm_uniform(n: int, sig: np.ndarray, smin: float, smax: float, rho: float) -> np.ndarray:
    return _normal(n, sig, smin, smax, sgm=True)


def _normal_sched(n: int, sig: np.ndarray, smin: float, smax: float, rho: float) -> np.ndarray:
    return _normal(n, sig, smin, smax)


def _kl_optimal(n: int, sig: np.ndarray, smin: float, smax: float, rho: float) -> np.ndarray:
    # Ends at sigma_min, not at zero: A1111's KL Optimal returns n + 1 values as they are.
    amin, amax = math.atan(smin), math.atan(smax)
    frac = np.arange(n + 1) / n
    return np.tan(frac * amin + (1.0 - frac) * amax)


def _simple(n: int, sig: np.ndarray, smin: float, smax: float, rho: float) -> np.ndarray:
    stride = len(sig) / n
    return np.append([sig[-(1 + int(x * stride))] for x in range(n)], 0.0)


def _ddim(n: int, sig: np.ndarray, smin: float, smax: float, rho: float) -> np.ndarray:
    stride = max(len(sig) // n, 1)
    picked = [sig[x] for x in range(1, len(sig), stride)]
    return np.append(picked[::-1], 0.0)


def _ays(n: int, sig: np.ndarray, smin: float, smax: float, rho: float) -> np.ndarray:
    ref = np.asarray(AYS_SD1)
    if n != len(ref):
        xs = np.linspace(0, 1, len(ref))
        ys = np.log(ref[::-1])
        ref = np.exp(np.interp(np.linspace(0, 1, n), xs, ys))[::-1]
    return np.append(ref, 0.0)


def _betainc(x: float, a: float, b: float) -> float:
    """Regularized incomplete beta I_x(a, b) by Lentz's continued fraction (no scipy needed)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    if x > (a + 1) / (a + b + 2):
        return 1.0 - _betainc(1.0 - x, b, a)
    lbeta = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    front = math.exp(lbeta + a * math.log(x) + b * math.log1p(-x)) / a
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    f = d
    for m in range(1, 500):
        for num in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            f *= c * d
        if abs(c * d - 1.0) < 1e-15:
            break
    return front * f


def _beta_ppf(q: float, a: float, b: float) -> float:
    if q <= 0.0:
        return 0.0
    if q >= 1.0:
        return 1.0
    lo, hi = 0.0, 1.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if _betainc(mid, a, b) < q:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-16:
            break
    return (lo + hi) / 2


def _beta(
    n: int, sig: np.ndarray, smin: float, smax: float, rho: float, alpha: float = 0.6,
    beta: float = 0.6,
) -> np.ndarray:
    qs = 1.0 - np.linspace(0, 1, n)
    ts = np.array([_beta_ppf(float(q), alpha, beta) for q in qs])
    return np.append(smin + ts * (smax - smin), 0.0)


_SCHEDULES: dict[str, Callable[..., np.ndarray]] = {
    "uniform": _uniform,
    "karras": _karras,
    "exponential": _exponential,
    "polyexponential": _polyexponential,
    "sgm_uniform": _sgm_uniform,
    "kl_optimal": _kl_optimal,
    "align_your_steps": _ays,
    "simple": _simple,
    "normal": _normal_sched,
    "ddim": _ddim,
    "beta": _beta,
}


def a1111_sigmas(
    schedule: str,
    steps: int,
    *,
    discard_penultimate: bool = False,
    sigma_min: float | None = None,
    sigma_max: float | None = None,
    rho: float | None = None,
    sigmas: np.ndarray | None = None,
) -> np.ndarray:
    """The sigma list A1111 samples over: `steps + 1` values, the last one 0 (KL Optimal aside).

    `discard_penultimate` is A1111's discard_next_to_last_sigma (DPM2, DPM2 a, DPM++ 3M SDE):
    build steps + 1 sigmas and drop the one before the final zero. `sigma_min/max/rho` are the
    infotext's `Schedule min/max sigma` and `Schedule rho` (0 or absent means the model's).
    """
    if schedule not in _SCHEDULES:
        raise KeyError(schedule)
    sig = model_sigmas() if sigmas is None else sigmas
    smin = sigma_min or float(sig[0])
    smax = sigma_max or float(sig[-1])
    r = rho or _DEFAULT_RHO.get(schedule, 1.0)
    n = steps + 1 if discard_penultimate else steps
    out = _SCHEDULES[schedule](n, sig, smin=smin, smax=smax, rho=r)
    if discard_penultimate:
        out = np.concatenate([out[:-2], out[-1:]])
    return np.asarray(out, dtype=np.float64)
