"""Scan-time risk scoring: the fitted risk model over the finder's features, no attack run.

``score_track`` fills ``risk_score`` (probability of rank-1 re-identification by the
calibrated attacker, see ``veilscan.catalog.risk_model``), ``risk_tier`` and human-readable
``risk_factors``. It costs microseconds per track, so the scanner can call it per clip.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache

from veilscan.catalog.clip_result import ClipInfo, TrackFinding
from veilscan.catalog.risk_model import Features, RiskModel, effective_cells, load_model


@lru_cache(maxsize=1)
def _default_model() -> RiskModel:
    return load_model()


RISK_MODEL_VERSION: str = _default_model().version
"""Version of the committed parameters (``catalog/risk_model.json``); the ledger records it."""


@dataclass(frozen=True)
class TierThresholds:
    """Lower bounds of ``risk_score`` for each tier above ``low`` (probabilities, 0..1).

    Defaults: ``medium`` from 0.15 (three times chance in the 20-identity calibration
    gallery), ``high`` from 0.40, ``critical`` from 0.70. Any dropout is ``critical`` whatever
    the score. Pass your own to ``score_track`` to tighten or relax them.
    """

    medium: float = 0.15
    high: float = 0.40
    critical: float = 0.70

    def __post_init__(self) -> None:
        if not 0.0 <= self.medium <= self.high <= self.critical <= 1.0:
            raise ValueError(f"need 0 <= medium <= high <= critical <= 1, got {self}")

    def tier(self, score: float) -> str:
        if score >= self.critical:
            return "critical"
        if score >= self.high:
            return "high"
        if score >= self.medium:
            return "medium"
        return "low"


DEFAULT_THRESHOLDS = TierThresholds()


UNKNOWN_FACE_WIDTH_PX = 200.0
"""Face width assumed when neither the finder nor the boxes give one: large, so an unmeasured
face is scored as exposed rather than as safe."""


def _face_width(track: TrackFinding) -> tuple[float, str]:
    """The face width (px) to score with, and a note when it had to be inferred."""
    if track.face_width_px > 0:
        return float(track.face_width_px), ""
    widths = [b[3] for b in track.boxes if len(b) >= 4 and b[3] > 0]
    if widths:
        w = float(sorted(widths)[len(widths) // 2])
        return w, f"face width not measured; used the median box width {w:.0f} px"
    return UNKNOWN_FACE_WIDTH_PX, (f"face width unknown; assumed {UNKNOWN_FACE_WIDTH_PX:.0f} px "
                                   "(conservative)")


def _strength_factor(track: TrackFinding, cells: float, w: float) -> str:
    t, s = track.redaction_type, track.strength_px
    frames = track.frame_count
    over = f" over {frames} frames" if frames > 1 else ""
    if t == "solid":
        return ("solid fill: no facial detail left under it (context such as hair, clothes "
                "or voice may still identify)")
    if t == "mosaic":
        return (f"mosaic of {cells:.1f} cells across the face ({s:.1f} px blocks on a "
                f"{w:.0f} px face){over}")
    names = {"gaussian_blur": "blur", "box_blur": "box blur", "motion_blur": "motion blur"}
    kind = names.get(t, f"{t} smoothing")
    return f"{kind} sigma {s:.1f} px on a {w:.0f} px face ({cells:.1f} cells across){over}"


def score_track(
    track: TrackFinding,
    clip: ClipInfo,
    thresholds: TierThresholds | None = None,
    model: RiskModel | None = None,
) -> TrackFinding:
    """Return a copy of ``track`` with ``risk_score``, ``risk_tier`` and ``risk_factors`` set.

    ``clip`` is accepted for context (frame size, fps) and not needed by the current model.
    ``model`` defaults to the committed parameters (``RISK_MODEL_VERSION``).
    """
    del clip  # the fitted model needs only the track's own features
    model = model or _default_model()
    thresholds = thresholds or DEFAULT_THRESHOLDS
    face_w, width_note = _face_width(track)
    feats = Features.of(
        track.redaction_type,
        track.strength_px,
        face_w,
        track.frame_count,
        track.coverage,
        track.residual_detail,
    )
    score = model.predict(feats)
    cells = effective_cells(track.redaction_type, track.strength_px, face_w)
    factors: list[str] = []
    n_drop = len(set(track.dropout_frames))
    if n_drop:
        plural = "frame shows" if n_drop == 1 else "frames show"
        factors.append(f"dropout: {n_drop} {plural} the face unredacted")
        score = max(score, model.dropout_risk)
    factors.append(_strength_factor(track, cells, face_w))
    if width_note:
        factors.append(width_note)
    if track.coverage < 0.95:
        factors.append(f"redaction covers {track.coverage:.0%} of the face; the rest is visible")
    if track.residual_detail >= 0.1:
        factors.append(f"residual detail {track.residual_detail:.2f} left under the redaction")
    score = min(1.0, max(0.0, score))
    tier = "critical" if n_drop else thresholds.tier(score)
    return dataclasses.replace(track, risk_score=score, risk_tier=tier, risk_factors=factors)
