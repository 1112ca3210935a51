"""scan-archive: find every redacted face in a bucket prefix, score it, publish findings.

Lists the clips under ``s3://bucket/prefix`` (or exactly the chosen keys), skips clips the
ledger says are unchanged since their last scan, runs one ``scan-clip`` task per clip on Dask,
records the ledger, queues risky clips for re-redaction and publishes a clips-by-risk table.

Run it:

    veilscan scan s3://archive/news/ --risk-threshold 0.4      # from the CLI
    veilscan serve                                             # nightly + on-demand deployments
"""

from __future__ import annotations

from datetime import UTC, datetime

import dask
from prefect import flow, get_run_logger
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.futures import as_completed
from prefect.runtime import flow_run
from pydantic import BaseModel, Field

from veilscan.catalog.objectstore import S3Settings, parse_s3_url
from veilscan.infra.dask_cluster import clip_task_annotations, task_runner
from veilscan.tasks.inspect import versions
from veilscan.tasks.prefect_tasks import (
    enqueue_risky,
    list_clips,
    plan_scan,
    publish_report,
    record_ledger,
    scan_clip,
)
from veilscan.tasks.scan_clip import ClipScanJob, ClipScanSummary
from veilscan.tasks.scan_report import table_rows


class ScanParameters(BaseModel):
    """What to scan and where findings go (rendered as a validated form in the Prefect UI)."""

    archive_url: str = Field(description="s3://bucket/prefix of the footage to scan",
                             pattern=r"^s3://[^/]+(/.*)?$")
    findings_bucket: str = Field("veilscan-findings",
                                 description="bucket that receives Parquet findings and queue")
    risk_threshold: float = Field(0.4, ge=0.0, le=1.0,
                                  description="clips with max risk at or above are queued")
    force: bool = Field(False, description="rescan clips the ledger says are unchanged")
    clip_keys: list[str] = Field(default_factory=list,
                            description="rescan only these keys of the bucket (optional)")
    endpoint_url: str | None = Field(None, description="S3 endpoint; empty = environment/AWS")
    gpus: bool = Field(False, description="run clip tasks on GPU workers")


class ScanOutcome(BaseModel):
    """What the flow run returns (also shown in the Prefect UI)."""

    scan_id: str
    archive_url: str
    findings_url: str
    scanned: int
    skipped: int
    errors: int
    queued: list[str]
    clips: list[dict]


@flow(name="scan-archive", flow_run_name="scan {params.archive_url}", task_runner=task_runner(),
      log_prints=True)
def scan_archive(params: ScanParameters) -> ScanOutcome:
    logger = get_run_logger()
    s3 = S3Settings.from_env(endpoint_url=params.endpoint_url)
    bucket, prefix = parse_s3_url(params.archive_url)
    scan_id = flow_run.get_id() or f"local-{datetime.now(UTC):%Y%m%dT%H%M%S}"
    scanned_at = datetime.now(UTC)
    current = versions()

    refs = list_clips(s3, bucket, prefix, params.clip_keys or None)
    plan = plan_scan(s3, params.findings_bucket, refs, current, params.force)
    logger.info("%d clips listed, %d to scan, %d unchanged", len(refs), len(plan.todo),
                len(plan.skipped))

    progress = create_progress_artifact(progress=0.0, key="scan-progress",
                                        description=f"clips scanned of {len(plan.todo)}")
    with dask.annotate(**clip_task_annotations(params.gpus)):
        futures = [
            scan_clip.submit(ClipScanJob(ref=ref, s3=s3, findings_bucket=params.findings_bucket,
                                         scan_id=scan_id, scanned_at=scanned_at))
            for ref in plan.todo
        ]
    summaries: list[ClipScanSummary] = []
    for done in as_completed(futures):
        summaries.append(done.result())
        update_progress_artifact(progress, 100.0 * len(summaries) / max(1, len(futures)))

    record_ledger(s3, params.findings_bucket, summaries, scan_id, scanned_at)
    queued = enqueue_risky(s3, params.findings_bucket, summaries, scan_id,
                           params.risk_threshold)
    findings_url = f"s3://{params.findings_bucket}/"
    publish_report(summaries, len(plan.skipped), len(queued), params.archive_url, findings_url)
    return ScanOutcome(
        scan_id=scan_id, archive_url=params.archive_url, findings_url=findings_url,
        scanned=len(summaries), skipped=len(plan.skipped),
        errors=sum(s.status == "error" for s in summaries), queued=queued,
        clips=table_rows(summaries),
    )
