"""The per-clip result: the contract shared by the CLI, the Parquet tables and the benchmarks.

Mirrors ``veilscan inspect --json`` in ../shared/DESIGN.md. Units: pixels for every size,
frame indices (0-based, decode order) for every time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

SCHEMA_VERSION = "findings-1"
"""Version of the findings' columns and of this JSON: stored in every row of ``clips`` and in
``versions.schema``; bump it when a column changes meaning or type. Kept here, not beside the
Arrow schemas (``catalog.schemas``), so ``veilscan inspect`` never imports pyarrow."""

RedactionType = Literal["gaussian_blur", "box_blur", "motion_blur", "mosaic", "solid", "unknown"]
REDACTION_TYPES: tuple[str, ...] = (
    "gaussian_blur", "box_blur", "motion_blur", "mosaic", "solid", "unknown",
)
RiskTier = Literal["low", "medium", "high", "critical"]
RISK_TIERS: tuple[str, ...] = ("low", "medium", "high", "critical")

Box = tuple[int, int, int, int, int]
"""``(frame_index, x, y, w, h)`` of the redacted region in one frame."""


def box_sigma(width_px: float) -> float:
    """Equivalent Gaussian sigma of a box filter of width ``width_px`` (DESIGN.md)."""
    return float(((width_px * width_px - 1.0) / 12.0) ** 0.5) if width_px > 1 else 0.0


def cells_across_face(redaction_type: str, strength_px: float, face_width_px: float) -> float:
    """How many independent samples of the face survive across its width.

    Mosaic: face width / block size. Blurs: face width / (2 * sigma) (a Gaussian of sigma
    passes detail down to a period of about 2 sigma; DESIGN.md's 120 px face at sigma 6.5
    gives 9.2). Solid fills keep nothing: 0. Unknown smoothing is treated as a blur.
    """
    if redaction_type == "solid" or face_width_px <= 0:
        return 0.0
    if strength_px <= 0:
        return float(face_width_px)
    if redaction_type == "mosaic":
        return float(face_width_px / strength_px)
    return float(face_width_px / (2.0 * strength_px))


@dataclass(frozen=True)
class ClipInfo:
    """What the decoder learned about a clip before any analysis."""

    source: str
    frames: int
    fps: float
    width: int
    height: int
    duration_s: float
    codec: str


@dataclass
class TrackFinding:
    """One redacted face followed through time, before and after risk scoring.

    The finder fills everything above ``risk_score``; the risk model fills the rest.
    """

    track_id: int
    redaction_type: str
    strength_px: float
    face_width_px: float
    cells_across_face: float
    first_frame: int
    last_frame: int
    boxes: list[Box]
    dropout_frames: list[int] = field(default_factory=list)
    coverage: float = 1.0
    confidence: float = 1.0
    residual_detail: float = 0.0
    risk_score: float = 0.0
    risk_tier: str = "low"
    risk_factors: list[str] = field(default_factory=list)

    @property
    def frame_count(self) -> int:
        return self.last_frame - self.first_frame + 1


@dataclass
class ClipResult:
    """The result of scanning one clip. ``status`` is ``error`` when the clip could not be read."""

    clip: ClipInfo
    tracks: list[TrackFinding]
    versions: dict[str, str]
    status: Literal["ok", "error"] = "ok"
    error: str | None = None

    @property
    def max_risk(self) -> float:
        return max((t.risk_score for t in self.tracks), default=0.0)

    @property
    def risk_tier(self) -> str:
        tiers = [t.risk_tier for t in self.tracks]
        # An unknown tier ranks highest, so it surfaces (and the expectation suite rejects it).
        rank = {t: i for i, t in enumerate(RISK_TIERS)}
        return max(tiers, key=lambda t: rank.get(t, len(RISK_TIERS)), default="low")

    def to_json_dict(self) -> dict[str, Any]:
        """The exact object ``veilscan inspect --json`` prints."""
        out: dict[str, Any] = {
            "clip": asdict(self.clip),
            "tracks": [
                {**asdict(t), "boxes": [list(b) for b in t.boxes]} for t in self.tracks
            ],
            "max_risk": self.max_risk,
            "risk_tier": self.risk_tier,
            "versions": dict(self.versions),
        }
        if self.status != "ok":
            out["status"] = self.status
            out["error"] = self.error
        return out
