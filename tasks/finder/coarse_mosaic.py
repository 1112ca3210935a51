"""Pixelations only two to five cells across a face: too few cells for the period search
(``measure.mosaic_grid``), which needs a grid to repeat, so they are told by what each cell
is instead. Every cell is flat and meets its neighbours in one-pixel steps on straight lines
that cross the whole pixelation, evenly spaced; a face, a blur, a wall's edge or a window's
frame make steps in adjacent pairs, lines that stop short, or uneven spacing."""

from __future__ import annotations

import cv2
import numpy as np

from veilscan.tasks.finder.steps import step_pairs

Box = tuple[int, int, int, int]

PAIRS_MAX = 0.15
"""Share of step energy in adjacent pairs above which a region is no pixelation (as
``measure._IRREGULAR_PAIRS``)."""
LINE_SHARE_MIN = 0.8
"""Share of each axis's step energy that must lie on its lines."""
MAX_CELLS = 5.0
"""Most cells across the crop's longer side read here: more repeat enough for the period
search, whose boxes and readings stand (a box cut short inside a finer grid would read as
a few cells of it)."""
MIN_CELL = 8
"""Smallest cell (px) taken here: finer grids repeat enough for the period search, and the
codec's own 8 px blocks are judged there (``lattice.codec_blocks``)."""
LINE_LOW = 0.1
"""A line's step energy, against the axis's strongest, from which it counts as a line."""
STEP_MIN = 0.5
"""Step energy per pixel (grey levels past the codec's 3) under which a region is too flat
to tell (a fill, a blur, a wall): two lines of 15-level steps across 35 px give 0.9."""


def _lines(prof: np.ndarray) -> list[int]:
    """Local maxima of a step profile at a tenth of its peak or more (two like cells side by
    side leave a line weak for their length)."""
    low = LINE_LOW * float(prof.max())
    n = prof.size
    return [i for i in range(n) if prof[i] >= low and prof[i] > 0
            and prof[i] >= prof[max(0, i - 1)] and prof[i] >= prof[min(n - 1, i + 1)]]


def _axis_cell(prof: np.ndarray) -> tuple[float, list[int]]:
    """(cell size px, line positions) along one axis from its step profile; (0, []) if the
    steps there are not a few evenly spaced lines holding nearly all of it. With one line
    only, the size is the larger side of it (a bound: the cells are at least that long)."""
    lines = _lines(prof)
    total = float(prof.sum())
    if not lines or total <= 0 or float(prof[lines].sum()) < LINE_SHARE_MIN * total:
        return 0.0, []
    n = prof.size
    if len(lines) == 1:
        return float(max(lines[0] + 1, n - lines[0])), lines
    d = np.diff(lines).astype(float)
    m = float(d.mean())
    if float(np.abs(d - m).max()) > max(1.5, 0.12 * m):
        return 0.0, []
    if lines[0] > m + 1.5 or n - 1 - lines[-1] > m + 1.5:
        return 0.0, []  # a cell wider than the others: not one grid
    return m, lines


LEVEL_GAP = 4.0
"""Grey levels between two cells' medians for them to count as different cells."""
MIN_LEVELS = 3
"""Different levels the cells must show: the corner of a fill on a wall (or of a dark door
on a flat one) has lines both ways too, but two levels only."""


def _levels(g: np.ndarray, xs: list[int], ys: list[int]) -> int:
    """How many different grey levels the cells between the lines ``xs`` and ``ys`` show
    (slivers under 3 px at the crop's edges left out)."""
    bx = [0, *(x + 1 for x in xs), g.shape[1]]
    by = [0, *(y + 1 for y in ys), g.shape[0]]
    medians = sorted(float(np.median(g[a:b, c:d]))
                     for a, b in zip(by[:-1], by[1:], strict=True) if b - a >= 3
                     for c, d in zip(bx[:-1], bx[1:], strict=True) if d - c >= 3)
    if not medians:
        return 0
    return 1 + int(np.sum(np.diff(medians) > LEVEL_GAP))


def _lines_cross(steps: np.ndarray, lines: list[int], across: list[int]) -> bool:
    """Do at least half of ``lines`` (columns of ``steps``) step over at least half of two
    or more of the stretches the ``across`` lines cut them into? A pixelation's lines cross
    it (but its border, where the box takes it in, steps on one side only); the corner of a
    fill or a door on a wall has one line stopping at the other."""
    bounds = [0, *(a + 1 for a in across), steps.shape[0]]
    stretches = [(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b - a >= 3]
    crossing = 0
    for c in lines:
        on = steps[:, c] > 0
        crossing += sum(float(on[a:b].mean()) >= 0.5 for a, b in stretches) >= 2
    return crossing >= max(1, len(lines) / 2)


def _inner(lines: list[int], n: int) -> list[int]:
    """The lines at least 3 px in from both ends of a profile of ``n``: one nearer is the
    pixelation's own border, where the box is a pixel or two off it."""
    return [c for c in lines if 3 <= c <= n - 4]


def coarse_cells(g: np.ndarray) -> float:
    """Cell size (px) of a pixelation two to five cells across filling ``g`` (a region's
    inset crop, float32), 0 if it is none: its steps come singly and lie on a few evenly
    spaced lines both ways, between cells of three levels or more (see the module's
    docstring)."""
    ax, ay, pairs = step_pairs(g)
    total = float(ax.sum() + ay.sum())
    if total < STEP_MIN * g.size or pairs > PAIRS_MAX * total:
        return 0.0  # next to no steps (a fill, a blur, a wall), or a picture's edges
    (cx, xs), (cy, ys) = _axis_cell(ax.sum(axis=0)), _axis_cell(ay.sum(axis=1))
    cell = min(cx, cy)
    xs, ys = _inner(xs, ax.shape[1]), _inner(ys, ay.shape[0])
    if cell < MIN_CELL or max(g.shape) > MAX_CELLS * cell or not xs or not ys:
        return 0.0
    if not _lines_cross(ax, xs, ys) or not _lines_cross(ay.T, ys, xs) \
            or _levels(g, xs, ys) < MIN_LEVELS:
        return 0.0
    return cell


BESIDE_PX = 24
"""How far past the slack a cell beside the found ones is looked for (a cell of up to about
20 px, whole, with its rim)."""
RECT_FILL = 0.85
"""Share of its bounding box a flat patch must fill to be a cell (a rectangle)."""


def coarse_mosaic_box(grey: np.ndarray, box: Box, slack_px: int) -> Box | None:
    """The extent (frame px) of a coarse pixelation found around ``box``, or None: the
    bounding box of the flat rectangles (its cells, at least two, each ``MIN_CELL`` px or
    more a side) whose middles lie in ``box``, unless another such rectangle touches it
    (a part of a larger grid). A cell as flat as the wall beside it joins the wall and is
    no rectangle; the other cells still give the extent."""
    x, y, w, h = box
    fh, fw = grey.shape
    pad = slack_px + BESIDE_PX  # room for a whole cell beyond the slack
    x0, y0 = max(0, x - pad), max(0, y - pad)
    x1, y1 = min(fw, x + w + pad), min(fh, y + h + pad)
    patch = grey[y0:y1, x0:x1].astype(np.float32)
    ax, ay, _ = step_pairs(patch)
    # Flat: no step to any of the four neighbours (a cell less its one-pixel rim).
    step = np.zeros(patch.shape, bool)
    sx, sy = ax > 0, ay > 0
    step[:, 1:] |= sx
    step[:, :-1] |= sx
    step[1:] |= sy
    step[:-1] |= sy
    n, _, stats, centres = cv2.connectedComponentsWithStats((~step).astype(np.uint8),
                                                            connectivity=4)
    ph, pw = patch.shape
    cells, beside = [], []
    for i in range(1, n):
        cx, cy, cw, ch, area = (int(v) for v in stats[i])
        if (min(cw, ch) + 2 < MIN_CELL or area < RECT_FILL * cw * ch
                or cx == 0 or cy == 0 or cx + cw == pw or cy + ch == ph):
            continue
        mx, my = centres[i] + (x0, y0)
        inside = x <= mx < x + w and y <= my < y + h
        (cells if inside else beside).append((cx - 1, cy - 1, cx + cw + 1, cy + ch + 1))
    if len(cells) < 2:
        return None
    a = np.array(cells)
    bx0, by0 = int(a[:, 0].min()), int(a[:, 1].min())
    bx1, by1 = int(a[:, 2].max()), int(a[:, 3].max())
    if bx1 - bx0 < 0.5 * w or by1 - by0 < 0.5 * h:
        return None
    # A cell just outside them: the grid goes on, and these are a part of a finer one.
    if any(c0 <= bx1 + 1 and c2 >= bx0 - 1 and c1 <= by1 + 1 and c3 >= by0 - 1
           for c0, c1, c2, c3 in beside):
        return None
    return (x0 + bx0, y0 + by0, bx1 - bx0, by1 - by0)

