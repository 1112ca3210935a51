"""What a finished scan tells its users: rows for the Prefect table artifact and the CLI,
a markdown summary, ledger entries and queue candidates. Prefect-free."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from veilscan.catalog.clip_result import RISK_TIERS
from veilscan.catalog.ledger import LedgerEntry
from veilscan.catalog.remediation_queue import QueueCandidate
from veilscan.tasks.scan_clip import ClipScanSummary


def rank(summaries: list[ClipScanSummary]) -> list[ClipScanSummary]:
    """Errors first (someone must look), then by tier and risk, highest first."""
    return sorted(summaries, key=lambda s: (s.status != "error", -RISK_TIERS.index(s.risk_tier),
                                            -s.max_risk, s.source))


def table_rows(summaries: list[ClipScanSummary]) -> list[dict[str, object]]:
    return [
        {"clip": s.key, "status": s.status, "risk_tier": s.risk_tier if s.status == "ok" else "",
         "max_risk": round(s.max_risk, 3), "tracks": s.track_count,
         "types": ", ".join(s.redaction_types), "dropout_frames": s.dropout_frames,
         "frames": s.frames, "error": s.error or ""}
        for s in rank(summaries)
    ]


def ledger_entries(summaries: list[ClipScanSummary], scan_id: str,
                   scanned_at: datetime) -> list[LedgerEntry]:
    return [
        LedgerEntry(source=s.source, etag=s.etag, detector_version=s.versions["detector"],
                    risk_model_version=s.versions["risk_model"], scan_id=scan_id,
                    scanned_at=scanned_at, status=s.status)
        for s in summaries
    ]


def queue_candidates(summaries: list[ClipScanSummary], scan_id: str,
                     risk_threshold: float) -> list[QueueCandidate]:
    """Clips at or over the threshold, and every clip with a dropout (always critical)."""
    return [
        QueueCandidate(source=s.source, bucket=s.bucket, key=s.key, etag=s.etag,
                       scan_id=scan_id, max_risk=s.max_risk, risk_tier=s.risk_tier)
        for s in summaries
        if s.status == "ok" and (s.max_risk >= risk_threshold or s.dropout_frames > 0)
    ]


def markdown_summary(summaries: list[ClipScanSummary], skipped: int, queued: int,
                     archive_url: str, findings_url: str) -> str:
    tiers = Counter(s.risk_tier for s in summaries if s.status == "ok")
    errors = [s for s in summaries if s.status == "error"]
    lines = [
        f"# Scan of `{archive_url}`",
        "",
        f"- clips scanned: **{len(summaries)}**, skipped as unchanged: **{skipped}**",
        "- by tier: " + ", ".join(f"{t} **{tiers.get(t, 0)}**" for t in reversed(RISK_TIERS)),
        f"- queued for re-redaction: **{queued}**",
        f"- clips with errors: **{len(errors)}**",
        f"- findings: `{findings_url}`",
    ]
    if errors:
        lines += ["", "## Errors", ""] + [f"- `{s.key}`: {s.error}" for s in errors]
    return "\n".join(lines) + "\n"
