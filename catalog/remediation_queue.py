"""The re-redaction queue: an append-only log of status changes in the findings bucket.

Every change is its own small Parquet object under ``queue/events/``, so writers never
overwrite each other and the history is kept; the current state of an entry is its latest
event (see :func:`current`). An entry is identified by the clip's source and ETag, so
enqueuing the same clip at the same ETag twice yields one entry.

Statuses: queued -> approved -> rendering -> verified | failed, or queued -> rejected.
An approved (or failed) entry whose source changed since the scan (other ETag, or deleted)
becomes ``stale`` and is never rendered: its boxes describe other bytes. ``stale`` is final;
the next scan of the changed object queues it as a new entry (new ETag, new entry id).
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
    "queued": {"approved", "rejected", "stale"},
    "approved": {"rendering", "rejected", "failed", "stale"},
    "rendering": {"verified", "failed"},
    "failed": {"approved", "rejected", "stale"},
    "verified": set(),
    "rejected": {"approved"},
    "stale": set(),
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


def entries(cli, bucket: str, status: str | None = None) -> list[dict]:
    """Current state of every entry (optionally only those in ``status``), highest risk first."""
    rows = current(cli, bucket).to_pylist()
    return [r for r in rows if status is None or r["status"] == status]


def resolve_ids(rows: list[dict], wanted: list[str]) -> tuple[list[str], list[str]]:
    """Map full ids or unique prefixes (as an operator types them) to entry ids of ``rows``;
    returns ``(resolved, not_found_or_ambiguous)`` keeping the order given, without repeats."""
    ids = [r["entry_id"] for r in rows]
    resolved: list[str] = []
    unknown: list[str] = []
    for w in wanted:
        w = w.strip()
        hits = [i for i in ids if i == w] or [i for i in ids if w and i.startswith(w)]
        if len(hits) == 1:
            if hits[0] not in resolved:
                resolved.append(hits[0])
        else:
            unknown.append(w)
    return resolved, unknown


@dataclass(frozen=True)
class Decision:
    """What a review changed: entry ids now ``approved`` / ``rejected``, and ``refused``
    ``(id, why)`` pairs that were left alone (unknown id, transition not allowed, ...)."""

    approved: list[str]
    rejected: list[str]
    refused: list[tuple[str, str]]


def decide(cli, bucket: str, approve: list[str], reject: list[str], actor: str,
           reason: str = "") -> Decision:
    """Record a review: approve and reject entries (ids or unique prefixes).

    Rejecting needs a reason (it is the note compliance reads later); an id named in both
    lists is refused rather than guessed.
    """
    rows = entries(cli, bucket)
    ok_approve, bad_a = resolve_ids(rows, approve)
    ok_reject, bad_r = resolve_ids(rows, reject)
    refused = [(w, "no such entry (or ambiguous prefix)") for w in bad_a + bad_r]
    both = set(ok_approve) & set(ok_reject)
    refused += [(e, "named both to approve and to reject") for e in sorted(both)]
    if ok_reject and not reason.strip():
        refused += [(e, "rejecting needs a reason") for e in ok_reject if e not in both]
        ok_reject = []
    approved, rejected = [], []
    for eid, status, note, done in (
        *((e, "approved", f"approved by {actor}", approved) for e in ok_approve
          if e not in both),
        *((e, "rejected", reason.strip(), rejected) for e in ok_reject if e not in both),
    ):
        try:
            set_status(cli, bucket, eid, status, actor, note)
            done.append(eid)
        except QueueTransitionError as exc:
            refused.append((eid, str(exc)))
    return Decision(approved=approved, rejected=rejected, refused=refused)
