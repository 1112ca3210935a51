"""Tunable parameters of the redaction finder, in one frozen dataclass.

Sizes are pixels of the decoded frame unless a name says otherwise; times are frames.
"""

from __future__ import annotations

from dataclasses import dataclass

DETECTOR_VERSION = "finder-0.45"
"""Bump whenever detection behaviour changes: the scan ledger keys on it."""


@dataclass(frozen=True)
class FinderConfig:
    """Thresholds and budgets of :class:`~veilscan.tasks.finder.RedactionFinder`.

    The defaults are tuned on ``bench/finder.py``; change them there, not per call site.
    """

    max_scan_side_px: int = 640
    """Frames whose longer side exceeds this are scanned downscaled (speed)."""
    scan_kinds: tuple[str, ...] = ("blur", "mosaic", "flat")
    """Maps the pixel scan looks for (``scan.scan_frame``): soft regions, block grids, fills.
    Soft regions keep fast-moving and small blurred faces tracked between detector runs;
    without "blur", smooth candidates from the other maps are dropped as background."""
    scan_stride: int = 3
    """Full-frame scan every N frames; frames in between are checked only at track boxes."""
    min_face_px: int = 32
    """Smallest redacted region (width) reported, in frame pixels."""
    max_face_frac: float = 0.75
    """Largest region as a share of the frame's smaller side (whole-frame blur is no redaction).
    A selfie or a portrait video comes close to the camera: the talking head's blurred face
    in its last 45 frames fills 66-72% of the frame's width, and at 0.6 (before finder-0.23)
    it gave no track, its dropout unreported. At 0.75 bench/finder_foreign.py followed 177 of
    180 faces (174) and found 173 of 180 dropouts (169); bench/finder.py's clean clips
    (defocus, shake, MPEG) still gave no false track; the 18 whole shots on cached bytes
    boxed 10558 of 10800 face frames (10465), 179/180 dropouts, but 13 false dropout frames
    (6): a close-up's box lags the face as it grows (finder-0.24's dropout rules: 4)."""
    window_px: int = 7
    """Box window (scan pixels) over which local energies are averaged."""
    reblur_sigma_px: float = 1.5
    """Re-blur used by the gradient-energy-ratio sharpness test (scan pixels)."""
    blur_ratio_max: float = 1.6
    """A pixel is 'blurred' if E(grad)/E(grad after re-blur) is below this."""
    sharp_ratio_min: float = 2.2
    """A pixel is 'sharp' above this ratio (used for surround and dropout tests)."""
    structure_min: float = 6.0
    """Mean squared gradient (after re-blur) a pixel needs before its sharpness is judged."""
    flat_max: float = 1.5
    """Mean squared gradient below which a pixel is flat (solid fill candidates)."""
    mosaic_pair_max: float = 0.2
    """Mosaic: share of gradient in adjacent-pixel pairs (0 for a perfect block grid)."""
    mosaic_edge_min: float = 0.4
    """Mosaic: mean |dx| a pixel's window needs before the pair test counts."""
    min_track_frames: int = 5
    """Tracks shorter than this are dropped (a redaction persists; noise flickers)."""
    max_gap_frames: int = 14
    """A track survives this many frames without a detection (dropouts, missed scans)."""
    iou_min: float = 0.2
    """Minimum IoU to link a detection to a track."""
    detect_every: int = 2
    """CenterFace runs on every N-th scan (it costs more than everything else together)."""
    detect_side_px: int = 640
    """CenterFace runs on the frame downscaled to this longer side (px)."""
    coarse_side_px: int = 256
    """Second CenterFace pass at this longer side (px), for heavily blurred large faces."""
    face_threshold: float = 0.3
    """CenterFace score for a face (blurred faces score lower than clear ones)."""
    confirm_frames: int = 6
    """Most frames per track on which CenterFace is tried (stops at the first face)."""
    reject_frames: int = 15
    """A region measured as unredacted is not re-measured for this many frames."""
    confirm_threshold: float = 0.25
    """CenterFace score that counts as a face."""
    dark_fill_needs_head: bool = True
    """A dark or a small solid fill is reported only where CenterFace sees a head around it
    (tiles, screens and coasters are flat and crisp too). Off for rescans of our own
    re-redaction, whose fills cover the whole head with a margin and are looked for where
    they were drawn."""
