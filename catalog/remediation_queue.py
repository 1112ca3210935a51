"""The re-redaction queue: an append-only log of status changes in the findings bucket.

Every change is its own small Parquet object under ``queue/events/``, so writers never
overwrite each other and the history is kept; the current state of an entry is its latest
event (see :func:`current`). An entry is identified by the clip's source and ETag, so
enqueuing the same clip at the same ETag twice yields one entry.

Statuses: queued -> approved -> rendering -> verified | failed, or queued -> rejected.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb
import pyarrow as pa

from veilscan.catalog import schemas
from veilscan.catalog.findings_store import read_table, write_single

ALLOWED = {
    "queued": {"approved", "rejected"},
    "approved": {"rendering", "rejected", "failed"},
    "rendering": {"verified", "failed"},
    "failed": {"approved", "rejected"},
    "verified": set(),
    "rejected": {"approved"},
}


class QueueTransitionError(ValueError):
    """A status change the queue does not allow (e.g. approving a verified entry)."""


@dataclass(frozen=True)
class QueueCandidate:
    """A scanned clip at or above the risk threshold."""

    source: str
    bucket: str
    key: str
    etag: str
    scan_id: str
    max_risk: float
    risk_tier: str


def entry_id(source: str, etag: str) -> str:
    return hashlib.sha1(f"{source}\n{etag}".encode()).hexdigest()[:16]


def _event_key(row: dict) -> str:
    stamp = row["event_at"].strftime("%Y%m%dT%H%M%S%fZ")
    return f"queue/events/{row['entry_id']}/{stamp}-{row['status']}.parquet"


def _append(cli, bucket: str, row: dict) -> dict:
    write_single(cli, bucket, _event_key(row), pa.Table.from_pylist([row], schema=schemas.QUEUE))
    return row


def current(cli, bucket: str) -> pa.Table:
    """One row per entry: its latest event, highest risk first."""
    events = read_table(cli, bucket, "queue")
    return duckdb.sql(
        "SELECT * FROM events QUALIFY row_number() OVER "
        "(PARTITION BY entry_id ORDER BY event_at DESC) = 1 "
        "ORDER BY max_risk DESC, source"
    ).to_arrow_table() if events.num_rows else events


def history(cli, bucket: str, entry: str) -> list[dict]:
    events = read_table(cli, bucket, "queue").to_pylist()
    return sorted((e for e in events if e["entry_id"] == entry), key=lambda e: e["event_at"])


def enqueue(cli, bucket: str, candidates: list[QueueCandidate], actor: str = "scan") -> list[str]:
    """Queue new candidates; an entry that already exists (same source + ETag) is left alone."""
    existing = set(current(cli, bucket)["entry_id"].to_pylist())
    added = []
    for c in candidates:
        eid = entry_id(c.source, c.etag)
        if eid in existing:
            continue
        _append(cli, bucket, {
            "entry_id": eid, "event_at": datetime.now(UTC), "status": "queued",
            "source": c.source, "bucket": c.bucket, "key": c.key, "etag": c.etag,
            "scan_id": c.scan_id, "max_risk": c.max_risk, "risk_tier": c.risk_tier,
            "actor": actor, "note": f"risk {c.max_risk:.2f} ({c.risk_tier})",
        })
        existing.add(eid)
        added.append(eid)
    return added


def set_status(cli, bucket: str, entry: str, status: str, actor: str, note: str = "") -> dict:
    """Append a status change for ``entry`` after checking the transition is allowed."""
    if status not in schemas.QUEUE_STATUSES:
        raise QueueTransitionError(f"unknown queue status {status!r}")
    rows = [r for r in current(cli, bucket).to_pylist() if r["entry_id"] == entry]
    if not rows:
        raise QueueTransitionError(f"no queue entry {entry!r}")
    latest = rows[0]
    if status not in ALLOWED[latest["status"]]:
        raise QueueTransitionError(
            f"entry {entry} is {latest['status']}; it cannot become {status}"
        )
    now = datetime.now(UTC)
    if now <= latest["event_at"]:  # keep events strictly ordered even on a coarse clock
        now = latest["event_at"] + timedelta(microseconds=1)
    return _append(cli, bucket, {**latest, "event_at": now, "status": status,
                                 "actor": actor, "note": note})
