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
from veilscan.tasks.finder.measure import (
    RegionMeasure,
    looks_clear,
    measure_region,
    refine_mosaic_box,
)
from veilscan.tasks.finder.scan import Candidate, refine_box, scan_frame
from veilscan.tasks.finder.tracking import BoxXYWH, Track, assign, iou

_CONFIRM_VIEWS = ((40.0, 1.0), (64.0, 0.6), (24.0, 1.0), (96.0, 0.6))
"""(box size px after resizing, context margin) tried in turn by CenterFace confirmation."""
_REDACTED = {"gaussian_blur", "box_blur", "motion_blur", "mosaic", "solid", "unknown", "blur"}


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
            maxlen=self.cfg.max_gap_frames + self.cfg.scan_stride + 2)
        self._next_id = 0
        self._last_index = -1
        self._slack = 10
        self._rejected: list[tuple[BoxXYWH, int]] = []
        """Regions recently measured as not redacted, with the frame until which to skip them."""

    def add_frame(self, index: int, rgb: np.ndarray) -> None:
        """Process frame ``index`` (``H x W x 3`` uint8 RGB)."""
        if index <= self._last_index:
            raise ValueError(f"frames must come in order: got {index} after {self._last_index}")
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        if self._last_index < 0:
            # One scan cell plus the smoothing windows: how far a coarse box may be off (px).
            self._slack = max(6, self.cfg.min_face_px // 4) + 4
        self._last_index = index
        self._buffer.append((index, grey, rgb))
        cfg = self.cfg
        if index % cfg.scan_stride == 0:
            self._scan(index, grey, rgb)
        still = []
        for t in self._live:
            if index - t.last_frame > cfg.max_gap_frames:
                self._close(t)
            else:
                still.append(t)
        self._live = still

    def _close(self, track: Track) -> None:
        """End a track, extending it over the unscanned frames right after its last detection."""
        kind = track.measures[-1].kind
        for fi, grey, _ in self._buffer:
            if track.last_frame < fi < track.last_frame + self.cfg.scan_stride:
                box = track.predict(fi)
                if looks_clear(grey, box, kind):
                    break
                track.add(fi, box, track.measures[-1])
        self._done.append(track)

    def _scan(self, index: int, grey: np.ndarray, rgb: np.ndarray) -> None:
        cfg = self.cfg
        self._rejected = [(b, until) for b, until in self._rejected if until >= index]
        live_boxes = [t.predict(index) for t in self._live]
        boxes: list[BoxXYWH] = []
        coarse_of: list[BoxXYWH] = []
        min_side = 0.8 * cfg.min_face_px
        for coarse, kinds in _merge(scan_frame(grey, cfg)):
            tracked = any(iou(coarse, b) > cfg.iou_min for b in live_boxes)
            if not tracked and any(iou(coarse, b) > 0.4 for b, _ in self._rejected):
                continue  # measured as unredacted a moment ago: static scenery, skip it
            # Mosaic block edges look sharp: the grid itself bounds a mosaic, not detail.
            box = (refine_mosaic_box(grey, coarse, self._slack) if "mosaic" in kinds
                   else refine_box(grey, coarse, cfg, self._slack))
            if box[2] >= min_side and box[3] >= min_side:
                boxes.append(box)
                coarse_of.append(coarse)
            else:
                self._rejected.append((coarse, index + cfg.reject_frames))
        pairs, fresh = assign(self._live, boxes, index, cfg.iou_min)
        for ti, bi in pairs:
            track = self._live[ti]
            n = len(track.frames)
            # Type and strength settle quickly: measure the first detections, then 1 in 4;
            # the kernel is fitted only once a face is confirmed (scenery never needs it).
            m = (measure_region(grey, boxes[bi], classify=bool(track.faces))
                 if n < 6 or n % 4 == 0 else track.measures[-1])
            if m is None or m.kind not in _REDACTED:
                continue
            if index - track.last_frame > 1:
                self._check_gap(track, index, boxes[bi])
            track.add(index, boxes[bi], m)
            self._maybe_confirm(track, rgb, boxes[bi], m)
        new = 0
        for bi in fresh:
            if new >= cfg.max_new_per_frame:
                break
            new += 1
            m = measure_region(grey, boxes[bi], classify=False)
            if m is None or m.kind not in _REDACTED:
                self._rejected.append((coarse_of[bi], index + cfg.reject_frames))
                continue
            track = Track(self._next_id, coarse=coarse_of[bi])
            self._next_id += 1
            # The redaction may have started on an unscanned frame just before this one.
            for fi, g_prev, _ in self._buffer:
                if index - cfg.scan_stride < fi < index and not looks_clear(
                        g_prev, boxes[bi], m.kind):
                    track.add(fi, boxes[bi], m)
            track.add(index, boxes[bi], m)
            self._live.append(track)
            self._maybe_confirm(track, rgb, boxes[bi], m)
        # A blurred region CenterFace never saw a face in is scenery: stop following it.
        keep = []
        for t in self._live:
            if (not t.faces and t.confirm_tries >= cfg.confirm_frames
                    and t.measures[-1].kind not in ("solid", "mosaic")):
                self._rejected.append((t.boxes[-1], index + 4 * cfg.reject_frames))
                if t.coarse is not None:
                    self._rejected.append((t.coarse, index + 4 * cfg.reject_frames))
            else:
                keep.append(t)
        self._live = keep

    def _check_gap(self, track: Track, index: int, box: BoxXYWH) -> None:
        """Check the frames since the track's last detection at interpolated boxes."""
        f0, b0 = track.last_frame, np.array(track.boxes[-1], float)
        b1 = np.array(box, float)
        kind = track.measures[-1].kind
        for fi, grey, _ in self._buffer:
            if not f0 < fi < index:
                continue
            a = (fi - f0) / (index - f0)
            bi: BoxXYWH = tuple(int(round(v)) for v in b0 + a * (b1 - b0))  # type: ignore[assignment]
            if looks_clear(grey, bi, kind):
                track.dropouts.append(fi)
                track.dropout_boxes[fi] = bi

    def _maybe_confirm(self, track: Track, rgb: np.ndarray, box: BoxXYWH,
                       m: RegionMeasure) -> None:
        """Run CenterFace on a few detections of a track until it finds the face."""
        cfg = self.cfg
        if track.faces or track.confirm_tries >= cfg.confirm_frames or m.kind == "solid":
            return
        if len(track.frames) not in (1, 2, 3, 5, 8, 12):
            return
        target, margin = _CONFIRM_VIEWS[track.confirm_tries % len(_CONFIRM_VIEWS)]
        track.confirm_tries += 1
        face = face_in_region(rgb, box, target, margin, cfg.confirm_threshold)
        if face is None:
            return
        track.faces.append((face[0], float(face[1][2])))
        if m.kind == "blur":  # now worth fitting the kernel
            fitted = measure_region(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), box)
            if fitted is not None and fitted.kind in _REDACTED:
                track.measures[-1] = fitted

    def finish(self) -> list[TrackFinding]:
        """Close all tracks and return the findings, ordered by first frame.

        A blurred region is only reported once CenterFace has seen a face in it: soft
        picture areas (defocus, cloth, skin) can look blurred, but do not hold a face. Block
        grids and crisp flat fills are rare enough in clean footage to stand on their own.
        """
        for t in self._live:
            self._close(t)
        tracks = self._done
        self._done, self._live = [], []
        out = []
        for t in sorted(tracks, key=lambda t: t.frames[0]):
            span = t.last_frame - t.frames[0] + 1
            if span < self.cfg.min_track_frames or len(t.frames) < 3:
                continue
            kind, _ = _track_kind(t)
            if kind not in ("solid", "mosaic") and not t.faces:
                continue
            if len(t.dropouts) > 0.5 * span:
                continue  # mostly "unredacted": not a redaction that slipped, a false start
            out.append(_finding(len(out), t, self.cfg))
        return out


def _track_kind(t: Track) -> tuple[str, Counter[str]]:
    """Majority redaction type over the fitted measurements (``unknown`` if none fitted)."""
    kinds = Counter(m.kind for m in t.measures if m.kind != "blur")
    if not kinds:
        return "unknown", Counter({"unknown": len(t.measures)})
    return kinds.most_common(1)[0][0], kinds


def _finding(track_id: int, t: Track, cfg: FinderConfig) -> TrackFinding:
    kind, kinds = _track_kind(t)
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
    agreement = kinds[kind] / max(1, sum(kinds.values()))
    confirmed = 1.0 if t.faces else 0.0
    confidence = float(np.clip(0.35 + 0.25 * persistence + 0.15 * agreement
                               + 0.25 * confirmed, 0.0, 1.0))
    residual = float(np.median([m.residual_detail for m in t.measures if m.kind == kind]
                               or [0.0]))
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
