"""Matching detections to tracks (tasks/finder/tracking.assign): a box beside a track's
prediction, not overlapping it, joins the track only when CenterFace found it, or when the
track's face was never found on the whole frame (then the pixel scan alone follows it); a
pixel-scan box much smaller than a detected face and mostly off it does not join it; and
the least-cost assignment under it, against SciPy's."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from veilscan.tasks.finder.tracking import Track, _min_cost_pairs, assign

PREDICTED = (100, 30, 92, 160)
"""A still face box (the track's last two boxes are here, so it predicts no move)."""
BESIDE = (175, 0, 96, 156)
"""A similar-sized box whose centre is half a face height away (a soft wall and hair next to
a blurred face in a shaken frame): overlapping the prediction by an IoU of about 0.08."""


def _track(detected: bool) -> Track:
    t = Track(0, detected=detected)
    for frame in (0, 3):
        t.add(frame, PREDICTED, None)  # type: ignore[arg-type]
    t.faces.append((1.0, 92.0))
    return t


def test_a_soft_patch_beside_a_detected_face_does_not_take_its_track() -> None:
    pairs, fresh = assign([_track(detected=True)], [BESIDE], 6, 0.2, seen=[False])
    assert pairs == [] and fresh == [0]


def test_the_detector_finding_the_face_beside_its_prediction_keeps_the_track() -> None:
    pairs, _ = assign([_track(detected=True)], [BESIDE], 6, 0.2, seen=[True])
    assert pairs == [(0, 0)]


def test_a_face_only_the_pixel_scan_follows_may_move_its_width() -> None:
    pairs, _ = assign([_track(detected=False)], [BESIDE], 6, 0.2, seen=[False])
    assert pairs == [(0, 0)]


CLOSE_UP = (140, 31, 410, 565)
"""A blurred close-up's box (the talking head at full size), moving right 40 px a scan."""
EDGE_PATCH = (416, 0, 192, 428)
"""The soft picture beside it, cut by the frame's right edge: a third of its area, IoU 0.28
with the track's prediction."""


def _close_up(detected: bool) -> Track:
    t = Track(0, detected=detected)
    t.add(21, (100, 31, 410, 565), None)  # type: ignore[arg-type]
    t.add(24, CLOSE_UP, None)  # type: ignore[arg-type]
    return t


def test_a_small_soft_patch_half_off_a_detected_face_does_not_take_its_track() -> None:
    pairs, fresh = assign([_close_up(detected=True)], [EDGE_PATCH], 27, 0.2, seen=[False])
    assert pairs == [] and fresh == [0]


def test_a_small_box_on_a_detected_face_still_joins_its_track() -> None:
    """The scan's box around a heavy blur's core: a third of the face's box, inside it."""
    x, y, w, h = CLOSE_UP
    core = (x + w // 5, y + h // 5, w * 3 // 5, h * 3 // 5)
    pairs, _ = assign([_close_up(detected=True)], [core], 27, 0.2, seen=[False])
    assert pairs == [(0, 0)]


def test_a_small_patch_half_off_a_face_only_the_scan_follows_still_joins_it() -> None:
    pairs, _ = assign([_close_up(detected=False)], [EDGE_PATCH], 27, 0.2, seen=[False])
    assert pairs == [(0, 0)]


@pytest.mark.parametrize("seed", range(4))
def test_the_assignment_costs_what_scipys_does(seed: int) -> None:
    """Square, wide and tall matrices, with ties and with the all-ones rows and columns of
    tracks and boxes that overlap nothing (most of a real frame's matrix)."""
    rng = np.random.default_rng(seed)
    for trial in range(500):
        n, m = (int(v) for v in rng.integers(1, 13, 2))
        cost = rng.random((n, m))
        if trial % 3 == 0:
            cost = np.round(cost, 1)
        if trial % 4 == 0:
            cost[cost > 0.4] = 1.0
        rows, cols = _min_cost_pairs(cost)
        ref_rows, ref_cols = linear_sum_assignment(cost)
        assert len(rows) == len(ref_rows) == min(n, m)
        assert len(set(rows.tolist())) == len(rows) and len(set(cols.tolist())) == len(cols)
        assert list(rows) == sorted(rows)
        assert cost[rows, cols].sum() == pytest.approx(cost[ref_rows, ref_cols].sum(), abs=1e-9)
