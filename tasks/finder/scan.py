"""Full-frame scan: where in a frame does the picture look redacted?

A redaction is a local region that lacks the fine detail of its surroundings (blur), has its
gradient concentrated on isolated grid lines (mosaic) or has none at all (solid fill). Three
cheap per-pixel maps find those, cells of ``cell_px`` group them, and head-sized connected
regions with a textured surround become candidates. All maps are computed on a greyscale
frame, downscaled only when the frame is large (``FinderConfig.max_scan_side_px``).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from veilscan.tasks.finder.config import FinderConfig
from veilscan.tasks.finder.quantiles import u8_percentiles

FLAT_MIN_ASPECT = 0.7
"""Least height / width of a flat patch taken for a filled head: heads are taller than wide,
and a flat patch much wider than tall is a shelf, a lens, a sign, a bright stretch of wall."""

_SOFT_MIN = 0.3
"""Least share of a strong blur's smooth region (its cells' pixels) that is smooth shading
(``PixelMaps.soft``), the rest flat: a wall or a fill is flat throughout."""
_SOFT_MIN_SIDE = 1.25
"""Least side of a strong blur's smooth region, in ``min_face_px``: smooth gaps between
edges (a fold, a button) are smaller, and a redaction covers more than the face."""
_SOFT_SHARP_MAX = 0.02
"""Most sharp pixels a cell of a strong blur holds (a blur cell may hold 5%)."""

_DX = np.array([[-1.0, 1.0]], np.float32)
_DY = _DX.T.copy()


@dataclass(frozen=True)
class Candidate:
    """A region that looks redacted in one frame, in frame pixels."""

    x: int
    y: int
    w: int
    h: int
    kind: str
    """``blur`` (smooth with structure, or smooth shading ringed by sharp detail: a blur too
    strong to leave structure), ``mosaic`` (block grid), ``flat`` (solid fill) or
    ``faded`` (a flat patch with picture detail only further off: a feathered fill, if any)."""

    @property
    def box(self) -> tuple[int, int, int, int]:
        return (self.x, self.y, self.w, self.h)


@dataclass
class PixelMaps:
    """Per-pixel evidence on the scan grid (booleans) plus the frame-level sharpness share."""

    sharp: np.ndarray
    blurred: np.ndarray
    flat: np.ndarray
    sharp_share: float
    """Share of structured pixels that are sharp: low for a defocused or motion-blurred frame."""
    soft: np.ndarray
    """Neither structured nor flat: smooth shading (a blur so strong it left no structure)."""


def grad_energy(g: np.ndarray, window: int) -> np.ndarray:
    """Windowed mean of the squared forward-difference gradient (grey levels^2)."""
    gx = cv2.filter2D(g, cv2.CV_32F, _DX, anchor=(0, 0), borderType=cv2.BORDER_REFLECT)
    gy = cv2.filter2D(g, cv2.CV_32F, _DY, anchor=(0, 0), borderType=cv2.BORDER_REFLECT)
    return cv2.boxFilter(gx * gx + gy * gy, cv2.CV_32F, (window, window))


def pixel_maps(g: np.ndarray, cfg: FinderConfig) -> PixelMaps:
    """Compute the sharp / blurred / flat maps of a float32 grey image (scan scale)."""
    w = cfg.window_px
    e0 = grad_energy(g, w)
    e1 = grad_energy(cv2.GaussianBlur(g, (0, 0), cfg.reblur_sigma_px), w)
    struct = e1 > cfg.structure_min
    ratio = e0 / np.maximum(e1, 1e-3)
    sharp = struct & (ratio > cfg.sharp_ratio_min)
    blurred = struct & (ratio < cfg.blur_ratio_max)
    flat = e0 < cfg.flat_max
    n_struct = int(np.count_nonzero(struct))
    sharp_share = float(np.count_nonzero(sharp)) / n_struct if n_struct else 0.0
    soft = ~struct & ~flat & (ratio <= cfg.sharp_ratio_min)
    return PixelMaps(sharp, blurred, flat, sharp_share, soft)


def mosaic_cells(grey: np.ndarray, grid_hw: tuple[int, int], cfg: FinderConfig) -> np.ndarray:
    """Per-cell mosaic evidence from the full-resolution frame (1 where a block grid shows).

    In a block grid every gradient sits on an isolated grid line, so adjacent differences
    are never both large (natural edges span two or more pixels). Computed at full
    resolution (any downscale smears 4 px blocks) but only as sums per cell.
    """
    gh, gw = grid_hw
    # Differences of a few grey levels are codec noise (ringing inside blocks): drop them.
    ax = cv2.subtract(cv2.absdiff(grey[:, 1:], grey[:, :-1]), 3)
    ay = cv2.subtract(cv2.absdiff(grey[1:, :], grey[:-1, :]), 3)
    px = cv2.min(ax[:, 1:], ax[:, :-1])
    py = cv2.min(ay[1:, :], ay[:-1, :])

    fh, fw = grey.shape
    ch, cw = fh // gh, fw // gw  # pixels per whole cell

    def cells(a: np.ndarray) -> np.ndarray:
        a = a[:gh * ch, :gw * cw]
        if a.shape != (gh * ch, gw * cw):  # a difference map is a pixel short: pad it
            a = cv2.copyMakeBorder(a, 0, gh * ch - a.shape[0], 0, gw * cw - a.shape[1],
                                   cv2.BORDER_REPLICATE)
        # Padded as bytes, then made float (the same values: 0.26 ms a map at 608 x 1080,
        # where padding the float map took 2.9 ms, half the pixel scan's time).
        c = cv2.resize(a.astype(np.float32), (gw, gh),
                       interpolation=cv2.INTER_AREA)  # whole cells: fast path
        # Pool 3 x 3 cells: a block larger than a cell leaves some cells without a grid line.
        return cv2.boxFilter(c, -1, (3, 3), borderType=cv2.BORDER_REPLICATE)

    sax, say, spx, spy = cells(ax), cells(ay), cells(px), cells(py)
    return (
        (sax > cfg.mosaic_edge_min) & (say > cfg.mosaic_edge_min)
        & (spx < cfg.mosaic_pair_max * sax) & (spy < cfg.mosaic_pair_max * say)
    ).astype(np.float32)


def scan_frame(grey: np.ndarray, cfg: FinderConfig,
               kinds: tuple[str, ...] = ("blur", "mosaic", "flat")) -> list[Candidate]:
    """Candidate redacted regions of one greyscale uint8 frame, in frame pixels.

    ``kinds`` limits the maps computed: ``("flat",)`` (solid fills only) costs one gradient
    energy at scan scale.
    """
    fh, fw = grey.shape
    scale = min(1.0, cfg.max_scan_side_px / max(fh, fw))
    g = grey if scale == 1.0 else cv2.resize(grey, None, fx=scale, fy=scale,
                                             interpolation=cv2.INTER_AREA)
    cell = max(6, cfg.min_face_px // 4)  # frame px
    gh, gw = max(1, fh // cell), max(1, fw // cell)

    def cells(mask: np.ndarray) -> np.ndarray:
        return cv2.resize(mask.astype(np.float32), (gw, gh), interpolation=cv2.INTER_AREA)

    seeds: dict[str, np.ndarray] = {}
    if kinds == ("flat",):
        e0 = grad_energy(g.astype(np.float32), cfg.window_px)
        flat_c = cells(e0 < cfg.flat_max)
        sharp_c = cells(e0 > 4 * cfg.structure_min)  # any texture counts as surround here
        seeds["flat"] = flat_c > 0.9
    else:
        maps = pixel_maps(g.astype(np.float32), cfg)
        sharp_c = cells(maps.sharp)
        flat_c = cells(maps.flat)
        if "flat" in kinds:
            seeds["flat"] = flat_c > 0.9
        if "mosaic" in kinds:
            seeds["mosaic"] = mosaic_cells(grey, (gh, gw), cfg) > 0.5
        # A frame with almost no sharp detail is defocused or motion-blurred as a whole: a
        # blurred face cannot be told from it, so blur candidates need a sharp frame.
        if "blur" in kinds and maps.sharp_share > 0.1:
            seeds["blur"] = (cells(maps.blurred) > 0.15) & (sharp_c < 0.05)
            # A blur so strong it left no structure is smooth shading: no sharp pixel, and
            # not flat throughout (a wall), with its outline sharp around it.
            soft_c = cells(maps.soft)  # (soft and flat pixels are disjoint)
            seeds["soft"] = (soft_c + flat_c > 0.9) & (sharp_c < _SOFT_SHARP_MAX)
    kernel = np.ones((3, 3), np.uint8)
    out: list[Candidate] = []
    level: np.ndarray | None = None
    for kind, seed in seeds.items():
        m = seed.astype(np.uint8)
        if kind not in ("flat", "soft"):
            m = cv2.morphologyEx(m, cv2.MORPH_CLOSE, kernel)
            if kind == "mosaic":
                # The inside of blocks larger than a cell is flat: fill it in.
                m = cv2.morphologyEx(m | ((flat_c > 0.5).astype(np.uint8) & cv2.dilate(m, kernel)),
                                     cv2.MORPH_CLOSE, kernel)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
        if kind == "soft":
            soft_share = np.bincount(labels.ravel(), soft_c.ravel(), n) / np.maximum(stats[:, 4], 1)
        for i in range(1, n):
            cx, cy, cw, ch, area = (int(v) for v in stats[i])
            if kind == "soft":
                if min(cw, ch) * cell < _SOFT_MIN_SIDE * cfg.min_face_px \
                        or soft_share[i] < _SOFT_MIN:
                    continue  # a smooth gap between edges; or a flat wall, a fill (flat seeds')
                cand = _accept("blur", cx, cy, cw, ch, area, sharp_c, cell, 1.0, (fh, fw), cfg)
                if cand is not None and max(cand.w, cand.h) <= cfg.max_face_frac * min(fh, fw) \
                        and _textured_sides(sharp_c, (cx, cy, cw, ch), 1) == 4:
                    out.append(cand)
                continue
            cand = _accept(kind, cx, cy, cw, ch, area, sharp_c, cell, 1.0, (fh, fw), cfg)
            if cand is not None:
                out.append(cand)
            elif kind == "flat" and max(cw, ch) * cell > cfg.max_face_frac * min(fh, fw):
                if level is None:
                    level = cells(g)  # each cell's mean grey level
                out += _level_parts(labels[cy:cy + ch, cx:cx + cw] == i,
                                    level[cy:cy + ch, cx:cx + cw], (cx, cy), sharp_c, cell,
                                    (fh, fw), cfg)
    return out


_LEVEL_BAND = 2
"""Grey levels either side of a flat region's commonest level that make up one surface."""
_LEVELS_TRIED = 8
"""Commonest levels of a too-big flat region tried in turn, while a level holds a head-sized
patch's cells (on the talking head, a white oval was the second: the wall's brightest band,
250, had more cells than its 255; a wall shaded over 15 levels has more bands)."""


def _level_parts(region: np.ndarray, level: np.ndarray, origin: tuple[int, int],
                 sharp_c: np.ndarray, cell: int, frame_hw: tuple[int, int],
                 cfg: FinderConfig) -> list[Candidate]:
    """Candidates in a flat region too big for a head: its cells at each of its commonest
    grey levels.

    A fill whose outline fades somewhere into a wall of nearly its colour (a white oval on a
    white wall: 255 against 245-250, the cells between them stepping a level or two) joins
    the wall into one flat region. The fill is one level throughout; the wall shades."""
    least = 0.5 * (cfg.min_face_px / cell) ** 2  # cells of the smallest head-sized patch
    lv = np.clip(np.round(level), 0, 255).astype(np.uint8)
    # Each level's band from one histogram: the commonest level left and those within
    # _LEVEL_BAND of it (levels a band took stay in it), while a band holds a head's cells.
    left = np.bincount(lv[region], minlength=256)
    band_of = np.zeros(256, np.uint8)
    bands = 0
    for k in range(1, _LEVELS_TRIED + 1):
        m = int(left.argmax())
        lo, hi = max(0, m - _LEVEL_BAND), min(255, m + _LEVEL_BAND)
        if left[lo:hi + 1].sum() < least:
            break
        band_of[lo:hi + 1][left[lo:hi + 1] > 0] = k
        left[lo:hi + 1] = 0
        bands = k
    which = np.where(region, band_of[lv], 0)
    out: list[Candidate] = []
    for k in range(1, bands + 1):
        n, labels, stats, _ = cv2.connectedComponentsWithStats((which == k).astype(np.uint8),
                                                               connectivity=8)
        for i in np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] >= least) + 1:
            cx, cy, cw, ch, area = (int(v) for v in stats[i])
            cand = _accept("flat", cx + origin[0], cy + origin[1], cw, ch, area, sharp_c,
                           cell, 1.0, frame_hw, cfg)
            if cand is not None and _seam_share(labels == i, region) <= _SEAM_MAX:
                out.append(cand)
    return out


_SEAM_MAX = 0.3
"""Most of a level's patch's rim that may run on through the flat region at other levels.
A fill joins a wall only along a seam where its outline fades; a band of a shaded wall is
rimmed by the wall's next levels nearly all round (on the talking head, 68 such bands a clip
were candidates, each refined and measured, before this check)."""


def _seam_share(patch: np.ndarray, region: np.ndarray) -> float:
    """Share of the cells just outside ``patch`` that lie in ``region`` (flat, at other
    levels) rather than in picture detail or off the region."""
    rim = (cv2.dilate(patch.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0) & ~patch
    n = int(np.count_nonzero(rim))
    return float(np.count_nonzero(rim & region)) / n if n else 0.0


def _accept(kind: str, cx: int, cy: int, cw: int, ch: int, area: int, sharp_c: np.ndarray,
            cell: int, scale: float, frame_hw: tuple[int, int],
            cfg: FinderConfig) -> Candidate | None:
    """Head-sized, head-shaped, compact, and surrounded by real picture detail."""
    fh, fw = frame_hw
    f = cell / scale
    x, y, w, h = cx * f, cy * f, cw * f, ch * f
    if w < cfg.min_face_px - 2 * f or h < (cfg.min_face_px - 2 * f) * 0.6:  # cells shrink edges
        return None
    if max(w, h) > cfg.max_face_frac * min(fh, fw) * 1.6 or w > cfg.max_face_frac * min(fh, fw):
        return None
    aspect = h / w
    if not (FLAT_MIN_ASPECT if kind == "flat" else 0.45) <= aspect <= 2.6:
        return None
    if area / float(cw * ch) < 0.45:
        return None
    # Surround: sharp picture detail next to the region on at least two of its four sides
    # (a face redaction sits in a sharp scene; a defocused background does not).
    r = max(1, int(round(max(cw, ch) * 0.4)))
    # Flat fills are judged by their crisp outline instead (measure.py), and a block grid by
    # its own lines: neither needs much picture around it (a face against a plain wall
    # shows texture on one side only, its shoulders).
    need = 1 if kind in ("flat", "mosaic") else 2
    if _textured_sides(sharp_c, (cx, cy, cw, ch), r) < need:
        # A feathered fill's fade leaves no detail close around its flat core: detail
        # twice as far off makes it a candidate of its own kind, for a fill only.
        if kind != "flat" or _textured_sides(sharp_c, (cx, cy, cw, ch), 2 * r) < need:
            return None
        kind = "faded"
    return Candidate(int(round(x)), int(round(y)), int(round(w)), int(round(h)), kind)


def _textured_sides(sharp_c: np.ndarray, cells: tuple[int, int, int, int], r: int) -> int:
    """How many sides of the region (``cells``: x, y, w, h in scan cells) have sharp picture
    detail in a band ``r`` cells deep next to it (a quarter of the band's cells or more)."""
    cx, cy, cw, ch = cells
    gh, gw = sharp_c.shape
    sides = [
        sharp_c[max(0, cy - r):cy, cx:cx + cw],
        sharp_c[cy + ch:min(gh, cy + ch + r), cx:cx + cw],
        sharp_c[cy:cy + ch, max(0, cx - r):cx],
        sharp_c[cy:cy + ch, cx + cw:min(gw, cx + cw + r)],
    ]
    return sum(1 for sd in sides if sd.size and float(np.mean(sd > 0.1)) >= 0.25)


def refine_box(grey: np.ndarray, box: tuple[int, int, int, int], cfg: FinderConfig,
               slack_px: int = 10) -> tuple[int, int, int, int]:
    """Snap a coarse candidate box (cell-quantised) to where the redaction ends, in frame px.

    Walks out from the box centre along the row and column profiles of "this pixel looks
    unredacted" (sharp detail, or for flat fills any texture) and stops where it appears,
    or ``slack_px`` beyond the coarse box (flat surroundings give no evidence either way).
    """
    x, y, w, h = box
    fh, fw = grey.shape
    m = slack_px
    pad = m + 6  # the edge search compares 5 px bands on either side
    x0, y0, x1, y1 = max(0, x - pad), max(0, y - pad), min(fw, x + w + pad), min(fh, y + h + pad)
    g8 = grey[y0:y1, x0:x1]
    g = g8.astype(np.float32)
    gx = cv2.filter2D(g, cv2.CV_32F, _DX, anchor=(0, 0), borderType=cv2.BORDER_REFLECT)
    gy = cv2.filter2D(g, cv2.CV_32F, _DY, anchor=(0, 0), borderType=cv2.BORDER_REFLECT)
    e0 = cv2.boxFilter(gx * gx + gy * gy, cv2.CV_32F, (3, 3))
    e1 = grad_energy(cv2.GaussianBlur(g, (0, 0), cfg.reblur_sigma_px), 3)
    outside = (e1 > cfg.structure_min) & (e0 > cfg.sharp_ratio_min * e1)
    content = (e1 > cfg.structure_min) & ~outside
    inner = g8[y - y0 + h // 4:y - y0 + 3 * h // 4, x - x0 + w // 4:x - x0 + 3 * w // 4]
    p10, fill, p90 = u8_percentiles(inner, (10, 50, 90)) if inner.size else (0.0, 0.0, 0.0)
    if inner.size and p90 - p10 < 6:
        # Solid fill: anything that differs from the fill colour ends it.
        outside = np.abs(g - fill) > 8
        content = ~outside
    bx0, by0 = x - x0, y - y0
    cx0, cx1 = bx0 + w // 4, bx0 + w - w // 4
    cy0, cy1 = by0 + h // 4, by0 + h - h // 4
    rows = outside[:, cx0:max(cx1, cx0 + 1)].mean(axis=1)
    cols = outside[cy0:max(cy1, cy0 + 1), :].mean(axis=0)
    rows_in = content[:, cx0:max(cx1, cx0 + 1)].mean(axis=1)
    cols_in = content[cy0:max(cy1, cy0 + 1), :].mean(axis=0)

    def edge(prof: np.ndarray, prof_in: np.ndarray, at: int, sign: int) -> int:
        """Position near ``at`` where the profile steps from inside (low) to outside (high).

        ``sign`` -1: outside lies at lower indices (a left / top edge); +1: higher.
        """
        band = 5
        n = prof.size
        inward = max(m, int(0.3 * (w if prof is cols else h)))
        lo_i, hi_i = (at - m, at + inward) if sign < 0 else (at - inward, at + m)
        idx = np.arange(max(band, lo_i), min(n - band, hi_i + 1))
        if idx.size == 0:
            return at
        c = np.concatenate([[0.0], np.cumsum(prof)])
        ci = np.concatenate([[0.0], np.cumsum(prof_in)])
        lo = (c[idx] - c[idx - band]) / band
        hi = (c[idx + band] - c[idx]) / band
        inner = hi if sign < 0 else lo
        # Content (blurred structure) must reach the edge: 8 px on the inner side.
        near_lo = np.clip(idx - 8, 0, n) if sign > 0 else idx
        near_hi = idx if sign > 0 else np.clip(idx + 8, 0, n)
        near = (ci[near_hi] - ci[near_lo]) / np.maximum(near_hi - near_lo, 1)
        step = ((lo - hi) if sign < 0 else (hi - lo)) * (1.0 - inner / 0.12)
        ok = (inner <= 0.12) & (near >= 0.02)
        steps = [(int(i), float(st)) for i, st, k in zip(idx, step, ok, strict=True) if k]
        if not steps or max(st for _, st in steps) < 0.06:
            return at
        # The first clear step seen from the centre: texture further out is background.
        floor = max(0.06, 0.35 * max(st for _, st in steps))
        order = sorted(steps, key=lambda p: -p[0]) if sign < 0 else sorted(steps)
        run: list[tuple[int, float]] = []
        for i, st in order:  # the first run of strong steps, then its peak
            if st >= floor:
                run.append((i, st))
            elif run:
                break
        return max(run, key=lambda p: p[1])[0]

    left = edge(cols, cols_in, bx0, -1)
    right = edge(cols, cols_in, bx0 + w, 1)
    top = edge(rows, rows_in, by0, -1)
    bottom = edge(rows, rows_in, by0 + h, 1)
    nw, nh = right - left, bottom - top
    if nw < 0.5 * w or nh < 0.5 * h:
        return box
    return (x0 + left, y0 + top, nw, nh)
