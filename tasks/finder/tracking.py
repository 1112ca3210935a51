"""Link per-frame detections into tracks (IoU + Hungarian assignment) and fill every frame.

Redactions move with heads: smooth, overlapping from frame to frame. A track keeps its
detections sparse; boxes for frames without one are linearly interpolated.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np

from veilscan.tasks.finder.camera import CameraMotion
from veilscan.tasks.finder.detail import Detail
from veilscan.tasks.finder.measure import RegionMeasure

BoxXYWH = tuple[int, int, int, int]


def iou(a: BoxXYWH, b: BoxXYWH) -> float:
    """Intersection over union of two ``(x, y, w, h)`` boxes."""
    iw = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


@dataclass
class Track:
    """A redacted region followed through time (detections only; gaps filled on output)."""

    track_id: int
    frames: list[int] = field(default_factory=list)
    boxes: list[BoxXYWH] = field(default_factory=list)
    measures: list[RegionMeasure] = field(default_factory=list)
    detail: dict[int, Detail] = field(default_factory=dict)
    """Per frame, the detail in the box's middle (dropouts are judged from this series
    once the track ends)."""
    faces: list[tuple[float, float]] = field(default_factory=list)
    """CenterFace confirmations: (score, face width px)."""
    confirm_tries: int = 0
    fitted: int = 0
    """Frames whose blur kernel was fitted (the type vote and strength use them)."""
    coarse: BoxXYWH | None = None
    """The scan's coarse box when the track started (to recognise the region if rejected)."""
    context: float = 0.0
    """For a solid fill: the best CenterFace score for a head around it (0: none seen)."""
    fill_level: float | None = None
    """For a solid fill: the median grey level (0-255) of its middle where first seen."""
    fill_chroma: float = 0.0
    """For a dark solid fill: the chroma (RGB max - min) of its middle's median colour."""
    feathered: bool = False
    """For a solid fill: seen with a feathered edge (``RegionMeasure.extent``)."""
    bar_face: BoxXYWH | None = None
    """For an eye bar (a partial cover): the face box it was last found on."""
    coverages: list[float] = field(default_factory=list)
    """For an eye bar: the share of the face it covered, per detection."""
    face_w: float | None = None
    """CenterFace's width of the face, last seen (px): a blur's strength is read against it."""
    judged: bool = False
    """Whether its frames still in the finder's buffer were judged when it became worth
    reporting (before that, frames are not judged: most candidates are scenery)."""
    exposed: set[int] = field(default_factory=set)
    """Frames just before or after the redaction where its face shows unredacted (it began
    late or ended early): dropouts by sight (``RedactionFinder._exposed_edge``)."""
    lead_checked: bool = False
    """Whether the frames just before it were looked at for its face unredacted (once it has
    enough frames of its own to compare them with)."""
    looked_behind: set[int] = field(default_factory=set)
    """For a fill: frames where CenterFace looked for the face behind it (``_face_behind``)."""
    hits: int = 0
    """Scans that found the region or held it by its look (``RedactionFinder._hold``); its
    other frames were filled in between them."""
    detected: bool = False
    """Whether CenterFace found this face in the whole frame at least once (see ``assign``)."""
    seen_until: int | None = None
    """The last frame the scan placed the track's box; frames after it were added when it
    closed, at extrapolated boxes, only while they still looked redacted."""

    @property
    def last_frame(self) -> int:
        return self.frames[-1]

    def predict(self, frame: int, camera: CameraMotion | None = None) -> BoxXYWH:
        """Box at ``frame``: the last box's size, its centre moved at the velocity of the
        last two detections' centres (sizes are not extrapolated: detector boxes breathe,
        and a growing box soon takes in the picture around the face). With ``camera``, the
        velocity is the face's own (the camera's move taken out) and the camera's move up
        to ``frame`` is added."""
        n = len(self.frames)
        return self._moved_to(n - 1, n - 2 if n >= 2 else None, frame, camera)

    def predict_back(self, frame: int, camera: CameraMotion | None = None) -> BoxXYWH:
        """Box at a ``frame`` before the first: :meth:`predict` run backwards, from the first
        two different boxes (a track's first frames may be buffered frames placed at its
        first detection's box, which carry no motion)."""
        j = next((k for k in range(1, len(self.boxes)) if self.boxes[k] != self.boxes[0]), 0)
        return self._moved_to(max(0, j - 1), j or None, frame, camera)

    def _moved_to(self, anchor: int, other: int | None, frame: int,
                  camera: CameraMotion | None) -> BoxXYWH:
        """Box ``anchor`` moved to ``frame`` by the camera's move and by the face's own
        velocity between boxes ``anchor`` and ``other`` (the camera's move taken out)."""
        fa, ba = self.frames[anchor], np.array(self.boxes[anchor], float)
        move = np.zeros(2)
        if camera is not None:
            move += camera.shift(fa, frame)
        if other is not None:
            fo, bo = self.frames[other], np.array(self.boxes[other], float)
            (f0, b0), (f1, b1) = ((fo, bo), (fa, ba)) if fo < fa else ((fa, ba), (fo, bo))
            v = (b1[:2] + b1[2:] / 2) - (b0[:2] + b0[2:] / 2)
            if camera is not None:
                v -= camera.shift(f0, f1)
            move += v / max(1, f1 - f0) * (frame - fa)
        x, y = ba[:2] + move
        return (int(round(x)), int(round(y)), self.boxes[anchor][2], self.boxes[anchor][3])

    def add(self, frame: int, box: BoxXYWH, measure: RegionMeasure) -> None:
        self.frames.append(frame)
        self.boxes.append(box)
        self.measures.append(measure)

    def prepend(self, frame: int, box: BoxXYWH, measure: RegionMeasure) -> None:
        """Add a frame before the first one (frames stay in order)."""
        if self.frames and frame >= self.frames[0]:
            raise ValueError(f"frame {frame} is not before the track's first {self.frames[0]}")
        self.frames.insert(0, frame)
        self.boxes.insert(0, box)
        self.measures.insert(0, measure)

    def box_at(self, frame: int) -> BoxXYWH:
        """Interpolated box for any frame between the first and last detection (clamped to
        the ends outside them). Called per frame pair when fragments are merged: plain
        Python, no arrays."""
        i = bisect.bisect_left(self.frames, frame)
        if i <= 0:
            return self.boxes[0]
        if i >= len(self.frames):
            return self.boxes[-1]
        f0, f1 = self.frames[i - 1], self.frames[i]
        if f1 == frame:
            return self.boxes[i]
        a = (frame - f0) / (f1 - f0)
        b0, b1 = self.boxes[i - 1], self.boxes[i]
        return tuple(int(round(p + a * (q - p))) for p, q in zip(b0, b1, strict=True))  # type: ignore[return-value]

    def all_boxes(self) -> list[tuple[int, int, int, int, int]]:
        """``[frame, x, y, w, h]`` for every frame first..last."""
        fr = np.array(self.frames)
        bx = np.array(self.boxes, float)
        span = np.arange(self.frames[0], self.frames[-1] + 1)
        cols = [np.rint(np.interp(span, fr, bx[:, k])).astype(int) for k in range(4)]
        return [(int(f), int(x), int(y), int(w), int(h))
                for f, x, y, w, h in zip(span, *cols, strict=True)]


def assign(tracks: list[Track], boxes: list[BoxXYWH], frame: int, iou_min: float,
           camera: CameraMotion | None = None, seen: list[bool] | None = None
           ) -> tuple[list[tuple[int, int]], list[int]]:
    """Match detections to tracks: (track index, box index) pairs and unmatched box indices.

    ``seen[j]``: whether box ``j`` is a face CenterFace found in the whole frame (default:
    all are). A box near a track's prediction but not overlapping it joins the track only if
    it is such a face, or the track's face was never found so (a small fast head, followed
    by the pixel scan alone, moves its own width between scans). Otherwise a soft patch
    beside a detected face (a wall, hair in a shaken frame) would take the track off it.
    """
    if not tracks or not boxes:
        return [], list(range(len(boxes)))
    cost = np.ones((len(tracks), len(boxes)))
    limit = 1.0 - iou_min
    for i, t in enumerate(tracks):
        pred = t.predict(frame, camera)
        for j, b in enumerate(boxes):
            overlap = max(iou(pred, b), iou(t.boxes[-1], b))
            c = 1.0 - overlap
            # A small, fast head can move its own width between scans: also accept a
            # similar-sized box whose centre is close to the prediction.
            size = max(pred[2], pred[3], 1)
            dist = np.hypot(pred[0] + pred[2] / 2 - b[0] - b[2] / 2,
                            pred[1] + pred[3] / 2 - b[1] - b[3] / 2) / size
            ratio = (b[2] * b[3]) / max(1, pred[2] * pred[3])
            # Heads approach and recede: allow a bigger size change when the centres agree.
            similar = (0.6 < ratio < 1.67) or (dist < 0.4 and 0.35 < ratio < 2.9)
            near_ok = seen is None or seen[j] or not t.detected
            if similar and dist < 0.75 and near_ok:
                c = min(c, limit * (0.5 + 0.5 * dist / 0.75))
            if not 0.35 < ratio < 2.9:
                # A part of the region (a chin, one mosaic patch) or a box around much more
                # than it is not this track's face; fragments are joined when tracks end.
                c = 1.0
            elif t.detected and not (seen is None or seen[j]) and ratio < 0.6 \
                    and overlap < 0.3:
                # A soft patch well under the size of a detected face and half off it (the
                # picture beside a blurred close-up, cut by the frame's edge) is not that
                # face: the track is held by its own look instead.
                c = 1.0
            cost[i, j] = c
    rows, cols = _min_cost_pairs(cost)
    pairs = [(int(r), int(c)) for r, c in zip(rows, cols, strict=True)
             if cost[r, c] <= limit]
    used = {c for _, c in pairs}
    return pairs, [j for j in range(len(boxes)) if j not in used]


def _min_cost_pairs(cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The assignment of least total cost: ``min(rows, cols)`` pairs, rows ascending, as
    ``scipy.optimize.linear_sum_assignment`` returns them.

    The Hungarian method with potentials (shortest augmenting paths, one row at a time),
    vectorised over columns. Written here, not imported: importing SciPy's optimisation
    package costs a fresh ``veilscan inspect`` about 0.4 s, more than the finder spends
    linking a clip's tracks (a frame holds a few tracks and boxes; ties may pair differently
    than SciPy, at the same total cost; ``tests/test_finder_assign.py`` checks the totals).
    """
    flip = cost.shape[0] > cost.shape[1]
    a = np.asarray(cost.T if flip else cost, dtype=np.float64)  # rows <= columns
    n, m = a.shape
    u, v = np.zeros(n + 1), np.zeros(m + 1)
    owner = np.zeros(m + 1, dtype=int)  # row (1-based) holding each column; column 0: the new row
    way = np.zeros(m + 1, dtype=int)
    for i in range(1, n + 1):
        owner[0], j0 = i, 0
        min_v = np.full(m + 1, np.inf)
        used = np.zeros(m + 1, dtype=bool)
        while True:
            used[j0] = True
            i0 = owner[j0]
            free = ~used
            reduced = a[i0 - 1] - u[i0] - v[1:]
            better = free[1:] & (reduced < min_v[1:])
            min_v[1:][better] = reduced[better]
            way[1:][better] = j0
            j1 = int(np.argmin(np.where(free, min_v, np.inf)))
            delta = min_v[j1]
            u[owner[used]] += delta
            v[used] -= delta
            min_v[free] -= delta
            j0 = j1
            if owner[j0] == 0:
                break
        while j0:  # flip the augmenting path
            j1 = way[j0]
            owner[j0] = owner[j1]
            j0 = j1
    cols = np.flatnonzero(owner[1:])
    rows = owner[1:][cols] - 1
    if flip:
        rows, cols = cols, rows
    order = np.argsort(rows)
    return rows[order], cols[order]
