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
    """gaussian_blur | box_blur | motion_blur | mosaic | solid | unknown | clear"""
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


def _features_iso(g: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """log energy ratios (before / after re-blur) and second/first difference ratio."""
    e0 = _energy(g, mask=mask) + 1e-6
    feats = []
    for s in _RE_SIGMAS:
        gb = cv2.GaussianBlur(g, (0, 0), s, borderType=cv2.BORDER_REFLECT)
        feats.append(math.log(e0 / (_energy(gb, mask=mask) + 1e-6)))
    feats.append(math.log((_energy(g, order=2, mask=mask) + 1e-6) / e0))
    return np.array(feats, np.float64)


def _features_dir(g: np.ndarray) -> np.ndarray:
    """The same ratios along x only (for a motion streak rotated onto the x axis)."""
    e0 = _energy(g, axis=1) + 1e-6
    feats = []
    for s in _RE_SIGMAS:
        gb = cv2.GaussianBlur(g, (0, 0), sigmaX=s, sigmaY=0.01, borderType=cv2.BORDER_REFLECT)
        feats.append(math.log(e0 / (_energy(gb, axis=1) + 1e-6)))
    feats.append(math.log((_energy(g, axis=1, order=2) + 1e-6) / e0))
    return np.array(feats, np.float64)


def _motion_kernel(length: int) -> np.ndarray:
    k = np.zeros((1, length), np.float32)
    k[:] = 1.0 / length
    return k


_REF_FACE = (56, 176, 154, 112)
"""(y, x, h, w) of the face inside scikit-image's astronaut portrait, px."""


@lru_cache(maxsize=64)
def _reference_table(
    cw: int, ch: int,
) -> tuple[list[tuple[str, float]], np.ndarray, list[float], np.ndarray]:
    """Features of the reference face under known kernels, at the measured crop's size.

    Ratios depend on blur size relative to the face's features, so the reference face is
    scaled so its face width matches the crop (``cw x ch`` px, cached by 8 px buckets).
    Returns (iso labels, iso features, motion sigmas, motion features).
    """
    from skimage import data

    grey = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY).astype(np.float32)
    fy, fx, fh, fw = _REF_FACE
    scale = cw / fw
    big = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    cy, cx = int((fy + fh / 2) * scale), int((fx + fw / 2) * scale)
    y0, x0 = max(0, cy - ch // 2), max(0, cx - cw // 2)

    def crop(img: np.ndarray) -> np.ndarray:
        # Frames are uint8: quantisation noise is part of what a measured region shows.
        return np.rint(img[y0:y0 + ch, x0:x0 + cw])

    labels: list[tuple[str, float]] = []
    feats = []
    for s in np.geomspace(0.4, 16, 28):
        labels.append(("gaussian_blur", float(s)))
        feats.append(_features_iso(crop(cv2.GaussianBlur(big, (0, 0), s))))
    for k in range(3, 48, 2):
        labels.append(("box_blur", box_sigma(k)))
        feats.append(_features_iso(crop(cv2.blur(big, (k, k)))))
    mlabels: list[float] = []
    mfeats = []
    for n in range(3, 72, 2):
        mlabels.append(box_sigma(n))
        mfeats.append(_features_dir(crop(cv2.filter2D(big, -1, _motion_kernel(n)))))
    return labels, np.array(feats), mlabels, np.array(mfeats)


def _sharpness_by_direction(g: np.ndarray) -> np.ndarray:
    """log(E / E after re-blur) of the directional derivative at 0, 45, 90, 135 degrees."""
    gb = cv2.GaussianBlur(g, (0, 0), 1.5, borderType=cv2.BORDER_REFLECT)
    out = []
    for img_pair in ((g, gb),):
        a, b = img_pair
        dirs = []
        for dy, dx in ((0, 1), (1, 1), (1, 0), (1, -1)):
            def d(z: np.ndarray, dy: int = dy, dx: int = dx) -> np.ndarray:
                h, w = z.shape
                ys, xs = slice(dy, h), slice(max(dx, 0), w + min(dx, 0))
                y0, x0 = slice(0, h - dy), slice(max(-dx, 0), w - max(dx, 0))
                return z[ys, xs] - z[y0, x0]
            da, db = d(a), d(b)
            dirs.append(math.log((float(np.mean(da * da)) + 1e-6)
                                 / (float(np.mean(db * db)) + 1e-6)))
        out = dirs
    return np.array(out)


def mosaic_period(g: np.ndarray) -> tuple[float, float]:
    """(block size px, grid score 0..1) from the column and row gradient profiles.

    For a block grid of period b every gradient sits on one phase of b, so the best phase
    holds nearly all of it (score ~1); natural detail spreads over all phases (~1/b).
    """
    results = []
    for axis in (1, 0):
        prof = np.abs(np.diff(g, axis=axis)).mean(axis=1 - axis)
        n = prof.size
        total = float(prof.sum()) + 1e-6
        best: tuple[float, int] = (0.0, 0)
        scores = {}
        for b in range(3, max(4, min(48, n // 2) + 1)):
            conc = max(float(prof[p::b].sum()) for p in range(b)) / total
            scores[b] = conc
        if not scores:
            return 0.0, 0.0
        top = max(scores.values())
        # Divisors of the true period score as high as it; multiples score about half.
        bsel = max(b for b, c in scores.items() if c >= 0.85 * top)
        best = (top, bsel)
        results.append(best)
    score = min(r[0] for r in results)
    bs = [r[1] for r in results]
    block = float(np.mean(bs)) if abs(bs[0] - bs[1]) <= 1 else float(min(bs))
    return block, score


def measure_region(grey: np.ndarray, box: tuple[int, int, int, int]) -> RegionMeasure | None:
    """Classify the region ``box`` (frame px) of a greyscale uint8 frame."""
    x, y, w, h = box
    fh, fw = grey.shape
    inset = max(2, int(0.08 * min(w, h)))
    x0, y0 = max(0, x + inset), max(0, y + inset)
    x1, y1 = min(fw, x + w - inset), min(fh, y + h - inset)
    if x1 - x0 < 12 or y1 - y0 < 12:
        return None
    g = grey[y0:y1, x0:x1].astype(np.float32)
    p10, p90 = np.percentile(g, (10, 90))
    if (p90 - p10) < 6.0 and _energy(g) < 2.0:
        if _fill_contrast(grey, box, float(np.median(g))) < 0.6:
            return None  # a flat patch that blends into its surroundings: wall, sky, cloth
        return RegionMeasure("solid", 0.0, 0.0, 0.0)
    block, score = mosaic_period(g)
    if score > 0.5 and block >= 3:
        return RegionMeasure("mosaic", block, min(1.0, 2.0 / block), 0.0)
    sharp_share, keep = _sharp_pixels(g)
    if sharp_share > 0.35:
        return RegionMeasure("clear", 0.0, 1.0, 0.0)
    labels, table, mlabels, mtable = _reference_table(
        max(16, (g.shape[1] + 4) // 8 * 8), max(16, (g.shape[0] + 4) // 8 * 8))
    dirs = _sharpness_by_direction(g)
    f = _features_iso(g, keep)
    if dirs.max() - dirs.min() > 0.3 and dirs.max() > 2.2 * max(dirs.min(), 0.05):
        # One direction keeps its detail, another lost it: a motion streak.
        angle = 45.0 * int(np.argmin(dirs))
        rot = cv2.getRotationMatrix2D((g.shape[1] / 2, g.shape[0] / 2), -angle, 1.0)
        gr = cv2.warpAffine(g, rot, (g.shape[1], g.shape[0]), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_REFLECT)
        fd = _features_dir(gr)
        d = np.linalg.norm(mtable - fd, axis=1)
        i = int(np.argmin(d))
        return RegionMeasure("motion_blur", mlabels[i], _residual(f, table, labels),
                             float(d[i]))
    d = np.linalg.norm(table - f, axis=1)
    is_box = np.array([lab[0] == "box_blur" for lab in labels])
    ig = int(np.argmin(np.where(is_box, np.inf, d)))
    ib = int(np.argmin(np.where(is_box, d, np.inf)))
    # Box and Gaussian kernels differ only subtly in these ratios: Gaussian (by far the
    # commoner editor default) wins unless the box fit is clearly better.
    i = ib if d[ib] < 0.6 * d[ig] else ig
    kind, sigma = labels[i]
    if sigma < 1.5:
        return RegionMeasure("clear", 0.0, 1.0, float(d[i]))
    kind_out = kind if d[i] < 0.6 else "unknown"
    return RegionMeasure(kind_out, sigma, _residual(f, table, labels), float(d[i]))


def _sharp_pixels(g: np.ndarray) -> tuple[float, np.ndarray | None]:
    """(share of structured pixels that are sharp, mask of pixels away from sharp ones).

    A box that overlaps unredacted picture at its rim must not read as sharper than the
    redaction inside it: the blur features are computed away from sharp pixels.
    """
    gx, gy = np.diff(g, axis=1)[:-1, :], np.diff(g, axis=0)[:, :-1]
    e0 = cv2.boxFilter(gx * gx + gy * gy, -1, (5, 5))
    gb = cv2.GaussianBlur(g, (0, 0), 1.5, borderType=cv2.BORDER_REFLECT)
    bx, by = np.diff(gb, axis=1)[:-1, :], np.diff(gb, axis=0)[:, :-1]
    e1 = cv2.boxFilter(bx * bx + by * by, -1, (5, 5))
    struct = e1 > 6.0
    sharp = struct & (e0 > 2.2 * e1)
    n = int(struct.sum())
    if n < 20:
        return 0.0, None
    share = float(sharp.sum()) / n
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
