"""Calibration conditions: how a face is redacted, at what size, over how many frames.

A condition is one cell of the calibration grid (redaction type x strength x face size x
frame count x coverage band). ``render`` redacts a tight face crop exactly as
``veilscan.tasks.obfuscate`` does in the archive, and ``features`` reports what the finder
would: the contract's ``strength_px`` (sigma-equivalent for blurs, block for mosaics),
face width, coverage and frame count.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from veilscan.catalog.clip_result import box_sigma
from veilscan.catalog.risk_model import Features
from veilscan.tasks.obfuscate import Recipe, apply

BANDS: dict[str, tuple[float, float]] = {
    "full": (0.0, 1.0),
    "eyes": (0.28, 0.52),
    "upper": (0.0, 0.55),
    "lower": (0.5, 1.0),
}
"""Vertical extent (fraction of the crop height) that each coverage band redacts: the full
face, an eye bar, the upper part (eyes and brow) or the lower part (nose and mouth)."""


FACE_FRACTION = 1.0
"""Share of a crop's width that is face. Calibration crops are cut to the face box
(``faces.ORL_FACE_BOX``), so 1; kept as a field for crops with margins."""


@dataclass(frozen=True)
class Condition:
    """One redaction setting. ``recipe_strength`` is ``obfuscate.Recipe.strength`` (px);
    ``face_width_px`` is the width of the crop the redaction covers (px), of which
    ``face_fraction`` is the face itself."""

    redaction_type: str
    recipe_strength: float
    face_width_px: int
    frames: int = 1
    band: str = "full"
    motion_angle_deg: float = 0.0
    face_fraction: float = FACE_FRACTION

    @property
    def reported_face_width_px(self) -> float:
        """The face width the finder would report (px)."""
        return self.face_width_px * self.face_fraction

    @property
    def strength_px(self) -> float:
        """The contract's strength: Gaussian-equivalent sigma (blurs), block (mosaic), 0 (solid)."""
        t, s = self.redaction_type, self.recipe_strength
        if t in ("box_blur", "motion_blur"):
            return box_sigma(s)
        return 0.0 if t == "solid" else float(s)

    @property
    def coverage(self) -> float:
        lo, hi = BANDS[self.band]
        return hi - lo

    def features(self) -> Features:
        return Features.of(self.redaction_type, self.strength_px, self.reported_face_width_px,
                           self.frames, self.coverage, 0.0)

    def recipe(self, grid_origin: tuple[int, int] = (0, 0)) -> Recipe:
        return Recipe(method=self.redaction_type, strength=self.recipe_strength,  # type: ignore[arg-type]
                      motion_angle_deg=self.motion_angle_deg, grid_origin=grid_origin)

    def band_box(self, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
        """``(x, y, w, h)`` of the redacted band inside a crop of ``shape`` (px)."""
        h, w = shape[:2]
        lo, hi = BANDS[self.band]
        y0, y1 = int(round(lo * h)), int(round(hi * h))
        return 0, y0, w, max(1, y1 - y0)


def strength_for_cells(redaction_type: str, cells: float, face_width_px: float) -> float:
    """The recipe strength (px) that leaves about ``cells`` cells across a face (inverse of
    ``cells_across_face``): sigma for Gaussian, kernel/streak width for box/motion, block."""
    sigma = face_width_px / (2.0 * cells)
    if redaction_type == "gaussian_blur":
        return round(max(0.5, sigma), 2)
    if redaction_type in ("box_blur", "motion_blur"):
        return float(max(2, int(round((12 * sigma * sigma + 1) ** 0.5))))
    if redaction_type == "mosaic":
        return float(max(2, int(round(face_width_px / cells))))
    return 0.0


def scale_face(face: np.ndarray, width_px: int) -> np.ndarray:
    """Resample a tight crop to ``width_px`` wide, keeping its aspect (face size axis)."""
    h, w = face.shape[:2]
    height = max(2, int(round(h * width_px / w)))
    interp = cv2.INTER_AREA if width_px < w else cv2.INTER_CUBIC
    return cv2.resize(face, (int(width_px), height), interpolation=interp)


def render(face: np.ndarray, cond: Condition, grid_origin: tuple[int, int] = (0, 0),
           scaled: bool = False) -> np.ndarray:
    """Scale ``face`` to the condition's width (unless ``scaled``) and redact its band."""
    img = face if scaled else scale_face(face, cond.face_width_px)
    return apply(img, cond.band_box(img.shape), cond.recipe(grid_origin))
