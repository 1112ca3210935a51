"""Follow one redacted region from a frame to a later one by its own appearance.

When the scan loses a face (a head tilting away from the detector, a blur too heavy for it),
the finder holds the track while its box still shows the redaction. A held box that only
moves with the camera stays behind a face that walks or turns; the redaction itself (a
blurred blob, a block grid, a fill, with the head's outline around it) still looks like
itself a few frames later, so normalised cross-correlation of the last box against the new
frame finds where it went, and at which of three sizes (``SCALES``: a head walking towards
the camera or away from it). Matched on a small copy (a face of 48 px is plenty to place a
blob): about a millisecond a hold.
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from veilscan.tasks.finder.tracking import BoxXYWH

MATCH_PX = 48
"""Longer side (px) the template is matched at."""
SCALES = (1.0, 1 / 1.1, 1.1)
"""Sizes the region is looked for at, relative to its box: a face walking towards the camera
or away from it grows or shrinks between holds (12 frames apart while settled)."""
SCALE_GAIN = 0.05
"""Correlation a resized match must gain over a trusted same-size match to change the box's
size. A heavy blur is a smooth blob that matches itself nearly as well a size smaller: at
0.02 a sigma-12 oval on a 65 px face shrank hold after hold until its box lost the face
(bench/finder.py's two-person GIF); at 0.05 it keeps its size, and bench/finder_shots.py's
whole shots still gain (a close-up's growing face boxed)."""
NEAR = 0.1
"""How far (share of the template's longer side) a resized match's centre may lie from a
trusted same-size match's: on a streaked face (bench/finder.py's pose_female, motion blur
11 px) a shrunk template matched a patch 70 px off at 0.80, against 0.71 for the face where
it was, and the track split."""
REACH = 0.5
"""How far (share of the box's size, each way) the region may have moved."""
MIN_SCORE = 0.6
"""Correlation below which the region is not trusted to be found (it changed: a dropout, a
turn, a cut)."""
MARGIN = 0.15
"""The template keeps this share of the box around it: the head's outline and hair move
with the redaction and give a blur something to match on."""
JUMP_PX, JUMP_GAIN, SURE = 2, 0.03, 0.75
"""A weak match (below ``SURE``) this many small-copy pixels or more from where the box was
(about an eighth of its size) must beat the box's own place by ``JUMP_GAIN``. A straight
edge in the template (a pillarbox bar beside the face, a door frame) matches along its whole
length about as well: a blurred face against a black bar was "followed" 145 px down the bar
at 0.616 against 0.602 where it stood, and its track lost the face. A sure match may jump:
a mosaic's grid matches itself a block away at 0.97 and more (the whole shots' 6 px mosaic,
with every such jump refused, had 2 more false dropout frames)."""


def follow(prev: np.ndarray, grey: np.ndarray, box: BoxXYWH) -> BoxXYWH | None:
    """Where ``box`` of greyscale frame ``prev`` is in ``grey`` (a frame of the same size),
    resized as the region is there; None if it cannot be placed with confidence."""
    x, y, w, h = box
    fh, fw = grey.shape
    mx, my = int(MARGIN * w), int(MARGIN * h)
    t0x, t0y = max(0, x - mx), max(0, y - my)
    t1x, t1y = min(fw, x + w + mx), min(fh, y + h + my)
    if t1x - t0x < 8 or t1y - t0y < 8:
        return None
    rx, ry = int(REACH * w), int(REACH * h)
    s0x, s0y = max(0, t0x - rx), max(0, t0y - ry)
    s1x, s1y = min(fw, t1x + rx), min(fh, t1y + ry)
    f = min(1.0, MATCH_PX / max(t1x - t0x, t1y - t0y))

    def small(img: np.ndarray) -> np.ndarray:
        if f == 1.0:
            return img
        return cv2.resize(img, (max(1, round(img.shape[1] * f)), max(1, round(img.shape[0] * f))),
                          interpolation=cv2.INTER_AREA)

    tmpl = small(prev[t0y:t1y, t0x:t1x])
    area = small(grey[s0y:s1y, s0x:s1x])
    if float(tmpl.std()) < 2.0:
        return None  # nothing to match on (a flat fill on a flat wall)
    at = ((t0x - s0x) * f, (t0y - s0y) * f)  # where the template stood, small-copy px
    fits = [fit for scale in SCALES if (fit := _match(area, tmpl, scale, at)) is not None]
    plain = next((fit for fit in fits if fit.scale == 1.0), None)
    # Where the same-size match is trusted, a resized one may change the box's size, not
    # carry it off elsewhere; where it is not (the region grew or shrank too much for it),
    # the resized one places the box.
    near = NEAR * max(tmpl.shape)
    chosen = plain
    for fit in fits:
        if fit.scale != 1.0 and (plain is None or (
                max(abs(fit.cx - plain.cx), abs(fit.cy - plain.cy)) <= near)) and (
                chosen is None or fit.score > chosen.score + SCALE_GAIN):
            chosen = fit
    if chosen is None:
        return None
    # The box within the (resized) template, back in frame px.
    nx = s0x + int(round(chosen.x / f)) + int(round((x - t0x) * chosen.scale))
    ny = s0y + int(round(chosen.y / f)) + int(round((y - t0y) * chosen.scale))
    return (nx, ny, max(1, int(round(w * chosen.scale))), max(1, int(round(h * chosen.scale))))


class _Fit(NamedTuple):
    """One size's best place of the template (small-copy px: corner and centre)."""

    score: float
    x: int
    y: int
    scale: float
    cx: float
    cy: float


def _match(area: np.ndarray, tmpl: np.ndarray, scale: float, at: tuple[float, float],
           ) -> _Fit | None:
    """The best place of ``tmpl`` resized by ``scale`` in ``area`` (small-copy px), or None
    if not trusted; ``at`` is where the unscaled template stood."""
    if scale != 1.0:
        tmpl = cv2.resize(tmpl, (max(1, round(tmpl.shape[1] * scale)),
                                 max(1, round(tmpl.shape[0] * scale))),
                          interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    if area.shape[0] < tmpl.shape[0] or area.shape[1] < tmpl.shape[1]:
        return None  # against a frame edge
    score = cv2.matchTemplate(area, tmpl, cv2.TM_CCOEFF_NORMED)
    _, best, _, (bx, by) = cv2.minMaxLoc(score)
    if best < MIN_SCORE:
        return None
    # Where the template stood (centred, at this scale), in the score map (the frame edge
    # may have cut the search).
    hx = min(score.shape[1] - 1, max(0, round(at[0] + (1 - scale) * tmpl.shape[1] / 2 / scale)))
    hy = min(score.shape[0] - 1, max(0, round(at[1] + (1 - scale) * tmpl.shape[0] / 2 / scale)))
    if best < SURE and max(abs(bx - hx), abs(by - hy)) >= JUMP_PX \
            and best - float(score[hy, hx]) < JUMP_GAIN:
        return None  # as good here as there: an edge, not the region, was matched
    th, tw = tmpl.shape
    return _Fit(float(best), int(bx), int(by), scale, bx + tw / 2, by + th / 2)
