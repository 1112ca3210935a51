"""Percentiles of 8-bit pixels from their histogram: NumPy's results, without its sort.

The finder takes a grey-level range (90th minus 10th percentile) in every frame of every
track and in every box refinement; ``np.percentile`` sorts for each (35-60 us on a face's
middle), while 256 bins give the same order statistics in a third of the time.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def u8_percentiles(pixels: np.ndarray, qs: Sequence[float]) -> list[float]:
    """``np.percentile(pixels, qs)`` of uint8 ``pixels`` (any shape, views too), bit for bit:
    the same virtual index and interpolation (NumPy's default, "linear")."""
    if pixels.dtype != np.uint8:
        raise TypeError(f"u8_percentiles takes uint8 pixels, not {pixels.dtype}")
    cum = np.bincount(pixels.ravel(), minlength=256).cumsum()
    n = int(cum[-1])
    if n == 0:
        raise ValueError("u8_percentiles of no pixels")
    q = np.asarray(qs, np.float64) / 100
    virtual = (n - 1) * q  # NumPy's virtual index for "linear"
    below = np.floor(virtual)
    gamma = virtual - below
    lo = np.clip(below, 0, n - 1).astype(np.int64)
    hi = np.clip(below + 1, 0, n - 1).astype(np.int64)
    a = np.searchsorted(cum, lo, side="right").astype(np.float64)  # value of rank lo
    b = np.searchsorted(cum, hi, side="right").astype(np.float64)
    d = b - a
    out = np.where(gamma >= 0.5, b - d * (1 - gamma), a + d * gamma)
    return [float(v) for v in out]
