"""Where findings live in the findings bucket, and how they are written and read back.

Layout (Hive-style, so DuckDB, Spark or pyarrow.dataset read it as is)::

    s3://<findings-bucket>/clips/scan_date=2026-11-26/<clip_id>.parquet
    s3://<findings-bucket>/tracks/scan_date=2026-11-26/<clip_id>.parquet
    s3://<findings-bucket>/boxes/scan_date=2026-11-26/<clip_id>.parquet

One file per clip per scan date: a rerun the same day replaces the clip's file instead of
adding rows; scans on other days keep history, and readers take the latest row per source.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq

from veilscan.catalog import schemas

FINDINGS_TABLES = ("clips", "tracks", "boxes")


def table_key(table: str, scan_date: date, clip_id: str) -> str:
    return f"{table}/scan_date={scan_date.isoformat()}/{clip_id}.parquet"


def to_parquet_bytes(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def publish_clip(cli, bucket: str, tables: dict[str, pa.Table], scan_date: date,
                 clip_id: str) -> list[str]:
    """Write one clip's validated tables; returns the keys written."""
    keys = []
    for name in FINDINGS_TABLES:
        key = table_key(name, scan_date, clip_id)
        cli.put_object(Bucket=bucket, Key=key, Body=to_parquet_bytes(tables[name]),
                       ContentType="application/vnd.apache.parquet")
        keys.append(key)
    return keys


def _keys(cli, bucket: str, prefix: str) -> Iterable[str]:
    paginator = cli.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            if obj["Key"].endswith(".parquet"):
                yield obj["Key"]


def read_table(cli, bucket: str, table: str) -> pa.Table:
    """Every row of ``table`` in the bucket (all scan dates), in the table's schema."""
    schema = schemas.TABLES[table]
    parts = []
    for key in _keys(cli, bucket, f"{table}/"):
        body = cli.get_object(Bucket=bucket, Key=key)["Body"].read()
        parts.append(pq.read_table(io.BytesIO(body), schema=schema))
    if not parts:
        return schema.empty_table()
    return pa.concat_tables(parts)


def write_single(cli, bucket: str, key: str, table: pa.Table) -> None:
    cli.put_object(Bucket=bucket, Key=key, Body=to_parquet_bytes(table),
                   ContentType="application/vnd.apache.parquet")


def read_single(cli, bucket: str, key: str, schema: pa.Schema) -> pa.Table:
    """One Parquet object, or an empty table of ``schema`` if it does not exist yet."""
    try:
        body = cli.get_object(Bucket=bucket, Key=key)["Body"].read()
    except cli.exceptions.NoSuchKey:
        return schema.empty_table()
    return pq.read_table(io.BytesIO(body), schema=schema)
