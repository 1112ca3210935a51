"""Dropout judgement: every frame of a track against the track's own median detail
(tasks/finder/detail.py), on hand-made series and on small generated clips."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data
from test_finder import _one_track, make_clip

from veilscan.tasks.finder.detail import Detail, dropout_frames, region_detail
from veilscan.tasks.obfuscate import Recipe, apply

_FACE = (170, 50, 120, 150)
"""(x, y, w, h) of the face in scikit-image's astronaut portrait, px."""


def _series(values: dict[int, float], field: str) -> dict[int, Detail]:
    base = {"sharp_share": 0.05, "off_grid": 0.02, "spread": 2.0, "least_direction": 0.1}
    return {f: Detail(**{**base, field: v}) for f, v in values.items()}


def test_only_the_frame_that_jumps_above_the_track_is_a_dropout():
    rng = np.random.default_rng(1)
    values = {f: 0.05 + 0.04 * rng.random() for f in range(40)}
    values[17] = 0.45
    assert dropout_frames(_series(values, "sharp_share"), "gaussian_blur") == [17]


def test_soft_footage_dropout_inside_the_track_only():
    """Soft footage: a blurred track at ~0.005 sharp; the unredacted face reads only 0.15
    sharp (under the usual floor) but gains detail in every direction. Inside the track it
    is a dropout; at the track's last frame (an extrapolated box) it is not believed."""
    def series(bright: set[int]) -> dict[int, Detail]:
        return {f: Detail(0.15 if f in bright else 0.005, 0.02, 2.0,
                          0.33 if f in bright else 0.1) for f in range(14)}

    assert dropout_frames(series({7}), "gaussian_blur") == [7]
    assert dropout_frames(series({13}), "gaussian_blur") == []
    # Without the gain across every direction it is noise, not a face.
    noisy = {f: Detail(0.15 if f == 7 else 0.005, 0.02, 2.0, 0.1) for f in range(14)}
    assert dropout_frames(noisy, "gaussian_blur") == []


def test_a_track_that_is_soft_throughout_has_no_dropout():
    values = {f: 0.3 + 0.01 * (f % 3) for f in range(30)}  # high but steady: no jump
    assert dropout_frames(_series(values, "sharp_share"), "gaussian_blur") == []


def test_each_type_is_judged_by_what_it_suppresses():
    # A mosaic's block edges are sharp in every frame: sharp_share says nothing, the
    # detail inside its cells (off_grid) does.
    frames = range(30)
    mosaic = {f: Detail(0.8, 0.45 if f == 12 else 0.03, 60.0, 0.2) for f in frames}
    assert dropout_frames(mosaic, "mosaic") == [12]
    solid = {f: Detail(0.0, 0.0, 70.0 if f == 5 else 1.0, 0.0) for f in frames}
    assert dropout_frames(solid, "solid") == [5]
    # A streak keeps detail across it; along it, a dropout brings detail back.
    streak = {f: Detail(0.3, 0.3, 40.0, 0.6 if f == 20 else 0.12) for f in frames}
    assert dropout_frames(streak, "motion_blur") == [20]


def test_too_short_a_track_is_not_judged():
    values = {0: 0.05, 1: 0.5, 2: 0.05}
    assert dropout_frames(_series(values, "sharp_share"), "gaussian_blur") == []


def test_region_detail_separates_redactions_from_the_clear_face():
    grey = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)
    rgb = data.astronaut()
    clear = region_detail(grey, _FACE)
    looks = {
        kind: region_detail(cv2.cvtColor(apply(rgb, _FACE, recipe), cv2.COLOR_RGB2GRAY), _FACE)
        for kind, recipe in {
            "blur": Recipe("gaussian_blur", 4.0),
            "mosaic": Recipe("mosaic", 10),
            "solid": Recipe("solid"),
        }.items()
    }
    assert clear is not None and all(v is not None for v in looks.values())
    assert looks["blur"].sharp_share < clear.sharp_share - 0.2
    assert looks["mosaic"].off_grid < clear.off_grid - 0.15
    assert looks["solid"].spread < 3.0 < 20.0 < clear.spread
    assert region_detail(grey, (0, 0, 9, 40)) is None  # under 10 px across: too small to judge


@pytest.mark.parametrize(
    "recipe", [Recipe("gaussian_blur", 4.0), Recipe("mosaic", 8), Recipe("solid")],
    ids=["gaussian", "mosaic", "solid"],
)
def test_a_three_frame_dropout_is_caught_whole(recipe):
    drops = (9, 10, 11)
    frames, truth = make_clip(recipe, face_w=100, dropouts=drops)
    t = _one_track(frames, truth)
    assert t.dropout_frames == list(drops)
