"""Identity sets for calibration: one folder per person, tight face crops inside.

ORL/AT&T (``s1..s40/*.pgm``, 92 x 112 px grey) is the reference layout; any folder of
folders of images works the same. Faces are read as grey uint8 (the recogniser sees three
equal channels), so colour sets and ORL are calibrated alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = frozenset({".pgm", ".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"})

ORL_FACE_BOX = (0.06, 0.27, 0.94, 0.95)
"""The face inside an ORL head crop, as fractions (x0, y0, x1, y1) of width and height:
brows to chin, cheek to cheek (dlib's detector box on ORL, averaged). Calibrating on this box
rather than the whole crop keeps hair and background (context, which a solid box over the
face does not hide either) out of the measured leak, and matches the face box the finder
reports."""


def crop_box(img: np.ndarray, box: tuple[float, float, float, float] | None) -> np.ndarray:
    """The fractional ``box`` of ``img`` (the whole image when ``box`` is None)."""
    if box is None:
        return img
    h, w = img.shape[:2]
    x0, y0, x1, y1 = box
    return img[int(round(y0 * h)):int(round(y1 * h)), int(round(x0 * w)):int(round(x1 * w))].copy()


def _natural(s: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


@dataclass(frozen=True)
class Identity:
    """One person: a name and their face crops (grey uint8, any size)."""

    name: str
    faces: tuple[np.ndarray, ...]


def load_identities(faces_dir: Path, min_faces: int = 2,
                    face_box: tuple[float, float, float, float] | None = None
                    ) -> list[Identity]:
    """Every sub-folder of ``faces_dir`` with at least ``min_faces`` readable images, each
    cut to ``face_box`` (fractions of the image; None keeps the whole image)."""
    root = Path(faces_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"no identity folder at {root}")
    out = []
    for d in sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: _natural(p.name)):
        files = sorted((f for f in d.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES),
                       key=lambda f: _natural(f.name))
        faces = [crop_box(im, face_box) for im in
                 (cv2.imread(str(f), cv2.IMREAD_GRAYSCALE) for f in files) if im is not None]
        if len(faces) >= min_faces:
            out.append(Identity(d.name, tuple(faces)))
    if len(out) < 2:
        raise ValueError(f"{root} holds fewer than 2 identities with >= {min_faces} faces each")
    return out
