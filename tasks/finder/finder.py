"""The streaming redaction finder: frames in, tracked redacted faces out.

Per frame (cheap): a full-frame scan for regions that look redacted (``scan.py``), each
candidate measured on its crop (``measure.py``), linked to tracks (``tracking.py``). When a
track is picked up again after frames without a detection, those frames (kept in a short
ring buffer) are measured at the interpolated box: a clear picture there is a dropout, the
face shown unredacted. Per track (expensive, few frames): CenterFace confirmation.
Memory is bounded by the ring buffer (``max_gap_frames`` frames) and the live tracks.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable

import cv2
import numpy as np
from veilscan.catalog.clip_result import TrackFinding, cells_across_face
from veilscan.tasks.finder.config import FinderConfig
from veilscan.tasks.finder.confirm import face_in_region
from veilscan.tasks.finder.measure import RegionMeasure, measure_region
from veilscan.tasks.finder.scan import Candidate, refine_box, scan_frame
from veilscan.tasks.finder.tracking import BoxXYWH, Track, assign, iou

_REDACTED = {"gaussian_blur", "box_blur", "motion_blur", "mosaic", "solid", "unknown"}


def _merge(cands: list[Candidate]) -> list[tuple[BoxXYWH, set[str]]]:
    """Union overlapping candidates (one redaction can light up several maps)."""
    boxes = [c.box for c in cands]
    kinds = [{c.kind} for c in cands]
    merged = True
    while merged:
        merged = False
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                a, b = boxes[i], boxes[j]
                iw = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
                ih = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
                inter = iw * ih
                if iou(a, b) > 0.2 or inter > 0.5 * min(a[2] * a[3], b[2] * b[3]):
                    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
                    x1 = max(a[0] + a[2], b[0] + b[2])
                    y1 = max(a[1] + a[3], b[1] + b[3])
                    boxes[i] = (x0, y0, x1 - x0, y1 - y0)
                    kinds[i] |= kinds[j]
                    del boxes[j], kinds[j]
                    merged = True
                    break
            if merged:
                break
    return list(zip(boxes, kinds, strict=True))


class RedactionFinder:
    """Find already-redacted faces in a stream of frames (one pass, bounded memory).

    Call :meth:`add_frame` with frames ``0, 1, 2, ...`` in order, then :meth:`finish`.
    """

    def __init__(self, config: FinderConfig | None = None) -> None:
        self.cfg = config or FinderConfig()
        self._live: list[Track] = []
        self._done: list[Track] = []
        self._buffer: deque[tuple[int, np.ndarray, np.ndarray]] = deque(
            maxlen=self.cfg.max_gap_frames + 2)
        self._next_id = 0
        self._last_index = -1
        self._slack = 10

    def add_frame(self, index: int, rgb: np.ndarray) -> None:
        """Process frame ``index`` (``H x W x 3`` uint8 RGB)."""
        if index <= self._last_index:
            raise ValueError(f"frames must come in order: got {index} after {self._last_index}")
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        if self._last_index == 0 or index == 0:
            # One scan cell (frame px) plus the smoothing windows: how far a coarse box may be off.
            scale = min(1.0, self.cfg.max_scan_side_px / max(grey.shape))
            self._slack = int(max(4, round(self.cfg.min_face_px * scale / 4)) / scale) + 4
        self._last_index = index
        self._buffer.append((index, grey, rgb))
        cfg = self.cfg
        if index % cfg.scan_stride == 0:
            boxes: list[BoxXYWH] = []
            measures: list[RegionMeasure] = []
            for coarse, kinds in _merge(scan_frame(grey, cfg)):
                # Mosaic block edges look sharp: the grid itself bounds a mosaic, not detail.
                box = coarse if "mosaic" in kinds else refine_box(grey, coarse, cfg, self._slack)
                m = measure_region(grey, box)
                if m is not None and m.kind in _REDACTED:
                    boxes.append(box)
                    measures.append(m)
            pairs, fresh = assign(self._live, boxes, index, cfg.iou_min)
            for ti, bi in pairs:
                track = self._live[ti]
                if index - track.last_frame > 1:
                    self._check_gap(track, index, boxes[bi])
                track.add(index, boxes[bi], measures[bi])
                self._maybe_confirm(track, rgb, boxes[bi], measures[bi])
            for bi in fresh:
                track = Track(self._next_id)
                self._next_id += 1
                track.add(index, boxes[bi], measures[bi])
                self._live.append(track)
                self._maybe_confirm(track, rgb, boxes[bi], measures[bi])
        still = []
        for t in self._live:
            (self._done if index - t.last_frame > cfg.max_gap_frames else still).append(t)
        self._live = still

    def _check_gap(self, track: Track, index: int, box: BoxXYWH) -> None:
        """Measure the frames since the track's last detection at interpolated boxes."""
        f0, b0 = track.last_frame, np.array(track.boxes[-1], float)
        b1 = np.array(box, float)
        for fi, grey, rgb in self._buffer:
            if not f0 < fi < index:
                continue
            a = (fi - f0) / (index - f0)
            bi: BoxXYWH = tuple(int(round(v)) for v in b0 + a * (b1 - b0))  # type: ignore[assignment]
            m = measure_region(grey, bi)
            if m is not None and m.kind == "clear":
                track.dropouts.append(fi)
                track.dropout_boxes[fi] = bi
                face = face_in_region(rgb, bi, 1.0, self.cfg.confirm_threshold)
                if face is not None:
                    track.faces.append(face)

    def _maybe_confirm(self, track: Track, rgb: np.ndarray, box: BoxXYWH,
                       m: RegionMeasure) -> None:
        """Run CenterFace on the first few detections (spaced out) of a track."""
        cfg = self.cfg
        if track.confirm_tries >= cfg.confirm_frames or m.kind == "solid":
            return
        if len(track.frames) not in (1, 4, 12, 30, 90):
            return
        track.confirm_tries += 1
        shrink = m.strength_px / 1.5 if m.kind == "mosaic" else m.strength_px
        face = face_in_region(rgb, box, max(1.0, shrink), cfg.confirm_threshold)
        if face is not None:
            track.faces.append(face)

    def finish(self) -> list[TrackFinding]:
        """Close all tracks and return the findings, ordered by first frame."""
        tracks = self._done + self._live
        self._done, self._live = [], []
        out = []
        for t in sorted(tracks, key=lambda t: t.frames[0]):
            span = t.last_frame - t.frames[0] + 1
            if span < self.cfg.min_track_frames or len(t.frames) < 3:
                continue
            out.append(_finding(len(out), t, self.cfg))
        return out


def _finding(track_id: int, t: Track, cfg: FinderConfig) -> TrackFinding:
    kinds = Counter(m.kind for m in t.measures)
    kind = kinds.most_common(1)[0][0]
    strengths = [m.strength_px for m in t.measures if m.kind == kind]
    strength = float(np.median(strengths)) if strengths else 0.0
    if kind == "solid":
        strength = 0.0
    widths = np.array([b[2] for b in t.boxes], float)
    heights = np.array([b[3] for b in t.boxes], float)
    face_w = float(np.median(widths))
    aspect = float(np.median(heights / np.maximum(widths, 1)))
    # A head is ~1.2-1.4x taller than wide; a much flatter region is a partial cover.
    coverage = float(np.clip(aspect / 1.0, 0.0, 1.0))
    if t.faces:
        face_w = float(np.median([f[1] for f in t.faces]))
    span = t.last_frame - t.frames[0] + 1
    persistence = min(1.0, len(t.frames) / max(1.0, span / cfg.scan_stride))
    agreement = kinds[kind] / len(t.measures)
    confirmed = 1.0 if t.faces else 0.0
    confidence = float(np.clip(0.35 + 0.25 * persistence + 0.15 * agreement
                               + 0.25 * confirmed, 0.0, 1.0))
    residual = float(np.median([m.residual_detail for m in t.measures if m.kind == kind]))
    return TrackFinding(
        track_id=track_id,
        redaction_type=kind,
        strength_px=round(strength, 2),
        face_width_px=round(face_w, 1),
        cells_across_face=round(cells_across_face(kind, strength, face_w), 2),
        first_frame=t.frames[0],
        last_frame=t.last_frame,
        boxes=t.all_boxes(),
        dropout_frames=sorted(t.dropouts),
        coverage=round(coverage, 3),
        confidence=round(confidence, 3),
        residual_detail=round(residual, 3),
    )


def find_in_frames(frames: Iterable[tuple[int, np.ndarray]],
                   config: FinderConfig | None = None) -> list[TrackFinding]:
    """Run a :class:`RedactionFinder` over ``(index, rgb)`` frames and return its findings."""
    finder = RedactionFinder(config)
    for index, rgb in frames:
        finder.add_frame(index, rgb)
    return finder.finish()
