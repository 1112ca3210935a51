"""Arrow schemas of the findings tables, the scan ledger and the re-redaction queue.

``SCHEMA_VERSION`` is stored in every row of ``clips`` and in ``versions.schema`` of the
per-clip JSON; bump it when a column changes meaning or type.
"""

from __future__ import annotations

import pyarrow as pa

# Defined with the JSON contract (no pyarrow there), re-exported with the schemas.
from veilscan.catalog.clip_result import SCHEMA_VERSION as SCHEMA_VERSION

CLIPS = pa.schema([
    ("scan_id", pa.string()),            # the flow run that produced the row
    ("scanned_at", pa.timestamp("us", tz="UTC")),
    ("source", pa.string()),             # s3://bucket/key or a local path
    ("bucket", pa.string()),
    ("key", pa.string()),
    ("etag", pa.string()),
    ("size_bytes", pa.int64()),
    ("status", pa.string()),             # ok | error
    ("error", pa.string()),              # specific message when status == error
    ("frames", pa.int32()),
    ("fps", pa.float64()),
    ("width", pa.int32()),
    ("height", pa.int32()),
    ("duration_s", pa.float64()),
    ("codec", pa.string()),
    ("track_count", pa.int32()),
    ("dropout_frames", pa.int32()),      # dropout frames over all tracks
    ("max_risk", pa.float64()),
    ("risk_tier", pa.string()),
    ("detector_version", pa.string()),
    ("risk_model_version", pa.string()),
    ("schema_version", pa.string()),
    ("scan_seconds", pa.float64()),
])

TRACKS = pa.schema([
    ("scan_id", pa.string()),
    ("source", pa.string()),
    ("etag", pa.string()),
    ("track_id", pa.int32()),
    ("redaction_type", pa.string()),
    ("strength_px", pa.float64()),
    ("face_width_px", pa.float64()),
    ("cells_across_face", pa.float64()),
    ("first_frame", pa.int32()),
    ("last_frame", pa.int32()),
    ("frame_count", pa.int32()),
    ("dropout_frames", pa.list_(pa.int32())),
    ("coverage", pa.float64()),
    ("confidence", pa.float64()),
    ("residual_detail", pa.float64()),
    ("risk_score", pa.float64()),
    ("risk_tier", pa.string()),
    ("risk_factors", pa.list_(pa.string())),
])

BOXES = pa.schema([
    ("scan_id", pa.string()),
    ("source", pa.string()),
    ("etag", pa.string()),
    ("track_id", pa.int32()),
    ("frame", pa.int32()),
    ("x", pa.int32()),
    ("y", pa.int32()),
    ("w", pa.int32()),
    ("h", pa.int32()),
])

LEDGER = pa.schema([
    ("source", pa.string()),
    ("etag", pa.string()),
    ("detector_version", pa.string()),
    ("risk_model_version", pa.string()),
    ("scan_id", pa.string()),
    ("scanned_at", pa.timestamp("us", tz="UTC")),
    ("status", pa.string()),
])

QUEUE = pa.schema([
    ("entry_id", pa.string()),           # stable: hash of source + etag
    ("event_at", pa.timestamp("us", tz="UTC")),
    ("status", pa.string()),             # one of QUEUE_STATUSES
    ("source", pa.string()),
    ("bucket", pa.string()),
    ("key", pa.string()),
    ("etag", pa.string()),
    ("scan_id", pa.string()),
    ("max_risk", pa.float64()),
    ("risk_tier", pa.string()),
    ("actor", pa.string()),              # who or what changed the status
    ("note", pa.string()),               # reason, error or output location
])

TABLES: dict[str, pa.Schema] = {
    "clips": CLIPS, "tracks": TRACKS, "boxes": BOXES, "ledger": LEDGER, "queue": QUEUE,
}
# stale: the source object changed (new ETag) or vanished after the scan; its boxes no longer
# describe it, so it is never rendered. A rescan queues the new version as a new entry.
QUEUE_STATUSES = ("queued", "approved", "rendering", "verified", "failed", "rejected",
                  "stale")
