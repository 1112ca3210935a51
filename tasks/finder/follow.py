"""Follow one redacted region from a frame to a later one by its own appearance.

When the scan loses a face (a head tilting away from the detector, a blur too heavy for it),
the finder holds the track while its box still shows the redaction. A held box that only
moves with the camera stays behind a face that walks or turns; the redaction itself (a
blurred blob, a block grid, a fill, with the head's outline around it) still looks like
itself a few frames later, so normalised cross-correlation of the last box against the new
frame finds where it went. Matched on a small copy (a face of 48 px is plenty to place a
blob): well under a millisecond a hold.
"""

from __future__ import annotations

import cv2
import numpy as np

from veilscan.tasks.finder.tracking import BoxXYWH

MATCH_PX = 48
"""Longer side (px) the template is matched at."""
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
    """Where ``box`` of greyscale frame ``prev`` is in ``grey`` (same size); None if it
    cannot be placed with confidence."""
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
    if (area.shape[0] < tmpl.shape[0] or area.shape[1] < tmpl.shape[1]
            or float(tmpl.std()) < 2.0):
        return None  # against a frame edge, or nothing to match on (a flat fill on a flat wall)
    score = cv2.matchTemplate(area, tmpl, cv2.TM_CCOEFF_NORMED)
    _, best, _, (bx, by) = cv2.minMaxLoc(score)
    if best < MIN_SCORE:
        return None
    # Where the template stood, in the score map (the frame edge may have cut the search).
    hx = min(score.shape[1] - 1, round((t0x - s0x) * f))
    hy = min(score.shape[0] - 1, round((t0y - s0y) * f))
    if best < SURE and max(abs(bx - hx), abs(by - hy)) >= JUMP_PX \
            and best - float(score[hy, hx]) < JUMP_GAIN:
        return None  # as good here as there: an edge, not the region, was matched
    nx = s0x + int(round(bx / f)) + (x - t0x)
    ny = s0y + int(round(by / f)) + (y - t0y)
    return (nx, ny, w, h)
