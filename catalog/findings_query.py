"""Queries over the findings tables with DuckDB (the tables come from the bucket as Arrow)."""

from __future__ import annotations

import duckdb

from veilscan.catalog.findings_store import read_table

LATEST_CLIPS = """
    WITH latest AS (
        SELECT * FROM clips
        QUALIFY row_number() OVER (PARTITION BY source ORDER BY scanned_at DESC) = 1
    )
    SELECT l.key AS clip, l.source, l.status,
           CASE WHEN l.status = 'ok' THEN l.risk_tier ELSE '' END AS risk_tier,
           l.max_risk, l.track_count AS tracks, l.dropout_frames,
           coalesce(l.error, '') AS error, l.scanned_at, l.scan_id,
           coalesce((SELECT string_agg(DISTINCT t.redaction_type, ', ')
                     FROM tracks t WHERE t.source = l.source AND t.scan_id = l.scan_id),
                    '') AS types
    FROM latest l
    WHERE $tier IS NULL OR l.risk_tier = $tier
    ORDER BY l.status = 'ok', l.max_risk DESC, l.key
"""


def latest_clips(cli, bucket: str, tier: str | None = None) -> list[dict]:
    """The latest scan of every clip, errors first, then highest risk first."""
    con = duckdb.connect()
    con.register("clips", read_table(cli, bucket, "clips"))
    con.register("tracks", read_table(cli, bucket, "tracks"))
    rel = con.execute(LATEST_CLIPS, {"tier": tier})
    cols = [d[0] for d in rel.description]
    return [dict(zip(cols, row, strict=True)) for row in rel.fetchall()]
