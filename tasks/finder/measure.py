"""Measure one region: is it redacted, how (type) and how strongly (strength_px)?

Blur strength comes from how much gradient energy a known re-blur removes: a sharp picture
loses most of it, an already-blurred one little (the ratio falls with the blur's sigma).
Ratios are matched against a table computed once from a reference face (scikit-image's
astronaut) blurred by known kernels, so the discretisation of small kernels is handled the
same way on both sides. The kernel's type comes from its shape: a flat kernel (box, motion
streak) of width k leaves two kinks k px apart at every edge, which the autocorrelation of
the second directional derivative shows as a narrow negative lobe at lag k (along both axes
for a box, along one direction for a streak); a Gaussian leaves a broad one alike in every
direction. The same kinks show in the power spectrum as a box's nulls at 1/k, 2/k and the
sidelobes between them (``spectral_ripple``). A small logistic model (kernel_types.json,
fitted by bench/fit_kernel_types.py on generated H.264 clips) reads both. Mosaic block size
is the period of the grid lines in the column and row gradient profiles.
"""

from __future__ import annotations

import importlib.util
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from veilscan.catalog.clip_result import box_sigma
from veilscan.tasks.finder.coarse_mosaic import coarse_cells
from veilscan.tasks.finder.kernel_cache import cached_table
from veilscan.tasks.finder.lattice import MIN_RATIO as LATTICE_MIN_RATIO
from veilscan.tasks.finder.lattice import codec_blocks, codec_footage, deblocked, lattice_ratio
from veilscan.tasks.finder.steps import step_pairs

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
    box_log_odds: float = 0.0
    """log(p box / p Gaussian) from the kernel-shape model for a smooth region (0 where it was
    not read): one frame rarely settles box against Gaussian, a track's frames together do
    (``vote_kernel_type``)."""
    extent: tuple[int, int, int, int] | None = None
    """A fill with a feathered edge: its flat core grown over the ramp to where the fill's
    weight falls to about a half (frame px); None for a crisp fill and anything else."""


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


_MIDDLE_OVAL = 0.3
"""Semi-axes (shares of the crop's sides) of the middle a face always has structure in: eyes,
nose, mouth (clear faces on the bench: 60-96% of its pixels structured)."""
_FEATURELESS_MIDDLE = 0.05
"""Share of structured pixels under which that middle is featureless (0 in deface's blobs):
its sharp pixels are then the redaction's outline, and it is also read clear of its rim."""
_RIM_FREE_OVAL = 0.4
"""Semi-axes (shares of the crop's sides) of the oval read clear of a redaction's own rim."""
_RIM_STRONGER = 2.0
"""How much stronger (sigma) the oval must read than the whole box for its reading to stand:
a blur that fills the box reads alike either way (the face's shading aside)."""


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


_REF_FACE = (58, 181, 119, 88)
"""(y, x, h, w) of CenterFace's box for the face in scikit-image's astronaut portrait, px.
A blur's strength is read relative to the face's features, so the reference face is scaled
to the measured face's width as CenterFace sees it, whatever box an editor drew around the
face. (Scaled to the region's box instead, as before finder-0.13, a blur drawn on the
detector's own box read 40% weak: sigma 8 as 3.6-5.3 px on the portrait ladder.)"""
_REF_SCALE = 1.25
"""The reference face's width is taken as this many times CenterFace's box on it. Faces
differ in how fine their features are, so one reference reads some faces strong and others
weak: Gaussian and box blurs' median strength error was 0.42 and 0.35 on the bench's faces
at 1.0, 0.13 on tight boxes over the portrait ladder; 0.26, 0.18 and 0.22 at 1.25; 0.20,
0.20 and 0.41 at 1.5. 1.25 keeps both under the 0.3 target."""
_BOX_PER_FACE = 1.2
"""A region's box width per CenterFace face width, assumed where no detector width is known
(a box drawn about a tenth wider than the detector's on each side, as on the bench)."""


def _astronaut_path() -> Path | None:
    """The astronaut portrait's file in the installed scikit-image, None if it has none."""
    spec = importlib.util.find_spec("skimage")
    path = Path(spec.origin).parent / "data" / "astronaut.png" if spec and spec.origin else None
    return path if path is not None and path.is_file() else None


@lru_cache(maxsize=1)
def _astronaut_grey() -> np.ndarray:
    """scikit-image's astronaut portrait, grey. Read from the file its package ships, by
    OpenCV: ``skimage.data.astronaut()`` gives the same pixels but imports its I/O plugins
    first (0.25 s of a fresh ``veilscan inspect``)."""
    path = _astronaut_path()
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR) if path is not None else None
    if bgr is None:  # a packaging change moved the file: the slow way still works
        from skimage import data

        return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY).astype(np.float32)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)


def _reference_face(fb: int, cw: int, ch: int) -> tuple[np.ndarray, int, int]:
    """The reference face scaled so its width matches the measured face's width ``fb``, with
    a margin wide enough for the largest kernel around the measured ``cw x ch`` crop, and
    the crop's top-left corner in it (all px, bucketed by the caller so the cache hits).

    Ratios depend on blur size relative to the face's features, hence the scaling."""
    grey = _astronaut_grey()
    fy, fx, fh, fw = _REF_FACE
    scale = fb / (fw * _REF_SCALE)
    # Only the face and a margin wide enough for the largest kernel are ever looked at.
    margin = 40 + max(cw, ch)
    cy, cx = int((fy + fh / 2) * scale), int((fx + fw / 2) * scale)
    wy0, wx0 = max(0, cy - margin), max(0, cx - margin)
    src = grey[int(wy0 / scale):int((cy + margin) / scale) + 1,
               int(wx0 / scale):int((cx + margin) / scale) + 1]
    big = cv2.resize(src, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    return big, max(0, cy - ch // 2 - wy0), max(0, cx - cw // 2 - wx0)


def _kernel_crops(fb: int, cw: int, ch: int,
                  kernels: Iterable[tuple[int, Callable[[np.ndarray], np.ndarray]]],
                  ) -> Iterable[np.ndarray]:
    """The measured ``cw x ch`` crop of the reference face under each kernel ``(reach px,
    filter)``. Each filter runs on the crop and its reach only (not on the whole margin):
    its pixels are the same, bit for bit, at a fraction of the cost (a fresh process
    builds a dozen tables before its first clip is measured)."""
    big, y0, x0 = _reference_face(fb, cw, ch)
    for reach, blur in kernels:
        wy0, wx0 = max(0, y0 - reach), max(0, x0 - reach)
        win = big[wy0:y0 + ch + reach, wx0:x0 + cw + reach]
        # Frames are uint8: quantisation noise is part of what a measured region shows.
        yield np.rint(blur(win)[y0 - wy0:y0 - wy0 + ch, x0 - wx0:x0 - wx0 + cw])


def _gaussian_reach(sigma: float) -> int:
    """Pixels a float Gaussian of ``sigma`` reads on each side (OpenCV's kernel: 4 sigma)."""
    return int(4 * sigma) + 2


def _iso_kernels() -> tuple[list[tuple[str, float]],
                             list[tuple[int, Callable[[np.ndarray], np.ndarray]]]]:
    """The known Gaussian and box kernels of the reference tables: (labels, (reach, filter))."""
    sigmas = [float(s) for s in np.geomspace(0.5, 16, 26)]
    sizes = range(3, 48, 3)
    labels = [("gaussian_blur", s) for s in sigmas] + [("box_blur", box_sigma(k)) for k in sizes]
    kernels = [(_gaussian_reach(s), lambda img, s=s: cv2.GaussianBlur(img, (0, 0), s))
               for s in sigmas]
    kernels += [(k, lambda img, k=k: cv2.blur(img, (k, k))) for k in sizes]
    return labels, kernels


@lru_cache(maxsize=256)
def _reference_table(fb: int, cw: int, ch: int) -> tuple[list[tuple[str, float]], np.ndarray]:
    """Features of the reference face under known Gaussian and box kernels, at the measured
    face width ``fb`` and region size ``cw x ch`` (see ``_reference_face``).
    Returns (labels, features)."""
    labels, kernels = _iso_kernels()
    return labels, cached_table(
        "iso", (fb, cw, ch), _table_sources(),
        lambda: np.array([_features_iso(c) for c in _kernel_crops(fb, cw, ch, kernels)]))


@lru_cache(maxsize=64)
def _rim_free_table(fb: int, cw: int, ch: int) -> tuple[list[tuple[str, float]], np.ndarray]:
    """``_reference_table`` read inside the crop's oval only (``_RIM_FREE_OVAL``): a face's
    middle has less detail than the whole crop, so only a table read alike compares."""
    labels, kernels = _iso_kernels()
    oval = _oval((ch, cw), _RIM_FREE_OVAL)
    return labels, cached_table(
        "iso-oval", (fb, cw, ch), _table_sources(),
        lambda: np.array([_features_iso(c, oval) for c in _kernel_crops(fb, cw, ch, kernels)]))


@lru_cache(maxsize=256)
def _motion_table(fb: int, cw: int, ch: int) -> tuple[list[float], np.ndarray]:
    """Directional features of the reference face under horizontal streaks, like
    ``_reference_table`` (built only where a streak needs its strength read).
    Returns (equivalent sigmas, features)."""
    lengths = range(3, 72, 3)
    kernels = [(n, lambda img, n=n: cv2.filter2D(img, -1, _motion_kernel(n))) for n in lengths]
    return ([box_sigma(n) for n in lengths], cached_table(
        "dir", (fb, cw, ch), _table_sources(),
        lambda: np.array([_features_dir(c) for c in _kernel_crops(fb, cw, ch, kernels)])))


def _table_sources() -> tuple[Path, ...]:
    """The files a kernel table is computed from (its disk store's fingerprint): this module
    and the reference portrait."""
    here = Path(__file__)
    ref = _astronaut_path()
    return (here,) if ref is None else (here, ref)


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


def mosaic_grid(g: np.ndarray) -> tuple[float, float, float]:
    """(cell width px, cell height px, grid score 0..1) from the column and row gradient
    profiles; (0, 0, 0) where either axis shows no period.

    For a block grid of period b every gradient sits on one phase of b, so the best phase
    holds nearly all of it (score ~1); natural detail spreads over all phases (~1/b).
    """
    prof_x = _floored(np.abs(np.diff(g, axis=1)).mean(axis=0))
    prof_y = _floored(np.abs(np.diff(g, axis=0)).mean(axis=1))
    cx, bx, _ = _grid_axis(prof_x)
    cy, by, _ = _grid_axis(prof_y)
    if not bx or not by:
        return 0, 0, 0.0
    # A resize's cells slip off a whole-pixel comb (6.08 px) or leave the period search
    # reading another period (3 for 14.7 px); where the picture is flat cells (steps in no
    # adjacent pairs), finer combs at the lines' own spacing are worth trying.
    if min(cx, cy) <= 0.5 and _flat_cells(g):
        (cx, bx), (cy, by) = (_fractional_read(prof_x, cx, bx, by),
                              _fractional_read(prof_y, cy, by, bx))
    return bx, by, min(cx, cy)


def _fractional_read(prof: np.ndarray, score: float, b: float,
                     other: float) -> tuple[float, float]:
    """(score, period) of one axis: the whole-pixel reading, or the fractional comb's where
    that holds more of it, at the spacing of the profile's lines (evenly spaced, or read
    through stray peaks by :func:`_comb_spacing`), else near ``b``; where
    ``b`` is finer than fractional combs are tried, near the other axis's period ``other``.
    A pixelation's cells are about square. Where the codec has flattened the steps between
    like cells, one axis's lines come unevenly and its period search reads a divisor (3 for
    14.5 px rows). The hint is taken only then: a reading of 5 px or more may itself be half
    or a third of the cells, and the other axis's comb would follow it there."""
    cell = _line_spacing(prof) or _comb_spacing(prof) or (
        other if b < _FRACTIONAL_MIN else b)
    share = _fractional_share(prof, cell)
    return (share, cell) if share > score else (score, b)


_FRACTIONAL_MIN = 5
"""Smallest period (px) whose fractional combs are tried: around finer ones, some comb of the
many holds much of any profile."""


def _flat_cells(g: np.ndarray) -> bool:
    """Do the steps in ``g`` come singly, as between flat cells (:func:`step_pairs`)?"""
    ax, ay, pairs = step_pairs(g)
    return pairs <= _FLAT_CELL_PAIRS * float(ax.sum() + ay.sum())


_FLAT_CELL_PAIRS = 0.25
"""Share of step energy in adjacent pairs up to which a picture may be flat cells for the
fractional combs (0.07-0.15 in resized cells after H.264; 0.4+ for blurs and faces)."""


def _fractional_share(prof: np.ndarray, cell: float) -> float:
    """Share of ``prof`` on the fractional comb near period ``cell`` that holds it best (see
    :func:`_comb`); 0 for periods too fine or profiles too short to tell."""
    if cell < _FRACTIONAL_MIN or prof.size < _FRACTIONAL_CELLS * cell:
        return 0.0
    teeth = _comb(prof, cell)[1]
    return float(prof[teeth].sum()) / (float(prof.sum()) + 1e-6)


_IRREGULAR_PAIRS = 0.15
"""Share of step energy in adjacent pairs above which a region is no pixelation (0.00-0.09
inside 6-9 px cells after H.264; 0.4+ for blurs and faces)."""


def _square(bx: float, by: float) -> bool:
    """Are cells of bx x by px square (a pixelation's, unless it cut a face box into N x N
    cells; bricks and tiles are oblong)?"""
    return abs(bx - by) <= 1 + 0.1 * max(bx, by)


def _whole_cells(bx: float, by: float) -> tuple[float, float]:
    """Cell sizes with one axis's period divided down to the other's where that makes them
    square: cells of a fractional size (a resize's 10.5 px) repeat exactly only every few
    cells, so the period search reads that multiple (21 or 31 px) on one axis."""
    if not bx or not by or _square(bx, by):
        return bx, by
    big, small = max(bx, by), min(bx, by)
    k = round(big / small)
    if k < 2 or not _square(big / k, small):
        return bx, by
    return (bx / k, by) if bx > by else (bx, by / k)


def _line_peaks(prof: np.ndarray) -> np.ndarray:
    """Positions of the step lines (local maxima well above the codec's ringing) in a
    column/row |difference| profile; empty for a profile too short or too flat to tell."""
    nonzero = prof[prof > 0]
    if prof.size < 12 or nonzero.size < 4:
        return np.zeros(0, np.int64)
    mid = prof[1:-1]
    low = 0.2 * float(np.percentile(nonzero, 80))  # above the codec's ringing by the lines
    return np.flatnonzero((mid >= prof[:-2]) & (mid > prof[2:]) & (mid > low)) + 1


def _line_spacing(prof: np.ndarray) -> float:
    """Mean spacing (px) of the step lines in a column/row |difference| profile when they
    are evenly spaced to within a pixel (cells of a non-integer size alternate, 7 and 8 px
    for 7.75); 0 if they are not."""
    peaks = _line_peaks(prof)
    if peaks.size < 4:
        return 0.0
    d = np.diff(peaks).astype(float)
    m = float(d.mean())
    if m < 3.0 or float(np.abs(d - m).max()) > 1.0:
        return 0.0
    return m


_SPACING_STEP = 0.125
"""Step (px) of the periods :func:`_comb_spacing` tries."""
_SPACING_SHARE = 0.75
"""Share of a comb's teeth that must meet a step line for :func:`_comb_spacing` to take it."""


def _comb_spacing(prof: np.ndarray) -> float:
    """Spacing (px, fractional) of the comb, 5-48 px, whose teeth nearly all meet a step line
    of the profile (to within a pixel) and that holds the most step for the teeth it
    misses, fitted over the lines it meets; 0 if none meets four lines. Where
    :func:`_line_spacing` gives up because a face's own edges or the codec's ringing put
    extra peaks between the lines (HEVC over a resize's 15.7 px cells), the lines are still
    there, evenly spaced."""
    at = _line_peaks(prof)
    n = prof.size
    if at.size < 4:
        return 0.0
    peaks, height = at.astype(np.float64), prof[at].astype(np.float64)
    periods = np.arange(float(_FRACTIONAL_MIN), min(48.0, n / 3.0) + 1e-9, _SPACING_STEP)
    if not periods.size:
        return 0.0
    res = peaks[None, :] % periods[:, None]  # each peak's phase on each period
    d = np.abs(res[:, :, None] - res[:, None, :])
    d = np.minimum(d, periods[:, None, None] - d)
    on_comb = d <= 1.0  # (period, anchor peak, peak): the peak is on the anchor's comb
    hits = on_comb.sum(axis=2)
    anchor = hits.argmax(axis=1)
    rows = np.arange(periods.size)
    met = hits[rows, anchor]
    teeth = np.floor((n - 1 - res[rows, anchor]) / periods) + 1
    ok = (met >= 4) & (met >= _SPACING_SHARE * teeth)
    if not ok.any():
        return 0.0
    # The steps met less a typical step for each tooth missed: half the period meets the
    # lines and some weaker stray peaks but misses teeth; twice the period meets half the
    # lines.
    held = (on_comb[rows, anchor] * height[None, :]).sum(axis=1)
    typical = held / np.maximum(met, 1)
    i = int(np.argmax(np.where(ok, held - typical * (teeth - met), -np.inf)))
    k = np.round((peaks - peaks[anchor[i]]) / periods[i])
    on = np.abs(peaks - peaks[anchor[i]] - k * periods[i]) <= 1.0
    if np.ptp(k[on]) < 3:
        return 0.0
    return float(np.polyfit(k[on], peaks[on], 1)[0])


def irregular_mosaic(grey: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """Cell width (px, fractional) of a pixelation whose cells are not all one size (a box
    cut into N x N cells by a resize), judged on the middle 60% of ``box``; 0 if none. Its
    cells are flat and meet in one-pixel steps, so the steps never come in adjacent pairs
    (:func:`step_pairs`) and lie on evenly spaced lines both ways."""
    x, y, w, h = box
    g = grey[max(0, y + h // 5):y + h - h // 5, max(0, x + w // 5):x + w - w // 5]
    g = g.astype(np.float32)
    if min(g.shape) < 24:
        return 0.0
    ax, ay, pairs = step_pairs(g)
    total = float(ax.sum() + ay.sum())
    if total < 2.0 * g.size:  # next to no steps: a fill or a smooth patch
        return 0.0
    if pairs > _IRREGULAR_PAIRS * total:
        return 0.0
    sx, sy = _line_spacing(_floored(ax.mean(axis=0))), _line_spacing(_floored(ay.mean(axis=1)))
    if not (sx and sy) or max(abs(sx - round(sx)), abs(sy - round(sy))) < 0.1:
        return 0.0  # one size after all: a regular grid is the periodic test's to judge
    return sx


_FRACTIONAL_GAIN = 1.25
"""How much more of a profile a fractional comb must hold than the whole-pixel one before
a grid is taken as fractional (codec noise lets some comb do a little better on any grid)."""


_FRACTIONAL_CELLS = 4
"""Cells a profile must span before a fractional comb is fitted to it (over fewer, some comb
fits any few lines)."""


def _grid_fit(prof: np.ndarray, b: int, phase: int, cell: float) -> tuple[float, float]:
    """(period, phase) px of the grid lines in ``prof``: ``b`` and ``phase`` as the period
    search found them, or a fractional comb near ``cell`` that holds the lines better."""
    if prof.size < 2 * b or prof.size < _FRACTIONAL_CELLS * cell:
        return float(b), float(phase)
    whole = float(prof[phase::b].mean())
    best, _, period, at = _comb(prof, cell)
    if best > _FRACTIONAL_GAIN * whole:
        return period, at
    return float(b), float(phase)


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
    prof_x = _denoised_diff(core, 1).mean(axis=0)
    prof_y = _denoised_diff(core, 0).mean(axis=1)
    _, bx, px = _grid_axis(prof_x)
    _, by, py = _grid_axis(prof_y)
    if not bx or not by:
        return box
    # Grid lines in frame coordinates (a difference at index i spans (i, i + 1)), as
    # (period, phase) from the core's origin: whole pixels, or a fractional comb where that
    # holds the lines far better (a resize's cells).
    cbx, cby = _whole_cells(bx, by)
    grid_x = _grid_fit(prof_x, bx, px, cbx)
    grid_y = _grid_fit(prof_y, by, py, cby)
    pad = slack_px + max(bx, by)
    x0, y0 = max(0, x - pad), max(0, y - pad)
    x1, y1 = min(fw, x + w + pad), min(fh, y + h + pad)
    patch = grey[y0:y1, x0:x1].astype(np.float32)

    def extent(axis: int, grid: tuple[float, float], c0: int, lo: int, hi: int,
               band: tuple[int, int]) -> tuple[int, int]:
        d = _denoised_diff(patch, axis)
        d = d[band[0]:band[1], :] if axis == 1 else d[:, band[0]:band[1]]
        prof = d.mean(axis=1 - axis)
        origin = x0 if axis == 1 else y0
        period, phase = grid
        # Tooth k sits at c0 + floor(phase + k * period) (frame px); one beyond each end
        # bounds the outer cells.
        k = np.arange(np.floor((origin - c0 - phase) / period) - 1,
                      np.ceil((origin + prof.size - c0 - phase) / period) + 2)
        teeth = c0 + np.floor(phase + k * period).astype(int) - origin
        on_grid = np.zeros(prof.size, bool)
        on_grid[teeth[(teeth >= 0) & (teeth < prof.size)]] = True
        off = np.where(on_grid, np.nan, prof)
        inside = np.zeros(prof.size, bool)
        # Judge each grid cell by its internal differences.
        for t0, t1 in zip(teeth[:-1], teeth[1:], strict=True):
            a0, a1 = max(0, t0 + 1), min(prof.size, t1)
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
    nx0, nx1 = extent(1, grid_x, x + w // 4, x, x + w, rows)
    ny0, ny1 = extent(0, grid_y, y + h // 4, y, y + h, cols)
    # Flat surroundings (a wall) continue a mosaic's constant cells: stay near the coarse box.
    reach_x, reach_y = bx + 4, by + 4
    nx0, nx1 = max(nx0, x - reach_x), min(nx1, x + w + reach_x)
    ny0, ny1 = max(ny0, y - reach_y), min(ny1, y + h + reach_y)
    if nx1 - nx0 < 0.5 * w or ny1 - ny0 < 0.5 * h:
        return box
    return (nx0, ny0, nx1 - nx0, ny1 - ny0)


_KT_ANGLES = tuple(a / 2 for a in range(0, 360, 15))
"""Directions (degrees, 0 = +x, 90 = +y; 7.5 apart so a 30 px streak's lobe is not missed)
along which the kernel-shape profiles are read."""
_KT_SIDE = 160
"""Regions larger than this (px) are looked at downscaled (speed); lags come back in frame px."""
_KT_PRESMOOTH = 1.0
"""Gaussian (px) applied first: codec noise would otherwise own every small lag."""


def _fast_len(n: int) -> int:
    """The smallest size >= ``n`` with no prime factor above 11, which pocketfft transforms
    fast (``scipy.fft.next_fast_len``'s answer: the finder does not import SciPy's FFT, whose
    import costs a fresh ``veilscan inspect`` 0.25 s, for the one transform NumPy does too)."""
    m = n
    while True:
        k = m
        for p in (2, 3, 5, 7, 11):
            while k % p == 0:
                k //= p
        if k == 1:
            return m
        m += 1


def _dd_profiles(g: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Autocorrelation of the second (and first) directional derivative along each of
    ``_KT_ANGLES``.

    Why: a flat kernel of width k (box, streak) turns every edge into a ramp whose two
    kinks sit k px apart, so the second derivative along the kernel correlates negatively
    at lag k, sharply, with nothing in between; a Gaussian leaves a broad, shallow lobe and
    treats every direction alike. Unlike spectral zeros this survives H.264, which drops the
    high frequencies but keeps where the kinks are. The first derivative's falls linearly to
    ~0 at lag k for a flat kernel (a triangle), as a bell for a Gaussian. Returns (second,
    first: profiles normalised to 1 at lag 0, one row per angle, lags 0..L px of the
    analysed image; the downscale factor).
    """
    f = min(1.0, _KT_SIDE / max(g.shape))
    if f < 1.0:
        g = cv2.resize(g, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    g = cv2.GaussianBlur(g, (0, 0), _KT_PRESMOOTH, borderType=cv2.BORDER_REFLECT)
    h, w = g.shape
    fxx, fyy, fxy = (np.zeros_like(g) for _ in range(3))
    fxx[:, 1:-1] = g[:, 2:] - 2 * g[:, 1:-1] + g[:, :-2]
    fyy[1:-1, :] = g[2:, :] - 2 * g[1:-1, :] + g[:-2, :]
    fxy[1:-1, 1:-1] = 0.25 * (g[2:, 2:] - g[2:, :-2] - g[:-2, 2:] + g[:-2, :-2])
    # Only the inscribed ellipse: an oval redaction leaves the box corners unredacted.
    wt = np.zeros((h, w), np.float32)
    cv2.ellipse(wt, (w // 2, h // 2), (max(1, int(w * 0.46)), max(1, int(h * 0.46))),
                0, 0, 360, 1.0, -1)
    n_lag = max(4, int(0.42 * min(h, w)))
    # Padding by the largest lag read (+2 for interpolation) keeps those lags free of wrap.
    fh, fw = _fast_len(h + n_lag + 2), _fast_len(w + n_lag + 2)
    sw = np.fft.rfft2(wt, (fh, fw))
    den = np.fft.irfft2(sw * np.conj(sw), (fh, fw))
    den = np.maximum(den, 0.1 * den[0, 0])
    t = np.radians(np.asarray(_KT_ANGLES))[:, None]
    c, s = np.cos(t), np.sin(t)
    xs, ys = np.arange(n_lag + 1) * c, np.arange(n_lag + 1) * s  # angles x lags
    x0, y0 = np.floor(xs).astype(int), np.floor(ys).astype(int)
    ax, ay = xs - x0, ys - y0
    corners = ((y0, x0, (1 - ax) * (1 - ay)), (y0, x0 + 1, ax * (1 - ay)),
               (y0 + 1, x0, (1 - ax) * ay), (y0 + 1, x0 + 1, ax * ay))

    def along(fields: tuple[np.ndarray, ...], wv: tuple[np.ndarray, ...]) -> np.ndarray:
        """Autocorrelation of sum(wv[i] * fields[i]) along each angle, 1 at lag 0."""
        spec = [np.fft.rfft2(d * wt, (fh, fw)) for d in fields]
        out = np.zeros(xs.shape)
        for i in range(len(fields)):
            for j in range(i, len(fields)):
                m = np.fft.irfft2(spec[i] * np.conj(spec[j]), (fh, fw)) / den
                for sg in ((1,) if i == j else (1, -1)):  # R_ji at lag d is R_ij at -d
                    v = sum(wc * m[(sg * yy) % fh, (sg * xx) % fw] for yy, xx, wc in corners)
                    out += wv[i] * wv[j] * v
        return out / np.maximum(out[:, :1], 1e-9)

    # d2/du2 = c^2 fxx + 2cs fxy + s^2 fyy; d/du = c fx + s fy (per angle).
    second = along((fxx, fxy, fyy), (c * c, 2 * c * s, s * s))
    fx, fy = np.zeros_like(g), np.zeros_like(g)
    fx[:, 1:-1], fy[1:-1, :] = 0.5 * (g[:, 2:] - g[:, :-2]), 0.5 * (g[2:, :] - g[:-2, :])
    first = along((fx, fy), (c, s))
    return second, first, f


def _loss_by_angle(g: np.ndarray) -> np.ndarray:
    """log(gradient energy at 1.5 px / at 4 px smoothing) along each of ``_KT_ANGLES``.

    A streak has already removed what a re-blur along it would: the least loss marks its
    direction. The ratio (not the energy) cancels the face's own horizontal features.
    """
    f = min(1.0, _KT_SIDE / max(g.shape))
    if f < 1.0:
        g = cv2.resize(g, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    tensors = []
    for s in (1.5, 4.0):
        b = cv2.GaussianBlur(g, (0, 0), s, borderType=cv2.BORDER_REFLECT)
        gx, gy = np.diff(b, axis=1)[:-1, :], np.diff(b, axis=0)[:, :-1]
        tensors.append((float(np.mean(gx * gx)), float(np.mean(gx * gy)),
                        float(np.mean(gy * gy))))
    t = np.radians(np.asarray(_KT_ANGLES))
    c, s = np.cos(t), np.sin(t)
    e = [c * c * j[0] + 2 * c * s * j[1] + s * s * j[2] + 1e-6 for j in tensors]
    return np.log(e[0] / e[1])



def _shaken_too(grey: np.ndarray, box: tuple[int, int, int, int], deg: float) -> bool:
    """Is the picture around ``box`` streaked along ``deg`` too (camera shake, not an edit)?

    A shake smears the whole frame along one direction; an editor's streak stops at the
    box. The strips left, right, above and below the box are read by the same kernel model:
    shake when at least half of them show a streak within 20 degrees of the region's.
    """
    x, y, w, h = box
    pad = max(_KT_MIN_SIDE, int(0.3 * max(w, h)))
    strips = (grey[y:y + h, max(0, x - pad):max(0, x)], grey[y:y + h, x + w:x + w + pad],
              grey[max(0, y - pad):max(0, y), x:x + w], grey[y + h:y + h + pad, x:x + w])
    votes = []
    for st in strips:
        if min(st.shape) < _KT_MIN_SIDE:
            continue
        probs, lags = kernel_type(st.astype(np.float32))
        off = abs((lags["streak_deg"] - deg + 90.0) % 180.0 - 90.0)
        votes.append(probs.get("motion_blur", 0.0) >= 0.5 and off <= 20.0)
    return bool(votes) and 2 * sum(votes) >= len(votes)

def _dip(p: np.ndarray) -> tuple[int, float, float, float]:
    """(lag, depth, sharpness, plateau) of a profile's deepest negative lobe beyond lag 4 (the
    pre-smoothing's own lobe sits at ~3.5 px).

    Sharpness: how far the lobe sits below the profile a third of its lag to either side
    (a flat kernel's lobe is narrow); plateau: the mean between 0.3 and 0.6 of its lag (a
    flat kernel's ramp leaves ~0 there, a Gaussian is already on its way down)."""
    n = len(p) - 1
    t = int(np.argmin(p[4:])) + 4
    d = max(2, round(t / 3))
    sharp = 0.5 * (p[max(t - d, 0)] + p[min(t + d, n)]) - p[t]
    plateau = float(np.mean(p[round(0.3 * t):round(0.6 * t) + 1]))
    return t, -float(p[t]), float(sharp), plateau


_KT_SHAPE = np.array([0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.7, 2.0])
"""Fractions of a dip's lag at which the profile shape is read."""


_SPEC_F = np.linspace(0.02, 0.5, 97)
"""Frequencies (cycles/px) at which a region's power spectrum is read."""
_SPEC_K = np.arange(4.0, 32.0, 0.5)
"""Box widths (px) whose spectral nulls are looked for."""


def _detrended(v: np.ndarray) -> np.ndarray:
    """``v`` (rows over ``_SPEC_F``) less its least-squares cubic in frequency."""
    basis = np.vander(_SPEC_F, 4)
    coef = np.linalg.lstsq(basis, np.atleast_2d(v).T, rcond=None)[0]
    return (np.atleast_2d(v) - (basis @ coef).T).reshape(v.shape)


def _sinc_templates(eps: float) -> np.ndarray:
    """Unit-norm detrended log power responses of box filters of each ``_SPEC_K`` width."""
    t = _detrended(np.log(np.sinc(np.outer(_SPEC_K, _SPEC_F)) ** 2 + eps))
    return t / np.linalg.norm(t, axis=1, keepdims=True)


_SINC = (_sinc_templates(1e-2), _sinc_templates(1e-3))
"""A deep and a shallow version of each box's nulls (codec noise fills them partly)."""


def spectral_ripple(g: np.ndarray) -> np.ndarray:
    """Evidence of a flat kernel in the power spectrum of a region (grey, frame px).

    A box of width k multiplies the spectrum by sinc^2(f k): nulls at 1/k, 2/k with
    sidelobes between them, which a Gaussian of the same sigma has not (it falls smoothly,
    about 70 times below the box's first sidelobe there). The kinks the other features read are
    these sidelobes seen in space; read here in frequency, where codec noise spreads
    evenly, they tell small boxes from Gaussians better (held-out frames of
    bench/fit_kernel_types.py, box against Gaussian: AUC 0.926 -> 0.948 with both).
    Returns (ripple: std of the log spectrum about a smooth cubic; rise: most the log
    spectrum climbs from a candidate null 1/k to its sidelobe 1.5/k; notch: most a null sits
    below its flanks at 0.75/k and 1.25/k; the best match of the ripple to a box's
    response, with deep and with shallow nulls)."""
    g = g.astype(np.float64)
    logs = []
    for rows in (g, g.T):  # along x, then along y: a box blurs both alike
        n = rows.shape[1]
        a = (rows - rows.mean(axis=1, keepdims=True)) * np.hanning(n)
        power = (np.abs(np.fft.rfft(a, axis=1)) ** 2).mean(axis=0)
        logs.append(np.interp(_SPEC_F, np.arange(power.size) / n, np.log(power + 1e-3)))
    lp = 0.5 * (logs[0] + logs[1])
    r = _detrended(lp)
    k = _SPEC_K[1.5 / _SPEC_K <= 0.5]
    at = np.interp(np.concatenate([1 / k, 1.5 / k, 0.75 / k, 1.25 / k]), _SPEC_F, lp)
    null, lobe, lo, hi = at.reshape(4, -1)
    unit = r / (np.linalg.norm(r) + 1e-9)
    return np.array([float(r.std()), float((lobe - null).max()),
                     float((0.5 * (lo + hi) - null).max()),
                     float((_SINC[0] @ unit).max()), float((_SINC[1] @ unit).max())])


def kernel_features(g: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
    """Kernel-shape features of a region (float32 grey, frame px) and the lags behind them.

    Returns (feature vector for the kernel-type model, {"box_k": flat width along the axes
    px, "streak_k": flat length along the streak px, "streak_deg": its direction}).
    """
    prof, prof1, f = _dd_profiles(g)
    dips = [_dip(p) for p in prof]
    na = len(_KT_ANGLES)
    depth = np.array([d[1] for d in dips])
    sharp = np.array([d[2] for d in dips])
    lag = np.array([d[0] for d in dips], np.float64)
    plat = np.array([d[3] for d in dips])
    ix, iy = 0, na // 2
    diag = (na // 4, 3 * na // 4)
    loss = _loss_by_angle(g)
    m = int(np.argmin(loss))
    o = (m + na // 2) % na
    near0 = float(np.mean(prof[:, 1:4]))
    feats = np.array([
        min(depth[ix], depth[iy]), max(depth[ix], depth[iy]),
        min(sharp[ix], sharp[iy]), max(sharp[ix], sharp[iy]),
        0.5 * (plat[ix] + plat[iy]),
        abs(lag[ix] - lag[iy]) / max(lag[ix], lag[iy]),
        float(np.mean(depth[list(diag)])), float(np.mean(sharp[list(diag)])),
        float(np.mean(plat[list(diag)])),
        depth[m], sharp[m], plat[m], depth[o], sharp[o], plat[o],
        math.log(lag[m] / lag[o]), math.log(lag[m]),
        float(np.std(depth)), float(np.std(sharp)),
        depth[m] - float(np.median(depth)), sharp[m] - float(np.median(sharp)),
        near0,
    ])
    # The profiles themselves, read at fractions of their own dip's lag (scale-free shape).
    n_lag = prof.shape[1] - 1
    grid = np.arange(n_lag + 1)
    p_ax = 0.5 * (prof[ix] + prof[iy])
    p_dg = 0.5 * (prof[diag[0]] + prof[diag[1]])
    t_ax = _dip(p_ax)[0]
    shape = [np.interp(np.minimum(t * _KT_SHAPE, n_lag), grid, p)
             for t, p in ((t_ax, p_ax), (t_ax, p_dg), (lag[m], prof[m]), (lag[m], prof[o]))]
    # A square kernel passes diagonal detail differently from axial; a Gaussian does not.
    ratio = loss / max(float(np.mean(loss)), 1e-3)
    aniso = [float(np.mean(loss)), float(ratio[ix] + ratio[iy] - ratio[diag[0]] - ratio[diag[1]]),
             float(ratio.max() - ratio.min()), float(ratio[m] - ratio[o])]
    p1_ax = 0.5 * (prof1[ix] + prof1[iy])
    p1_dg = 0.5 * (prof1[diag[0]] + prof1[diag[1]])
    shape1 = [np.interp(np.minimum(t * _KT_SHAPE[:6], n_lag), grid, p)
              for t, p in ((t_ax, p1_ax), (t_ax, p1_dg), (lag[m], prof1[m]), (lag[m], prof1[o]))]
    feats = np.concatenate([feats, *shape, [math.log(t_ax)], aniso, *shape1,
                            spectral_ripple(g)])
    info = {"box_k": float(0.5 * (lag[ix] + lag[iy]) / f), "streak_k": float(lag[m] / f),
            "streak_deg": float(_KT_ANGLES[m])}
    return feats, info


_KT_MODEL = Path(__file__).with_name("kernel_types.json")
"""Multinomial logistic model over ``kernel_features`` (fitted by bench/fit_kernel_types.py
on generated H.264 clips, never on the finder benchmark's sources)."""
_STREAK_SHARP_MAX = 0.75
"""Share of sharp pixels up to which a region is checked for a streak. A streak keeps the
detail across it, so a strong one on a small face still reads 0.55-0.7 sharp."""
_KT_MIN_P = {"box_blur": 0.7, "motion_blur": 0.75}
"""Probability a flat kernel needs before it overrides the Gaussian reading: Gaussian is by
far the commoner editor default, and a box called Gaussian costs less than the reverse."""


_KT_MIN_SIDE = 36
"""Regions narrower than this (px) keep the Gaussian reading: too few kinks to type them."""


@lru_cache(maxsize=1)
def _kernel_model() -> dict | None:
    return json.loads(_KT_MODEL.read_text()) if _KT_MODEL.exists() else None


def kernel_type(g: np.ndarray) -> tuple[dict[str, float], dict[str, float]]:
    """({kind: probability} over gaussian_blur / box_blur / motion_blur / clear, the flat
    kernel lags from ``kernel_features``) for a region (float32 grey, frame px)."""
    feats, info = kernel_features(g)
    model = _kernel_model()
    if model is None or min(g.shape) < _KT_MIN_SIDE:
        return {}, info
    z = (feats - np.asarray(model["mean"])) / np.asarray(model["std"])
    logits = z @ np.asarray(model["weights"]) + np.asarray(model["bias"])
    p = np.exp(logits - logits.max())
    p /= p.sum()
    return dict(zip(model["classes"], (float(v) for v in p), strict=True)), info


def _inset_box(grey: np.ndarray, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
    """The region inset by 8% (edges of a redaction blend with the surround), cut to the
    frame: x0, y0, x1, y1."""
    x, y, w, h = box
    fh, fw = grey.shape
    inset = max(2, int(0.08 * min(w, h)))
    return (max(0, x + inset), max(0, y + inset), min(fw, x + w - inset),
            min(fh, y + h - inset))


def _inset_crop(grey: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray | None:
    """The region inset by 8% (``_inset_box``) as float32; None when less than 12 px remain
    on a side."""
    x0, y0, x1, y1 = _inset_box(grey, box)
    if x1 - x0 < 12 or y1 - y0 < 12:
        return None
    return grey[y0:y1, x0:x1].astype(np.float32)


def measure_region(grey: np.ndarray, box: tuple[int, int, int, int],
                   classify: bool = True, square_cells: bool = True,
                   face_w: float | None = None, fill_only: bool = False,
                   rgb: Callable[[], np.ndarray] | None = None,
                   few_cells: bool = True) -> RegionMeasure | None:
    """Classify the region ``box`` (frame px) of a greyscale uint8 frame.

    With ``classify=False`` a smooth region is only reported as ``blur`` (no kernel fit):
    enough to follow a candidate until a face is confirmed in it. ``square_cells=False``
    (a region the face detector found) also takes a block grid of oblong cells as a mosaic:
    a pixelation that cuts a face box into N x N cells makes them. ``face_w`` is CenterFace's
    width of the face in the region (frame px), if known: a blur's strength is read against
    the face's scale (see ``_REF_FACE``), not the box's. ``fill_only``: only a fill is of
    interest (None for anything else, without the costlier tests). ``few_cells=False``
    leaves out the reading of a pixelation only a few cells across (``coarse_mosaic``),
    for a box that may take in part of one with the picture beside it. ``rgb()`` gives the
    frame in colour, asked for only when a flat region's outline does not show in grey (a
    coloured fill as dark as the hair around it; ``_COLOUR_LEVEL_MAX``).
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
        # Judged at the box edge (a rectangle) or at the fill's own outline (an oval, or a
        # box that cut into the fill): either reading of an editor's fill will do.
        contrast, shape = _fill_outline(grey, box, fill)
        if (contrast >= 0.8 and shape >= 1.0) or (_fill_contrast(grey, box, fill) >= 0.6
                                            and _fill_shaped(grey, box, fill)):
            return RegionMeasure("solid", 0.0, 0.0, 0.0)
        if rgb is not None and fill < _COLOUR_LEVEL_MAX:
            in_colour = _colour_fill_outline(rgb(), box)
            if in_colour[0] >= 0.8 and in_colour[1] >= 1.0:
                return RegionMeasure("solid", 0.0, 0.0, 0.0)
        # No crisp outline: a feathered fill fades into the picture on every side alike.
        # Its core's outline is a level line through the ramp over the face: less regular.
        extent = feathered_extent(grey, box, fill) if shape >= _FEATHERED_SHAPE else None
        if extent is None:
            return None  # a flat patch that blends into its surroundings: wall, sky, cloth
        return RegionMeasure("solid", 0.0, 0.0, 0.0, extent=extent)
    if fill_only:
        return None
    bx, by, score = mosaic_grid(g)
    bx, by = _whole_cells(bx, by)
    # Square cells; or, where a face was detected, oblong or uneven ones (a face box cut
    # into N x N cells), their width counting, except in a DCT codec's blocky picture,
    # whose own steps make such grids.
    square = bool(bx) and _square(bx, by)
    block = float(np.mean((bx, by))) if square else float(bx)
    if score > 0.5 and block >= 3 and (square or not square_cells) \
            and _grid_contrast(g, block) >= _GRID_CONTRAST_MIN \
            and _on_off_grid(g, block, None if square else by) >= 3.0 \
            and not codec_blocks(grey, box, block) \
            and (square or not codec_footage(grey, box)):
        # (A DCT codec's own 8 px lattice, all over the picture, is judged as if no grid.)
        return RegionMeasure("mosaic", block, min(1.0, 2.0 / block), 0.0)
    if not square_cells and score <= 0.5:
        cell = irregular_mosaic(grey, box)
        if cell and not codec_footage(grey, box):
            return RegionMeasure("mosaic", cell, min(1.0, 2.0 / cell), 0.0)
    # Two to five cells across: too few for the period search to see a grid. (No DCT
    # lattice around it, so its lines are no codec blocks: ``codec_blocks`` needs one.)
    cell = coarse_cells(g) if few_cells else 0.0
    if cell and not codec_footage(grey, box):
        return RegionMeasure("mosaic", cell, min(1.0, 2.0 / cell), 0.0)
    if lattice_ratio(grey, box) >= LATTICE_MIN_RATIO and codec_footage(grey, box):
        # The codec's block edges are no detail of the picture: judged as decoded, a
        # blurred face in hard-compressed MPEG-2 or Motion JPEG reads as one in plain view.
        g_raw, g = g, deblocked(g, _inset_box(grey, box)[:2])
    else:
        g_raw = g
    sharp_share, keep, middle = _sharp_pixels(g)
    if sharp_share > 0.15:
        # A streak leaves the detail across it: sharp by the isotropic test. The kinks its
        # flat kernel leaves along one direction still give it away.
        # Checked without ``classify`` too: a face the quick look calls clear is dropped.
        if sharp_share < _STREAK_SHARP_MAX:
            probs, lags = kernel_type(g_raw)
            if probs.get("motion_blur", 0.0) >= _KT_MIN_P["motion_blur"] \
                    and lags["streak_k"] >= 5 \
                    and not _shaken_too(grey, box, lags["streak_deg"]):
                return RegionMeasure("motion_blur" if classify else "blur",
                                     box_sigma(lags["streak_k"]) if classify else 0.0,
                                     min(1.0, sharp_share), 0.0)
        return RegionMeasure("clear", 0.0, 1.0, 0.0)
    if not classify:
        return RegionMeasure("blur", 0.0, 0.0, 0.0)
    # Large regions are measured at a canonical size (speed; one reference table per shape
    # and size bucket), and every strength is scaled back to frame pixels.
    f_px = min(1.0, _CANON_W / w)
    bw = int(round(2.0 ** (round(math.log2(max(w * f_px, 8)) * 6) / 6)))
    f_px = bw / w
    # The face's width at that scale, bucketed alike (one table per bucket and crop size).
    face = min(max(face_w or w / _BOX_PER_FACE, 0.4 * w), 1.6 * w) * f_px
    fb = int(round(2.0 ** (round(math.log2(max(face, 8)) * 6) / 6)))
    cw = max(12, int(round(g.shape[1] * f_px / 4)) * 4)
    ch = max(12, int(round(g.shape[0] * f_px / 4)) * 4)
    g = cv2.resize(g, (cw, ch), interpolation=cv2.INTER_AREA if f_px < 1 else cv2.INTER_LINEAR)
    if keep is not None:
        keep = (cv2.resize(keep, (cw, ch), interpolation=cv2.INTER_NEAREST) > 0.5).astype(
            np.float32)
        if keep.sum() < 0.3 * keep.size:
            keep = None
    labels, table = _reference_table(fb, cw, ch)
    f = _features_iso(g, keep)
    use = _usable_ratios(cw, ch)
    d = np.linalg.norm(table[:, :use] - f[:use], axis=1)
    # A hard-edged oval's rim is a step the smoothing levels read as detail; strong blurs
    # inside one read as weak, or clear. Where the middle is featureless, read inside the
    # oval too; where that reads far stronger, the rim was what the whole box read.
    if middle < _FEATURELESS_MIDDLE:
        oval = _oval((ch, cw), _RIM_FREE_OVAL)
        f_in = _features_iso(g, oval if keep is None else oval * keep)
        table_in = _rim_free_table(fb, cw, ch)[1]
        d_in = np.linalg.norm(table_in[:, :use] - f_in[:use], axis=1)
        if labels[int(np.argmin(d_in))][1] >= _RIM_STRONGER * max(
                labels[int(np.argmin(d))][1], 1.0):
            f, d, table = f_in, d_in, table_in
    is_box = np.array([lab[0] == "box_blur" for lab in labels])
    ig = int(np.argmin(np.where(is_box, np.inf, d)))
    ib = int(np.argmin(np.where(is_box, d, np.inf)))
    # The ratio features barely tell a box from a Gaussian: they give the strength.
    i = ib if d[ib] < 0.6 * d[ig] else ig
    sigma = labels[i][1] / f_px
    residual = _residual(f, table, labels)
    # The kernel's shape (kinks of a flat kernel, one direction or both) decides the type; a
    # streak keeps detail across it, so it may look almost sharp to the isotropic ratios.
    # The kernel's kinks are read as decoded: deblocking's ramps, 8 px apart, are kinks too.
    probs, lags = kernel_type(g_raw)
    p_box, p_motion = probs.get("box_blur", 0.0), probs.get("motion_blur", 0.0)
    # A streak keeps detail across it (nearly sharp to the isotropic ratios); it counts when
    # it stops at the box: a camera shake streaks the surround alike. A streak that fades
    # from its middle (FFmpeg's ``dblur``) has no flat length: its lobe sits at the least
    # lag read. So the length is asked only of a region not yet smooth both ways (sigma
    # under 1.5), where a streak reading makes a clear face a redaction.
    streak = p_motion >= _KT_MIN_P["motion_blur"] and p_motion > p_box \
        and (lags["streak_k"] >= 5 or sigma >= 1.5) \
        and not _shaken_too(grey, box, lags["streak_deg"])
    if sigma < 1.5 and not streak:
        return RegionMeasure("clear", 0.0, 1.0, float(d[i]))
    if streak:
        sigma_m = box_sigma(lags["streak_k"])
        if not 0.4 * sigma <= sigma_m <= 4.0 * sigma:
            sigma_m = _streak_sigma(g, *_motion_table(fb, cw, ch), lags["streak_deg"]) / f_px
        return RegionMeasure("motion_blur", sigma_m, residual, float(d[i]))
    lo = _box_log_odds(probs)
    if p_box >= _KT_MIN_P["box_blur"]:
        return RegionMeasure("box_blur", _box_strength(sigma, lags, labels[ib][1] / f_px),
                             residual, float(d[ib]), lo)
    if d[ig] >= 0.6:  # smooth, but like no kernel in the table: say so, do not force a type
        return RegionMeasure("unknown", labels[ig][1] / f_px, residual, float(d[ig]), lo)
    return RegionMeasure("gaussian_blur", labels[ig][1] / f_px, residual, float(d[ig]), lo)


def _box_strength(sigma: float, lags: dict[str, float], sigma_table: float) -> float:
    """Equivalent sigma (frame px) of a box reading: from the kinks' lag when it agrees with
    the ratio features' strength ``sigma``, else from the nearest box in the table."""
    sigma_b = box_sigma(lags["box_k"])
    return sigma_b if 0.5 * sigma <= sigma_b <= 2.0 * sigma else sigma_table


def _box_log_odds(probs: dict[str, float]) -> float:
    """log(p box / p Gaussian), clipped to +-_VOTE_CLIP (0 when the model did not run)."""
    if not probs:
        return 0.0
    lo = math.log((probs.get("box_blur", 0.0) + 1e-4) / (probs.get("gaussian_blur", 0.0) + 1e-4))
    return float(np.clip(lo, -_VOTE_CLIP, _VOTE_CLIP))


_VOTE_CLIP = 3.0
"""Largest say one frame has in a track's box-or-Gaussian vote (log-odds units)."""
_VOTE_BOX = 0.5
"""Mean box log-odds over a track's smooth frames above which the track is a box blur. Set on
the fitting script's calibration tracks (seed 9, not fitted on; ``--calibrate``): Gaussian /
box track accuracy 0.94 / 0.63 by majority, 0.93 / 0.71 here, 0.93 / 0.76 at 0.25, 0.90 / 0.80
at 0 (finder-0.21's model). 0.25 typed 3 more of bench/finder_foreign.py's 59 Gaussian tracks
box and no more box tracks right, so it stays. Gaussian is the commoner editor default, so a
box called Gaussian costs less than the reverse."""


def vote_kernel_type(measures: Iterable[RegionMeasure]) -> str:
    """A track's redaction type from its fitted measurements (``blur`` ones are skipped).

    The majority kind, except that box against Gaussian is settled by the mean of the
    frames' ``box_log_odds``: a 5-9 px box on a soft, compressed face reads box in only some
    frames and Gaussian in the rest, so a majority of single-frame decisions (each needing
    p >= 0.7 to say box) calls most box tracks Gaussian; the model's evidence summed over
    the frames does not. ``unknown`` when nothing was fitted.
    """
    ms = [m for m in measures if m.kind != "blur"]
    if not ms:
        return "unknown"
    kinds = Counter(m.kind for m in ms)
    top = kinds.most_common(1)[0][0]
    smooth = [m for m in ms if m.kind in ("gaussian_blur", "box_blur")]
    if top not in ("gaussian_blur", "box_blur"):
        return top
    mean_lo = float(np.mean([m.box_log_odds for m in smooth]))
    return "box_blur" if mean_lo > _VOTE_BOX else "gaussian_blur"


def _streak_sigma(g: np.ndarray, mlabels: list[float], mtable: np.ndarray,
                  angle_deg: float) -> float:
    """Streak strength (equivalent sigma, px of ``g``) from the directional ratio table,
    with the streak along ``angle_deg`` (0 = +x, 90 = +y) rotated onto the x axis."""
    rot = cv2.getRotationMatrix2D((g.shape[1] / 2, g.shape[0] / 2), angle_deg, 1.0)
    gr = cv2.warpAffine(g, rot, (g.shape[1], g.shape[0]), flags=cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_REFLECT)
    return mlabels[int(np.argmin(np.linalg.norm(mtable - _features_dir(gr), axis=1)))]


def structure_and_sharp(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of pixels with structure (gradient energy that survives a sigma-1.5 blur) and of
    those among them that are sharp (the blur removes most of their energy)."""
    # OpenCV's float32 arithmetic on views: NumPy's results bit for bit, at less overhead
    # (this runs on every frame of every track).
    gx, gy = cv2.subtract(g[:-1, 1:], g[:-1, :-1]), cv2.subtract(g[1:, :-1], g[:-1, :-1])
    e0 = cv2.boxFilter(cv2.add(cv2.multiply(gx, gx), cv2.multiply(gy, gy)), -1, (5, 5))
    gb = cv2.GaussianBlur(g, (0, 0), 1.5, borderType=cv2.BORDER_REFLECT)
    bx, by = cv2.subtract(gb[:-1, 1:], gb[:-1, :-1]), cv2.subtract(gb[1:, :-1], gb[:-1, :-1])
    e1 = cv2.boxFilter(cv2.add(cv2.multiply(bx, bx), cv2.multiply(by, by)), -1, (5, 5))
    struct = e1 > 6.0
    return struct, struct & (e0 > 2.2 * e1)


@lru_cache(maxsize=256)
def _oval(shape: tuple[int, ...], frac: float) -> np.ndarray:
    """A float32 mask (read-only, shared) of the centred ellipse with semi-axes ``frac`` of
    ``shape``'s sides."""
    hh, ww = shape[:2]
    mask = np.zeros((hh, ww), np.float32)
    cv2.ellipse(mask, (ww // 2, hh // 2), (max(1, int(ww * frac)), max(1, int(hh * frac))),
                0, 0, 360, 1.0, -1)
    mask.flags.writeable = False
    return mask


@lru_cache(maxsize=256)
def _oval_in(shape: tuple[int, ...], frac: float) -> np.ndarray:
    """``_oval`` as a boolean mask (read-only, shared)."""
    mask = _oval(shape, frac).astype(bool)
    mask.flags.writeable = False
    return mask


def _sharp_pixels(g: np.ndarray) -> tuple[float, np.ndarray | None, float]:
    """(share of structured pixels that are sharp, mask of pixels away from sharp ones, share
    of the middle's pixels with structure).

    A box that overlaps unredacted picture at its rim must not read as sharper than the
    redaction inside it: the blur features are computed away from sharp pixels.
    """
    struct, sharp = structure_and_sharp(g)
    # The share is judged inside the inscribed ellipse: an oval redaction leaves the box
    # corners (hair, background) unredacted.
    oval_b = _oval_in(struct.shape, 0.45)
    middle = float(struct[_oval_in(struct.shape, _MIDDLE_OVAL)].mean())
    n = int((struct & oval_b).sum())
    if n < 20:
        return 0.0, None, middle
    share = float((sharp & oval_b).sum()) / n
    if middle < _FEATURELESS_MIDDLE:
        # No structure in the middle at all, so the sharp pixels are the outline: a blur so
        # strong it left a smooth blob (deface's default, a box half the face wide, drawn
        # in a hard-edged oval), which reads as sharp as a face in plain view otherwise.
        share = 0.0
    if not sharp.any():
        return share, None, middle
    near = cv2.dilate(sharp.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    keep = np.ones(g.shape, np.float32)
    keep[:near.shape[0], :near.shape[1]][near] = 0.0
    if keep.sum() < 0.3 * keep.size:
        return share, None, middle
    return share, keep, middle


_SIDE_PER_LEVEL = 8.0
"""A smoothing level says something about the blur only on a crop at least this many times
its sigma on the shorter side; on a smaller one it reads the face's own shading."""


def _usable_ratios(cw: int, ch: int) -> int:
    """How many of ``_features_iso``'s ratios (finest first) a cw x ch crop's strength is read
    from: those whose coarser level fits the crop (``_SIDE_PER_LEVEL``), at least two.

    On a 41 px face (a 40 px crop) the ratios between 3.5, 6 and 10 px of smoothing read the
    face's large-scale shading, which differs from the reference face's: a sigma-3 blur
    matched the table's heaviest entries (13-16 px) in half its frames
    (``bench/finder_foreign.py --sources small``). Crops of 80 px and more use all four."""
    side = min(cw, ch) / _SIDE_PER_LEVEL
    return max(2, sum(1 for level in _LEVELS[1:] if level <= side))


def _residual(f: np.ndarray, table: np.ndarray, labels: list[tuple[str, float]]) -> float:
    """Share of a clear reference face's fine detail (re-blur energy ratio) left, 0..1."""
    clear = table[0][0]
    return float(np.clip((math.exp(f[0]) - 1.0) / (math.exp(clear) - 1.0), 0.0, 1.0))


def _middle(g: np.ndarray) -> np.ndarray:
    """The central 60 % (each axis) of a crop: inside any rectangle or inscribed ellipse."""
    h, w = g.shape
    return g[int(0.2 * h):max(int(0.8 * h), int(0.2 * h) + 1),
             int(0.2 * w):max(int(0.8 * w), int(0.2 * w) + 1)]


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


def _colour_fill_outline(rgb: np.ndarray,
                         box: tuple[int, int, int, int]) -> tuple[float, float]:
    """``_fill_outline`` read in colour: (contrast, shape) of the patch of the fill's colour
    (its middle's median, every channel within ``_COLOUR_SAME`` levels) through the middle
    of ``box``, with its ring differing by more than ``_COLOUR_RING`` in some channel; (0, 0)
    unless that colour is vivid (``VIVID_CHROMA``). A vivid fill can share its grey level
    with the hair or shirt around it; not its colour. A grey one gains nothing from colour,
    and a near-white wall's patch read in colour passed for a fill (three false tracks in
    the bench's clean talking head)."""
    colour = fill_colour(rgb, box)
    if colour is None or chroma(colour) < VIVID_CHROMA:
        return 0.0, 0.0
    x, y, w, h = box
    fh, fw = rgb.shape[:2]
    mx, my = w // 10 + 4, h // 10 + 4
    x0, y0, x1, y1 = max(0, x - mx), max(0, y - my), min(fw, x + w + mx), min(fh, y + h + my)
    # The largest channel difference from the fill's colour, as one plane the grey test
    # reads against a fill of 0, its tolerances scaled from grey levels to these.
    dist = np.abs(rgb[y0:y1, x0:x1].astype(np.float32) - colour.astype(np.float32)).max(axis=2)
    scale = _GREY_SAME / _COLOUR_SAME
    return _fill_outline(dist * scale, (x - x0, y - y0, w, h), 0.0,
                         ring_levels=_COLOUR_RING * scale)


def box_middle(img: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """The middle half of ``box`` (each way) in ``img``: inside a fill drawn as a box or an
    oval, whatever its edge."""
    x, y, w, h = box
    return img[max(0, y + h // 4):y + 3 * h // 4, max(0, x + w // 4):x + 3 * w // 4]


def fill_colour(rgb: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray | None:
    """Median RGB of the middle of ``box`` (a fill's colour); None for an empty box."""
    mid = box_middle(rgb, box).reshape(-1, 3)
    return np.median(mid, axis=0) if mid.size else None


def chroma(colour: np.ndarray) -> float:
    """RGB max less min of ``colour``: 0 for any grey."""
    return float(colour.max() - colour.min())


VIVID_CHROMA = 60.0
"""Chroma (RGB max - min) from which a flat colour is an editor's (a saturated blue
(30, 60, 200) has 170, the bench's skin-tone fill 60); walls, tiles and screens are grey."""
_COLOUR_LEVEL_MAX = 160.0
"""Grey level up to which a fill whose outline does not show in grey is read in colour: a
vivid colour as dark as hair or a shirt (pure blue is level 29, red 76, green 150) is what
grey misses. Lighter flat patches, the walls and skies of most footage, are not worth the
frame's conversion to RGB (on the talking head's bright wall: 60 conversions a clip)."""
_GREY_SAME = 6.0
"""Grey levels within which a pixel has a fill's colour (``_fill_outline``)."""
_COLOUR_SAME = 16.0
"""Largest channel difference (levels) within a fill's colour: H.264 halves the colour's
resolution and quantises it more coarsely than the grey."""
_COLOUR_RING = 24.0
"""Channel difference (levels) past which the ring around a coloured fill counts as other.
With these two, a saturated blue oval over a 65 px face against dark hair read contrast
0.84-0.89 at CRF 28 (0.67-0.77 at 12 and 30: the colour's edge spreads over its ring)."""


def _fill_outline(grey: np.ndarray, box: tuple[int, int, int, int],
                  fill: float, ring_levels: float = 10.0) -> tuple[float, float]:
    """(contrast, shape) of the fill-coloured region through the middle of ``box``.

    The region is the connected patch of the fill colour (within 6 grey levels) that holds
    the box centre, looked for in the box grown by a tenth, so a box that cuts into an oval
    still sees the whole fill. An editor's fill ends in a crisp
    outline: contrast is the share of a 3 px ring just outside the patch that differs from
    the fill by more than ``ring_levels`` (a flat wall or a dark shirt fades into similar
    tones).
    It is drawn as a box or an oval: shape is 1 or more when the patch fills >= 90 % of its
    bounding box or overlaps the inscribed ellipse with IoU >= 0.85 (a shadow is ragged);
    below 1, it says how far short of either the patch falls.
    """
    x, y, w, h = box
    fh, fw = grey.shape
    mx, my = w // 10 + 4, h // 10 + 4
    x0, y0, x1, y1 = max(0, x - mx), max(0, y - my), min(fw, x + w + mx), min(fh, y + h + my)
    patch = grey[y0:y1, x0:x1].astype(np.float32)
    same = (np.abs(patch - fill) < _GREY_SAME).astype(np.uint8)
    _, labels = cv2.connectedComponents(same, connectivity=4)
    cy, cx = min(y + h // 2 - y0, patch.shape[0] - 1), min(x + w // 2 - x0, patch.shape[1] - 1)
    lab = labels[cy, cx]
    if lab == 0:
        return 0.0, 0.0
    region = (labels == lab).astype(np.uint8)
    ring = (cv2.dilate(region, np.ones((7, 7), np.uint8)) > 0) & (region == 0)
    contrast = float(np.mean(np.abs(patch[ring] - fill) > ring_levels)) if ring.any() else 0.0
    ys, xs = np.nonzero(region)
    bh, bw = int(ys.max() - ys.min() + 1), int(xs.max() - xs.min() + 1)
    inner = region[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(bool)
    ell = np.zeros((bh, bw), np.uint8)
    cv2.ellipse(ell, (bw // 2, bh // 2), (max(1, bw // 2), max(1, bh // 2)), 0, 0, 360, 1, -1)
    ell_b = ell.astype(bool)
    overlap = float(np.sum(inner & ell_b)) / max(1.0, float(np.sum(inner | ell_b)))
    return contrast, max(float(inner.mean()) / 0.9, overlap / 0.85)


_FEATHERED_SHAPE = 0.75
"""The least ``_fill_outline`` shape of a feathered fill's core (1: a crisp fill's)."""
_RAMP_STEP = 4.0
"""Grey levels a feathered fill's ramp may fall back by from one pixel to the next (codec
noise): beyond that, the profile is picture, not a fade."""
_RAMP_TOP = 20.0
"""Grey levels past the fill colour a side must reach for the fill to end there."""
_MIN_FADE = 6
"""Fewest px a feathered fill's fades reach past its flat core (their median): a narrower
fade is a soft edge of some dark object, or a crisp fill that failed the crisp tests (a
4 px feather passes those)."""


def fade_half_way(prof: np.ndarray) -> int | None:
    """Where a fill's fade ends, in px along ``prof`` (the mean difference from the fill's
    colour, walking out from its flat core), or None if it never fades into the picture.

    The fade runs from the core while the difference does not fall back (beyond codec
    noise). Its top is where, past ``_RAMP_TOP``, it stops rising: the picture's own level
    (a feather cut off at the drawn box stops at once, past its step). It ends half way up:
    the mask's half level, about where the region was drawn.
    """
    falls = np.flatnonzero(np.diff(prof) < -_RAMP_STEP)
    fade = prof[:falls[0] + 1] if falls.size else prof
    clear = np.flatnonzero(fade >= _RAMP_TOP)
    if clear.size == 0:
        return None
    ahead = (np.append(fade[3:], [fade[-1]] * 3)[:fade.size] - fade) / 3.0
    stalls = np.flatnonzero(ahead[clear[0]:] < 1.0)
    top = float(fade[clear[0] + stalls[0]] if stalls.size else fade[-1])
    return int(np.argmax(fade >= 0.5 * top))


def _drawn_edge(diff: np.ndarray, end: int) -> bool:
    """Does a fade trace an editor's edge along one side? ``diff``: difference from the fill
    colour, one row per position along the side's middle half, px outward from the core;
    ``end``: where the side's mean fade is half way up.

    Each row's fade reaches a quarter of that row's top near the edge (the same mask weight
    whatever the picture behind it) at some distance; along an editor's edge those distances
    lie on a line about square to the side (a rectangle; the picture behind tilts it by a
    few px) or an even bow (an oval), within 2 px for 7 rows in 10 (fitted to the rows
    within 2 px of the median distance, then to those near that fit). Hair or a shadow
    wanders or slants.
    """
    top = diff[:, :2 * end + 3].max(axis=1)
    rows = np.flatnonzero(top >= _RAMP_TOP)
    if rows.size < max(6, 0.5 * diff.shape[0]):
        return False
    crossing = np.argmax(diff[rows] >= 0.25 * top[rows, None], axis=1).astype(np.float64)
    t = np.linspace(-1.0, 1.0, diff.shape[0])[rows]
    near = np.abs(crossing - np.median(crossing)) <= 2.0
    for _ in range(2):
        if near.sum() < max(6, 0.5 * rows.size):
            return False
        fit = np.polyfit(t[near], crossing[near], 2)
        near = np.abs(crossing - np.polyval(fit, t)) <= 2.0
    return bool(abs(fit[1]) <= max(3.0, 0.25 * end) and float(np.mean(near)) >= 0.7)


def feathered_extent(grey: np.ndarray, box: tuple[int, int, int, int],
                     fill: float) -> tuple[int, int, int, int] | None:
    """The extent of a fill with a feathered edge whose flat core ``box`` holds, or None.

    An editor's feather blends the fill into the picture over the same width on every side:
    walking out from the core along each side's middle half, the mean difference from the
    fill colour rises steadily to the picture's level (``fade_half_way``); the fades must
    agree in width, and on two sides or more trace a drawn edge (``_drawn_edge``). A dark
    shirt, hair or a shadow fades on some sides only, or unevenly, or not at all, and its
    outline wanders. One side may show no fade (what lies beyond it is the fill's colour: a
    dark collar under a dark fill) or a wider fade (it runs on into the picture's own
    shading), as a crisp fill may lack contrast on one side (``_fill_contrast``).
    """
    x, y, w, h = box
    fh, fw = grey.shape
    reach = int(min(40, max(12, min(w, h))))
    ends: list[int | None] = []
    drawn: list[bool] = []  # per side: does its fade trace a drawn edge (``_drawn_edge``)?
    for side in range(4):  # left, right, top, bottom
        horizontal = side < 2
        lo, hi = (y + h // 4, y + h - h // 4) if horizontal else (x + w // 4, x + w - w // 4)
        if side == 0:
            strip = grey[lo:hi, max(0, x - reach):x][:, ::-1]
        elif side == 1:
            strip = grey[lo:hi, x + w:min(fw, x + w + reach)]
        elif side == 2:
            strip = grey[max(0, y - reach):y, lo:hi][::-1, :].T
        else:
            strip = grey[y + h:min(fh, y + h + reach), lo:hi].T
        if strip.shape[1] < reach or strip.shape[0] == 0:
            return None  # runs off the frame: a letterbox bar or a corner, not a face's fill
        diff = np.abs(strip.astype(np.float32) - fill)
        end = fade_half_way(diff.mean(axis=0))
        ends.append(end)  # None: no fade; the picture there is as dark (or light) as the fill
        drawn.append(end is not None and _drawn_edge(diff, end))

    def agree(widths: list[int]) -> bool:
        return max(widths) - min(widths) <= max(4, 0.5 * max(widths))

    seen = [e for e in ends if e is not None]
    if len(seen) == 4 and not agree(seen):
        # One side may fade wider, running on into the picture's own shading (dark hair
        # beside a dark fill); one that ends sooner is some object's own edge (a switch
        # plate, a sleeve), which no feather of the others' width leaves.
        odd = max(range(4), key=lambda i: seen[i])
        if seen[odd] > float(np.median(seen)):
            ends[odd] = None
            seen = [e for e in ends if e is not None]
    if len(seen) < 3 or not agree(seen) or float(np.median(seen)) < _MIN_FADE:
        return None
    if sum(d for d, e in zip(drawn, ends, strict=True) if e is not None) < 2:
        return None  # hair, a shadow, a sleeve: its outline wanders
    # A side with no fade of its own is taken as wide as the others.
    left, right, top_, bottom = (int(np.median(seen)) if e is None else e for e in ends)
    return (x - left, y - top_, w + left + right, h + top_ + bottom)


_CLEAR_SPREAD = 40.0
"""Grey-level range (90th minus 10th percentile) in a fill's box from which it shows the
picture whether or not the picture is sharp (see :func:`looks_clear`)."""


def looks_clear(grey: np.ndarray, box: tuple[int, int, int, int], kind: str,
                block: float = 0.0) -> bool:
    """Cheap per-frame dropout test: does the region at ``box`` show the picture unredacted?

    ``kind`` is the track's redaction type: a solid fill ends when the region gains texture,
    a mosaic when its block grid goes, a blur when fine detail comes back. ``block`` is a
    mosaic track's cell size (px; 0: unknown): a grid of cells under half of it is the
    footage's own (a GIF scaled up by 4 with nearest neighbours), not the redaction.
    """
    g = _inset_crop(grey, box)
    if g is None:
        return False
    if kind == "solid":
        mid = _middle(g)
        p10, p90 = np.percentile(mid, (10, 90))
        # A soft face (a close-up, or HEVC's smoothing) has few sharp pixels but a range of
        # grey no fill has: tens of levels (an HEVC fill reads 0-3).
        return bool(p90 - p10 > _CLEAR_SPREAD or (
            p90 - p10 > 12.0 and _sharp_pixels(mid)[0] > 0.1))
    if kind == "mosaic":
        cw, ch, score = mosaic_grid(g)  # square or oblong: the track is a mosaic already
        if score > 0.4 and max(cw, ch) >= 0.5 * block:
            return False
        few = coarse_cells(g)
        if few and few >= 0.5 * block:
            return False  # a few cells only (``coarse_mosaic``)
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
    whole = float(max(ax[p::b].mean() for p in range(b)))
    if whole >= _GRID_CONTRAST_MIN or ax.size < 2 * b:
        return whole
    # Cells of a fractional size (a resize's), or none: their comb, only then (it costs a
    # millisecond, on every measure of a mosaic track).
    return max(whole, _comb(ax, block)[0])


_GRID_CONTRAST_MIN = 2.0
"""Grid contrast (grey levels) a mosaic needs (``_grid_contrast``)."""


_COMB_STEP = 1 / 32
"""Period step (px) of the fractional combs tried around a grid's whole-pixel period."""


def _comb(prof: np.ndarray, block: float) -> tuple[float, np.ndarray, float, float]:
    """The comb of teeth ``floor(phase + k * period)`` that collects the most of ``prof``,
    for fractional periods within a pixel of ``block``: (mean on its teeth, teeth mask,
    period, phase).

    A pixelation made by a resize cuts a box into N cells of a fractional size, 10 and 11 px
    for 10.33; a whole-pixel comb drifts off its lines within a few cells."""
    n = prof.size
    best, teeth, fit = 0.0, np.zeros(n, bool), (float(round(block)), 0.0)
    for period in np.arange(max(2.0, round(block) - 1.0), round(block) + 1.0 + 1e-9,
                            _COMB_STEP):
        phases = np.arange(0.0, period, 0.5)
        idx = np.floor(phases[:, None]
                       + period * np.arange(int(n / period) + 1)[None, :]).astype(int)
        ok = idx < n
        sums = np.where(ok, prof[np.minimum(idx, n - 1)], 0.0).sum(axis=1)
        means = sums / np.maximum(ok.sum(axis=1), 1)
        i = int(np.argmax(means))
        if means[i] > best:
            best, fit = float(means[i]), (float(period), float(phases[i]))
            teeth = np.zeros(n, bool)
            teeth[idx[i][ok[i]]] = True
    return best, teeth, *fit


def _on_off_grid(g: np.ndarray, block: float, block_y: float | None = None) -> float:
    """Raw mean |difference| on the best grid phase over that off it (both axes, worst;
    ``block_y`` for the rows where cells are oblong).

    Inside a mosaic cell the values are constant (codec noise aside), so differences off
    the grid lines are tiny next to those on them; a soft edge spreads over both.
    """
    worst = np.inf
    for axis in (1, 0):
        blk = block if axis == 1 or block_y is None else block_y
        b = max(2, int(round(blk)))
        prof = np.abs(np.diff(g, axis=axis)).mean(axis=1 - axis)
        if prof.size < 2 * b:
            return 0.0
        sums = [float(prof[p::b].mean()) for p in range(b)]
        p = int(np.argmax(sums))
        teeth = np.zeros(prof.size, bool)
        teeth[p::b] = True
        ratio = _teeth_ratio(prof, teeth)
        if not ratio:  # cells of a fractional size (a resize's), or none
            ratio = _teeth_ratio(prof, _comb(prof, blk)[1])
        if not ratio:
            return 0.0
        worst = min(worst, ratio)
    return float(worst)


def _teeth_ratio(prof: np.ndarray, teeth: np.ndarray) -> float:
    """Mean of ``prof`` on the comb's ``teeth`` over that off them; 0 unless many teeth
    carry steps (not one edge of a window or a paste)."""
    off_mean = float(prof[~teeth].mean()) + 0.25
    lines = prof[teeth]
    if int(np.sum(lines > 2.0 * off_mean)) < max(3, 0.5 * lines.size):
        return 0.0
    return float(lines.mean()) / off_mean


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
    struct, sharp = structure_and_sharp(g)
    outside = np.ones(struct.shape, bool)
    ix0, iy0 = int((x - x0) * f), int((y - y0) * f)
    outside[iy0:iy0 + int(h * f), ix0:ix0 + int(w * f)] = False
    n = int((struct & outside).sum())
    return float((sharp & outside).sum()) / n if n >= 20 else 0.0
