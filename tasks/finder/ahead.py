"""The finder's per-frame work that needs none of its state, run on a worker thread ahead of it.

The finder's own work (measuring, tracking, judging dropouts) is Python and holds one core.
The camera's move, CenterFace's whole-frame passes and the pixel scan's candidates depend
only on the frames, so a single worker thread runs them a few frames ahead, in order, while
the finder works on earlier frames: OpenCV and ONNX Runtime release the GIL, so on two cores
they cost the finder's thread little. Which frames get a detector pass or a pixel scan is
predicted from the finder's scan rate when the frame comes in (:class:`Work`); what the
prediction missed is run when the finder reaches the frame, so the findings are the same
with or without the worker (``ahead=0`` runs everything inline).
The camera's small copy of a frame may be made earlier still, on the thread that decoded it
(``RedactionFinder.decoded``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np

from veilscan.tasks.finder.camera import CameraMotion
from veilscan.tasks.finder.confirm import Detection, detect_faces
from veilscan.tasks.finder.frames import Pixels
from veilscan.tasks.finder.scan import Candidate


def detect_at_sides(rgb: np.ndarray, sides: tuple[int, ...], threshold: float,
                    int8: bool = False) -> list[list[Detection]]:
    """CenterFace over the whole of ``rgb`` downscaled to each longer side in ``sides`` (in
    order, each pass downscaling the previous one: less to read), in frame px; ``int8``:
    on the int8 network (``confirm.whole_frame_int8``)."""
    fh, fw = rgb.shape[:2]
    out = []
    src, f_src = rgb, 1.0
    for side in sides:
        f = min(1.0, side / max(fh, fw))
        small = src if f == f_src else cv2.resize(
            src, (max(1, round(fw * f)), max(1, round(fh * f))), interpolation=cv2.INTER_AREA)
        src, f_src = small, f
        out.append([(x / f, y / f, w / f, h / f, s) for x, y, w, h, s
                    in detect_faces(np.ascontiguousarray(small), threshold, int8=int8)])
    return out


@dataclass(frozen=True)
class Work:
    """What the finder will likely ask of a frame besides its camera move."""

    sides: tuple[int, ...] = ()
    """Longer sides of the detector's whole-frame passes (empty: none)."""
    int8: bool = False
    """Whether those run the int8 network (``confirm.whole_frame_int8``)."""
    pixel_scan: bool = False
    """Whether the pixel scan (``scan.scan_frame``) runs on it."""


@dataclass
class Prepared:
    """One frame made ready for the finder: its luma, and the detector passes and the pixel
    scan run on it."""

    index: int
    pixels: Pixels
    grey: np.ndarray
    sides: tuple[int, ...]
    """Longer sides CenterFace ran at (empty: none ran)."""
    faces: list[list[Detection]]
    """Detections per side in ``sides``, frame px."""
    int8: bool = False
    """Whether they came from the int8 network."""
    candidates: list[Candidate] | None = None
    """The pixel scan's candidates (None: it did not run)."""


class FramePrep:
    """Prepares frames in order, up to ``ahead`` of the finder, on one worker thread;
    ``pixel_scan(grey)`` is the finder's pixel scan."""

    def __init__(self, camera: CameraMotion, threshold: float, ahead: int,
                 pixel_scan: Callable[[np.ndarray], list[Candidate]]) -> None:
        self._camera = camera
        self._threshold = threshold
        self._pixel_scan = pixel_scan
        self.ahead = ahead
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="finder-ahead") if ahead else None
        self._pending: deque[Future[Prepared] | Prepared] = deque()

    def __len__(self) -> int:
        return len(self._pending)

    def submit(self, index: int, pixels: Pixels, work: Work) -> None:
        """Queue frame ``index``, with the ``work`` it will likely need."""
        if self._pool is None:
            self._pending.append(self._prepare(index, pixels, work))
        else:
            self._pending.append(self._pool.submit(self._prepare, index, pixels, work))

    def pop(self) -> Prepared:
        """The oldest queued frame, once ready (a worker's error is raised here)."""
        item = self._pending.popleft()
        return item.result() if isinstance(item, Future) else item

    def close(self) -> None:
        """Stop the worker (queued frames are dropped)."""
        self._pending.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _prepare(self, index: int, pixels: Pixels, work: Work) -> Prepared:
        grey = pixels.grey
        self._camera.update(index, grey)
        faces = (detect_at_sides(pixels.rgb(), work.sides, self._threshold, work.int8)
                 if work.sides else [])
        candidates = self._pixel_scan(grey) if work.pixel_scan else None
        return Prepared(index, pixels, grey, work.sides, faces, work.int8, candidates)
