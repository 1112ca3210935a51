"""Per-frame detail inside a track's box: the cheap signal that a redaction dropped out.

A dropout is a frame where the face shows unredacted. Absolute "is this sharp?" thresholds
misfire on soft footage and on codec noise, so each frame is judged against its own track:
a redaction looks alike in every frame, and the frame where it lifts stands out by a jump in
what the redaction suppresses: detail inside the cells for a mosaic and any variation for a
solid fill, against the track's median; fine detail in every direction for a blur, against
the frames on either side (a turning head drifts; a slip jumps). Only the middle
of the box is looked at, so a box that lags a moving head by a few pixels still judges the
redaction, not the background.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass

import cv2
import numpy as np

from veilscan.tasks.finder.measure import structure_and_sharp
from veilscan.tasks.finder.quantiles import u8_percentiles
from veilscan.tasks.finder.steps import step_pairs

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
}
"""Per redaction type, for mosaics and fills: their dropouts are large, clean jumps (measured
on ``bench/finder.py`` clips at the true boxes: off_grid rises by >= 0.24 for a mosaic;
spread by >= 45 levels for a solid fill). Blurs use :data:`BLUR_JUMP`."""
BLUR_RULE = DropoutRule("sharp_share", 0.15, 0.2)
"""A single-statistic blur rule: for holding a track (see :func:`single_rule`)."""
BLUR_JUMP = (0.065, 0.09)
"""A blurred face (any kernel, ``unknown`` too) dropped out where a frame gains this much
sharp share *and* this much least-direction detail over its neighbours: an unredacted face
gains fine detail in every direction at once, while a head turning, a box slipping onto the
hairline or codec noise raises one of them. On the bench's blur tracks (2,738 frames, 52
dropouts) this and :data:`STREAK_RULE` find 47 with no false frame; the earlier
single-statistic rules against the track's median found 44 with 5 false frames.

Lowered from (0.08, 0.10) in finder-0.28: HEVC (libx265) codes a one-frame dropout in a
blurred run with less of its detail than H.264 does, and the face that plainly shows read
gains of 0.06-0.10. On the series the finder judged (bench/finder.py's clips, the 18 whole
shots, bench/finder_foreign.py's clips in H.264 and in HEVC: 19,396 frames, 427 dropouts)
this finds 6 more of HEVC's dropouts (129 of 140) and 1 more of H.264's, and no frame more
that is not one; the nearest such frames gained (0.25, 0.083) and (0.054, 0.16)."""
BLUR_JUMP_STRONG = (0.055, 0.12)
"""A blur also dropped out where a frame gains this much sharp share with this much
least-direction detail: HEVC codes a face that shows for one frame with little of its finest
detail, so its sharp share rises less while the detail it keeps still rises in every
direction. On the kitchen through HEVC (10 fps, a moving camera) dropouts gained
(0.056-0.065, 0.12-0.30). Over every blur series the finder judged on bench/finder.py's
clips, the 18 whole shots and bench/finder_foreign.py's sets (tools and FFmpeg; the tools'
small faces and kitchen too; H.264 and HEVC: 33,190 frames, 921 dropouts) this finds 12 more
dropout frames (11 of them the kitchen's through HEVC) and no frame more that is not one;
the nearest such frame gained (0.050, 0.158)."""
LONE_JUMP = (0.09, 3.0)
"""A blur also dropped out where its least-direction detail alone rises this much (log
ratio) over its neighbours' median, and this many times their own spread (max - min): HEVC
codes a face that shows for one frame, amid blurred ones it predicts from, with almost none
of its sharp pixels back (sharp share gains 0.02-0.06), while the detail it keeps in every
direction stands far out of a steady run. Over every blur series the finder judged (the sets
:data:`BLUR_JUMP_STRONG` names: 33,190 frames, 921 dropouts, 868 found by the rules before)
this finds 27 more dropout frames (24 of them HEVC's, 21 the kitchen's) and no frame more
that is not one; the nearest such frames gained 0.127 at 2.8 spreads and 0.056 at 5.6.
Judged between neighbours on both sides only (inside a track)."""
STREAK_RULE = DropoutRule("least_direction", 0.2, 0.25)
"""A streak also drops out where least_direction alone jumps this far: a 17-25 px streak
keeps the sharp share of its cross direction, so a dropout raises mostly the other
(redacted frames of a streak stay within 0.12 of their neighbours)."""


def single_rule(kind: str) -> DropoutRule:
    """One statistic per type, for judging a frame on its own against the track (holding a
    track the scan lost: the frame must still look as redacted as the track does)."""
    return RULES.get(kind) or (STREAK_RULE if kind == "motion_blur" else BLUR_RULE)


LOCAL_FRAMES = 4
"""Neighbours on each side that a blur frame is compared with: near enough that the slow
drift of a turning head or a lagging box cancels out; a 3-frame dropout stays a minority."""
LONG_RUN = 4
"""Consecutive frames from which a blur dropout is also judged as one step up and back down
(a redaction off for longer than the neighbourhood shows no jump against its neighbours)."""


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
    g8 = grey[y0:y1, x0:x1]
    f = _MAX_SIDE_PX / max(g8.shape)
    if f < 1.0:
        g8 = cv2.resize(g8, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    p10, p90 = u8_percentiles(g8[::2, ::2], (10, 90))  # every 4th pixel: plenty for a range
    g = g8.astype(np.float32)
    return Detail(_sharp_share(g), _off_grid(g), p90 - p10, _least_direction(g))


def _sharp_share(g: np.ndarray) -> float:
    """Share of pixels with structure whose energy a sigma-1.5 blur mostly removes: fine
    detail a blur would have taken (the finder's one structure/sharpness map)."""
    struct, sharp = structure_and_sharp(g)
    n = int(np.count_nonzero(struct))
    return float(np.count_nonzero(sharp)) / n if n >= 20 else 0.0


def _least_direction(g: np.ndarray) -> float:
    """Minimum over 0/45/90/135 degrees of log(E(difference) at sigma 0.7 / at sigma 1.5).

    The squared differences are summed by ``cv2.norm`` on shifted views (no temporaries: this
    runs on every frame of every track; 0.13 ms against 0.34 ms with NumPy's, the same to
    within 1e-6)."""
    a = cv2.GaussianBlur(g, (0, 0), 0.7)
    b = cv2.GaussianBlur(g, (0, 0), 1.5)
    h, w = g.shape
    out = []
    for dy, dx in ((0, 1), (1, 1), (1, 0), (1, -1)):
        ys, xs = slice(dy, h), slice(max(dx, 0), w + min(dx, 0))
        y0, x0 = slice(0, h - dy), slice(max(-dx, 0), w - max(dx, 0))
        n = (h - dy) * (w - abs(dx))
        ea = cv2.norm(a[ys, xs], a[y0, x0], cv2.NORM_L2SQR) / n
        eb = cv2.norm(b[ys, xs], b[y0, x0], cv2.NORM_L2SQR) / n
        out.append(float(np.log((ea + 1.0) / (eb + 1.0))))
    return min(out)


def _off_grid(g: np.ndarray) -> float:
    """Gradient in pairs of adjacent differences over all gradient (codec ringing of 3 grey
    levels ignored): a block grid puts every step on an isolated line, a face spreads them."""
    ax, ay, pairs = step_pairs(g)
    return float(pairs / (ax.sum() + ay.sum() + 50.0))


def stands_out(d: Detail, inner: list[Detail], kind: str) -> bool:
    """Would ``d`` be a dropout beside ``inner``, the nearest frames of its track on one side
    (a frame just before a track begins or after it ends has neighbours on one side only)?
    The rules of :func:`dropout_frames`: a mosaic's or a fill's statistic against the
    median of those frames, a blur's gain in both sharp share and least-direction detail
    (or a streak's in the latter alone). Needs three such frames."""
    if len(inner) < 3:
        return False
    rule = RULES.get(kind)
    if rule is not None:
        v = getattr(d, rule.field)
        return v - float(np.median([getattr(x, rule.field) for x in inner])) > rule.jump and (
            v >= rule.floor)
    gain_s = d.sharp_share - float(np.median([x.sharp_share for x in inner]))
    gain_l = d.least_direction - float(np.median([x.least_direction for x in inner]))
    return _blur_gained(gain_s, gain_l) or (
        kind == "motion_blur" and gain_l > STREAK_RULE.jump
        and d.least_direction >= STREAK_RULE.floor)


def _blur_gained(gain_s: float, gain_l: float) -> bool:
    """Does a frame of a blur gain enough over its neighbours to show the face
    (:data:`BLUR_JUMP`, or :data:`BLUR_JUMP_STRONG`)?"""
    return any(gain_s >= ds and gain_l >= dl for ds, dl in (BLUR_JUMP, BLUR_JUMP_STRONG))


def dropout_frames(series: dict[int, Detail], kind: str, min_frames: int = 5) -> list[int]:
    """Frames of one track where the redaction dropped out (see RULES, BLUR_JUMP and
    BLUR_JUMP_STRONG)."""
    if len(series) < min_frames:
        return []
    frames = sorted(series)
    rule = RULES.get(kind)
    if rule is not None:
        return _rule_dropouts(frames, np.array([getattr(series[f], rule.field) for f in frames]),
                              rule)
    sharp = np.array([series[f].sharp_share for f in frames])
    ld = np.array([series[f].least_direction for f in frames])
    ds, dl = BLUR_JUMP
    streak = STREAK_RULE if kind == "motion_blur" else None
    out = set()
    for i, f in enumerate(frames):
        # Frames are sorted: the neighbours are a slice (a scan of all of them per frame
        # would make an hour-long track cost 10^10 steps).
        lo = bisect_left(frames, f - LOCAL_FRAMES, hi=i)
        hi = bisect_right(frames, f + LOCAL_FRAMES, lo=i)
        near = [*range(lo, i), *range(i + 1, hi)]
        if not (frames[0] < f < frames[-1]) or len(near) < 3:
            continue  # a track's first and last boxes are extrapolated: judged inside only
        gain_s, gain_l = sharp[i] - np.median(sharp[near]), ld[i] - np.median(ld[near])
        if _blur_gained(float(gain_s), float(gain_l)) or (
                streak is not None and gain_l > streak.jump and ld[i] >= streak.floor) or (
                gain_l >= LONE_JUMP[0] and gain_l >= LONE_JUMP[1] * float(np.ptp(ld[near]))):
            out.add(f)
    # A long dropout raises its whole neighbourhood: a run above the track's median is one
    # when it steps up from the frames before it and back down to those after it (a
    # drifting track has no step back; at a track's end the box is extrapolated).
    whole = (sharp - np.median(sharp) >= ds) & (ld - np.median(ld) >= dl)
    i = 0
    while i < len(frames):
        j = i
        while j < len(frames) and whole[j] and (j == i or frames[j] == frames[j - 1] + 1):
            j += 1
        if j - i >= LONG_RUN and all(
                len(side) >= 3 and np.median(sharp[i:j]) - np.median(sharp[side]) >= ds
                and np.median(ld[i:j]) - np.median(ld[side]) >= dl
                for side in (list(range(max(0, i - LOCAL_FRAMES), i)),
                             list(range(j, min(len(frames), j + LOCAL_FRAMES))))):
            out |= set(frames[i:j])
        i = max(j, i + 1)
    return sorted(out)


def _rule_dropouts(frames: list[int], vals: np.ndarray, rule: DropoutRule) -> list[int]:
    """A mosaic's or a fill's dropouts: frames whose statistic rises ``rule.jump`` above the
    track's median and reaches ``rule.floor``, and also stands ``rule.jump`` above its own
    neighbours (:data:`LOCAL_FRAMES` each side), or belongs to a run of such frames that
    steps up from the frames beside it and back down (a long dropout; unlike the blur rule,
    a run that reaches a track's end is judged by the side that has three frames).

    The neighbours are what a whole-track median misses: a fine mosaic that H.264 smears
    while a face rushes at the camera rises slowly over 20 frames, past the floor, and with
    the whole-track median alone 4 of its frames were dropouts (the whole shots of
    ``bench/finder.py``: 13 false frames, 8 with the neighbours). On the bench's mosaic and
    fill tracks every true dropout stood at least 1.33 jumps above its neighbours, the
    smeared frames at most 0.94.

    A track's first and last frames are judged only within a long run, as a blur's are:
    their boxes are extrapolated, and a fill's first box in a close-up overlapped the face
    beside the fill (4 false frames in the whole shots, 2 on the labelled clips, no true
    one). The frames just outside a track are looked at on their own (``_exposed_edge``)."""
    whole = (vals - float(np.median(vals)) > rule.jump) & (vals >= rule.floor)
    out = set()
    for i in np.flatnonzero(whole):
        f = frames[i]
        if not frames[0] < f < frames[-1]:
            continue  # extrapolated boxes (the frames beside a track are checked on their own)
        lo = bisect_left(frames, f - LOCAL_FRAMES, hi=i)
        hi = bisect_right(frames, f + LOCAL_FRAMES, lo=i)
        near = [*range(lo, i), *range(i + 1, hi)]
        if len(near) < 3 or vals[i] - np.median(vals[near]) > rule.jump:
            out.add(f)
    i = 0
    while i < len(frames):
        j = i
        while j < len(frames) and whole[j] and (j == i or frames[j] == frames[j - 1] + 1):
            j += 1
        sides = [side for side in (list(range(max(0, i - LOCAL_FRAMES), i)),
                                   list(range(j, min(len(frames), j + LOCAL_FRAMES))))
                 if len(side) >= 3]
        if j - i >= LONG_RUN and sides and all(
                np.median(vals[i:j]) - np.median(vals[side]) >= rule.jump for side in sides):
            out |= set(frames[i:j])
        i = max(j, i + 1)
    return sorted(out)
