"""Per-frame detail inside a track's box: the cheap signal that a redaction dropped out.

A dropout is a frame where the face shows unredacted. Absolute "is this sharp?" thresholds
misfire on soft footage and on codec noise, so each frame is judged against its own track:
a redaction looks alike in every frame, and the frame where it lifts stands out from the
track's median by a jump in the statistic that the redaction suppresses (fine detail for a
blur, detail inside the cells for a mosaic, any variation for a solid fill). Only the middle
of the box is looked at, so a box that lags a moving head by a few pixels still judges the
redaction, not the background.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from veilscan.tasks.finder.measure import structure_and_sharp

_CORE_INSET = 0.2
"""Share of the box's width and height cut from each side before measuring."""
_MAX_SIDE_PX = 160
"""Cores larger than this are measured downscaled (cost; the track baseline absorbs it)."""


@dataclass(frozen=True)
class Detail:
    """What a redaction suppresses, measured in the middle of one frame's box."""

    sharp_share: float
    """Share of structured pixels that are sharp (a blur removes them), 0..1."""
    off_grid: float
    """Share of gradient in adjacent-pixel pairs (0 inside a mosaic's flat cells), 0..1."""
    spread: float
    """Grey-level range, 90th minus 10th percentile (about 0 inside a solid fill)."""
    least_direction: float
    """Fine detail along the direction that has least of it (log energy ratio between
    smoothing at 0.7 and 1.5 px): a streak keeps detail across it, never along it."""


@dataclass(frozen=True)
class DropoutRule:
    """A frame is a dropout when its statistic rises ``jump`` above the track's median and
    reaches ``floor`` (an unredacted face, not a noisy frame of a redacted one)."""

    field: str
    jump: float
    floor: float


RULES: dict[str, DropoutRule] = {
    "mosaic": DropoutRule("off_grid", 0.15, 0.25),
    "solid": DropoutRule("spread", 20.0, 20.0),
    "motion_blur": DropoutRule("least_direction", 0.2, 0.25),
}
"""Per redaction type; every blur (and ``unknown``) uses :data:`BLUR_RULE`. Measured on
``bench/finder.py`` clips at the true boxes: a dropout raises sharp_share by >= 0.24
(Gaussian, box >= 9 px, motion 17 px) while redacted frames stay within 0.1 of their median;
off_grid rises by >= 0.24 for a mosaic; spread by >= 45 levels for a solid fill;
least_direction by >= 0.25 for a 17-25 px streak, whose redacted frames stay within 0.12."""
BLUR_RULE = DropoutRule("sharp_share", 0.15, 0.2)
SOFT_BASE, SOFT_JUMP, SOFT_LD_JUMP = 0.03, 0.08, 0.15
"""The soft-footage path of :data:`BLUR_RULE`: for a track whose frames are at most 0.03 sharp,
a frame 0.08 sharper that also gains 0.15 in least_direction is a dropout (the kitchen
fisheye's unredacted faces: sharp share 0.11-0.2 against 0.00-0.03, least_direction +0.2
to +0.33)."""


def region_detail(grey: np.ndarray, box: tuple[int, int, int, int]) -> Detail | None:
    """Measure the middle of ``box`` (frame px) in a greyscale uint8 frame; None if tiny."""
    x, y, w, h = box
    # A thin box (an eye bar) keeps at least 10 px of its middle.
    dx = max(0, min(int(w * _CORE_INSET), (w - 10) // 2))
    dy = max(0, min(int(h * _CORE_INSET), (h - 10) // 2))
    fh, fw = grey.shape
    x0, y0 = max(0, x + dx), max(0, y + dy)
    x1, y1 = min(fw, x + w - dx), min(fh, y + h - dy)
    if x1 - x0 < 10 or y1 - y0 < 10:
        return None
    g = grey[y0:y1, x0:x1]
    f = _MAX_SIDE_PX / max(g.shape)
    if f < 1.0:
        g = cv2.resize(g, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    g = g.astype(np.float32)
    p10, p90 = np.percentile(g[::2, ::2], (10, 90))  # every 4th pixel: plenty for a range
    return Detail(_sharp_share(g), _off_grid(g), float(p90 - p10), _least_direction(g))


def _sharp_share(g: np.ndarray) -> float:
    """Share of pixels with structure whose energy a sigma-1.5 blur mostly removes: fine
    detail a blur would have taken (the finder's one structure/sharpness map)."""
    struct, sharp = structure_and_sharp(g)
    n = int(np.count_nonzero(struct))
    return float(np.count_nonzero(sharp)) / n if n >= 20 else 0.0


def _least_direction(g: np.ndarray) -> float:
    """Minimum over 0/45/90/135 degrees of log(E(difference) at sigma 0.7 / at sigma 1.5)."""
    a = cv2.GaussianBlur(g, (0, 0), 0.7)
    b = cv2.GaussianBlur(g, (0, 0), 1.5)
    h, w = g.shape
    out = []
    for dy, dx in ((0, 1), (1, 1), (1, 0), (1, -1)):
        ys, xs = slice(dy, h), slice(max(dx, 0), w + min(dx, 0))
        y0, x0 = slice(0, h - dy), slice(max(-dx, 0), w - max(dx, 0))
        da, db = a[ys, xs] - a[y0, x0], b[ys, xs] - b[y0, x0]
        out.append(float(np.log((np.mean(da * da) + 1.0) / (np.mean(db * db) + 1.0))))
    return min(out)


def _off_grid(g: np.ndarray) -> float:
    """Gradient in pairs of adjacent differences over all gradient (codec ringing of 3 grey
    levels ignored): a block grid puts every step on an isolated line, a face spreads them."""
    ax = np.maximum(np.abs(np.diff(g, axis=1)) - 3.0, 0.0)
    ay = np.maximum(np.abs(np.diff(g, axis=0)) - 3.0, 0.0)
    pairs = np.minimum(ax[:, 1:], ax[:, :-1]).sum() + np.minimum(ay[1:], ay[:-1]).sum()
    return float(pairs / (ax.sum() + ay.sum() + 50.0))


def dropout_frames(series: dict[int, Detail], kind: str, min_frames: int = 5) -> list[int]:
    """Frames of one track whose detail jumps above the track's own median (see RULES)."""
    if len(series) < min_frames:
        return []
    rule = RULES.get(kind, BLUR_RULE)
    frames = sorted(series)
    vals = np.array([getattr(series[f], rule.field) for f in frames])
    base = float(np.median(vals))
    out = {f for f, v in zip(frames, vals, strict=True)
           if v - base > rule.jump and v >= rule.floor}
    if rule is BLUR_RULE:
        # Soft footage (a fisheye, a small sensor, heavy compression): an unredacted face
        # there is only 0.1-0.2 sharp, under the floor. It still stands out from a blurred
        # track that is almost never sharp, and it gains detail in every direction at once.
        # Believed only as a slip inside the redaction (seen redacted on both sides): at a
        # track's ends the box is extrapolated and may have slid off the face.
        ld = np.array([series[f].least_direction for f in frames])
        ld_base = float(np.median(ld))
        soft = [base <= SOFT_BASE and v - base > SOFT_JUMP and d - ld_base > SOFT_LD_JUMP
                for v, d in zip(vals, ld, strict=True)]
        i = 0
        while i < len(frames):
            j = i
            while j < len(frames) and soft[j]:
                j += 1
            if j > i and i > 0 and j < len(frames) and j - i <= 3:
                out |= set(frames[i:j])
            i = j + 1
    return sorted(out)
