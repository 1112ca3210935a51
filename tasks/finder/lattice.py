"""The block lattice of a DCT codec, which must not be taken for a mosaic.

MPEG-2 (DVD, broadcast: most of an archive), MPEG-4 Part 2 and Motion JPEG code 8 x 8 px
blocks without a deblocking filter. Compressed hard, a smooth region (a cheek, a blurred
face) keeps one flat level per block, and its gradients sit on the lines x, y = 8k: a block
grid of period 8, exactly what the mosaic test looks for. It differs from an editor's mosaic
in where it is: everywhere in the picture, on the frame's own 8 px lattice. H.264 and later
codecs filter their block edges; their lattice ratio stays near 1 (0.9-1.4 measured on the
bench's footage at CRF 28-35), while MPEG-2 and MPEG-4 Part 2 read 1.4-11 and MJPEG 3-10.
"""

from __future__ import annotations

import cv2
import numpy as np

PERIOD = 8
"""The DCT block side, px."""
MIN_RATIO = 1.35
"""Mean |difference| across lattice lines over that between them, on both axes, above which
a region shows the codec's lattice."""
LOCAL_MAX = 4.0
"""A lattice this many times stronger inside a region than around it is an editor's mosaic
that happens to sit on the codec's lattice."""


def lattice_ratio(grey: np.ndarray, region: tuple[int, int, int, int],
                  skip: tuple[int, int, int, int] | None = None) -> float:
    """The smaller of the column and row lattice ratios of ``region`` (x, y, w, h, frame px)
    of a greyscale frame, leaving out the pixels of ``skip``; 1.0 if too little is left."""
    x, y, w, h = region
    fh, fw = grey.shape
    x0, y0, x1, y1 = max(0, x), max(0, y), min(fw, x + w), min(fh, y + h)
    if x1 - x0 < 2 * PERIOD or y1 - y0 < 2 * PERIOD:
        return 1.0
    if skip is None:
        return _plain_ratio(grey[y0:y1, x0:x1], x0, y0)
    g = grey[y0:y1, x0:x1].astype(np.float32)
    keep = np.ones(g.shape, bool)
    sx, sy, sw, sh = skip
    keep[max(0, sy - y0):max(0, sy + sh - y0), max(0, sx - x0):max(0, sx + sw - x0)] = False
    ratios = []
    for axis, origin in ((1, x0), (0, y0)):
        d = np.abs(np.diff(g, axis=axis))
        k = (keep[:, 1:] & keep[:, :-1]) if axis == 1 else (keep[1:] & keep[:-1])
        n = k.sum(axis=1 - axis)
        if int(n.sum()) < 64:
            return 1.0
        prof = (d * k).sum(axis=1 - axis) / np.maximum(n, 1)
        # The difference at index j is between pixels j and j + 1 (frame origin + j).
        on = (np.arange(prof.size) + origin + 1) % PERIOD == 0
        used = n > 0
        if not (on & used).any() or not (~on & used).any():
            return 1.0
        ratios.append(float(prof[on & used].mean()) / max(float(prof[~on & used].mean()), 1e-3))
    return min(ratios)


def _plain_ratio(g: np.ndarray, x0: int, y0: int) -> float:
    """:func:`lattice_ratio` of a whole crop at ``x0, y0`` in the frame, in OpenCV on the
    frame's own samples (it runs on every region measured: a third of a millisecond in
    NumPy on a face box, a third of that here)."""
    if g.dtype not in (np.uint8, np.float32):
        g = g.astype(np.float32)
    ratios = []
    for axis, origin in ((1, x0), (0, y0)):
        d = cv2.absdiff(g[:, 1:], g[:, :-1]) if axis == 1 else cv2.absdiff(g[1:], g[:-1])
        if d.size < 64:
            return 1.0
        prof = cv2.reduce(d, 1 - axis, cv2.REDUCE_AVG, dtype=cv2.CV_32F).ravel()
        on = (np.arange(prof.size) + origin + 1) % PERIOD == 0
        if not on.any() or on.all():
            return 1.0
        ratios.append(float(prof[on].mean()) / max(float(prof[~on].mean()), 1e-3))
    return min(ratios)


def codec_blocks(grey: np.ndarray, box: tuple[int, int, int, int], block: float) -> bool:
    """Is a block grid of side ``block`` found in ``box`` the codec's lattice: a multiple of
    8 px, on the frame's 8 px lattice, and about as strong around the box (the box's width
    and height on each side) as inside it?"""
    k = block / PERIOD
    if k < 0.5 or abs(k - round(k)) * PERIOD > 0.75:
        return False
    inside = lattice_ratio(grey, box)
    if inside < MIN_RATIO:
        return False  # a grid off the lattice: an editor's
    around = _around(grey, box)
    # An editor's cells are flat, so even one on the lattice stands out from the codec's
    # blocks around it by far (ratio 1,000s inside against 1.6-3.6 around, MPEG-2 at
    # 0.8-5 Mb/s); the codec's own blocks read alike inside and around (1.1-2.1 vs 1.2-2.4).
    return around >= MIN_RATIO and inside <= LOCAL_MAX * around


def codec_footage(grey: np.ndarray, box: tuple[int, int, int, int]) -> bool:
    """Does the picture around ``box`` show a DCT codec's 8 px lattice? There, steps on
    lines a few px apart are the codec's, and only a grid far stronger than it is a mosaic
    (:func:`codec_blocks`)."""
    return _around(grey, box) >= MIN_RATIO


def _around(grey: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """The lattice ratio of the picture around ``box``: its width and height on each side."""
    x, y, w, h = box
    return lattice_ratio(grey, (x - w, y - h, 3 * w, 3 * h), skip=box)


DEBLOCK_STEP = 20.0
"""Largest step (grey levels) across a lattice line that :func:`deblocked` takes for the
codec's quantisation rather than an edge of the picture."""


def deblocked(g: np.ndarray, origin: tuple[int, int]) -> np.ndarray:
    """A copy of ``g`` (a float32 crop whose top-left pixel is at ``origin``, x, y, in the
    frame) with the codec's block edges smoothed, as a decoder's deblocking filter would:
    each step across a lattice line under ``DEBLOCK_STEP`` is spread over the four pixels
    around the line (a ramp of 1/8, 1/4, 1/4, 1/4, 1/8 of it). Compressed hard, a blurred
    face in MPEG-2 or Motion JPEG keeps one level per block, and those steps would read as
    the sharp detail of a face in plain view."""
    out = g.copy()
    for view, o in ((out, origin[0]), (out.T, origin[1])):
        n = view.shape[1]
        # Column c starts a block when (o + c) is a multiple of the period.
        cs = np.arange((-o) % PERIOD, n, PERIOD)
        cs = cs[(cs >= 2) & (cs + 1 < n)]
        if not cs.size:
            continue
        d = view[:, cs] - view[:, cs - 1]
        d = np.where(np.abs(d) < DEBLOCK_STEP, d, 0.0)
        view[:, cs - 2] += d / 8
        view[:, cs - 1] += 3 * d / 8
        view[:, cs] -= 3 * d / 8
        view[:, cs + 1] -= d / 8
    return out
