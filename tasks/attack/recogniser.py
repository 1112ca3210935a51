"""The attacker's recogniser: dlib's ResNet face descriptor (128-d), loaded lazily.

Weights come from the ``face_recognition_models`` wheel (no download). Its ``__init__``
needs ``pkg_resources``, which recent setuptools dropped, so the model files are located
through the import system without importing the package.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

CANONICAL_WH = (92, 112)
"""Every probe and gallery face is resampled to this size (px, the ORL crop) before alignment."""


class RecogniserUnavailable(RuntimeError):
    """dlib or the model files are missing: install the ``calibrate`` extra."""


def model_paths() -> tuple[Path, Path]:
    """(five-point shape predictor, ResNet recogniser) files shipped by face_recognition_models."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RecogniserUnavailable("face_recognition_models is not installed (calibrate extra)")
    root = Path(next(iter(spec.submodule_search_locations))) / "models"
    sp = root / "shape_predictor_5_face_landmarks.dat"
    rec = root / "dlib_face_recognition_resnet_model_v1.dat"
    for p in (sp, rec):
        if not p.exists():
            raise RecogniserUnavailable(f"missing model file {p}")
    return sp, rec


def available() -> tuple[bool, str]:
    """Whether the recogniser can load here, and why not."""
    try:
        import dlib  # noqa: F401
    except ImportError as e:
        return False, f"dlib not importable ({e}); install veilscan[calibrate]"
    try:
        model_paths()
    except RecogniserUnavailable as e:
        return False, str(e)
    return True, ""


def to_canonical(img: np.ndarray) -> np.ndarray:
    """Resample a tight face crop to the canonical size as an RGB uint8 image."""
    w, h = CANONICAL_WH
    interp = cv2.INTER_AREA if img.shape[1] > w else cv2.INTER_CUBIC
    out = cv2.resize(img, (w, h), interpolation=interp)
    if out.ndim == 2:
        out = np.dstack([out] * 3)
    return np.ascontiguousarray(out.astype(np.uint8))


@dataclass
class Recogniser:
    """dlib ResNet descriptors of tight face crops (no detector: the crop is the face box)."""

    _sp: Any = None
    _rec: Any = None
    calls: int = 0

    def _load(self) -> None:
        if self._rec is None:
            try:
                import dlib
            except ImportError as e:  # pragma: no cover - depends on the extra
                raise RecogniserUnavailable(f"dlib not importable: {e}") from e
            sp, rec = model_paths()
            self._dlib = dlib
            self._sp = dlib.shape_predictor(str(sp))
            self._rec = dlib.face_recognition_model_v1(str(rec))

    def describe(self, faces: list[np.ndarray]) -> np.ndarray:
        """128-d descriptors (N x 128) of tight face crops of any size (grey or RGB)."""
        self._load()
        dlib = self._dlib
        imgs = [to_canonical(f) for f in faces]
        if not imgs:
            return np.zeros((0, 128))
        chips = []
        for im in imgs:
            rect = dlib.rectangle(0, 0, im.shape[1] - 1, im.shape[0] - 1)
            chips.append(dlib.get_face_chip(im, self._sp(im, rect), size=150, padding=0.25))
        self.calls += len(chips)
        out = self._rec.compute_face_descriptor(chips)
        return np.array([np.array(d) for d in out], dtype=np.float64)
