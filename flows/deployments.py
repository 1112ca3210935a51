"""Deployments of veilscan's flows, and the one place their schedules live.

``veilscan serve`` registers them with the Prefect server and serves them from this process:

- ``scan-archive/nightly``: scans ``$VEILSCAN_ARCHIVE_URL`` (default ``s3://archive/``) every
  night at 02:00 UTC; unchanged clips are skipped through the ledger.
- ``scan-archive/on-demand``: no schedule; operators start it from the Prefect UI with a form
  (prefix, chosen keys, force, threshold) to rescan one prefix or clip.
- ``review-queue/review-queue``: lists the re-redaction queue and pauses for a compliance
  officer's decision (a typed form in the UI); runs every morning at 06:00 UTC after the
  nightly scan, or on demand.
- ``re-redact/re-redact``: re-redacts approved entries; started by review-queue, one run per
  entry, on its own work queue (``re-redaction``) with at most ``$VEILSCAN_REDACT_CONCURRENCY``
  (default 2) runs at once, so renders never crowd out scans.
"""

from __future__ import annotations

import os

from prefect import serve
from prefect.client.schemas.schedules import CronSchedule

from veilscan.flows.remediation import (
    RedactParameters,
    ReviewParameters,
    re_redact,
    review_queue,
)
from veilscan.flows.scan_archive import ScanParameters, scan_archive

NIGHTLY_CRON = "0 2 * * *"
REVIEW_CRON = "0 6 * * *"
REDACT_WORK_QUEUE = "re-redaction"


def deployments() -> list:
    archive = os.environ.get("VEILSCAN_ARCHIVE_URL", "s3://archive/")
    nightly = scan_archive.to_deployment(
        name="nightly",
        schedules=[CronSchedule(cron=NIGHTLY_CRON, timezone="UTC")],
        parameters={"params": ScanParameters(archive_url=archive).model_dump()},
        description="Nightly scan of the archive; unchanged clips are skipped.",
        tags=["veilscan", "scheduled"],
    )
    on_demand = scan_archive.to_deployment(
        name="on-demand",
        parameters={"params": ScanParameters(archive_url=archive).model_dump()},
        description="Rescan a prefix or chosen keys; set force to ignore the ledger.",
        tags=["veilscan", "on-demand"],
    )
    return [nightly, on_demand, *remediation_deployments()]


def remediation_deployments(work_pool: str | None = None) -> list:
    """review-queue (daily + on demand) and re-redact (concurrency limit).

    With ``work_pool`` (a process pool that a ``prefect worker`` polls), re-redact sits on
    its own work queue :data:`REDACT_WORK_QUEUE` in that pool. Served from this process
    (``veilscan serve``) Prefect has no work queues, and the deployment's concurrency limit
    alone bounds the renders.
    """
    limit = int(os.environ.get("VEILSCAN_REDACT_CONCURRENCY", "2"))
    review = review_queue.to_deployment(
        name="review-queue",
        schedules=[CronSchedule(cron=REVIEW_CRON, timezone="UTC")],
        parameters={"params": ReviewParameters().model_dump()},
        description="Pause for a compliance decision on the queued clips; start re-redaction "
                    "of the approved ones.",
        tags=["veilscan", "review"],
    )
    redact = re_redact.to_deployment(
        name="re-redact",
        parameters={"params": RedactParameters().model_dump()},
        work_pool_name=work_pool,
        work_queue_name=REDACT_WORK_QUEUE if work_pool else None,
        concurrency_limit=limit,
        description="Solid-fill re-redaction of approved queue entries, verified by rescan.",
        tags=["veilscan", "re-redact"],
    )
    return [review, redact]


def register_in_pool(work_pool: str) -> list:
    """Create the process work pool if missing and register review-queue and re-redact in
    it; returns their deployment ids. Renders then run where
    ``prefect worker start --pool <work_pool> --work-queue re-redaction`` runs."""
    from prefect import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(work_pool)
        except ObjectNotFound:
            client.create_work_pool(WorkPoolCreate(name=work_pool, type="process"))
    return [d.apply(work_pool_name=work_pool) for d in remediation_deployments(work_pool)]


def serve_all() -> None:
    serve(*deployments())
