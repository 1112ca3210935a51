"""The calibrated risk model: its parameters, its features and its prediction.

``risk_score`` is the probability that the calibrated attacker (the best of naive, parrot,
restoration and multi-frame recognition, see ``veilscan.tasks.attack``) names the person
rank-1 in a gallery of ``gallery_size`` identities, one clear photo each. The model is a
"noisy OR" of two logistic terms over features the finder reports: the redacted part leaks
(per redaction type: cells across the face, frames) or the part the redaction leaves
uncovered identifies on its own (share uncovered). Signs are constrained so that risk never
rises with a stronger redaction, never falls with more frames or less coverage.
Parameters live in ``risk_model.json`` beside this module, with a version that the
scan ledger records; ``veilscan calibrate`` re-fits them.

This module is dependency-light (numpy only) so scan-time scoring stays cheap.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from veilscan.catalog.clip_result import cells_across_face

DEFAULT_MODEL_PATH = Path(__file__).with_name("risk_model.json")

MODEL_TYPES: tuple[str, ...] = ("gaussian_blur", "box_blur", "motion_blur", "mosaic", "solid")
"""Redaction types with their own parameters; ``unknown`` borrows the riskiest blur's."""

PER_TYPE_FEATURES: tuple[str, ...] = ("intercept", "log_cells", "log_frames")
SHARED_FEATURES: tuple[str, ...] = ("visible_intercept", "uncovered", "residual_detail")
"""``visible_intercept`` + ``uncovered`` * (1 - coverage) is the logit that the uncovered part
alone identifies; ``residual_detail`` adds to the redacted part's logit."""
NONNEGATIVE: frozenset[str] = frozenset({"log_cells", "log_frames", "uncovered", "residual_detail"})
"""Coefficients constrained >= 0: the monotonicity the risk score promises."""


def effective_cells(redaction_type: str, strength_px: float, face_width_px: float) -> float:
    """Independent samples across the face, limited by the face's own resolution (cells).

    ``cells_across_face`` says what the redaction leaves; a face of ``w`` px cannot carry
    more than about ``w / 2`` cells however weak the redaction, so the two limits combine
    in quadrature. Monotone: never rises with ``strength_px`` at fixed ``face_width_px``.
    """
    cells = cells_across_face(redaction_type, strength_px, face_width_px)
    if cells <= 0 or face_width_px <= 0:
        return 0.0
    native = face_width_px / 2.0
    return float(1.0 / math.sqrt(1.0 / cells**2 + 1.0 / native**2))


@dataclass(frozen=True)
class Features:
    """The model's inputs for one track (dimensionless; cells and frames on log2 scales)."""

    redaction_type: str
    log_cells: float
    log_frames: float
    uncovered: float
    residual_detail: float

    @classmethod
    def of(
        cls,
        redaction_type: str,
        strength_px: float,
        face_width_px: float,
        frame_count: int,
        coverage: float = 1.0,
        residual_detail: float = 0.0,
    ) -> Features:
        """Build features from the finder's raw measurements (px, frames, fractions)."""
        cells = effective_cells(redaction_type, strength_px, face_width_px)
        return cls(
            redaction_type=redaction_type,
            log_cells=math.log2(1.0 + cells),
            log_frames=math.log2(max(1, int(frame_count))),
            uncovered=1.0 - min(1.0, max(0.0, float(coverage))),
            residual_detail=min(1.0, max(0.0, float(residual_detail))),
        )


@dataclass(frozen=True)
class RiskModel:
    """Fitted parameters: per-type ``intercept``/``log_cells``/``log_frames`` plus shared terms."""

    version: str
    per_type: dict[str, dict[str, float]]
    shared: dict[str, float]
    gallery_size: int
    dropout_risk: float
    provisional: bool = False
    meta: dict[str, Any] = field(default_factory=dict)

    def params_for(self, redaction_type: str) -> dict[str, float]:
        """Parameters of one type; unknown smoothing takes the riskiest blur (conservative)."""
        if redaction_type in self.per_type:
            return self.per_type[redaction_type]
        blurs = [t for t in ("gaussian_blur", "box_blur", "motion_blur") if t in self.per_type]
        return max(
            (self.per_type[t] for t in blurs), key=lambda p: p["intercept"] + 4 * p["log_cells"]
        )

    def logit(self, f: Features) -> float:
        """Logit that the redacted part leaks enough to identify."""
        p = self.params_for(f.redaction_type)
        z = p["intercept"] + p["log_cells"] * f.log_cells + p["log_frames"] * f.log_frames
        return z + self.shared["residual_detail"] * f.residual_detail

    def visible_logit(self, f: Features) -> float:
        """Logit that the uncovered part of the face identifies on its own."""
        return self.shared["visible_intercept"] + self.shared["uncovered"] * f.uncovered

    def predict(self, f: Features) -> float:
        """Probability of rank-1 identification, in [0, 1] (noisy OR of the two parts)."""
        leak, visible = _sigmoid(self.logit(f)), _sigmoid(self.visible_logit(f))
        return float(1.0 - (1.0 - leak) * (1.0 - visible))

    def predict_many(self, feats: list[Features]) -> np.ndarray:
        return np.array([self.predict(f) for f in feats], dtype=float)

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "provisional": self.provisional,
            "meaning": (
                "P(rank-1 identification) by the best calibrated attack in a gallery of "
                f"{self.gallery_size} identities, one clear photo each"
            ),
            "gallery_size": self.gallery_size,
            "dropout_risk": self.dropout_risk,
            "features": {
                "log_cells": "log2(1 + effective cells across the face)",
                "log_frames": "log2(frame_count)",
                "uncovered": "1 - coverage",
                "form": "1 - (1 - sigmoid(a_t + b_t*log_cells + c_t*log_frames + r*residual))"
                        " * (1 - sigmoid(visible_intercept + uncovered*(1 - coverage)))",
                "residual_detail": "finder's residual high-frequency detail, 0..1",
            },
            "per_type": self.per_type,
            "shared": self.shared,
            "meta": self.meta,
        }

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_json_dict(), indent=2, sort_keys=False) + "\n")

    @classmethod
    def from_json_dict(cls, d: dict[str, Any]) -> RiskModel:
        per_type = {
            t: {k: float(v[k]) for k in PER_TYPE_FEATURES} for t, v in d["per_type"].items()
        }
        for t, v in per_type.items():
            for k in NONNEGATIVE & set(v):
                if v[k] < 0:
                    raise ValueError(f"risk model {t}.{k} = {v[k]} breaks monotonicity (< 0)")
        shared = {k: float(d["shared"][k]) for k in SHARED_FEATURES}
        if min(shared["uncovered"], shared["residual_detail"]) < 0:
            raise ValueError(f"risk model shared slopes must be >= 0: {shared}")
        return cls(
            version=str(d["version"]),
            per_type=per_type,
            shared=shared,
            gallery_size=int(d["gallery_size"]),
            dropout_risk=float(d["dropout_risk"]),
            provisional=bool(d.get("provisional", False)),
            meta=dict(d.get("meta", {})),
        )


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z) if z > -700 else 0.0
    return e / (1.0 + e)


MODEL_PATH_ENV = "VEILSCAN_RISK_MODEL"


def load_model(path: Path | None = None) -> RiskModel:
    """Read the model JSON: ``path``, else ``$VEILSCAN_RISK_MODEL`` (a model re-fitted with
    ``veilscan calibrate`` on your own faces), else the committed one. The ledger keys on the
    model's version, so switching models makes the next scan re-score every clip."""
    path = Path(path or os.environ.get(MODEL_PATH_ENV) or DEFAULT_MODEL_PATH)
    return RiskModel.from_json_dict(json.loads(path.read_text()))
