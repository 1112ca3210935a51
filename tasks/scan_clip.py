"""Scan one object of an archive: read it by ranged GETs, inspect it, validate, publish.

The unit of work behind each clip task of the ``scan-archive`` flow. Prefect-free: it takes
plain settings and returns a summary, so it runs in a test, a Dask worker or a shell alike.
Whatever goes wrong with the clip becomes a ``clips`` row with ``status='error'`` and a
specific message; it never raises for bad input.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime

from botocore.exceptions import BotoCoreError, ClientError

from veilscan.catalog.clip_result import ClipInfo, ClipResult
from veilscan.catalog.expectations import validate_tables
from veilscan.catalog.findings_store import publish_clip
from veilscan.catalog.findings_tables import ScanStamp, ScanTarget, clip_tables
from veilscan.catalog.objectstore import (
    ObjectRef,
    S3Settings,
    client,
    head_object,
    open_object,
)
from veilscan.tasks.inspect import inspect_clip, versions
from veilscan.tasks.score import TierThresholds


@dataclass(frozen=True)
class ClipScanJob:
    """Everything one clip task needs; picklable, so it travels to a Dask worker."""

    ref: ObjectRef
    s3: S3Settings
    findings_bucket: str
    scan_id: str
    scanned_at: datetime
    thresholds: TierThresholds | None = None

    @property
    def source(self) -> str:
        return f"s3://{self.ref.bucket}/{self.ref.key}"


@dataclass(frozen=True)
class ClipScanSummary:
    """What the flow needs to know about one scanned clip (the details are in Parquet)."""

    source: str
    bucket: str
    key: str
    etag: str
    status: str
    error: str | None
    frames: int
    track_count: int
    dropout_frames: int
    max_risk: float
    risk_tier: str
    redaction_types: list[str]
    versions: dict[str, str]
    published_keys: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _unreadable(source: str, reason: str) -> ClipResult:
    info = ClipInfo(source=source, frames=0, fps=0.0, width=0, height=0, duration_s=0.0,
                    codec="")
    return ClipResult(clip=info, tracks=[], versions=versions(), status="error", error=reason)


def _describe_s3_error(source: str, exc: Exception) -> str:
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = err.get("Code", "?")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
        if code in ("NoSuchKey", "404", "NotFound"):
            return f"{source}: object not found (HTTP {status}); it may have been deleted"
        if code in ("AccessDenied", "403", "Forbidden"):
            return f"{source}: access denied reading the object (HTTP {status})"
        if code in ("PreconditionFailed", "412"):
            return f"{source}: object changed while it was being read (ETag mismatch)"
        return f"{source}: object unreadable: {code} (HTTP {status}) {err.get('Message', '')}"
    return f"{source}: object unreadable: {exc}"


def scan_object(job: ClipScanJob) -> ClipScanSummary:
    """Scan one object and publish its validated findings to the findings bucket."""
    started = time.perf_counter()
    cli = client(job.s3)
    try:
        if not job.ref.etag:  # a chosen key that could not be listed: ask the store why
            head_object(cli, job.ref.bucket, job.ref.key)
        with open_object(cli, job.ref) as reader:
            result = inspect_clip(reader, name=job.source, thresholds=job.thresholds)
    except (ClientError, BotoCoreError, OSError) as exc:
        result = _unreadable(job.source, _describe_s3_error(job.source, exc))
    seconds = time.perf_counter() - started
    target = ScanTarget(source=job.source, bucket=job.ref.bucket, key=job.ref.key,
                        etag=job.ref.etag, size_bytes=job.ref.size)
    stamp = ScanStamp(scan_id=job.scan_id, scanned_at=job.scanned_at, scan_seconds=seconds)
    tables = clip_tables(result, target, stamp)
    outcome = validate_tables(tables)
    if not outcome.success:
        # Never publish what fails the suite: record the clip as an error instead.
        reason = "findings failed validation: " + "; ".join(outcome.failures)
        result = ClipResult(clip=result.clip, tracks=[], versions=result.versions,
                            status="error", error=reason)
        tables = clip_tables(result, target, stamp)
    keys = publish_clip(cli, job.findings_bucket, tables, _scan_date(job.scanned_at),
                        target.clip_id)
    return ClipScanSummary(
        source=job.source, bucket=job.ref.bucket, key=job.ref.key, etag=job.ref.etag,
        status=result.status, error=result.error, frames=result.clip.frames,
        track_count=len(result.tracks),
        dropout_frames=sum(len(t.dropout_frames) for t in result.tracks),
        max_risk=result.max_risk, risk_tier=result.risk_tier,
        redaction_types=sorted({t.redaction_type for t in result.tracks}),
        versions=result.versions, published_keys=keys, seconds=round(seconds, 3),
    )


def _scan_date(at: datetime) -> date:
    return at.date()
