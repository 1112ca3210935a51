"""The histogram percentiles are NumPy's, bit for bit, on 8-bit pixels of any shape."""

from __future__ import annotations

import numpy as np
import pytest

from veilscan.tasks.finder.quantiles import u8_percentiles


def test_u8_percentiles_are_numpys():
    rng = np.random.default_rng(5)
    for _ in range(500):
        n = int(rng.integers(1, 2000))
        lo = int(rng.integers(0, 250))
        pixels = rng.integers(lo, int(rng.integers(lo + 1, 257)), n).astype(np.uint8)
        qs = [float(q) for q in rng.choice([0, 1, 10, 33.3, 50, 90, 99, 100], size=3)]
        assert u8_percentiles(pixels, qs) == [float(v) for v in np.percentile(pixels, qs)]


def test_u8_percentiles_take_strided_views_and_refuse_other_types():
    grey = np.arange(120, dtype=np.uint8).reshape(10, 12)
    view = grey[1:9, 2:11:2]
    assert u8_percentiles(view, (10, 50, 90)) == list(np.percentile(view, (10, 50, 90)))
    with pytest.raises(TypeError):
        u8_percentiles(view.astype(np.float32), (50,))
    with pytest.raises(ValueError):
        u8_percentiles(grey[:0], (50,))
