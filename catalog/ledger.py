"""The scan ledger: which object was scanned at which ETag with which model versions.

One Parquet object per findings bucket (``ledger/ledger.parquet``), read once when a scan
starts and merged once when it ends. A scan that dies half-way only loses ledger rows, so
those clips are scanned again next time; findings already published stay. Two scans merging
into the same findings bucket at once can drop each other's new rows (read-modify-write): the
cost is a needless rescan of those clips, never a lost finding.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

from veilscan.catalog import schemas
from veilscan.catalog.findings_store import read_single, write_single

LEDGER_KEY = "ledger/ledger.parquet"


@dataclass(frozen=True)
class LedgerEntry:
    source: str
    etag: str
    detector_version: str
    risk_model_version: str
    scan_id: str
    scanned_at: datetime
    status: str


def load(cli, bucket: str) -> dict[str, LedgerEntry]:
    """Latest entry per source."""
    table = read_single(cli, bucket, LEDGER_KEY, schemas.LEDGER)
    return {row["source"]: LedgerEntry(**row) for row in table.to_pylist()}


def already_scanned(ledger: dict[str, LedgerEntry], source: str, etag: str,
                    versions: dict[str, str]) -> bool:
    """True when ``source`` was scanned successfully at this ETag with these versions."""
    entry = ledger.get(source)
    return (
        entry is not None
        and entry.status == "ok"
        and entry.etag == etag
        and entry.detector_version == versions.get("detector")
        and entry.risk_model_version == versions.get("risk_model")
    )


def merge(cli, bucket: str, entries: list[LedgerEntry]) -> int:
    """Add ``entries`` (replacing older rows of the same source); returns the ledger size."""
    current = load(cli, bucket)
    for e in entries:
        current[e.source] = e
    rows = [e.__dict__ for e in current.values()]
    table = pa.Table.from_pylist(rows, schema=schemas.LEDGER)
    table = table.sort_by([("source", "ascending")]) if table.num_rows else table
    write_single(cli, bucket, LEDGER_KEY, table)
    return table.num_rows

