"""Decide which objects a scan must read: skip what the ledger says is already done."""

from __future__ import annotations

from dataclasses import dataclass

from veilscan.catalog.ledger import LedgerEntry, already_scanned
from veilscan.catalog.objectstore import ObjectRef

VIDEO_SUFFIXES: tuple[str, ...] = (
    ".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm", ".mpg", ".mpeg", ".ts", ".mxf", ".gif",
)


@dataclass(frozen=True)
class ScanPlan:
    """The objects to scan now, and those skipped as unchanged since their last scan."""

    todo: list[ObjectRef]
    skipped: list[ObjectRef]


def plan_scan(refs: list[ObjectRef], ledger: dict[str, LedgerEntry], versions: dict[str, str],
              force: bool = False) -> ScanPlan:
    """Split ``refs``: an object is skipped when it was scanned OK at the same ETag with the
    same detector and risk-model versions, unless ``force``."""
    todo, skipped = [], []
    for ref in refs:
        source = f"s3://{ref.bucket}/{ref.key}"
        if not force and already_scanned(ledger, source, ref.etag, versions):
            skipped.append(ref)
        else:
            todo.append(ref)
    return ScanPlan(todo=todo, skipped=skipped)


def list_targets(cli, bucket: str, prefix: str, suffixes: tuple[str, ...] = VIDEO_SUFFIXES,
                 keys: list[str] | None = None) -> list[ObjectRef]:
    """The objects a scan covers: everything under ``prefix`` with a video suffix, or exactly
    ``keys`` (an operator's rescan of chosen clips). A chosen key that cannot be read is still
    returned (with an empty ETag) so the scan records why it failed."""
    from botocore.exceptions import ClientError

    from veilscan.catalog.objectstore import list_objects

    if not keys:
        return list(list_objects(cli, bucket, prefix, suffixes))
    refs = []
    for key in keys:
        try:
            head = cli.head_object(Bucket=bucket, Key=key)
            refs.append(ObjectRef(bucket=bucket, key=key, etag=head["ETag"].strip('"'),
                                  size=int(head["ContentLength"])))
        except ClientError:
            refs.append(ObjectRef(bucket=bucket, key=key, etag="", size=0))
    return refs
