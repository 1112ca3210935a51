"""Partial covers: an opaque bar across the eyes of a face that is otherwise in plain view.

An editor's eye bar leaves most of the face visible, so CenterFace still finds the face and
``measure_region`` calls the region clear; only the eyes are hidden. This module looks, inside
such a face box, for the one thing an eye bar is: a single flat region (one grey level, codec
noise aside) shaped like a long rectangle, axis-aligned or slightly tilted, with straight
edges that step sharply to the face above and below it, spanning the eye line. Sunglasses,
glasses frames, eyebrows and hair fail it: they are two regions, curved, textured, or they
run off the top of the face.

The face crop is resampled to :data:`WORK_PX` pixels across the face before anything is
measured, so the cost is the same for every face size (a fraction of a millisecond) and the
thresholds below are in those working pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from veilscan.tasks.finder.measure import fade_half_way

BoxXYWH = tuple[int, int, int, int]

WORK_PX = 64
"""Face width (px) the crop is resampled to before measuring."""

_LEVEL_TOL = 8.0
"""Grey levels a bar pixel may differ from the bar's level (H.264 noise, feathered edge)."""

_MAX_SPREAD = 5.0
"""Largest p90 - p10 (grey levels) inside a bar: an editor's fill is one colour (measured
fills after H.264 at CRF 23-28: 3 or less in nine of ten; a bright forehead: 5-9)."""

_MIN_STEP = 14.0
"""Smallest grey-level step from the bar to the face just above or below it."""

_MAX_TILT_DEG = 12.0

_FADE_MIN = 2
"""Fewest working px a bar must fade over on both sides to count as feathered (a hard edge
fades over 0-1: codec ringing)."""
_FADE_REACH = 16
"""Most working px a feathered bar's fade is followed out from its flat core (a 16 px
feather on the 64 px working face: beyond that, no flat core is left to find)."""


@dataclass(frozen=True)
class EyeBar:
    """An opaque bar found on a face.

    ``box``: axis-aligned bounds of the bar in frame px ``(x, y, w, h)`` (a bar often runs
    past the face, so it may be wider than the face box). ``coverage``: share of the face
    box's area that the bar covers, in [0, 1]. ``spread``: p90 - p10 of the grey levels
    inside the bar (working scale), near 0 for a fill. ``level``: the bar's grey level.
    ``angle_deg``: the bar's tilt (positive: clockwise in image coordinates). ``feathered``:
    its level fades across it, so it was judged one colour along its length only (a blurred
    face's dark eye band can pass that test too: see the finder).
    """

    box: BoxXYWH
    coverage: float
    spread: float
    level: float
    angle_deg: float
    feathered: bool = False


_USUAL_BAR = (0.15, 0.32)
"""(crop reach above the face box, lowest end of the bar) of the first look, both as shares of
the face box's height: a bar across the eyes of a face CenterFace boxed as a whole."""
_HIGH_BAR = (0.35, 0.25)
"""The same for the second look. With the eyes hidden, CenterFace can box only the nose and
mouth: a bar drawn over the eyes and brow (an editor's box with room to spare) then starts
above the box and ends at a quarter of it."""


def find_eye_bar(grey: np.ndarray, face: BoxXYWH) -> EyeBar | None:
    """Look for an opaque bar across the eyes of ``face`` (CenterFace box, frame px) in the
    greyscale frame ``grey`` (``H x W`` uint8 or float32, 0..255). Returns None when there
    is none (a clear face, glasses, a face under a full blur or mosaic, a flat wall).

    A bar set higher on the box (``_HIGH_BAR``) is looked for only where the usual place
    has none, so a bar found there is measured exactly as before."""
    return _find_eye_bar(grey, face, *_USUAL_BAR) or _find_eye_bar(grey, face, *_HIGH_BAR)


def _find_eye_bar(grey: np.ndarray, face: BoxXYWH, reach_up: float,
                  lowest_end: float) -> EyeBar | None:
    """:func:`find_eye_bar` on a crop from ``reach_up`` box heights above ``face``, for a bar
    that ends at least ``lowest_end`` of the box down."""
    x, y, w, h = (int(v) for v in face)
    fh, fw = grey.shape[:2]
    if w < 8 or h < 8:
        return None
    # The bar lies in the upper part of the face and may run past its sides.
    x0, x1 = max(0, int(x - 0.3 * w)), min(fw, int(np.ceil(x + 1.3 * w)))
    y0, y1 = max(0, int(y - reach_up * h)), min(fh, int(np.ceil(y + 0.85 * h)))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None
    s = WORK_PX / w
    cw, ch = max(8, int(round((x1 - x0) * s))), max(8, int(round((y1 - y0) * s)))
    sx, sy = cw / (x1 - x0), ch / (y1 - y0)  # exact scales after rounding
    crop = cv2.resize(grey[y0:y1, x0:x1], (cw, ch),
                      interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
    crop = crop.astype(np.float32, copy=False)
    # Face box and the central window (the eyes and the bridge between them) in crop px.
    fx, fy, fwd, fhd = (x - x0) * sx, (y - y0) * sy, w * sx, h * sy
    wx0, wx1 = max(0, int(round(fx + 0.25 * fwd))), min(cw, int(round(fx + 0.75 * fwd)))
    by0, by1 = max(1, int(round(fy + 0.1 * fhd))), min(ch - 1, int(round(fy + 0.65 * fhd)))
    if wx1 - wx0 < 6 or by1 - by0 < 6:
        return None
    for level in _levels(crop[by0:by1, wx0:wx1], fhd):
        bar = _bar_at(crop, level, (fx, fy, fwd, fhd), (by0, by1), lowest_end)
        if bar is not None:
            rect, spread, fade, feathered = bar
            found = _report(crop, rect, level, spread, (x0, y0, sx, sy), (fx, fy, fwd, fhd),
                            fade, feathered)
            if found is not None:
                return found
    return None


def _levels(band: np.ndarray, fhd: float) -> list[float]:
    """Grey levels that cover a bar's worth of flat pixels in the eye band, most common
    first (at most three): a bar is many pixels of one level, skin is a spread of levels."""
    u8 = np.clip(np.rint(band), 0, 255).astype(np.uint8)
    grad = cv2.morphologyEx(u8, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    flat = u8[grad <= 4]
    # A bar at least 7% of the face tall crosses the whole band.
    need = 0.5 * (0.07 * fhd) * band.shape[1]
    if flat.size < need:
        return []
    hist = np.bincount(flat, minlength=256).astype(np.float32)
    hist = np.convolve(hist, np.ones(9, np.float32), mode="same")
    out: list[float] = []
    for _ in range(3):
        i = int(np.argmax(hist))
        if hist[i] < need:
            break
        near = flat[(flat >= i - 4) & (flat <= i + 4)]
        out.append(float(near.mean()) if near.size else float(i))
        hist[max(0, i - 16):i + 17] = 0
    return out


Rect = tuple[tuple[float, float], tuple[float, float], float]


def _bar_at(crop: np.ndarray, level: float, face: tuple[float, float, float, float],
            band: tuple[int, int], lowest_end: float
            ) -> tuple[Rect, float, tuple[int, int], bool] | None:
    """The bar of grey ``level`` across the middle of the face, as a rotated rect in crop
    px ``((cx, cy), (length, height), angle_deg)``, its spread, how far a feathered bar's
    fade reaches past the rect above and below it (0, 0 for a hard-edged bar) and whether it
    was judged one colour along its length only (``EyeBar.feathered``), or None.

    Each column of the face's middle half must hold one run of that level through the
    eye line, whose top and bottom ends lie on two parallel straight lines (an editor's
    rectangle); only the middle is judged so that a bar whose ends run into hair or a
    background of its own colour is still seen.
    """
    fx, fy, fwd, fhd = face
    ch, cw = crop.shape[:2]
    c0, c1 = max(0, int(round(fx + 0.25 * fwd))), min(cw, int(round(fx + 0.75 * fwd)))
    by0, by1 = band
    if c1 - c0 < 6:
        return None
    sub = crop[:, c0:c1]
    m = (np.abs(sub - level) <= _LEVEL_TOL).astype(np.uint8)
    m = cv2.morphologyEx(m, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8)) > 0
    occ = m[by0:by1].mean(axis=1)
    seed = by0 + int(np.argmax(occ))
    have = m[seed]
    if have.mean() < 0.9:
        return None
    padded = np.pad(m, ((1, 1), (0, 0)))  # a False row beyond each edge ends every run
    up = np.argmin(padded[seed + 1::-1], axis=0)  # rows from the seed to the run's end
    down = np.argmin(padded[seed + 1:], axis=0)
    cols = np.flatnonzero(have)
    top = (seed - up[cols] + 1).astype(np.float32)  # first row of the run
    bot = (seed + down[cols]).astype(np.float32)  # one past its last row
    if top.min() <= 0 or bot.max() >= ch:
        return None  # runs off the crop: hair, a wall, a fill over the whole face
    xs = cols.astype(np.float32)
    # A neighbour of the bar's own level lets a few runs leak past an edge (always outward),
    # so the edges are fitted robustly and most columns, not all, must end on them.
    pt, on_top = _robust_line(xs, top)
    pb, on_bot = _robust_line(xs, bot)
    if on_top < 0.7 or on_bot < 0.7 or (on_top + on_bot) / 2 < 0.8:
        return None  # ragged or curved ends: shading, eyebrows, lenses, hair
    slope = float(pt[0] + pb[0]) / 2
    if abs(pt[0] - pb[0]) > 0.08 or abs(np.degrees(np.arctan(slope))) > _MAX_TILT_DEG:
        return None  # edges not parallel, or too steep for a bar
    mid_x = (c1 - c0 - 1) / 2
    y_top, y_bot = float(np.polyval(pt, mid_x)), float(np.polyval(pb, mid_x))
    ang = float(np.degrees(np.arctan(slope)))
    height = (y_bot - y_top) * np.cos(np.arctan(slope))
    cy = (y_top + y_bot) / 2
    # It must cross the eye line (about 0.35-0.45 of a CenterFace box down): a bar that ends
    # above it (``lowest_end``) is a flat forehead under a straight fringe, one that starts
    # below, a cheek.
    # Up to 0.6 of the box tall: on a turned head CenterFace's box is tighter than the face,
    # and a bar of 0.3 of the frontal face reads as 0.5 of it (the bench's pose GIF).
    top_rel, bot_rel = (cy - height / 2 - fy) / fhd, (cy + height / 2 - fy) / fhd
    if not 0.07 * fhd <= height <= 0.6 * fhd or bot_rel < lowest_end or top_rel > 0.45:
        return None
    # Inside: one level (1.5 px in from the edges, where the codec rings).
    xi = np.arange(c1 - c0, dtype=np.float32)
    rows = np.arange(ch, dtype=np.float32)[:, None]
    inner = (rows >= np.polyval(pt, xi) + 1.5) & (rows < np.polyval(pb, xi) - 1.5)
    vals = sub[inner]
    if vals.size < 10:
        return None
    p10, p90 = np.percentile(vals, (10, 90))
    spread = float(p90 - p10)
    feathered = spread > _MAX_SPREAD
    if feathered:
        # A feathered bar fades in across its height but is still one level along it.
        spread = _spread_along(sub, inner)
        if spread > _MAX_SPREAD:
            return None
    # Straight edges with a step: just above and below the bar the face differs sharply.
    ci = np.arange(c1 - c0)
    above = np.clip(np.rint(np.polyval(pt, xi) - 2.5), 0, ch - 1).astype(int)
    below = np.clip(np.rint(np.polyval(pb, xi) + 1.5), 0, ch - 1).astype(int)
    for edge in (above, below):
        if np.mean(np.abs(sub[edge, ci] - level) >= _MIN_STEP) < 0.6:
            return None
    # The fitted edges hold a feathered bar's flat core: the bar reaches over its fade (a
    # hard edge steps to the face at once: no fade).
    fade = (_fade_out(sub, pt, level, -1), _fade_out(sub, pb, level, 1))
    return ((c0 + mid_x, cy), (float(c1 - c0), float(height)), ang), spread, fade, feathered


def _fade_out(sub: np.ndarray, line: np.ndarray, level: float, step: int) -> int:
    """Rows from a bar's fitted edge ``line`` (top: ``step`` -1; bottom, one past the run:
    +1) out to its fade's half level (``measure.fade_half_way``): 0 or 1 for a hard edge,
    more for a feathered one; 0 if it never fades into the face."""
    ch, n = sub.shape
    xi = np.arange(n, dtype=np.float32)
    edge = np.polyval(line, xi) - (1 if step < 0 else 0)
    prof = []
    for d in range(_FADE_REACH):
        rows = np.rint(edge + step * d).astype(int)
        if rows.min() < 0 or rows.max() >= ch:
            break
        prof.append(float(np.median(np.abs(sub[rows, np.arange(n)] - level))))
    end = fade_half_way(np.asarray(prof, np.float32)) if len(prof) > 1 else None
    return end or 0


def _spread_along(sub: np.ndarray, inner: np.ndarray) -> float:
    """p90 - p10 of the bar's grey levels less each row's median: the spread along the bar,
    which an edge feathered across it leaves as small as a hard edge does (a bar's rows run
    along it; the tilt allowed moves a row across it by a few working pixels at most)."""
    rows = np.flatnonzero(inner.any(axis=1))
    dev = np.concatenate([sub[r, inner[r]] - np.median(sub[r, inner[r]]) for r in rows])
    p10, p90 = np.percentile(dev, (10, 90))
    return float(p90 - p10)


def _robust_line(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, float]:
    """Line ``(slope, intercept)`` through the bulk of the points and the share of points
    within 1.5 px of it: a first guess from the medians of the two halves (a minority of
    outliers cannot tilt it), then a least-squares fit to the points near that guess."""
    half = len(xs) // 2
    lx, rx = float(np.median(xs[:half])), float(np.median(xs[half:]))
    slope = (float(np.median(ys[half:])) - float(np.median(ys[:half]))) / max(rx - lx, 1.0)
    line = np.array([slope, float(np.median(ys - slope * xs))])
    for _ in range(2):
        near = np.abs(ys - np.polyval(line, xs)) <= 2.0
        if near.sum() < 4:
            break
        line = np.polyfit(xs[near], ys[near], 1)
    return line, float(np.mean(np.abs(ys - np.polyval(line, xs)) <= 1.5))


def _report(crop: np.ndarray, rect: Rect,
            level: float, spread: float, to_frame: tuple[int, int, float, float],
            face: tuple[float, float, float, float],
            fade: tuple[int, int] = (0, 0), feathered: bool = False) -> EyeBar | None:
    """Extend the bar along its axis to where its level ends (it may run past the face) and
    across it over a feather's ``fade`` (above, below), then express it in frame px with its
    coverage of the face box."""
    (cx, cy), (rw, rh), ang = rect
    ch, cw = crop.shape[:2]
    a = np.deg2rad(ang)
    ux, uy = np.cos(a), np.sin(a)
    reach, beyond = [], []
    for sign in (-1.0, 1.0):
        t = np.arange(0.0, 2.0 * cw)
        px = np.rint(cx + sign * t * ux).astype(int)
        py = np.rint(cy + sign * t * uy).astype(int)
        inside = (px >= 0) & (px < cw) & (py >= 0) & (py < ch)
        px, py, t = px[inside], py[inside], t[inside]
        # Median over the bar's middle half-height, so one noisy pixel does not end it.
        offs = np.linspace(-rh / 4, rh / 4, 3)
        vals = np.median([crop[np.clip(np.rint(py + o * ux), 0, ch - 1).astype(int),
                               np.clip(np.rint(px - o * uy), 0, cw - 1).astype(int)]
                          for o in offs], axis=0)
        off = np.abs(vals - level) > _LEVEL_TOL
        end = int(np.argmax(off)) if off.any() else len(t)
        reach.append(float(t[end - 1]) + 0.5 if end > 0 else 0.0)
        # A feathered bar (one that fades over 2 px or more on both sides) fades out past
        # its ends as across it; a hard bar's end may meet a backdrop of about its level.
        tail = np.abs(vals[max(0, end - 1):] - level)
        beyond.append((fade_half_way(tail) or 0) if min(fade) >= _FADE_MIN and tail.size > 1
                      else 0)
    fx, fy, fwd, fhd = face
    if reach[0] + reach[1] < 0.55 * fwd:
        return None  # a patch, not a bar across both eyes
    reach = [r + b for r, b in zip(reach, beyond, strict=True)]
    mid = (reach[1] - reach[0]) / 2
    length = reach[0] + reach[1]
    up, down = fade
    shift = (down - up) / 2  # along the normal (-uy, ux), downwards
    centre = (cx + mid * ux - shift * uy, cy + mid * uy + shift * ux)
    corners = cv2.boxPoints((centre, (length, rh + up + down), ang))
    # Coverage: share of the face box's pixels under the bar (working scale).
    fmask = np.zeros((max(1, int(round(fhd))), max(1, int(round(fwd)))), np.uint8)
    local = np.round((corners - np.float32([fx, fy])) * 4).astype(np.int32)
    cv2.fillPoly(fmask, [local], 1, cv2.LINE_8, shift=2)
    coverage = float(fmask.mean())
    x0, y0, sx, sy = to_frame
    xs, ys = corners[:, 0] / sx + x0, corners[:, 1] / sy + y0
    bx0, by0 = int(np.floor(xs.min())), int(np.floor(ys.min()))
    bx1, by1 = int(np.ceil(xs.max())), int(np.ceil(ys.max()))
    return EyeBar(box=(bx0, by0, bx1 - bx0, by1 - by0), coverage=coverage,
                  spread=round(spread, 2), level=round(level, 1), angle_deg=round(ang, 1),
                  feathered=feathered)
