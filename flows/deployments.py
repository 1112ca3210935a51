"""Deployments of veilscan's flows, and the one place their schedules live.

``veilscan serve`` registers them with the Prefect server and serves them from this process:

- ``scan-archive/nightly``: scans ``$VEILSCAN_ARCHIVE_URL`` (default ``s3://archive/``) every
  night at 02:00 UTC; unchanged clips are skipped through the ledger.
- ``scan-archive/on-demand``: no schedule; operators start it from the Prefect UI with a form
  (prefix, chosen keys, force, threshold) to rescan one prefix or clip.
"""

from __future__ import annotations

import os

from prefect import serve
from prefect.client.schemas.schedules import CronSchedule

from veilscan.flows.scan_archive import ScanParameters, scan_archive

NIGHTLY_CRON = "0 2 * * *"


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
    return [nightly, on_demand]


def serve_all() -> None:
    serve(*deployments())
