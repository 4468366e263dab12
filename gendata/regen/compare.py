"""Regen service, pure: how close the regenerated image is to the source (numpy + Pillow).

PSNR over 8-bit RGB, SSIM with the usual 11-tap Gaussian window (sigma 1.5, K1 0.01, K2 0.03)
on luma, and a side-by-side picture (source | regenerated | difference x8) for a person to
look at. Only same-size images are compared.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from ..errors import UsageError

__all__ = ["Comparison", "compare", "psnr", "side_by_side", "ssim"]


@dataclass(frozen=True)
class Comparison:
    psnr: float
    ssim: float
    max_abs: int
    identical: bool


def _rgb(img: Any) -> np.ndarray:
    return np.asarray(img.convert("RGB"), dtype=np.float64)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a - b) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def _gauss_filter(x: np.ndarray, sigma: float = 1.5, radius: int = 5) -> np.ndarray:
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    k /= k.sum()
    pad = np.pad(x, radius, mode="reflect")
    rows = np.apply_along_axis(lambda r: np.convolve(r, k, mode="valid"), 1, pad)
    return np.apply_along_axis(lambda c: np.convolve(c, k, mode="valid"), 0, rows)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean SSIM on luma (ITU-R BT.601), data range 255."""
    w = np.array([0.299, 0.587, 0.114])
    x, y = a @ w, b @ w
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    mx, my = _gauss_filter(x), _gauss_filter(y)
    sxx = _gauss_filter(x * x) - mx * mx
    syy = _gauss_filter(y * y) - my * my
    sxy = _gauss_filter(x * y) - mx * my
    num = (2 * mx * my + c1) * (2 * sxy + c2)
    den = (mx * mx + my * my + c1) * (sxx + syy + c2)
    return float(np.mean(num / den))


def compare(source: Any, regen: Any) -> Comparison:
    if source.size != regen.size:
        raise UsageError(f"--compare needs images of the same size: source is "
                         f"{source.size[0]}x{source.size[1]}, regenerated "
                         f"{regen.size[0]}x{regen.size[1]}")
    a, b = _rgb(source), _rgb(regen)
    diff = int(np.abs(a - b).max())
    return Comparison(psnr(a, b), ssim(a, b), diff, diff == 0)


def side_by_side(source: Any, regen: Any, amplify: int = 8) -> Any:
    a, b = _rgb(source), _rgb(regen)
    d = np.clip(np.abs(a - b) * amplify, 0, 255)
    h, w = a.shape[:2]
    out = np.zeros((h, w * 3, 3), dtype=np.uint8)
    out[:, :w] = a.astype(np.uint8)
    out[:, w : 2 * w] = b.astype(np.uint8)
    out[:, 2 * w :] = d.astype(np.uint8)
    return Image.fromarray(out)
