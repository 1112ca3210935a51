"""Face-size check on real captures: one portrait at 240p/480p/720p against a 1080p gallery.

The same redaction in pixels leaves more cells across a bigger face; the portrait ladder
(``../shared/media/portrait_ladder``) shows whether the attacks and the model agree on that
with a real camera image at each resolution rather than a resampled ORL crop. One identity
only, and the gallery photo is the mirrored 1080p frame of the same sitting: an easy case
(same photo), reported as a sanity check, not used for fitting.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from veilscan.catalog.risk_model import RiskModel
from veilscan.tasks.attack.attacks import restore
from veilscan.tasks.attack.conditions import Condition, render
from veilscan.tasks.attack.recogniser import Recogniser

PROBES: tuple[str, ...] = ("obama-240p.jpg", "obama-480p.jpg", "obama-720p.jpg")
GALLERY = "obama-1080p.jpg"
RECIPES: tuple[tuple[str, float], ...] = (
    ("gaussian_blur", 2.0), ("gaussian_blur", 4.0), ("gaussian_blur", 8.0),
    ("gaussian_blur", 16.0), ("mosaic", 4.0), ("mosaic", 8.0), ("mosaic", 16.0),
    ("mosaic", 32.0),
)
"""Redactions in frame pixels (sigma, block), the same at every resolution."""


@dataclass(frozen=True)
class LadderRow:
    """One redacted probe: its face size, the model's risk and which attacks named it."""

    image: str
    face_width_px: float
    redaction_type: str
    strength_px: float
    cells: float
    risk_score: float
    naive: bool
    parrot: bool
    restoration: bool

    @property
    def identified(self) -> bool:
        return self.naive or self.parrot or self.restoration


def face_crop(path: Path) -> tuple[np.ndarray, float]:
    """The grey face box of the one detected face (dlib's detector), and its width (px)."""
    import dlib

    grey = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2GRAY)
    dets = dlib.get_frontal_face_detector()(grey, 1)
    if not dets:
        raise ValueError(f"no face found in {path}")
    d = max(dets, key=lambda r: r.width())
    w = d.width()
    x0, x1, y0, y1 = d.left(), d.right() + 1, d.top(), d.bottom() + 1
    h_img, w_img = grey.shape
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w_img, x1), min(h_img, y1)
    return grey[y0:y1, x0:x1].copy(), float(w)


def ladder_check(rec: Recogniser, ladder_dir: Path, distractors: list[np.ndarray],
                 model: RiskModel) -> list[LadderRow]:
    """Attack each redacted ladder probe in a gallery of the 1080p portrait + distractors."""
    ladder_dir = Path(ladder_dir)
    gal_crop, _ = face_crop(ladder_dir / GALLERY)
    gallery = [gal_crop[:, ::-1].copy(), *distractors]
    gallery_desc = rec.describe(gallery)
    rows = []
    for name in PROBES:
        crop, face_w = face_crop(ladder_dir / name)
        for rtype, s in RECIPES:
            cond = Condition(rtype, s, crop.shape[1], face_fraction=face_w / crop.shape[1])
            if cells_of(cond) < 1.0:
                continue
            probe = render(crop, cond, scaled=True)
            parrot = [render(g, cond) for g in gallery]
            d = rec.describe([probe, restore(probe, cond, (0, 0)), *parrot])

            def first(q: np.ndarray, g: np.ndarray) -> bool:
                return int(np.linalg.norm(g - q[None], axis=1).argmin()) == 0

            f = cond.features()
            rows.append(LadderRow(name, face_w, rtype, s, round(2 ** f.log_cells - 1, 2),
                                  round(model.predict(f), 3), first(d[0], gallery_desc),
                                  first(d[0], d[2:]), first(d[1], gallery_desc)))
    return rows


def cells_of(cond: Condition) -> float:
    return float(2 ** cond.features().log_cells - 1)
