"""Turn one clip's result into rows of the ``clips``, ``tracks`` and ``boxes`` tables."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

from veilscan.catalog import schemas
from veilscan.catalog.clip_result import ClipResult


@dataclass(frozen=True)
class ScanTarget:
    """What was scanned: an object in a bucket (or a local file, with an empty bucket)."""

    source: str
    bucket: str
    key: str
    etag: str
    size_bytes: int

    @property
    def clip_id(self) -> str:
        """Stable file name for this clip's rows: one file per clip per scan date."""
        return hashlib.sha1(self.source.encode()).hexdigest()[:20]


@dataclass(frozen=True)
class ScanStamp:
    """Which run wrote the rows, and when."""

    scan_id: str
    scanned_at: datetime
    scan_seconds: float = 0.0


def clip_tables(result: ClipResult, target: ScanTarget, stamp: ScanStamp) -> dict[str, pa.Table]:
    """The three findings tables for one clip, each conforming to its schema."""
    info = result.clip
    versions = result.versions
    clips = {
        "scan_id": [stamp.scan_id], "scanned_at": [stamp.scanned_at], "source": [target.source],
        "bucket": [target.bucket], "key": [target.key], "etag": [target.etag],
        "size_bytes": [target.size_bytes], "status": [result.status], "error": [result.error],
        "frames": [info.frames], "fps": [info.fps], "width": [info.width],
        "height": [info.height], "duration_s": [info.duration_s], "codec": [info.codec],
        "track_count": [len(result.tracks)],
        "dropout_frames": [sum(len(t.dropout_frames) for t in result.tracks)],
        "max_risk": [result.max_risk], "risk_tier": [result.risk_tier],
        "detector_version": [versions.get("detector", "")],
        "risk_model_version": [versions.get("risk_model", "")],
        "schema_version": [schemas.SCHEMA_VERSION], "scan_seconds": [stamp.scan_seconds],
    }
    common = {"scan_id": stamp.scan_id, "source": target.source, "etag": target.etag}
    tracks = [
        {**common, "track_id": t.track_id, "redaction_type": t.redaction_type,
         "strength_px": t.strength_px, "face_width_px": t.face_width_px,
         "cells_across_face": t.cells_across_face, "first_frame": t.first_frame,
         "last_frame": t.last_frame, "frame_count": t.frame_count,
         "dropout_frames": list(t.dropout_frames), "coverage": t.coverage,
         "confidence": t.confidence, "residual_detail": t.residual_detail,
         "risk_score": t.risk_score, "risk_tier": t.risk_tier,
         "risk_factors": list(t.risk_factors)}
        for t in result.tracks
    ]
    boxes = [
        {**common, "track_id": t.track_id, "frame": f, "x": x, "y": y, "w": w, "h": h}
        for t in result.tracks for (f, x, y, w, h) in t.boxes
    ]
    return {
        "clips": pa.Table.from_pydict(clips, schema=schemas.CLIPS),
        "tracks": pa.Table.from_pylist(tracks, schema=schemas.TRACKS),
        "boxes": pa.Table.from_pylist(boxes, schema=schemas.BOXES),
    }
