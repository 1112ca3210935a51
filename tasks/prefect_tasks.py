"""Thin Prefect task wrappers around the Prefect-free units, for the flows to call.

Each wrapper only adds what orchestration needs (a name, retries, artifacts); the work is in
the module it calls.
"""

from __future__ import annotations

from datetime import datetime

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from veilscan.catalog import ledger, remediation_queue
from veilscan.catalog.objectstore import ObjectRef, S3Settings, client, ensure_bucket
from veilscan.tasks import scan_plan, scan_report
from veilscan.tasks.remediate import RemediationJob, RemediationOutcome, remediate
from veilscan.tasks.scan_clip import ClipScanJob, ClipScanSummary, scan_object


@task(name="list-clips", retries=2, retry_delay_seconds=3)
def list_clips(s3: S3Settings, bucket: str, prefix: str, keys: list[str] | None
               ) -> list[ObjectRef]:
    return scan_plan.list_targets(client(s3), bucket, prefix, keys=keys)


@task(name="plan-scan")
def plan_scan(s3: S3Settings, findings_bucket: str, refs: list[ObjectRef],
              versions: dict[str, str], force: bool) -> scan_plan.ScanPlan:
    cli = client(s3)
    ensure_bucket(cli, findings_bucket)
    return scan_plan.plan_scan(refs, ledger.load(cli, findings_bucket), versions, force)


@task(name="scan-clip", task_run_name="scan {job.ref.key}", retries=1, retry_delay_seconds=5)
def scan_clip(job: ClipScanJob) -> ClipScanSummary:
    """One clip, all of its frames: runs on a Dask worker."""
    return scan_object(job)


@task(name="record-ledger", retries=2, retry_delay_seconds=3)
def record_ledger(s3: S3Settings, findings_bucket: str, summaries: list[ClipScanSummary],
                  scan_id: str, scanned_at: datetime) -> int:
    entries = scan_report.ledger_entries(summaries, scan_id, scanned_at)
    return ledger.merge(client(s3), findings_bucket, entries)


@task(name="enqueue-risky", retries=2, retry_delay_seconds=3)
def enqueue_risky(s3: S3Settings, findings_bucket: str, summaries: list[ClipScanSummary],
                  scan_id: str, risk_threshold: float) -> list[str]:
    candidates = scan_report.queue_candidates(summaries, scan_id, risk_threshold)
    return remediation_queue.enqueue(client(s3), findings_bucket, candidates)


@task(name="publish-report")
def publish_report(summaries: list[ClipScanSummary], skipped: int, queued: int,
                   archive_url: str, findings_url: str) -> str:
    """The clips-by-risk table and a markdown summary, as artifacts in the Prefect UI."""
    create_table_artifact(key="scan-clips-by-risk", table=scan_report.table_rows(summaries),
                          description=f"Clips of {archive_url} by re-identification risk")
    markdown = scan_report.markdown_summary(summaries, skipped, queued, archive_url,
                                            findings_url)
    create_markdown_artifact(key="scan-summary", markdown=markdown,
                             description="veilscan scan summary")
    return markdown


@task(name="list-queued")
def list_queued(s3: S3Settings, findings_bucket: str) -> list[dict]:
    return remediation_queue.entries(client(s3), findings_bucket, "queued")


@task(name="record-review")
def record_review(s3: S3Settings, findings_bucket: str, approve: list[str],
                  reject: list[str], reviewer: str, reason: str
                  ) -> remediation_queue.Decision:
    return remediation_queue.decide(client(s3), findings_bucket, approve, reject,
                                    actor=reviewer, reason=reason)


@task(name="re-redact-clip", task_run_name="re-redact {job.entry_id}")
def re_redact_entry(job: RemediationJob) -> RemediationOutcome:
    """One clip: render, upload, verify, record (the queue says verified/failed/stale)."""
    return remediate(job)
