"""Measure one region: is it redacted, how (type) and how strongly (strength_px)?

Blur strength comes from how much gradient energy a known re-blur removes: a sharp picture
loses most of it, an already-blurred one little (the ratio falls with the blur's sigma). The
same ratios for second differences tell a box kernel (flat-topped, sharp ramp ends) from a
Gaussian, and ratios per direction reveal a motion streak. Ratios are matched against a
table computed once from a reference face (scikit-image's astronaut) blurred by known
kernels, so the discretisation of small kernels is handled the same way on both sides.
Mosaic block size is the period of the grid lines in the column and row gradient profiles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from veilscan.catalog.clip_result import box_sigma

_RE_SIGMAS = (1.0, 2.5, 5.0)


@dataclass(frozen=True)
class RegionMeasure:
    """What a region looks like in one frame."""

    kind: str
    """gaussian_blur | box_blur | motion_blur | mosaic | solid | unknown | clear, or blur
    (smooth, kernel not fitted yet)"""
    strength_px: float
    """Block size (mosaic) or equivalent Gaussian sigma (blurs), px; 0 for solid / clear."""
    residual_detail: float
    """Fine detail left relative to a clear face, 0..1."""
    fit_error: float
    """Distance to the nearest reference kernel (log-ratio units); large means unknown."""


def _energy(g: np.ndarray, axis: int | None = None, order: int = 1,
            mask: np.ndarray | None = None) -> float:
    """Mean squared finite difference of ``order`` (both axes, or one), over ``mask``."""
    total = 0.0
    for ax in ((0, 1) if axis is None else (axis,)):
        d = np.diff(g, n=order, axis=ax)
        if mask is None:
            total += float(np.mean(d * d))
        else:
            mk = mask[:d.shape[0], :d.shape[1]]
            total += float((d * d * mk).sum() / max(float(mk.sum()), 1.0))
    return total


_CANON_W = 112
"""Regions wider than this (px) are measured downscaled to it."""
_LEVELS = (1.0, 2.0, 3.5, 6.0, 10.0)
"""Gaussian smoothing levels (px) whose gradient-energy ratios describe a blur. The first
level removes codec noise and quantisation, which would otherwise read as fine detail."""


def _features_iso(g: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """log ratios of gradient energy between successive smoothing levels."""
    energies = [
        _energy(cv2.GaussianBlur(g, (0, 0), s, borderType=cv2.BORDER_REFLECT), mask=mask)
        + 1e-6 for s in _LEVELS
    ]
    return np.array([math.log(energies[i] / energies[i + 1])
                     for i in range(len(energies) - 1)], np.float64)


def _features_dir(g: np.ndarray) -> np.ndarray:
    """The same ratios along x only (for a motion streak rotated onto the x axis)."""
    energies = [
        _energy(cv2.GaussianBlur(g, (0, 0), sigmaX=s, sigmaY=1.0,
                                 borderType=cv2.BORDER_REFLECT), axis=1) + 1e-6
        for s in _LEVELS
    ]
    return np.array([math.log(energies[i] / energies[i + 1])
                     for i in range(len(energies) - 1)], np.float64)


def _motion_kernel(length: int) -> np.ndarray:
    k = np.zeros((1, length), np.float32)
    k[:] = 1.0 / length
    return k


_REF_FACE = (56, 176, 154, 112)
"""(y, x, h, w) of the face inside scikit-image's astronaut portrait, px."""


@lru_cache(maxsize=1)
def _astronaut_grey() -> np.ndarray:
    from skimage import data

    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY).astype(np.float32)


@lru_cache(maxsize=256)
def _reference_table(
    bw: int, cw: int, ch: int,
) -> tuple[list[tuple[str, float]], np.ndarray, list[float], np.ndarray]:
    """Features of the reference face under known kernels, at the measured region's size.

    Ratios depend on blur size relative to the face's features, so the reference face is
    scaled so its face width matches the region's box width ``bw`` and cropped to the
    measured ``cw x ch`` (all px, bucketed by the caller so the cache hits).
    Returns (iso labels, iso features, motion sigmas, motion features).
    """
    grey = _astronaut_grey()
    fy, fx, fh, fw = _REF_FACE
    scale = bw / fw
    # Only the face and a margin wide enough for the largest kernel are ever looked at.
    margin = 40 + max(cw, ch)
    cy, cx = int((fy + fh / 2) * scale), int((fx + fw / 2) * scale)
    wy0, wx0 = max(0, cy - margin), max(0, cx - margin)
    src = grey[int(wy0 / scale):int((cy + margin) / scale) + 1,
               int(wx0 / scale):int((cx + margin) / scale) + 1]
    big = cv2.resize(src, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    y0, x0 = max(0, cy - ch // 2 - wy0), max(0, cx - cw // 2 - wx0)

    def crop(img: np.ndarray) -> np.ndarray:
        # Frames are uint8: quantisation noise is part of what a measured region shows.
        return np.rint(img[y0:y0 + ch, x0:x0 + cw])

    labels: list[tuple[str, float]] = []
    feats = []
    for s in np.geomspace(0.5, 16, 26):
        labels.append(("gaussian_blur", float(s)))
        feats.append(_features_iso(crop(cv2.GaussianBlur(big, (0, 0), s))))
    for k in range(3, 48, 3):
        labels.append(("box_blur", box_sigma(k)))
        feats.append(_features_iso(crop(cv2.blur(big, (k, k)))))
    mlabels: list[float] = []
    mfeats = []
    for n in range(3, 72, 3):
        mlabels.append(box_sigma(n))
        mfeats.append(_features_dir(crop(cv2.filter2D(big, -1, _motion_kernel(n)))))
    return labels, np.array(feats), mlabels, np.array(mfeats)


def _sharpness_by_direction(g: np.ndarray) -> np.ndarray:
    """log(E / E after re-blur) of the directional derivative at 0, 45, 90, 135 degrees.

    Computed between smoothing levels 1 px and 2.5 px (codec noise removed first). A motion
    streak leaves one direction with little to lose; isotropic blurs lose alike everywhere.
    """
    a = cv2.GaussianBlur(g, (0, 0), 1.0, borderType=cv2.BORDER_REFLECT)
    b = cv2.GaussianBlur(g, (0, 0), 2.5, borderType=cv2.BORDER_REFLECT)
    h, w = g.shape
    dirs = []
    for dy, dx in ((0, 1), (1, 1), (1, 0), (1, -1)):
        ys, xs = slice(dy, h), slice(max(dx, 0), w + min(dx, 0))
        y0, x0 = slice(0, h - dy), slice(max(-dx, 0), w - max(dx, 0))
        da, db = a[ys, xs] - a[y0, x0], b[ys, xs] - b[y0, x0]
        dirs.append(math.log((float(np.mean(da * da)) + 1e-6)
                             / (float(np.mean(db * db)) + 1e-6)))
    return np.array(dirs)


def _grid_axis(prof: np.ndarray) -> tuple[float, int, int]:
    """(concentration 0..1, period px, phase px) of a 1-D |difference| profile."""
    n = prof.size
    total = float(prof.sum()) + 1e-6
    scores: dict[int, tuple[float, int]] = {}
    pos = np.arange(n)
    for b in range(3, max(4, min(48, n // 2) + 1)):
        sums = np.bincount(pos % b, weights=prof, minlength=b)
        p = int(np.argmax(sums))
        scores[b] = (float(sums[p]) / total, p)
    if not scores:
        return 0.0, 0, 0
    top = max(c for c, _ in scores.values())
    # Divisors of the true period score as high as it; multiples score about half.
    bsel = max(b for b, (c, _) in scores.items() if c >= 0.85 * top)
    return top, bsel, scores[bsel][1]


def _floored(prof: np.ndarray) -> np.ndarray:
    """A column/row |difference| profile minus its median: the codec-noise floor off the
    grid lines goes, small but consistent steps on them stay."""
    return np.maximum(prof - float(np.median(prof)), 0.0) if prof.size else prof


def _denoised_diff(g: np.ndarray, axis: int) -> np.ndarray:
    """|difference| along ``axis`` minus 3 grey levels (codec ringing inside blocks)."""
    return np.maximum(np.abs(np.diff(g, axis=axis)) - 3.0, 0.0)


def mosaic_period(g: np.ndarray) -> tuple[float, float]:
    """(block size px, grid score 0..1) from the column and row gradient profiles.

    For a block grid of period b every gradient sits on one phase of b, so the best phase
    holds nearly all of it (score ~1); natural detail spreads over all phases (~1/b).
    """
    cx, bx, _ = _grid_axis(_floored(np.abs(np.diff(g, axis=1)).mean(axis=0)))
    cy, by, _ = _grid_axis(_floored(np.abs(np.diff(g, axis=0)).mean(axis=1)))
    if not bx or not by:
        return 0.0, 0.0
    if abs(bx - by) > 1 + 0.1 * max(bx, by):
        return float(min(bx, by)), 0.0  # pixelation uses square cells; bricks and tiles do not
    return float(np.mean((bx, by))), min(cx, cy)


def refine_mosaic_box(grey: np.ndarray, box: tuple[int, int, int, int],
                      slack_px: int) -> tuple[int, int, int, int]:
    """Snap a coarse mosaic box to the extent of its block grid (frame px).

    Inside a mosaic every pixel equals its neighbour except across grid lines, so the
    differences off the grid lines are ~0; the region ends where they are not.
    """
    x, y, w, h = box
    fh, fw = grey.shape
    core = grey[y + h // 4:y + h - h // 4, x + w // 4:x + w - w // 4].astype(np.float32)
    if core.shape[0] < 8 or core.shape[1] < 8:
        return box
    _, bx, px = _grid_axis(_denoised_diff(core, 1).mean(axis=0))
    _, by, py = _grid_axis(_denoised_diff(core, 0).mean(axis=1))
    if not bx or not by:
        return box
    # Grid line positions in frame coordinates: a difference at index i spans (i, i + 1).
    gx0, gy0 = x + w // 4 + px, y + h // 4 + py
    pad = slack_px + max(bx, by)
    x0, y0 = max(0, x - pad), max(0, y - pad)
    x1, y1 = min(fw, x + w + pad), min(fh, y + h + pad)
    patch = grey[y0:y1, x0:x1].astype(np.float32)

    def extent(axis: int, b: int, g0: int, lo: int, hi: int,
               band: tuple[int, int]) -> tuple[int, int]:
        d = _denoised_diff(patch, axis)
        d = d[band[0]:band[1], :] if axis == 1 else d[:, band[0]:band[1]]
        prof = d.mean(axis=1 - axis)
        idx = np.arange(prof.size) + (x0 if axis == 1 else y0)
        on_grid = ((idx - g0) % b) == 0
        off = np.where(on_grid, np.nan, prof)
        inside = np.zeros(prof.size, bool)
        # Judge each grid cell by its internal differences.
        first = (g0 - (x0 if axis == 1 else y0)) % b
        starts = list(range(first - b + 1, prof.size, b))
        for st in starts:
            a0, a1 = max(0, st), min(prof.size, st + b - 1)
            if a1 > a0:
                vals = off[a0:a1]
                vals = vals[~np.isnan(vals)]
                inside[a0:a1 + 1] = vals.size > 0 and float(vals.mean()) < 1.0
        c = (lo + hi) // 2 - (x0 if axis == 1 else y0)
        c = min(max(c, 0), prof.size - 1)
        if not inside[c]:
            return lo, hi
        a = c
        while a > 0 and inside[a - 1]:
            a -= 1
        e = c
        while e < prof.size - 1 and inside[e + 1]:
            e += 1
        # A mask edge can cut a cell: extend pixel by pixel while values stay constant.
        while a > 0 and (on_grid[a - 1] or prof[a - 1] < 1.0):
            if on_grid[a - 1] and a - 2 >= 0 and prof[a - 2] >= 1.0:
                break
            a -= 1
        while e < prof.size - 1 and (on_grid[e + 1] or prof[e + 1] < 1.0):
            if on_grid[e + 1] and e + 2 < prof.size and prof[e + 2] >= 1.0:
                break
            e += 1
        off0 = x0 if axis == 1 else y0
        return off0 + a, off0 + e + 1

    rows = (y + h // 4 - y0, y + h - h // 4 - y0)
    cols = (x + w // 4 - x0, x + w - w // 4 - x0)
    nx0, nx1 = extent(1, bx, gx0, x, x + w, rows)
    ny0, ny1 = extent(0, by, gy0, y, y + h, cols)
    # Flat surroundings (a wall) continue a mosaic's constant cells: stay near the coarse box.
    reach_x, reach_y = bx + 4, by + 4
    nx0, nx1 = max(nx0, x - reach_x), min(nx1, x + w + reach_x)
    ny0, ny1 = max(ny0, y - reach_y), min(ny1, y + h + reach_y)
    if nx1 - nx0 < 0.5 * w or ny1 - ny0 < 0.5 * h:
        return box
    return (nx0, ny0, nx1 - nx0, ny1 - ny0)


_SPEC_N = 512
"""FFT length (zero-padded) of the row spectra used to find a flat kernel's zeros."""


def _row_log_power(g: np.ndarray) -> np.ndarray:
    """log mean power spectrum of the Hann-windowed rows (frequency bin i = i/_SPEC_N c/px)."""
    g = g - g.mean(axis=1, keepdims=True)
    win = np.hanning(g.shape[1]).astype(np.float32)
    power = (np.abs(np.fft.rfft(g * win, n=_SPEC_N, axis=1)) ** 2).mean(axis=0)
    return np.log(power + 1e-3)


def _kernel_dip(lp: np.ndarray, k: int, width: int) -> float:
    """How deep the spectrum dips at a width-``k`` flat kernel's zeros (1/k, 2/k c/px)
    below its side lobes (1.43/k, 2.46/k): a box or streak of ``k`` px has zeros there, a
    Gaussian or a natural picture falls off smoothly (log-power units, ~0 or below)."""
    if 1.43 / k > 0.45 or k > width / 4:
        return -9.0
    bins = np.arange(len(lp))

    def at(f: float) -> float:
        return float(np.interp(f * _SPEC_N, bins, lp))

    d = at(1.43 / k) - at(1.0 / k)
    if 2.46 / k < 0.45:
        d = 0.5 * (d + at(2.46 / k) - at(2.0 / k))
    return d


def _flat_kernel(g: np.ndarray, sigma: float) -> tuple[str, float] | None:
    """Tell box and motion blur from Gaussian by the zeros of their flat kernels.

    ``g`` is the region at frame resolution, ``sigma`` the Gaussian-equivalent fit (px).
    Returns (kind, equivalent sigma px) for a box (zeros along both axes at one width
    consistent with ``sigma``) or a motion streak (zeros along one direction only), else
    None (keep the Gaussian reading).
    """
    if min(g.shape) < 24:
        return None
    # Large regions are looked at downscaled (speed); widths come back in frame px.
    f = min(1.0, 192.0 / max(g.shape))
    if f < 1.0:
        g = cv2.resize(g, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        flat = _flat_kernel(g, sigma * f)
        return None if flat is None else (flat[0], flat[1] / f)
    ks = range(3, 48)
    lp0, lp90 = _row_log_power(g), _row_log_power(np.ascontiguousarray(g.T))
    best_box = -9.0, 0
    for k in ks:
        if 0.4 * sigma <= box_sigma(k) <= 1.6 * sigma:
            d0, d90 = _kernel_dip(lp0, k, g.shape[1]), _kernel_dip(lp90, k, g.shape[0])
            score = min(d0, d90) if min(d0, d90) >= 0.15 else (
                max(d0, d90) if min(d0, d90) >= -0.3 and max(d0, d90) >= 0.4 else -9.0)
            if score > best_box[0]:
                best_box = score, k
    if best_box[0] > -9.0:
        return "box_blur", box_sigma(best_box[1])
    dirs = {0: max((_kernel_dip(lp0, k, g.shape[1]), k) for k in ks),
            90: max((_kernel_dip(lp90, k, g.shape[0]), k) for k in ks)}
    for angle in (45, 135):
        rot = cv2.getRotationMatrix2D((g.shape[1] / 2, g.shape[0] / 2), -angle, 1.0)
        gr = cv2.warpAffine(g, rot, (g.shape[1], g.shape[0]), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REFLECT)
        c = int(0.15 * min(gr.shape))
        gr = np.ascontiguousarray(gr[c:gr.shape[0] - c, c:gr.shape[1] - c])
        lp = _row_log_power(gr)
        dirs[angle] = max((_kernel_dip(lp, k, gr.shape[1]), k) for k in ks)
    a = max(dirs, key=lambda a: dirs[a][0])
    (dip, k), perp = dirs[a], dirs[(a + 90) % 180][0]
    if dip >= 0.75 and dip - perp >= 0.7:
        return "motion_blur", box_sigma(k)
    return None


def _inset_crop(grey: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray | None:
    """The region inset by 8% (edges of a redaction blend with the surround), as float32;
    None when less than 12 px remain on a side."""
    x, y, w, h = box
    fh, fw = grey.shape
    inset = max(2, int(0.08 * min(w, h)))
    x0, y0 = max(0, x + inset), max(0, y + inset)
    x1, y1 = min(fw, x + w - inset), min(fh, y + h - inset)
    if x1 - x0 < 12 or y1 - y0 < 12:
        return None
    return grey[y0:y1, x0:x1].astype(np.float32)


def measure_region(grey: np.ndarray, box: tuple[int, int, int, int],
                   classify: bool = True) -> RegionMeasure | None:
    """Classify the region ``box`` (frame px) of a greyscale uint8 frame.

    With ``classify=False`` a smooth region is only reported as ``blur`` (no kernel fit):
    enough to follow a candidate until a face is confirmed in it.
    """
    w = box[2]
    g = _inset_crop(grey, box)
    if g is None:
        return None
    mid = _middle(g)  # an elliptical fill leaves the box corners unfilled
    p10, p90 = np.percentile(mid, (10, 90))
    fill = float(np.median(mid))
    # An editor's fill is one colour (codec noise aside); skin and walls shade across it.
    if (p90 - p10) < 5.0 and _energy(mid) < 2.0 and float(np.mean(np.abs(g - fill) < 3)) > 0.7:
        if _fill_contrast(grey, box, fill) < 0.6 or not _fill_shaped(grey, box, fill):
            return None  # a flat patch that blends into its surroundings: wall, sky, cloth
        return RegionMeasure("solid", 0.0, 0.0, 0.0)
    block, score = mosaic_period(g)
    if score > 0.5 and block >= 3 and _grid_contrast(g, block) >= 2.0 \
            and _on_off_grid(g, block) >= 3.0:
        return RegionMeasure("mosaic", block, min(1.0, 2.0 / block), 0.0)
    sharp_share, keep = _sharp_pixels(g)
    if sharp_share > 0.15:
        # A streak leaves the detail across it: sharp by the isotropic test. Its kernel's
        # spectral zeros along one direction still give it away.
        streak = _flat_kernel(g, 0.0) if sharp_share < 0.5 and classify else None
        if streak is None:
            return RegionMeasure("clear", 0.0, 1.0, 0.0)
        return RegionMeasure(streak[0], streak[1], min(1.0, sharp_share), 0.0)
    if not classify:
        return RegionMeasure("blur", 0.0, 0.0, 0.0)
    g_full = g
    # Large regions are measured at a canonical size (speed; one reference table per shape
    # and size bucket), and every strength is scaled back to frame pixels.
    f_px = min(1.0, _CANON_W / w)
    bw = int(round(2.0 ** (round(math.log2(max(w * f_px, 8)) * 6) / 6)))
    f_px = bw / w
    cw = max(12, int(round(g.shape[1] * f_px / 4)) * 4)
    ch = max(12, int(round(g.shape[0] * f_px / 4)) * 4)
    g = cv2.resize(g, (cw, ch), interpolation=cv2.INTER_AREA if f_px < 1 else cv2.INTER_LINEAR)
    if keep is not None:
        keep = (cv2.resize(keep, (cw, ch), interpolation=cv2.INTER_NEAREST) > 0.5).astype(
            np.float32)
        if keep.sum() < 0.3 * keep.size:
            keep = None
    labels, table, mlabels, mtable = _reference_table(bw, cw, ch)
    dirs = _sharpness_by_direction(g)
    f = _features_iso(g, keep)
    k = int(np.argmin(dirs))
    if dirs[(k + 2) % 4] > 2.3 * max(dirs[k], 0.05) and dirs[(k + 2) % 4] > 0.4:
        # One direction may have kept its detail while another lost it: a motion streak.
        # Fit the streak along that direction and across it; an isotropic blur fits alike.
        fits = []
        for angle in (45.0 * k, 45.0 * k + 90.0):
            rot = cv2.getRotationMatrix2D((g.shape[1] / 2, g.shape[0] / 2), -angle, 1.0)
            gr = cv2.warpAffine(g, rot, (g.shape[1], g.shape[0]), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REFLECT)
            d = np.linalg.norm(mtable - _features_dir(gr), axis=1)
            i = int(np.argmin(d))
            fits.append((mlabels[i], float(d[i])))
        (s_along, d_along), (s_across, _) = fits
        if s_along > 2.5 * s_across and s_across < 2.0:
            # A box looks streaky to the ratio test when the face's own lines run one way.
            flat = _flat_kernel(g_full, math.sqrt(s_along * max(s_across, 1.0)) / f_px)
            if flat is None or flat[0] == "motion_blur":
                sigma_m = flat[1] if flat is not None else s_along / f_px
                return RegionMeasure("motion_blur", sigma_m, _residual(f, table, labels),
                                     d_along)
            return RegionMeasure(flat[0], flat[1], _residual(f, table, labels), d_along)
    d = np.linalg.norm(table - f, axis=1)
    is_box = np.array([lab[0] == "box_blur" for lab in labels])
    ig = int(np.argmin(np.where(is_box, np.inf, d)))
    ib = int(np.argmin(np.where(is_box, d, np.inf)))
    # Box and Gaussian kernels differ only subtly in these ratios: Gaussian (by far the
    # commoner editor default) wins unless the box fit is clearly better.
    i = ib if d[ib] < 0.6 * d[ig] else ig
    kind, sigma = labels[i]
    sigma /= f_px
    if sigma < 1.5:
        return RegionMeasure("clear", 0.0, 1.0, float(d[i]))
    kind_out = kind if d[i] < 0.6 else "unknown"
    if kind_out != "unknown":
        # The ratio features barely tell box from Gaussian and miss most streaks: the flat
        # kernels' spectral zeros decide (frame-resolution region, so widths are frame px).
        flat = _flat_kernel(g_full, sigma)
        if flat is not None:
            kind_out, sigma = flat
        elif kind_out == "box_blur":
            kind_out, sigma = "gaussian_blur", labels[ig][1] / f_px
    return RegionMeasure(kind_out, sigma, _residual(f, table, labels), float(d[i]))


def _structure_and_sharp(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of pixels with structure (gradient energy that survives a sigma-1.5 blur) and of
    those among them that are sharp (the blur removes most of their energy)."""
    gx, gy = np.diff(g, axis=1)[:-1, :], np.diff(g, axis=0)[:, :-1]
    e0 = cv2.boxFilter(gx * gx + gy * gy, -1, (5, 5))
    gb = cv2.GaussianBlur(g, (0, 0), 1.5, borderType=cv2.BORDER_REFLECT)
    bx, by = np.diff(gb, axis=1)[:-1, :], np.diff(gb, axis=0)[:, :-1]
    e1 = cv2.boxFilter(bx * bx + by * by, -1, (5, 5))
    struct = e1 > 6.0
    return struct, struct & (e0 > 2.2 * e1)


def _sharp_pixels(g: np.ndarray) -> tuple[float, np.ndarray | None]:
    """(share of structured pixels that are sharp, mask of pixels away from sharp ones).

    A box that overlaps unredacted picture at its rim must not read as sharper than the
    redaction inside it: the blur features are computed away from sharp pixels.
    """
    struct, sharp = _structure_and_sharp(g)
    # The share is judged inside the inscribed ellipse: an oval redaction leaves the box
    # corners (hair, background) unredacted.
    oval = np.zeros(struct.shape, np.uint8)
    hh, ww = struct.shape
    cv2.ellipse(oval, (ww // 2, hh // 2), (max(1, int(ww * 0.45)), max(1, int(hh * 0.45))),
                0, 0, 360, 1, -1)
    oval_b = oval.astype(bool)
    n = int((struct & oval_b).sum())
    if n < 20:
        return 0.0, None
    share = float((sharp & oval_b).sum()) / n
    if not sharp.any():
        return share, None
    near = cv2.dilate(sharp.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    keep = np.ones(g.shape, np.float32)
    keep[:near.shape[0], :near.shape[1]][near] = 0.0
    if keep.sum() < 0.3 * keep.size:
        return share, None
    return share, keep


def _residual(f: np.ndarray, table: np.ndarray, labels: list[tuple[str, float]]) -> float:
    """Share of a clear reference face's fine detail (re-blur energy ratio) left, 0..1."""
    clear = table[0][0]
    return float(np.clip((math.exp(f[0]) - 1.0) / (math.exp(clear) - 1.0), 0.0, 1.0))


def _fill_shaped(grey: np.ndarray, box: tuple[int, int, int, int], fill: float) -> bool:
    """Does the fill colour cover ``box`` as a rectangle or an inscribed ellipse would?

    Editors draw boxes and ovals; a dark shirt or a shadow has a ragged outline.
    """
    x, y, w, h = box
    region = grey[max(0, y):y + h, max(0, x):x + w].astype(np.float32)
    if region.size == 0:
        return False
    mask = np.abs(region - fill) < 6
    if float(mask.mean()) >= 0.9:
        return True
    ell = np.zeros(mask.shape, np.uint8)
    hh, ww = mask.shape
    cv2.ellipse(ell, (ww // 2, hh // 2), (max(1, ww // 2), max(1, hh // 2)), 0, 0, 360, 1, -1)
    ell = ell.astype(bool)
    inter = float(np.sum(mask & ell))
    return inter / max(1.0, float(np.sum(mask | ell))) >= 0.85


def _middle(g: np.ndarray) -> np.ndarray:
    """The central 60 % (each axis) of a crop: inside any rectangle or inscribed ellipse."""
    h, w = g.shape
    return g[int(0.2 * h):max(int(0.8 * h), int(0.2 * h) + 1),
             int(0.2 * w):max(int(0.8 * w), int(0.2 * w) + 1)]


def _fill_contrast(grey: np.ndarray, box: tuple[int, int, int, int], fill: float) -> float:
    """Share of a 3 px ring just outside ``box`` that differs from the fill colour.

    An editor's fill ends in a crisp outline against whatever it covers; a flat wall or a
    dark shirt fades into similar tones around it.
    """
    x, y, w, h = box
    fh, fw = grey.shape
    x0, y0, x1, y1 = max(0, x - 4), max(0, y - 4), min(fw, x + w + 4), min(fh, y + h + 4)
    patch = grey[y0:y1, x0:x1].astype(np.float32)
    ring = np.ones(patch.shape, bool)
    ring[max(0, y - 1 - y0):y + h + 1 - y0, max(0, x - 1 - x0):x + w + 1 - x0] = False
    if not ring.any():
        return 0.0
    return float(np.mean(np.abs(patch[ring] - fill) > 10))


def looks_clear(grey: np.ndarray, box: tuple[int, int, int, int], kind: str) -> bool:
    """Cheap per-frame dropout test: does the region at ``box`` show the picture unredacted?

    ``kind`` is the track's redaction type: a solid fill ends when the region gains texture,
    a mosaic when its block grid goes, a blur when fine detail comes back.
    """
    g = _inset_crop(grey, box)
    if g is None:
        return False
    if kind == "solid":
        mid = _middle(g)
        p10, p90 = np.percentile(mid, (10, 90))
        return bool(p90 - p10 > 12.0 and _sharp_pixels(mid)[0] > 0.1)
    if kind == "mosaic":
        _, score = mosaic_period(g)
        if score > 0.4:
            return False
    return _sharp_pixels(g)[0] > 0.15


def _grid_contrast(g: np.ndarray, block: float) -> float:
    """Mean |difference| across the strongest grid lines (grey levels).

    A real mosaic steps by whole cell means (tens of levels); codec block edges in flat
    areas step by one or two.
    """
    b = max(2, int(round(block)))
    ax = _denoised_diff(g, 1).mean(axis=0)
    if ax.size < b:
        return 0.0
    return float(max(ax[p::b].mean() for p in range(b)))


def _on_off_grid(g: np.ndarray, block: float) -> float:
    """Raw mean |difference| on the best grid phase over that off it (both axes, worst).

    Inside a mosaic cell the values are constant (codec noise aside), so differences off
    the grid lines are tiny next to those on them; a soft edge spreads over both.
    """
    b = max(2, int(round(block)))
    worst = np.inf
    for axis in (1, 0):
        prof = np.abs(np.diff(g, axis=axis)).mean(axis=1 - axis)
        if prof.size < 2 * b:
            return 0.0
        sums = [float(prof[p::b].mean()) for p in range(b)]
        p = int(np.argmax(sums))
        off = np.delete(prof, np.arange(p, prof.size, b))
        off_mean = float(off.mean()) + 0.25
        lines = prof[p::b]
        # Many grid lines must carry the steps, not one edge of a window or a paste.
        if int(np.sum(lines > 2.0 * off_mean)) < max(3, 0.5 * lines.size):
            return 0.0
        worst = min(worst, sums[p] / off_mean)
    return float(worst)


def ring_sharp_share(grey: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """Share of structured pixels that are sharp in a ring around ``box`` (outside it).

    A redaction sits in an otherwise sharp picture; a face that looks blurred because the
    whole frame is (camera shake, defocus) has an equally soft surround.
    """
    x, y, w, h = box
    fh, fw = grey.shape
    m = max(8, int(0.3 * max(w, h)))
    x0, y0, x1, y1 = max(0, x - m), max(0, y - m), min(fw, x + w + m), min(fh, y + h + m)
    g = grey[y0:y1, x0:x1].astype(np.float32)
    f = min(1.0, 400.0 / max(g.shape))
    if f < 1.0:
        g = cv2.resize(g, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    struct, sharp = _structure_and_sharp(g)
    outside = np.ones(struct.shape, bool)
    ix0, iy0 = int((x - x0) * f), int((y - y0) * f)
    outside[iy0:iy0 + int(h * f), ix0:ix0 + int(w * f)] = False
    n = int((struct & outside).sum())
    return float((sharp & outside).sum()) / n if n >= 20 else 0.0
