"""The streaming redaction finder: frames in, tracked redacted faces out.

Every few frames: CenterFace and a full-frame pixel scan propose regions that look redacted
(``scan.py``), each measured on its crop (``measure.py``) and linked to tracks
(``tracking.py``). Every frame of every live track: the detail in the middle of its box
(``detail.py``), at the box it expects, replaced by the interpolated box once the next
detection arrives (frames since the last detection wait in a short ring buffer). When a track
ends, frames whose detail jumps above the rest of the track (``detail.dropout_frames``) are
its dropouts, the face shown unredacted. Per track (expensive, few frames): CenterFace
confirmation on a zoomed crop. Memory is bounded by the ring buffer (``max_gap_frames``
frames) and the live tracks.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter, deque
from collections.abc import Iterable

import cv2
import numpy as np

from veilscan.catalog.clip_result import TrackFinding, cells_across_face
from veilscan.tasks.finder.ahead import FramePrep, Prepared, Work, detect_at_sides
from veilscan.tasks.finder.camera import CameraMotion
from veilscan.tasks.finder.coarse_mosaic import coarse_mosaic_box
from veilscan.tasks.finder.config import FinderConfig
from veilscan.tasks.finder.confirm import face_in_region, whole_frame_int8
from veilscan.tasks.finder.detail import (
    LOCAL_FRAMES,
    RULES,
    Detail,
    dropout_frames,
    region_detail,
    single_rule,
    stands_out,
)
from veilscan.tasks.finder.follow import follow
from veilscan.tasks.finder.frames import Pixels, as_pixels
from veilscan.tasks.finder.measure import (
    VIVID_CHROMA,
    RegionMeasure,
    box_middle,
    chroma,
    fill_colour,
    looks_clear,
    measure_region,
    refine_mosaic_box,
    ring_sharp_share,
    vote_kernel_type,
)
from veilscan.tasks.finder.partial import find_eye_bar
from veilscan.tasks.finder.scan import FLAT_MIN_ASPECT, Candidate, refine_box, scan_frame
from veilscan.tasks.finder.tracking import BoxXYWH, Track, assign, iou

_CONFIRM_VIEWS = ((40.0, 1.0), (64.0, 0.6), (24.0, 1.0), (96.0, 0.6))
"""(box size px after resizing, context margin) tried in turn by CenterFace confirmation."""
_REDACTED = {"gaussian_blur", "box_blur", "motion_blur", "mosaic", "solid", "unknown", "blur"}
_BAR = RegionMeasure("solid", 0.0, 0.0, 0.0)
"""The measurement of an eye bar: a solid fill over part of a face (``partial.py``)."""
_CONTEXT_THRESHOLD = 0.05
"""CenterFace score around a solid fill that counts as a head there. Filled faces on the
bench scored 0.05-0.5 in at least one view; dark tiles and windows in a kitchen scored 0."""
_SURE_CONTEXT = 0.1
"""CenterFace score around a fill that vouches for it even where it shades (``_shaded``): a
head seen plainly. The kitchen's shadowed gap beside a vase scored 0.05-0.074 on some tries;
filled faces on the bench scored 0.05-0.3."""
_SHADED_SPREAD = 2.0
"""Median p90 - p10 of a fill track's middle (grey levels) from which it shades. The fills
the benches draw (black, blue, skin, white) read 0 in the median frame, in H.264 and HEVC
alike, but for a blue one on a 41 px face (2; see ``_shaded``); the kitchen's dark patches
that read as fills (the gap beside a vase and five others) read 2-9, its napkin read as a
light fill through HEVC 4."""
_DARK_FILL = 80.0
"""Grey level below which a fill must show a head around it (``dark_fill_needs_head``).
Black and dark fills over real faces always did (0.05-0.5 in some view within six frames);
the dark tiles and screens of a kitchen (levels 42-72) never did. Lighter fills are exempt
unless small (``_SMALL_FILL``): a red fill on the tests' pasted head shows no head at all.
A dark fill of a vivid colour (``VIVID_CHROMA``) is exempt too: a saturated blue (30, 60, 200)
is grey level 67, and on a small head against dark hair no view of CenterFace saw a head
around it (bench/finder_foreign.py's ``cv_ellipse_fill``), while the kitchen's tiles are grey."""
_FIT_FIRST, _FIT_EVERY = 12, 48
"""A confirmed blur track has its kernel fitted on its first 12 scanned frames, then on every
48th frame (1.6 s at 30 fps; every 12th before finder-0.19, which in a settled shot was every
scan that found the face: 11 ms a fit). The 18 cached whole shots and the 143 cached labelled
clips gave exactly the same findings either way."""
_COAST, _SETTLED_SCANS = 4, 10
"""While settled (a reportable track followed, none begun, ended or gone unseen for
``_SETTLED_SCANS`` scans), the full scan runs ``_COAST`` times less often
(``RedactionFinder._settle``): a scan every 12 frames, the pixel scan on every other one (every
24 frames, 0.8 s at 30 fps), the detector on every ``_SETTLED_DETECT``-th. Every frame is still
judged at the track's box. Coasting at 2 (each every 12 frames) cost about a third more CPU on
the bench's speed clip. On bench/finder_shots.py's 18 whole shots (the talking head, 9 recipes,
2 sizes, 10 dropouts each) finder-0.16 found 179 of 180 dropouts (finder-0.15, coasting at 2:
170, a box blur found only at the shot's end) and boxed 95% of the face frames (86%), though
fewer of the last 40, where the face comes close to the camera and grows faster than a settled
track's box follows; false dropout frames 13 (9)."""
_OUTGROWN = 1.3
"""A pixel-scan box around a followed face more than this many times the width or height of
the box the face is expected at is taken for the face plus soft background, and the expected
box is used."""
_SETTLED_DETECT = 4
"""While settled, CenterFace's whole-frame passes run on every ``_SETTLED_DETECT``-th scan (every
48 frames, 1.6 s at 30 fps; the scans between them follow the tracks, and every other one runs
the pixel scan). A face entering a settled shot then waits up to 1.6 s for the detector, and
its frames since are judged from the ring buffer, which holds that interval (64 luma frames:
130 MB at 1080p, 530 MB at 4K). Against every other scan (finder-0.18), on the bench's speed
clip: 4.6 against 5.0 CPU-s and a median 3.22x against 3.41x PyAV's decode to RGB (8
alternating rounds); the 18 whole shots of bench/finder_shots.py (same bytes) boxed 10484 of
10800 face frames against 10428, 179 of 180 dropouts each, 6 false dropout frames against 5;
the 143 labelled bench clips (same bytes) gave the same tracks, types, spans and dropouts (14
moved a little in strength or boxes)."""
_LOOK = 2
"""While settled, new soft patches from the pixel scan (scenery, mostly: a defocused background
offers ten a frame) are looked at on every ``_LOOK``-th pixel scan only (every 48 frames), and
followed only if CenterFace sees a face in one at once. A blurred face the full-frame detector
misses (small, or under a heavy blur) that enters a settled shot is then found within about
1.6 s at 30 fps; a face the detector sees starts its track at its next run, as before."""
_SMALL_FILL = 0.06
"""Share of the frame's shorter side below which a fill of any colour must show a head around
it: the kitchen's white coaster (4% of the frame) is flat, round and crisp; fills of every
colour over real faces on the bench showed a head (0.05-0.7)."""
_EDGE_FRAMES = 3
"""Frames just before a redaction track begins and just after it ends that are looked at for
its face in plain view (a redaction that starts a frame late or ends a frame early; see
``RedactionFinder._exposed_edge``)."""
_BEHIND_LOOKS = 3
"""Frames per fill on which CenterFace looks for the face behind it where it lifted (see
``RedactionFinder._face_behind``)."""
_BEHIND_VIEWS = ((96.0, 0.6), (64.0, 0.6))
"""(box size px, margin) of those looks: the face is in plain view, so larger than the
views that find a head around a fill."""
_BEHIND_MIN_WIDTH = 0.35
"""Narrowest face, as a share of the fill's width, taken for the face behind it: an editor's
fill over the whole head with 40% to spare on each side is 1.8 faces wide."""
_SMALL_COARSE_SHRINK = 4.0
"""How much a frame under 1.5 coarse sides is shrunk for its coarse pass (1080p footage's
coarse pass is 4.2 times smaller than the frame)."""
_MIN_COARSE_SIDE = 64
"""Smallest longer side (px) a coarse pass runs at: under it a face is a few pixels."""
_MIN_HITS = 2
"""Scans that must find a track, or holds that keep it by its look, for it to be reported: a
region found once, with the buffered frames before it and the frames after it that looked
the same filled in, is a flicker (a soft patch on a moving head's last frames)."""
_PART = 0.35
"""A track under this share of another's box area is a part of its region, not the face
(as ``tracking.assign`` bounds a detection's size change)."""
_AHEAD = 16
"""Frames the worker may run ahead of the finder (``ahead.py``). On the bench's speed clip the
finder waited 1.5 s for it with 4, 0.4 s with 8, 0.2 s with 16 and 0.1 s with 32. Each frame
held costs its luma and the decoder's frame, about 2.5 bytes a pixel (and its RGB, 3 more, on
detector frames): at 4K, 16 frames hold about 350 MB."""
_BAR_SEARCH = ((0.0, 0.0), (0.5, 0.0), (-0.5, 0.0), (0.0, 0.25), (0.0, -0.25))
"""Offsets (shares of the face box) at which a live eye bar is looked for between detector
runs, nearest first."""


def _fill_level(grey: np.ndarray, box: BoxXYWH) -> float:
    """Median grey level of the middle of ``box`` (a fill's colour, as grey)."""
    mid = box_middle(grey, box)
    return float(np.median(mid)) if mid.size else 255.0


_NESTED_INSIDE = 0.6
"""Median share of a track's box inside another's, over the frames they share, that makes
it a part of that track's redaction, not a face of its own."""
_NESTED_SHARED = 0.5
"""Share of its frames a part must share with the track it lies in (the rest, before or
after that track, it lends it: :func:`_without_pieces`)."""


def _shared(part: list[tuple[int, int, int, int, int]],
            whole: list[tuple[int, int, int, int, int]]) -> list[tuple[BoxXYWH, BoxXYWH]]:
    """(part's box, whole's box) on each frame both tracks (boxes ``[frame, x, y, w, h]``)
    were followed; empty unless that is at least ``_NESTED_SHARED`` of the part's frames."""
    at = {f: (x, y, w, h) for f, x, y, w, h in whole}
    shared = [((x, y, w, h), at[f]) for f, x, y, w, h in part if f in at]
    return shared if shared and len(shared) >= _NESTED_SHARED * len(part) else []


def _nested(part: list[tuple[int, int, int, int, int]],
            whole: list[tuple[int, int, int, int, int]]) -> bool:
    """Does the track with boxes ``part`` (``[frame, x, y, w, h]``) lie inside the larger
    one with boxes ``whole``: a piece of the same redaction followed as a track of its own
    (a quarter of a coarse mosaic's grid, a run of its flat cells read as a fill)? A face
    inside another face's box is hidden by it, so such a track is never a second face."""
    shared = _shared(part, whole)
    if not shared:
        return False
    inside = float(np.median([_inside(b, o) for b, o in shared]))
    smaller = np.median([b[2] * b[3] for b, _ in shared]) < np.median(
        [o[2] * o[3] for _, o in shared])
    return bool(smaller) and inside >= _NESTED_INSIDE


_SAME_GRID_OVERLAP = 0.45
"""Median share of the smaller box inside the other, over the frames two mosaic tracks of one
cell size share, that makes them one pixelation followed twice (:func:`_same_grid`)."""
_SAME_CELL = 0.1
"""Relative difference of cell size within which two mosaic tracks may be one grid."""


def _same_grid(part: TrackFinding, whole: TrackFinding) -> bool:
    """Is mosaic track ``part`` the pixelation ``whole`` follows, found again as a track of
    its own? A coarse grid is found whole on some scans and as its top rows or a wider
    stretch on others, so one box need not lie inside the other (``_nested``); but both
    read the same cell size (to ``_SAME_CELL``), ``part`` shares at least half its frames
    with ``whole`` and has no more than it, and over those frames the smaller of the two
    boxes lies mostly (``_SAME_GRID_OVERLAP``) in the other. Two faces pixelated alike
    stand side by side, their boxes apart; a face mostly behind another's mosaic is hidden
    by it."""
    if part.redaction_type != "mosaic" or whole.redaction_type != "mosaic":
        return False
    cells = (part.strength_px, whole.strength_px)
    if abs(cells[0] - cells[1]) > _SAME_CELL * max(cells) or len(part.boxes) > len(whole.boxes):
        return False
    shared = _shared(part.boxes, whole.boxes)
    if not shared:
        return False
    if len(part.boxes) == len(whole.boxes) and np.median([b[2] * b[3] for b, _ in shared]) > \
            np.median([o[2] * o[3] for _, o in shared]):
        return False  # as long as each other: the larger box is the whole
    overlap = np.median([_inside(b, o) if b[2] * b[3] <= o[2] * o[3] else _inside(o, b)
                         for b, o in shared])
    return bool(overlap >= _SAME_GRID_OVERLAP)


def _without_pieces(findings: list[TrackFinding]) -> list[TrackFinding]:
    """``findings`` less those lying inside a larger one (:func:`_nested`) and mosaics
    followed twice (:func:`_same_grid`), in order of first frame and numbered again. A piece
    followed before or after the larger track began or ended (a fill whose whole region was
    found only later) lends it those frames: its boxes, and its dropouts there. Where they
    overlap, the larger track's boxes and dropouts stand (a piece's box holds part of the
    face only)."""
    pieces: set[int] = set()
    for n, part in enumerate(findings):
        for m, whole in enumerate(findings):
            if m != n and m not in pieces and (_nested(part.boxes, whole.boxes)
                                               or _same_grid(part, whole)):
                pieces.add(n)
                have = {b[0] for b in whole.boxes}
                whole.boxes = sorted([*whole.boxes, *(b for b in part.boxes if b[0] not in have)])
                whole.first_frame, whole.last_frame = whole.boxes[0][0], whole.boxes[-1][0]
                whole.dropout_frames = sorted(
                    {*whole.dropout_frames, *(f for f in part.dropout_frames if f not in have)})
                break
    out = sorted((f for n, f in enumerate(findings) if n not in pieces),
                 key=lambda f: f.first_frame)
    for i, f in enumerate(out):
        f.track_id = i
    return out


def _moved(box: BoxXYWH, shift: tuple[float, float]) -> BoxXYWH:
    """``box`` moved by ``shift`` (frame px)."""
    return (int(round(box[0] + shift[0])), int(round(box[1] + shift[1])), box[2], box[3])


def _inside(a: BoxXYWH, b: BoxXYWH) -> float:
    """Share of box ``a``'s area that lies inside box ``b``."""
    iw = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return iw * ih / max(1.0, float(a[2] * a[3]))


def _frame_bar(box: BoxXYWH, shape: tuple[int, ...]) -> bool:
    """Does ``box`` span the frame's height against its left or right edge, or its width
    against the top or bottom: a pillarbox or letterbox bar, never a face? Such a flat patch
    was measured (about 19 ms at 1080p) and rejected as a fill on the frame edge, again every
    15 frames, each bar: the talking head pillarboxed to 1920x1080 took 4.6-5.2 s, now
    4.1-4.4 s."""
    x, y, w, h = box
    fh, fw = shape[:2]
    return (h >= 0.95 * fh and (x <= 1 or x + w >= fw - 1)) or (
        w >= 0.95 * fw and (y <= 1 or y + h >= fh - 1))


def _grow(box: BoxXYWH, frac: float, shape: tuple[int, ...]) -> BoxXYWH:
    """``box`` grown by ``frac`` of its size on each side, clipped to the frame."""
    x, y, w, h = box
    dx, dy = int(w * frac), int(h * frac)
    x0, y0 = max(0, x - dx), max(0, y - dy)
    x1, y1 = min(shape[1], x + w + dx), min(shape[0], y + h + dy)
    return (x0, y0, x1 - x0, y1 - y0)


def _fill_and_grid(kinds: set[str]) -> bool:
    """Do these candidate kinds hold both a flat patch (crisp or faded) and a block grid?"""
    return "mosaic" in kinds and bool(kinds & {"flat", "faded"})


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
                if _fill_and_grid(kinds[i] | kinds[j]) and not (
                        _fill_and_grid(kinds[i]) or _fill_and_grid(kinds[j])):
                    continue  # a fill's outline can pass for a grid line: kept apart
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

    def __init__(self, config: FinderConfig | None = None, ahead: int = _AHEAD) -> None:
        """``ahead``: frames the camera's move and the detector run ahead of the finder on a
        worker thread (``ahead.py``); 0 runs them inline. The findings are the same."""
        self.cfg = config or FinderConfig()
        self._live: list[Track] = []
        self._done: list[Track] = []
        # Recent greyscale frames (not RGB: a 4K frame is 25 MB) for gap and dropout checks.
        self._buffer: deque[tuple[int, np.ndarray]] = deque(
            maxlen=self.cfg.max_gap_frames + _SETTLED_DETECT * _COAST * self.cfg.scan_stride + 2)
        self._next_id = 0
        self._camera = CameraMotion()
        self._prep = FramePrep(self._camera, self.cfg.face_threshold, ahead, self._scan_pixels)
        self._last_added = -1
        self._shape: tuple[int, ...] = ()
        self._last_index = -1
        self._slack = 10
        self._rejected: list[tuple[BoxXYWH, int]] = []
        """Regions recently measured as not redacted, with the frame until which to skip them."""
        self._clear_faces: list[BoxXYWH] = []
        """Faces the detector's last run saw unredacted: smooth skin inside is no redaction."""
        self._changed = 0
        """The last frame a track worth reporting ended or went unseen (see ``_settle``)."""
        self._scans: list[int] = []
        """Frames fully scanned, in order (a track's persistence counts detections per scan)."""
        self._stride = self.cfg.scan_stride
        """Frames between full scans now: ``scan_stride``, or ``_COAST`` times it while
        settled (see ``_settle``)."""
        self._coasted = -1
        """The last frame scanned at the settled rate."""
        self._settled_scans = 0
        """Pixel scans run at the settled rate so far (see ``_LOOK``)."""
        self._last_pixels: Pixels | None = None
        """The last frame seen (``finish`` scans it if the last scan was before it)."""
        self._prepared: Prepared | None = None
        """The frame being processed, as the worker prepared it (its detector passes)."""
        self._clear_log: list[tuple[int, BoxXYWH]] = []
        """Every face the detector saw and the finder did not judge redacted (clear, or as
        soft as its surroundings), with its frame (see ``_transient``)."""

    def add_frame(self, index: int, frame: np.ndarray | Pixels) -> None:
        """Take frame ``index`` (``H x W x 3`` uint8 RGB, or :class:`Pixels`). It is processed
        once ``ahead`` later frames have come in, or by :meth:`finish`."""
        if index <= self._last_added:
            raise ValueError(f"frames must come in order: got {index} after {self._last_added}")
        self._last_added = index
        pixels = as_pixels(frame)
        shape = frame.shape[:2] if isinstance(frame, np.ndarray) else pixels.grey.shape
        sides = self._likely_sides(index, shape)
        stride = self._likely_stride(index)
        self._prep.submit(index, pixels, Work(
            sides, bool(sides) and self._int8_at(stride),
            index % stride == 0 and self._pixel_scan_at(index, stride)))
        while len(self._prep) > self._prep.ahead:
            self._process(self._prep.pop())

    def decoded(self, index: int, pixels: Pixels) -> None:
        """Optional: frame ``index`` has just been decoded and will come to :meth:`add_frame`.
        Called on the decoding thread, it does the part of the frame's preparation that
        needs nothing but its pixels there, while they are in the CPU's caches and while the
        finder's own thread is busy (see ``camera.CameraMotion.prepare``). The findings are
        the same with or without it."""
        self._camera.prepare(index, pixels.grey)

    def _likely_sides(self, index: int, shape: tuple[int, ...]) -> tuple[int, ...]:
        """The detector passes frame ``index`` will likely get (``_faces``): at the scan rate
        it will have settled to if nothing begins, ends or goes unseen until then (see
        ``_settle``). Judged at the rate now, the worker ran two whole-frame passes on
        frames a settling finder no longer scans, and the coarse pass on its first settled
        one (on the speed clip: 5 of 30 passes, 0.1 CPU-s). A wrong guess costs time only:
        a frame's missing pass runs when the finder gets there."""
        cfg = self.cfg
        stride = self._likely_stride(index)
        every = cfg.detect_every if stride == cfg.scan_stride else _SETTLED_DETECT
        if index % stride or index % (stride * every):
            return ()
        if stride != cfg.scan_stride:
            return (cfg.detect_side_px,)  # settled: no coarse pass (``_detector_sides``)
        return self._detector_sides(shape)

    def _likely_stride(self, index: int) -> int:
        """The scan stride at frame ``index`` if the live tracks carry on as they are."""
        full = self.cfg.scan_stride
        if self._stride != full:
            return self._stride
        followed = [t.frames[0] for t in self._live if _reportable(t)]
        if not followed:
            return full
        # ``_settle`` sees the settled condition on the first scan frame this far on, and
        # coasts from the next frame on the coasting grid.
        since = max(self._changed, *followed) + _SETTLED_SCANS * full
        first = -(-since // full) * full
        coast = _COAST * full
        return coast if -(-first // coast) * coast <= index else full

    def _pixel_scan_at(self, index: int, stride: int) -> bool:
        """Whether scan frame ``index`` at scan stride ``stride`` gets the pixel scan: every
        scan, or settled (``_settle``) every other one."""
        return stride == self.cfg.scan_stride or (index // stride) % 2 == 1

    def _scan_pixels(self, grey: np.ndarray) -> list[Candidate]:
        """The pixel scan's candidates in a frame (``scan.scan_frame``); the worker runs it
        ahead on the frames it predicts (``ahead.py``): about 8 ms a 1080p frame."""
        return scan_frame(grey, self.cfg, self.cfg.scan_kinds)

    def _int8_at(self, stride: int) -> bool:
        """Whether the whole-frame passes at scan stride ``stride`` run the int8 network: by
        default those of a settled shot (``confirm.whole_frame_int8``). Those look for faces
        entering a shot whose tracks are followed already, where a score moved by a few
        hundredths only delays a new face by one pass; the passes that begin and place the
        tracks keep float32 (int8 there cost the bench 2 of 99 dropouts)."""
        return whole_frame_int8(settled=stride != self.cfg.scan_stride)

    def _detect_period(self) -> int:
        """Frames between the detector's whole-frame runs at the scan rate now."""
        every = self.cfg.detect_every if self._stride == self.cfg.scan_stride else _SETTLED_DETECT
        return self._stride * every

    def _detector_sides(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """Longer sides CenterFace runs at on the whole frame now. A second, coarser pass finds
        a heavy blur that shrinks to a sharp-looking small face; settled (``_settle``), a
        heavy blur already found is followed by the pixel scan instead."""
        cfg = self.cfg
        if self._stride != cfg.scan_stride:
            return (cfg.detect_side_px,)
        longest = max(shape)
        if longest > 1.5 * cfg.coarse_side_px:
            return (cfg.detect_side_px, cfg.coarse_side_px)
        # A frame too small for the coarse side: a quarter of its size, as 1080p footage
        # gets (a sigma-12 blur on a 108 px face in a 384 px frame read 0.15 at full size
        # and 0.45 at a quarter).
        coarse = int(longest / _SMALL_COARSE_SHRINK)
        return (cfg.detect_side_px, coarse) if coarse >= _MIN_COARSE_SIDE else (
            cfg.detect_side_px,)

    def _process(self, prepared: Prepared) -> None:
        """Process one frame, in order (what ``add_frame`` did before frames ran ahead)."""
        index, grey = prepared.index, prepared.grey
        self._prepared = prepared
        if self._last_index < 0:
            # One scan cell plus half the smoothing window (scan px, so larger when the scan
            # runs downscaled): how far a coarse box may be off, in frame px.
            scale = min(1.0, self.cfg.max_scan_side_px / max(grey.shape))
            self._slack = (max(6, self.cfg.min_face_px // 4)
                           + int(np.ceil(self.cfg.window_px / scale / 2)) + 4)
        self._last_index = index
        self._last_pixels = prepared.pixels
        self._shape = grey.shape
        self._buffer.append((index, grey))
        if index % 256 == 0:  # keep the camera's path for the live tracks' detections only
            oldest = min((t.frames[max(0, len(t.frames) - 2)] for t in self._live),
                         default=index)
            self._camera.forget_before(min(oldest, index - self.cfg.max_gap_frames - 8))
        cfg = self.cfg
        if index % cfg.scan_stride == 0:
            self._settle(index)
        if index % self._stride == 0:
            self._scans.append(index)
            self._scan(index, grey, prepared.pixels)
        still = []
        if self._stride != cfg.scan_stride:
            self._coasted = index
        for t in self._live:
            # Last seen while settled, a face was looked for less often: its track may wait
            # the scans it missed that much longer.
            slack = (_COAST - 1) * cfg.scan_stride if t.last_frame <= self._coasted else 0
            if index - t.last_frame > cfg.max_gap_frames + slack:
                self._close(t)
                continue
            still.append(t)
            if index - t.last_frame >= self._stride and index not in t.detail:
                # A scan went by without a detection (a dropout leaves none): judge this frame
                # at the box the track expects. A later detection replaces it with the
                # interpolated box (``_fill_gap``), as it does for every frame in between.
                near = index - t.last_frame <= 2 * self._stride
                _note(t, index, grey, t.predict(index, self._camera) if near
                      else _moved(t.boxes[-1], self._camera.shift(t.last_frame, index)))
            if index % cfg.scan_stride == 0:
                self._face_behind(t)
            if not t.lead_checked and _reportable(t) and len(t.detail) > LOCAL_FRAMES:
                self._exposed_edge(t, before=True)
        self._live = still

    def _settle(self, index: int) -> None:
        """Scan less often while the scene is settled: a track worth reporting is followed,
        and none has begun, ended or gone unseen for ``_SETTLED_SCANS`` scans (see
        ``_COAST``). A long shot of a redacted face then costs about 40% of the full rate
        (the bench's speed clip: 2.1 s against 5.7 s, finder-0.16); a new face is still seen
        within a settled detector interval (``_SETTLED_DETECT``), and the frames since it
        appeared are judged from the ring buffer. Any such track beginning, ending or going
        unseen returns to the full rate.
        Footage with nothing redacted in view is searched at the full rate (the detector's
        clear faces there are what tells a passing soft patch from a redaction)."""
        full = self.cfg.scan_stride
        followed = [t.frames[0] for t in self._live if _reportable(t)]
        settled = bool(followed) and (
            index - max(self._changed, *followed) >= _SETTLED_SCANS * full)
        stride = _COAST * full if settled else full
        if stride != self._stride and index % stride == 0:
            self._stride = stride
        elif not settled:
            self._stride = full

    def _close(self, track: Track) -> None:
        """End a track, extending it over the buffered frames after its last detection for
        as long as the region still looks redacted there (the detector can lose a face that
        the redaction still hides: a turned head, a heavy blur)."""
        self._face_behind(track)
        kind = track.measures[-1].kind
        track.seen_until = track.last_frame
        if _reportable(track):
            self._changed = self._last_index
        for fi, grey in self._buffer:
            if fi > track.last_frame:
                box = track.predict(fi, self._camera)
                if looks_clear(grey, box, kind, _block(track)):
                    break
                track.add(fi, box, track.measures[-1])
                _note(track, fi, grey, box)
        if not track.lead_checked:
            self._exposed_edge(track, before=True)
        self._exposed_edge(track, before=False)
        self._done.append(track)

    def _faces(self, pixels: Pixels) -> list[BoxXYWH]:
        """CenterFace over the whole frame (downscaled): faces, redacted or not, frame px.
        The passes come from the worker where it ran them (``ahead.py``)."""
        cfg = self.cfg
        fh, fw = self._shape
        sides = self._detector_sides(self._shape)
        int8 = self._int8_at(self._stride)
        ready = self._prepared
        if ready is not None and ready.sides[:len(sides)] == sides and ready.int8 == int8:
            passes = ready.faces[:len(sides)]
        else:
            passes = detect_at_sides(pixels.rgb(), sides, cfg.face_threshold, int8)
        out: list[BoxXYWH] = []
        for side, dets in zip(sides, passes, strict=True):
            coarse = side != cfg.detect_side_px
            for x, y, w, h, _ in dets:
                box = (int(x), int(y), int(w), int(h))
                if coarse and box[2] > 0.5 * fw:
                    continue  # head and shoulders merged into one "face"
                # The coarse pass must not swallow a face the fine pass found (head and
                # shoulders read as one big face at low resolution).
                if box[2] >= 0.8 * cfg.min_face_px and all(
                        iou(box, b) < 0.3 and _inside(b, box) < 0.5 for b in out):
                    out.append(box)
        return out

    def _scan(self, index: int, grey: np.ndarray, pixels: Pixels, last: bool = False) -> None:
        """Detect redacted faces in one frame and extend the tracks with them.

        Faces are found by CenterFace, which still sees a face under blur or a mosaic (head
        shape, hair, shoulders); each face region is then measured: a clear face is not a
        redaction, a smooth, block-gridded or flat one is. Solid fills hide the face from
        the detector too well, so flat head-sized patches with a crisp outline come from
        the pixel scan instead. ``last``: the clip's last frame, which the detector always
        looks at (settled, its last run may be 23 frames back).
        """
        cfg = self.cfg
        self._rejected = [(b, until) for b, until in self._rejected if until >= index]
        dets: list[tuple[BoxXYWH, RegionMeasure, bool]] = []
        bars: dict[int, tuple[BoxXYWH, float]] = {}
        """Detections that are eye bars: index in ``dets`` -> (face box, coverage)."""
        widths: dict[int, float] = {}
        """Detections of faces CenterFace found: index in ``dets`` -> its face width."""
        run_detector = last or index % self._detect_period() == 0
        max_w = cfg.max_face_frac * min(grey.shape)
        if run_detector:
            self._clear_faces = []
        faces = self._faces(pixels) if run_detector else []
        for face in faces:
            if face[2] > max_w:
                continue  # a close-up filling the frame: too big to tell from shake or defocus
            # A face in plain view but for a bar over its eyes: the bar is the redaction (the
            # rest of the face would read as clear, or the bar's edges as a fill).
            bar = find_eye_bar(grey, face)
            coarse = _grow(face, 0.1, grey.shape)
            m0 = measure_region(grey, coarse, classify=False, square_cells=False)
            if m0 is None or m0.kind == "clear":
                # A pixelation of a few cells reads clear around the face (its steps are
                # sharp); its own box reads as what it is.
                few = _few_cells(grey, coarse, max(self._slack, int(0.25 * face[2])), False)
                if few is not None:
                    widths[len(dets)] = float(face[2])
                    dets.append((few[0], few[1], True))
                    continue
            # A mosaic's rows of blocks can pass for a bar, and a blurred face's dark eye band
            # for a feathered one; a face under either is no eye bar.
            if bar is not None and (m0 is None or m0.kind not in (
                    ("mosaic", "blur") if bar.feathered else ("mosaic",))):
                bars[len(dets)] = (face, bar.coverage)
                dets.append((bar.box, _BAR, True))
                self._clear_faces.append(face)
                continue
            if m0 is not None and m0.kind == "clear":
                self._clear_faces.append(face)
                self._face_on_grid(index, face)
            if m0 is None or m0.kind not in _REDACTED:
                continue
            slack = max(self._slack, int(0.25 * face[2]))
            box = (refine_mosaic_box(grey, coarse, slack) if m0.kind == "mosaic"
                   else refine_box(grey, coarse, cfg, slack))
            m = measure_region(grey, box, square_cells=False, face_w=face[2])
            # A grid walk stopped by like cells side by side can leave most of the face out:
            # a pixelation covers the face the detector sees.
            if m is None or m.kind not in _REDACTED or (
                    m.kind == "mosaic" and _inside(face, box) < _FACE_KEPT):
                m = measure_region(grey, coarse, square_cells=False, face_w=face[2])
                box = coarse
            if m is None or m.kind not in _REDACTED:
                continue
            if m.kind not in ("mosaic", "solid") and not _softer_than_surround(grey, box):
                # The whole picture around it is as soft (shake or defocus), or the
                # redaction reaches well past the face (an editor's generous box).
                wide = _redaction_around(grey, face, cfg, max_w)
                if wide is None:
                    continue
                m = measure_region(grey, wide, square_cells=False, face_w=face[2])
                if m is None or m.kind not in _REDACTED - {"mosaic", "solid"}:
                    continue
                box = wide
            if box[2] <= 1.1 * max_w:  # refining can grow a box into the soft picture
                widths[len(dets)] = float(face[2])
                dets.append((box, m, True))
        self._clear_log += [(index, f) for f in faces
                            if all(iou(_grow(f, 0.1, grey.shape), d[0]) < 0.3 for d in dets)]
        self._follow_bars(index, grey, dets, bars)
        # The pixel scan: solid fills, and blurs or mosaics the detector missed (small or
        # strongly hidden faces), which CenterFace then confirms on a zoomed crop.
        # Settled, the pixel scan runs on every other scan (the detector on fewer).
        settled = self._stride != cfg.scan_stride
        pixel_scan = self._pixel_scan_at(index, self._stride)
        if pixel_scan and settled:
            self._settled_scans += 1
        look = self._settled_scans % _LOOK == 0
        live_boxes = [t.predict(index, self._camera) for t in self._live]
        ready = self._prepared
        candidates = [] if not pixel_scan else (
            ready.candidates if ready is not None and ready.index == index
            and ready.candidates is not None else self._scan_pixels(grey))
        for coarse, kinds in _merge(candidates):
            if _frame_bar(coarse, grey.shape):
                continue  # a pillarbox or letterbox bar
            if any(_inside(coarse, d[0]) > 0.5 for d in dets):
                continue  # part of a face the detector already found
            if any(_inside(coarse, f) > 0.5 for f in self._clear_faces):
                continue  # a smooth patch of skin on a face in plain view
            tracked = any(iou(coarse, b) > cfg.iou_min for b in live_boxes)
            faces_near = [b for b, t in zip(live_boxes, self._live, strict=True)
                          if t.faces and iou(coarse, b) > cfg.iou_min]
            if not tracked and any(iou(coarse, b) > 0.4 for b, _ in self._rejected):
                continue  # measured as unredacted a moment ago: static scenery, skip it
            if not tracked and settled and not look and kinds == {"blur"}:
                continue  # settled: a new soft patch is looked at on every _LOOK-th scan
            box = (refine_mosaic_box(grey, coarse, self._slack) if "mosaic" in kinds
                   else refine_box(grey, coarse, cfg, self._slack))
            if min(box[2], box[3]) < 0.8 * cfg.min_face_px or box[2] > 1.1 * max_w:
                self._rejected.append((coarse, index + cfg.reject_frames))
                continue  # no face fits it: not worth measuring
            if faces_near and "mosaic" not in kinds:
                # Around a followed face a soft background (a defocused curtain) can join the
                # blur's smooth region: a box that outgrew the face's expected box is cut back
                # (a mosaic's box is its grid's, which stops at the redaction).
                expected = max(faces_near, key=lambda b: iou(box, b))
                if box[2] > _OUTGROWN * expected[2] or box[3] > _OUTGROWN * expected[3]:
                    box = expected
                    if any(iou(box, d[0]) > 0.3 for d in dets):
                        continue  # that face was detected this frame already
            # Near a followed track, oblong or uneven cells count as a mosaic too.
            m = measure_region(grey, box, classify=False, square_cells=not tracked,
                               fill_only=kinds == {"faded"}, rgb=pixels.rgb)
            # The grid walk can stop inside a mosaic (a cell the codec rang in, MPEG-2's own
            # blocks off the mosaic's lattice) and leave part of it, which reads clear: the
            # scan's own box is measured then, as a detected face's coarse box is.
            if "mosaic" in kinds and box != coarse and (m is None or m.kind != "mosaic"):
                # (The scan's cells, 8 px or more, may cut a pixelation of a few cells.)
                mc = measure_region(grey, coarse, classify=False, square_cells=not tracked,
                                    few_cells=False)
                if mc is not None and mc.kind == "mosaic":
                    box, m = coarse, mc
            if "mosaic" in kinds and (m is None or m.kind != "mosaic"):
                few = _few_cells(grey, coarse, self._slack, not tracked)
                if few is not None:
                    box, m = few
            if m is not None and m.extent is not None:
                box = m.extent  # a feathered fill: its core grown over the ramp
            # A fill found through its fade (feathered, or a flat patch with detail only
            # further off) is held to a head's shape, as the scan holds flat patches (a
            # patch much wider than tall is a shelf, a lens, a sign).
            wide_fade = (m is not None and m.kind == "solid"
                         and box[3] < FLAT_MIN_ASPECT * box[2]
                         and (m.extent is not None or kinds == {"faded"}))
            # A flat patch against the frame edge is a letterbox bar or a dark corner.
            on_edge = m is not None and m.kind == "solid" and (
                box[0] <= 1 or box[1] <= 1 or box[0] + box[2] >= grey.shape[1] - 1
                or box[1] + box[3] >= grey.shape[0] - 1 or box[2] < 1.2 * cfg.min_face_px)
            # Smooth regions are CenterFace's to find: a soft patch from the grid or flat map
            # is defocused background, unless the scan itself looks for blurs.
            wanted = _REDACTED if "blur" in cfg.scan_kinds else {"mosaic", "solid"}
            # A flat patch with detail only further off counts only as a (feathered) fill.
            faded_only = kinds == {"faded"} and (m is None or m.kind != "solid")
            # Settled, a new soft patch is followed only if CenterFace sees a face in it at
            # once (most are scenery, each tried on up to six frames: the settled rate's
            # saving would go to them). A face found starts its track and ends the settling.
            scenery = (settled and not tracked and not faded_only and m is not None
                       and m.kind == "blur"
                       and (not look or face_in_region(pixels.rgb(), box, *_CONFIRM_VIEWS[0],
                                                       cfg.confirm_threshold) is None))
            if m is None or m.kind not in wanted or on_edge or scenery or faded_only \
                    or wide_fade:
                self._rejected.append((coarse, index + cfg.reject_frames))
                continue
            dets.append((box, m, False))
        boxes = [d[0] for d in dets]
        pairs, fresh = assign(self._live, boxes, index, cfg.iou_min, self._camera,
                              [d[2] for d in dets])
        for ti, bi in pairs:
            track = self._live[ti]
            box, m, seen = dets[bi]
            if index - track.last_frame > 1:
                self._fill_gap(track, index, box)
            if m.kind == "blur" and track.faces and (
                    track.fitted < _FIT_FIRST or index % _FIT_EVERY == 0):
                # The kernel fit is the costliest measurement: the first dozen frames, then
                # every 48th, are plenty for the track's type vote and median strength.
                m = measure_region(grey, box, face_w=widths.get(bi, track.face_w)) or m
                track.fitted += m.kind != "blur"
            track.face_w = widths.get(bi, track.face_w)
            track.hits += 1
            _add_detection(track, index, grey, box, m)
            _seen(track, bi, box, m, seen, bars, pixels)
            self._maybe_confirm(track, pixels, box, m)
            self._judge_buffered(track)
        for bi in fresh:
            box, m, seen = dets[bi]
            track = Track(self._next_id, coarse=box, face_w=widths.get(bi), hits=1)
            self._next_id += 1
            # The redaction may have started on an unscanned frame just before this one (while
            # settled, any frame since the detector last looked).
            reach = (self._stride if self._stride == cfg.scan_stride
                     else self._detect_period())
            for fi, g_prev in self._buffer:
                if index - reach < fi < index and not looks_clear(g_prev, box, m.kind,
                                                                        m.strength_px):
                    track.add(fi, box, m)
                    _note(track, fi, g_prev, box)
            track.add(index, box, m)
            _note(track, index, grey, box)
            _seen(track, bi, box, m, seen, bars, pixels)
            self._live.append(track)
            self._maybe_confirm(track, pixels, box, m)
            self._judge_buffered(track)
        held = {id(t) for t, _ in ((self._live[ti], bi) for ti, bi in pairs)}
        for t in self._live:
            if id(t) not in held and t.last_frame < index and _reportable(t):
                self._hold(t, index, pixels)
                if t.last_frame < index:
                    self._changed = index  # neither found nor held: back to the full rate
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

    def _face_on_grid(self, index: int, face: BoxXYWH) -> None:
        """A face the detector sees where an unconfirmed mosaic is followed confirms it, though
        its own box measured clear: four or five blocks across a face leave the face's box,
        grown by a margin of hair and wall, with too few whole cells to read as a grid."""
        for t in self._live:
            if (not t.faces and t.measures[-1].kind == "mosaic"
                    and iou(face, t.predict(index, self._camera)) > 0.3):
                t.faces.append((1.0, float(face[2])))
                t.face_w = float(face[2])

    def _follow_bars(self, index: int, grey: np.ndarray,
                     dets: list[tuple[BoxXYWH, RegionMeasure, bool]],
                     bars: dict[int, tuple[BoxXYWH, float]]) -> None:
        """Look for each live eye bar again on its face, moved as the bar moves: between
        detector runs (the pixel scan takes a bar for a shelf) and when the detector missed
        the face this time."""
        for t in self._live:
            if t.bar_face is None:
                continue
            p, b = t.predict(index, self._camera), t.boxes[-1]
            if any(iou(p, d[0]) > self.cfg.iou_min for d in dets):
                continue
            fx, fy, fw, fh = t.bar_face
            # Nearest first: the predicted place, then half a face to either side (a track
            # seen once has no velocity yet, and heads cross a frame in a second).
            for ox, oy in _BAR_SEARCH:
                face = (fx + p[0] - b[0] + int(ox * fw), fy + p[1] - b[1] + int(oy * fh), fw, fh)
                bar = find_eye_bar(grey, face)
                if bar is not None:
                    bars[len(dets)] = (face, bar.coverage)
                    dets.append((bar.box, _BAR, True))
                    break

    def _asks_head(self, track: Track) -> bool:
        """Must this fill show a head around it to count (``dark_fill_needs_head``)? A dark
        grey one, a small one (under ``_SMALL_FILL`` of the frame's shorter side: a coaster,
        a switch, a sign far off), or a feathered one (a window's glow fades out too)."""
        if not self.cfg.dark_fill_needs_head or track.fill_level is None:
            return False
        small = track.boxes[-1][2] < _SMALL_FILL * min(self._shape)
        dark = track.fill_level < _DARK_FILL and track.fill_chroma < VIVID_CHROMA
        return track.feathered or dark or small

    def _exposed_edge(self, track: Track, before: bool) -> None:
        """Add the buffered frames just ``before`` a reportable track begins (or just after
        it ends) where its face shows unredacted, as dropouts: a redaction that starts late
        or ends early exposes the face there, and the scan, seeing a clear face, never put
        those frames in the track (see ``_edge_frame`` for how each frame is judged).
        Nearest first, up to ``_EDGE_FRAMES`` exposed frames are added. Before a track,
        frames that still look redacted are passed over, up to ``max_gap_frames`` (a
        redaction is often followed only from a few frames after it began; the box placed
        there may be off it, so they are not judged). After a track, where ``_close`` has
        added the frames that look redacted, the first one that does ends the look: the
        redaction goes on, only no longer followed (a head turned away)."""
        if not _reportable(track):
            return
        if before:
            track.lead_checked = True
        edge = track.frames[0] if before else track.last_frame
        inner = [track.detail[f] for f in sorted(track.detail, reverse=not before)
                 if (f >= edge if before else f <= edge)][:LOCAL_FRAMES]
        block = _block(track)
        buffered = dict(self._buffer)
        clear = 0
        for step in range(1, self.cfg.max_gap_frames + 1):
            fi = edge - step if before else edge + step
            grey = buffered.get(fi)
            if grey is None:
                return
            seen = self._edge_frame(track, fi, grey, before, inner, block)
            if seen is None:
                return
            exposed, box = seen
            if not exposed:
                if clear or not before:
                    return  # redacted again: an earlier dropout is the neighbours' to judge
                continue
            clear += 1
            if clear > _EDGE_FRAMES:
                return
            if before:
                track.prepend(fi, box, track.measures[0])
            else:
                track.add(fi, box, track.measures[-1])
            track.exposed.add(fi)
            _note(track, fi, grey, box)

    def _edge_frame(self, track: Track, fi: int, grey: np.ndarray, before: bool,
                    inner: list[Detail], block: float) -> tuple[bool, BoxXYWH] | None:
        """Frame ``fi`` just outside ``track``: ``(False, box)`` if it looks redacted at
        ``box``, ``(True, box)`` if the face shows unredacted there, None if no face is there.

        Two places are tried: the track's end box moved with the camera, then the box its
        own motion extrapolates to (a detector box's jitter makes that one wild at times).
        A region that looks clear is shown to CenterFace; the face found places the box,
        and the frame is exposed only if that face is itself free of the redaction (not a
        face that moved on under it, nor scenery the box slid onto) and its detail stands
        out from ``inner``, the track's nearest frames, as a dropout's would. ``block`` is
        the track's mosaic cell size (``looks_clear``), read once per edge by the caller."""
        kind = track.measures[0 if before else -1].kind
        edge = track.frames[0] if before else track.last_frame
        end = track.boxes[0] if before else track.boxes[-1]
        moved = _moved(end, self._camera.shift(edge, fi))
        motion = (track.predict_back(fi, self._camera) if before
                  else track.predict(fi, self._camera))
        for box in dict.fromkeys((moved, motion)):
            if not looks_clear(grey, box, kind, block):
                return False, box
            # A bar's face: where it was, moved as the bar's box moved.
            face = box if track.bar_face is None else _moved(
                track.bar_face, (box[0] - end[0], box[1] - end[1]))
            hit = face_in_region(cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB), face,
                                 *_CONFIRM_VIEWS[1], self.cfg.confirm_threshold)
            if hit is None:
                continue
            if find_eye_bar(grey, hit[1]) is not None:
                return False, box  # a bar on the face: this one, or a fill taken for part of it
            if track.bar_face is None:  # a bar sits above the face's middle: keep its box
                fx, fy, fw, fh = hit[1]
                box = (fx + fw // 2 - box[2] // 2, fy + fh // 2 - box[3] // 2, *box[2:])
                if not looks_clear(grey, box, kind, block):
                    return False, box
            d = region_detail(grey, box) if track.bar_face is None else _bar_detail(grey, box)
            if d is None:
                return None
            # Not standing out, the face reads as the track does: redacted (a streak keeps
            # enough sharp pixels across itself to pass the per-frame test for clear).
            return stands_out(d, inner, kind), box
        return None

    def _face_behind(self, track: Track) -> None:
        """Confirm a fill that must show a head (``_asks_head``) by the face it hides: one
        drawn over the whole head leaves no head around it to see, but a frame where it
        lifted shows the face itself. Such frames (a jump in grey-level spread over the
        track's median, as a fill's dropout) still in the buffer are shown to CenterFace,
        up to ``_BEHIND_LOOKS`` per track; a face centred in the box confirms it."""
        if (track.faces or track.context or len(track.looked_behind) >= _BEHIND_LOOKS
                or len(track.detail) < 3 or not self._asks_head(track)):
            return
        rule = RULES["solid"]
        base = float(np.median([d.spread for d in track.detail.values()]))
        for fi, grey in self._buffer:
            d = track.detail.get(fi)
            if (d is None or fi in track.looked_behind or d.spread - base <= rule.jump
                    or d.spread < rule.floor):
                continue
            track.looked_behind.add(fi)
            rgb = cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB)
            for target, margin in _BEHIND_VIEWS:
                hit = face_in_region(rgb, track.box_at(fi), target, margin,
                                     self.cfg.confirm_threshold, min_width=_BEHIND_MIN_WIDTH)
                if hit is not None:
                    track.faces.append((hit[0], float(hit[1][2])))
                    return
            if len(track.looked_behind) >= _BEHIND_LOOKS:
                return

    def _maybe_confirm(self, track: Track, pixels: Pixels, box: BoxXYWH,
                       m: RegionMeasure) -> None:
        """Run CenterFace on a zoomed crop of a few detections until it finds the face."""
        cfg = self.cfg
        if track.faces or track.context or track.confirm_tries >= cfg.confirm_frames:
            return
        if m.kind == "solid" and not self._asks_head(track):
            return  # only a dark or a small fill is asked for a head around it
        # Counted in scans that found it: a track begun in a settled shot starts with up to
        # 23 buffered frames, and counting those would skip every try.
        if track.hits not in (1, 2, 3, 5, 8, 12):
            return
        target, margin = _CONFIRM_VIEWS[track.confirm_tries % len(_CONFIRM_VIEWS)]
        track.confirm_tries += 1
        if m.kind == "solid":
            # A fill hides the face from the detector; around a dark or a small fill, the
            # head (hair, ears, shoulders) still gives a weak response in some view, which a
            # tile, a screen or a coaster never does.
            for target, margin in _CONFIRM_VIEWS:
                hit = face_in_region(pixels.rgb(), box, target, margin, _CONTEXT_THRESHOLD)
                if hit is not None:
                    track.context = hit[0]
                    break
            return
        # A coarse mosaic (four or five cells across) reads as a face in one view and not in
        # the others, which view depending on its cells: it is shown all of them on each try.
        views = ([(target, margin)] if m.kind != "mosaic" else
                 [_CONFIRM_VIEWS[(track.confirm_tries - 1 + k) % len(_CONFIRM_VIEWS)]
                  for k in range(len(_CONFIRM_VIEWS))])
        face = None
        for target, margin in views:
            face = face_in_region(pixels.rgb(), box, target, margin, cfg.confirm_threshold)
            if face is not None:
                break
        if face is None and m.kind == "mosaic" and box[2] <= _FEW_CELLS * m.strength_px:
            # A mosaic of a few cells hides the face as a fill does: the head around it
            # vouches for it as for a fill (a weak response in some view).
            for target, margin in _CONFIRM_VIEWS:
                hit = face_in_region(pixels.rgb(), box, target, margin, _CONTEXT_THRESHOLD)
                if hit is not None:
                    track.context = hit[0]
                    self._judge_buffered(track)
                    break
        if face is None:
            return
        grey = pixels.grey
        if m.kind not in ("mosaic", "solid") and not _softer_than_surround(grey, box):
            return  # the picture around it is as soft: shake or defocus, not a redaction
        track.faces.append((face[0], float(face[1][2])))
        track.face_w = float(face[1][2])
        self._judge_buffered(track)
        if m.kind == "blur":  # now worth fitting the kernel
            fitted = measure_region(grey, box, face_w=track.face_w)
            if fitted is not None and fitted.kind in _REDACTED:
                track.measures[-1] = fitted

    def _judge_buffered(self, track: Track) -> None:
        """Judge a track's frames still in the buffer, once, when it becomes worth reporting
        (a face confirmed in it, or its region measured as a mosaic or a fill): a dropout in
        its first frames, before that, would otherwise go unjudged."""
        if track.judged or not _reportable(track):
            return
        track.judged = True
        if track.bar_face is not None:
            return  # a bar's frames before it was followed sit off the bar (see _bar_detail)
        for fi, g in self._buffer:
            if track.frames[0] <= fi <= track.last_frame and fi not in track.detail:
                _note(track, fi, g, track.box_at(fi))

    def _hold(self, track: Track, index: int, pixels: Pixels) -> None:
        """Keep a track whose face the scan lost (a head turned away, a heavy blur the
        detector no longer reads as a face) while its box still shows the same redaction:
        the detail there stays at the track's own level. A face moving out of the box, or
        the redaction dropping out, changes it and ends the hold. A mosaic held before a
        face was confirmed in it is shown to the detector again, as a detected one is."""
        grey = pixels.grey
        if len(track.detail) < 3:
            return
        # Where the redaction went by its own look (a head walks or turns while held);
        # failing that, where the camera moved it.
        prev = next((g for fi, g in self._buffer if fi == track.last_frame), None)
        box = follow(prev, grey, track.boxes[-1]) if prev is not None else None
        if box is None:
            if bisect_left(self._scans, index) - bisect_right(self._scans, track.last_frame):
                # Lost for a scan already and not found by its look: where the camera alone
                # moved its old box is stale (a head crossing the frame is long gone, and a
                # patch of wall there may read at the track's level).
                return
            box = _moved(track.boxes[-1], self._camera.shift(track.last_frame, index))
        d = region_detail(grey, box)
        if d is None:
            return
        kind = track.measures[-1].kind
        rule = single_rule(kind)
        base = float(np.median([getattr(v, rule.field) for v in track.detail.values()]))
        value = getattr(d, rule.field)
        # A coarse mosaic after H.264 reads above the dropout floor in every frame (16 px
        # blocks on a 170 px face: off_grid 0.27): it can only be held relative to itself.
        low = value < rule.floor or kind == "mosaic"
        if value - base <= 0.5 * rule.jump and low and (
                kind in ("mosaic", "solid") or _softer_than_surround(grey, box)):
            if index - track.last_frame > 1:
                self._fill_gap(track, index, box)
            track.add(index, box, track.measures[-1])
            track.detail[index] = d
            track.hits += 1
            self._maybe_confirm(track, pixels, box, track.measures[-1])

    def _fill_gap(self, track: Track, index: int, box: BoxXYWH) -> None:
        """Measure the frames since the track's last detection at interpolated boxes (a
        dropout leaves exactly such a gap: the scan sees no redaction there)."""
        f0, b0 = track.last_frame, np.array(track.boxes[-1], float)
        b1 = np.array(box, float)
        # Interpolated in scene coordinates, then moved with the camera: a jerk between the
        # two detections moves the face on that frame, not evenly across the gap.
        total = np.array([*self._camera.shift(f0, index), 0.0, 0.0])
        for fi, grey in self._buffer:
            if f0 < fi < index:
                a = (fi - f0) / (index - f0)
                cam = np.array([*self._camera.shift(f0, fi), 0.0, 0.0])
                bi: BoxXYWH = tuple(int(round(v)) for v in  # type: ignore[assignment]
                                    b0 + cam + a * (b1 - b0 - total))
                _note(track, fi, grey, bi)

    def _transient(self, track: Track) -> bool:
        """Was this face seen unredacted both before and after the track (within the gap a
        track survives)? Then the softness was the camera's (a focus pull, a quick move),
        not an editor's: a redaction covers a face for as long as it is shown, and one that
        starts or ends mid-shot leaves a clear face on one side only."""
        w = self.cfg.max_gap_frames
        first, last = track.frames[0], track.last_frame

        def seen(frames: range, box: BoxXYWH) -> bool:
            return any(f in frames and (iou(face, box) > 0.3 or _inside(box, _grow(
                face, 0.3, self._shape)) > 0.6 or _inside(face, box) > 0.8)
                for f, face in self._clear_log)

        return (seen(range(first - w, first), track.boxes[0])
                and seen(range(last + 1, last + w + 1), track.boxes[-1]))

    def finish(self) -> list[TrackFinding]:
        """Close all tracks and return the findings, ordered by first frame.

        Blurred and pixelated regions are found through CenterFace, so every such track has
        seen a face; solid fills stand on their flatness and crisp outline.
        """
        while len(self._prep):
            self._process(self._prep.pop())
        self._prep.close()
        self._prepared = None
        if self._live and self._scans and self._scans[-1] < self._last_index:
            # The last frames since the last scan would only be extrapolated (and not judged
            # for dropouts): one more scan on the last frame, with the detector, anchors them.
            self._scans.append(self._last_index)
            self._scan(self._last_index, self._buffer[-1][1], self._last_pixels, last=True)
        for t in self._live:
            self._close(t)
        tracks = self._done
        self._done, self._live = [], []
        max_w = self.cfg.max_face_frac * min(self._shape) if self._shape else np.inf
        kept: list[tuple[Track, list[int], int]] = []
        tracks = _merge_fragments([t for t in tracks if len(t.frames) >= 2],
                                  self.cfg.max_gap_frames)
        for t in sorted(tracks, key=lambda t: t.frames[0]):
            span = t.last_frame - t.frames[0] + 1
            if span < self.cfg.min_track_frames or len(t.frames) < 3:
                continue
            if t.hits < _MIN_HITS:
                continue  # found by one scan only (the rest filled in): a flicker
            kind, _ = _track_kind(t)
            if kind == "clear":
                continue  # its kernel fits mostly found no blur: a soft face, not a redaction
            if kind != "solid" and not t.faces and not (kind == "mosaic" and t.context):
                continue
            if float(np.median([b[2] for b in t.boxes])) > 1.25 * max_w:
                continue  # most of the frame: a soft picture, not a face redaction
            if kind == "solid" and _flat_patch_without_head(t, self._asks_head(t)):
                continue
            if kind not in ("solid", "mosaic") and self._transient(t):
                continue
            # Frames added at extrapolated boxes when the track closed looked redacted; the
            # box there may have slid off the face, so they are not judged again.
            end = t.last_frame if t.seen_until is None else t.seen_until
            series = {f: d for f, d in t.detail.items() if t.frames[0] <= f <= end}
            dropouts = sorted(set(dropout_frames(series, kind, self.cfg.min_track_frames))
                              | t.exposed)
            if len(dropouts) > 0.5 * span:
                continue  # mostly "unredacted": not a redaction that slipped, a false start
            scans = bisect_right(self._scans, t.last_frame) - bisect_left(self._scans,
                                                                          t.frames[0])
            kept.append((t, dropouts, scans))
        return _without_pieces([_finding(i, t, self.cfg, dropouts, scans)
                                for i, (t, dropouts, scans) in enumerate(kept)])


_WIDE_SLACK = 0.6
"""How far past a detected face (a share of its width) a blur may reach and still be taken
for one redaction when the picture just around the face is as soft as it: an editor's box
drawn with 40% to spare on each side reaches 0.4-0.5 face widths out."""


def _few_cells(grey: np.ndarray, box: BoxXYWH, slack: int,
               square_cells: bool) -> tuple[BoxXYWH, RegionMeasure] | None:
    """A pixelation only a few cells across around ``box``: its cells' extent and its
    reading (``coarse_mosaic``), or None. Its steps are sharp, so a box reaching past it
    reads clear, and its grid is too short for the walk of ``refine_mosaic_box``."""
    found = coarse_mosaic_box(grey, box, slack)
    if found is None:
        return None
    m = measure_region(grey, found, classify=False, square_cells=square_cells)
    if m is None or m.kind != "mosaic" or found[2] > _FEW_CELLS * m.strength_px \
            or found[3] > _FACE_ASPECT * _FEW_CELLS * m.strength_px:
        return None  # finer cells are the grid walk's to box: these are a part of them
    return found, m


_FACE_KEPT = 0.6
"""Share of a detected face a pixelation's refined box must keep; less, and the face's own
box (grown by a tenth) is measured instead."""
_FACE_ASPECT = 1.25
"""A face's height against its width (a few cells across are a few more down)."""
_FEW_CELLS = 5.0
"""Cells across a mosaic's box up to which it counts as a few cells (``coarse_mosaic``): the
cells' own extent boxes it (``_few_cells``), and a head around it vouches for it as for a
fill (``_maybe_confirm``), since so few cells hide the face from CenterFace."""


def _redaction_around(grey: np.ndarray, face: BoxXYWH, cfg: FinderConfig,
                      max_w: float) -> BoxXYWH | None:
    """The blurred region around a detected ``face`` when it reaches well past the face, or
    None. It must end in a sharp picture within ``_WIDE_SLACK`` face widths: a defocused
    background or a shaken frame has no such edge, so it is still not taken."""
    wide = refine_box(grey, _grow(face, 0.1, grey.shape), cfg, int(_WIDE_SLACK * face[2]))
    grown = wide[2] * wide[3] >= 1.5 * face[2] * face[3]
    if not grown or wide[2] > 1.1 * max_w or not _softer_than_surround(grey, wide):
        return None
    return wide


def _softer_than_surround(grey: np.ndarray, box: BoxXYWH) -> bool:
    """Is the region blurrier than the picture around it, as a redaction is?

    A sharp surround settles it. Soft footage (a defocused background, a low-quality GIF)
    has a soft surround too, and then the region must be much softer than it: a face blurred
    by camera shake keeps about as much fine detail as its surround (on the bench, a share
    of sharp pixels of 0.2-0.3 in the face's middle against 0.1-0.2 around it), a redacted
    face keeps almost none (below 0.1).
    """
    ring = ring_sharp_share(grey, box)
    if ring >= 0.2:
        return True
    d = region_detail(grey, box)
    return d is not None and d.sharp_share <= 0.5 * ring


def _block(track: Track) -> float:
    """A mosaic track's median cell size (px; 0 if no frame measured as a mosaic)."""
    cells = [m.strength_px for m in track.measures if m.kind == "mosaic"]
    return float(np.median(cells)) if cells else 0.0


def _shaded(track: Track) -> bool:
    """Does the fill's middle shade across it in most frames (``_SHADED_SPREAD``)? An editor
    draws one colour, which the codec keeps flat; a shadow falls off across the patch. Not
    judged so: a feathered fill (its box takes in its fade, whose ramp reaches into the
    middle), and a dark fill of a vivid colour, whose grey level carries the codec's colour
    errors (a blue oval on a 41 px face read 2 through H.264): its colour vouches for it."""
    spreads = [d.spread for d in track.detail.values()]
    return (not track.feathered and track.fill_chroma < VIVID_CHROMA and bool(spreads)
            and float(np.median(spreads)) >= _SHADED_SPREAD)


def _flat_patch_without_head(track: Track, asks_head: bool) -> bool:
    """Is this fill track scenery? No head vouches for it (no face seen in it, none around
    it), and it either had to show one (``_asks_head``: a tile, a screen, a coaster) or its
    boxes, once refined, are wider than a head (``FLAT_MIN_ASPECT``): a blown-out stretch of
    white wall beside a head, which HEVC flattens to one level. An eye bar is wide too, but
    is found on the face it covers, so it has that face. A patch that shades (``_shaded``)
    is scenery unless a face or a head seen plainly vouches for it: an editor's fill, of any
    colour, is one level, and a weak head context is no proof (a shadowed gap between
    cupboards draws as weak a response from the cabinets and flowers around it as a black
    box draws from a head; a napkin on a table, flattened by HEVC, draws none)."""
    if track.faces or track.context >= _SURE_CONTEXT:
        return False
    if _shaded(track):
        return True
    if track.context:
        return False
    aspect = float(np.median([b[3] / max(b[2], 1) for b in track.boxes]))
    return asks_head or aspect < FLAT_MIN_ASPECT


def _reportable(track: Track) -> bool:
    """Could this track become a finding (a face confirmed in it, or a fill or a mosaic)?
    Until then its frames are not worth judging for dropouts (most candidates are scenery)."""
    return bool(track.faces) or track.measures[-1].kind in ("solid", "mosaic")


def _seen(track: Track, det: int, box: BoxXYWH, m: RegionMeasure, seen: bool,
          bars: dict[int, tuple[BoxXYWH, float]], pixels: Pixels) -> None:
    """Record what a detection says beyond its box: that the detector saw a face there (for
    an eye bar, the face it covers, whose width is the face's, not the bar's), and a fill's
    grey level (and, if dark, its chroma) the first time the track reads as one."""
    if m.kind == "solid" and track.fill_level is None:
        track.fill_level = _fill_level(pixels.grey, box)
        if track.fill_level < _DARK_FILL:  # only a dark fill's colour matters (_asks_head)
            colour = fill_colour(pixels.rgb(), box)
            track.fill_chroma = chroma(colour) if colour is not None else 0.0
    track.feathered |= m.extent is not None
    track.detected |= seen
    if det in bars:
        face, coverage = bars[det]
        track.bar_face = face
        track.coverages.append(coverage)
        track.faces.append((1.0, float(face[2])))
    elif seen:
        track.faces.append((1.0, float(box[2])))


def _add_detection(track: Track, frame: int, grey: np.ndarray, box: BoxXYWH,
                   m: RegionMeasure) -> None:
    """Add a scan's detection to ``track`` and record its frame's detail if the track was
    worth judging before it: where a fill or a mosaic lifts, the scan finds the face it hid
    and measures that (soft as it is) as a blur, which must not stop the frame from being
    judged as the dropout it is (two HEVC fills' dropouts on the two-person GIF were not)."""
    judged = bool(track.frames) and _reportable(track)
    track.add(frame, box, m)
    _note(track, frame, grey, box, judged)


def _note(track: Track, frame: int, grey: np.ndarray, box: BoxXYWH,
          judged: bool = False) -> None:
    """Record the detail in the middle of ``box`` at ``frame`` for the dropout judgement
    (if the track is worth it, or ``judged`` says it was)."""
    if not (judged or _reportable(track)):
        return
    d = region_detail(grey, box) if track.bar_face is None else _bar_detail(grey, box)
    if d is not None:
        track.detail[frame] = d


def _bar_detail(grey: np.ndarray, box: BoxXYWH) -> Detail | None:
    """The flattest reading at or just above or below an eye bar's box. Between detections
    the box is interpolated, and a bar a fifth of a face tall slips out of it with a small
    nod; the bar itself is still right there unless it dropped out."""
    x, y, w, h = box
    best = None
    for dy in (0, -h // 3, h // 3, -2 * h // 3, 2 * h // 3):
        d = region_detail(grey, (x, y + dy, w, h))
        if d is not None and (best is None or d.spread < best.spread):
            best = d
    return best


def _same_face(a: Track, b: Track, max_gap: int) -> bool:
    """Do two tracks follow one redaction (overlapping boxes where both exist, or one
    picking up where the other stopped)?"""
    lo, hi = max(a.frames[0], b.frames[0]), min(a.last_frame, b.last_frame)
    if lo <= hi:
        scores = []
        for f in b.frames:
            if lo <= f <= hi:
                p, q = a.box_at(f), b.box_at(f)
                iw = max(0, min(p[0] + p[2], q[0] + q[2]) - max(p[0], q[0]))
                ih = max(0, min(p[1] + p[3], q[1] + q[3]) - max(p[1], q[1]))
                scores.append(iw * ih / max(1, min(p[2] * p[3], q[2] * q[3])))
        return bool(scores) and float(np.median(scores)) > 0.5
    first, second = (a, b) if a.last_frame < b.frames[0] else (b, a)
    if second.frames[0] - first.last_frame > max_gap:
        return False
    p, q = first.boxes[-1], second.boxes[0]
    return iou(p, q) > 0.3 or max(_inside(p, q), _inside(q, p)) > 0.6


def _extends_with_a_part(base: Track, t: Track) -> bool:
    """Would ``t``, much smaller than ``base`` (a patch of it), extend it in time? Beyond
    the base's span it would stand for the whole face (a soft patch of neck before a head
    that blurred as it moved). Its boxes there must be small too: a part of the face that
    the scan followed beside the face's track may have begun on the whole face."""
    lo, hi = base.frames[0], base.last_frame
    outside = [b[2] * b[3] for f, b in zip(t.frames, t.boxes, strict=True)
               if not lo <= f <= hi]
    part = _PART * float(np.median([b[2] * b[3] for b in base.boxes]))
    return (bool(outside) and float(np.median(outside)) < part
            and float(np.median([b[2] * b[3] for b in t.boxes])) < part)


def _reach(t: Track, max_gap: int) -> tuple[int, int, int, int, int, int]:
    """(first frame, last frame, x0, y0, x1, y1): where and when a track could meet another,
    its span widened by ``max_gap`` frames."""
    return (t.frames[0] - max_gap, t.last_frame + max_gap, min(b[0] for b in t.boxes),
            min(b[1] for b in t.boxes), max(b[0] + b[2] for b in t.boxes),
            max(b[1] + b[3] for b in t.boxes))


def _disjoint(p: tuple[int, ...], q: tuple[int, ...]) -> bool:
    """Do two reaches miss each other in time or in space?"""
    return (p[1] < q[0] or q[1] < p[0] or p[4] <= q[2] or q[4] <= p[2] or p[5] <= q[3]
            or q[5] <= p[3])


def _merge_fragments(tracks: list[Track], max_gap: int) -> list[Track]:
    """Join tracks of one redaction that the scan split (parts of a mosaic, a lost frame)."""
    merged: list[Track] = []
    # Tracks the face detector saw come first: their boxes cover the face, not a fragment.
    for t in sorted(tracks, key=lambda t: (-len(t.faces), -float(np.median(
            [b[2] * b[3] for b in t.boxes])))):
        reach = _reach(t, max_gap)
        for base in merged:
            if _disjoint(reach, _reach(base, 0)):
                continue  # far apart in time or space: skip the frame-by-frame comparison
            if _same_face(base, t, max_gap) and not _extends_with_a_part(base, t):
                # Within the base's span its own boxes win; the fragment only extends it.
                lo, hi = base.frames[0], base.last_frame
                have = set(range(lo, hi + 1))
                rows = sorted(
                    [(f, b, m) for f, b, m in zip(base.frames, base.boxes, base.measures,
                                                  strict=True)]
                    + [(f, b, m) for f, b, m in zip(t.frames, t.boxes, t.measures, strict=True)
                       if f not in have], key=lambda r: r[0])
                base.frames = [r[0] for r in rows]
                base.boxes = [r[1] for r in rows]
                base.measures = [r[2] for r in rows]
                base.detail = {**{f: d for f, d in t.detail.items() if f not in have},
                               **base.detail}
                base.faces.extend(t.faces)
                base.hits += t.hits
                base.coverages.extend(t.coverages)
                base.context = max(base.context, t.context)
                if base.fill_level is None:
                    base.fill_level, base.fill_chroma = t.fill_level, t.fill_chroma
                base.feathered |= t.feathered
                base.bar_face = base.bar_face or t.bar_face
                base.seen_until = max(
                    b.last_frame if b.seen_until is None else b.seen_until for b in (base, t))
                break
        else:
            merged.append(t)
    return merged


def _measured(t: Track) -> list[RegionMeasure]:
    """The track's distinct measurements (frames filled in by extension share one)."""
    return list({id(m): m for m in t.measures}.values())


def _track_kind(t: Track) -> tuple[str, Counter[str]]:
    """The track's redaction type (``measure.vote_kernel_type``: majority, with box against
    Gaussian settled by the kernel model's evidence over all frames) and the kinds counted."""
    kinds = Counter(m.kind for m in _measured(t) if m.kind != "blur")
    if not kinds:
        return "unknown", Counter({"unknown": len(t.measures)})
    return vote_kernel_type(_measured(t)), kinds


def _finding(track_id: int, t: Track, cfg: FinderConfig, dropouts: list[int],
             scans: int) -> TrackFinding:
    kind, kinds = _track_kind(t)
    same = ("gaussian_blur", "box_blur") if kind in ("gaussian_blur", "box_blur") else (kind,)
    strengths = [m.strength_px for m in _measured(t) if m.kind in same]
    strength = float(np.median(strengths)) if strengths else 0.0
    if kind == "solid":
        strength = 0.0
    widths = np.array([b[2] for b in t.boxes], float)
    heights = np.array([b[3] for b in t.boxes], float)
    face_w = float(np.median(widths))
    aspect = float(np.median(heights / np.maximum(widths, 1)))
    # An eye bar measures its share of the face; otherwise a head is ~1.2-1.4x taller than
    # wide, and a much flatter region is a partial cover.
    coverage = (float(np.median(t.coverages)) if t.coverages
                else float(np.clip(aspect / 1.0, 0.0, 1.0)))
    if t.faces:
        face_w = float(np.median([f[1] for f in t.faces]))
    persistence = min(1.0, len(t.frames) / max(1, scans))
    agreement = sum(kinds[k] for k in same) / max(1, sum(kinds.values()))
    confirmed = 1.0 if t.faces else 0.0
    confidence = float(np.clip(0.35 + 0.25 * persistence + 0.15 * agreement
                               + 0.25 * confirmed, 0.0, 1.0))
    residual = float(np.median([m.residual_detail for m in _measured(t) if m.kind in same]
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
        dropout_frames=sorted(dropouts),
        coverage=round(coverage, 3),
        confidence=round(confidence, 3),
        residual_detail=round(residual, 3),
    )


def find_in_frames(frames: Iterable[tuple[int, np.ndarray | Pixels]],
                   config: FinderConfig | None = None) -> list[TrackFinding]:
    """Run a :class:`RedactionFinder` over ``(index, RGB array or Pixels)`` frames and return
    its findings."""
    finder = RedactionFinder(config)
    for index, frame in frames:
        finder.add_frame(index, frame)
    return finder.finish()
