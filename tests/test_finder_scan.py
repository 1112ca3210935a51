"""The pixel scan's mosaic map (tasks/finder/scan.py): its cell sums, made cheaply, are the
plain computation's bit for bit."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from veilscan.tasks.finder.config import FinderConfig
from veilscan.tasks.finder.scan import mosaic_cells
from veilscan.tasks.obfuscate import Recipe, apply


def _plain_mosaic_cells(grey: np.ndarray, grid_hw: tuple[int, int],
                        cfg: FinderConfig) -> np.ndarray:
    """The map as first written: each difference map made float, padded, then averaged."""
    gh, gw = grid_hw
    ax = cv2.subtract(cv2.absdiff(grey[:, 1:], grey[:, :-1]), 3)
    ay = cv2.subtract(cv2.absdiff(grey[1:, :], grey[:-1, :]), 3)
    px, py = cv2.min(ax[:, 1:], ax[:, :-1]), cv2.min(ay[1:, :], ay[:-1, :])
    ch, cw = grey.shape[0] // gh, grey.shape[1] // gw

    def cells(a: np.ndarray) -> np.ndarray:
        a = a[:gh * ch, :gw * cw].astype(np.float32)
        a = cv2.copyMakeBorder(a, 0, gh * ch - a.shape[0], 0, gw * cw - a.shape[1],
                               cv2.BORDER_REPLICATE)
        c = cv2.resize(a, (gw, gh), interpolation=cv2.INTER_AREA)
        return cv2.boxFilter(c, -1, (3, 3), borderType=cv2.BORDER_REPLICATE)

    sax, say, spx, spy = cells(ax), cells(ay), cells(px), cells(py)
    return ((sax > cfg.mosaic_edge_min) & (say > cfg.mosaic_edge_min)
            & (spx < cfg.mosaic_pair_max * sax) & (spy < cfg.mosaic_pair_max * say)
            ).astype(np.float32)


@pytest.mark.parametrize(("shape", "cell"), [((1080, 608), 8), ((270, 480), 8), ((101, 77), 6)])
def test_mosaic_cells_are_the_plain_computation_bit_for_bit(shape, cell):
    rng = np.random.default_rng(sum(shape))
    grey = cv2.GaussianBlur(rng.integers(0, 256, shape, dtype=np.uint8), (0, 0), 1.2)
    h, w = shape
    grey = apply(np.dstack([grey] * 3), (w // 4, h // 4, w // 2, h // 2),
                 Recipe("mosaic", 7))[..., 0].copy()  # a grid in the middle, noise around
    grid = (h // cell, w // cell)
    cfg = FinderConfig()
    out = mosaic_cells(grey, grid, cfg)
    assert out.any() and not out.all()
    assert np.array_equal(out, _plain_mosaic_cells(grey, grid, cfg))
