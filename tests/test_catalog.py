"""Findings tables, expectation suites, ledger decisions: no server needed."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from veilscan.catalog import schemas
from veilscan.catalog.clip_result import ClipInfo, ClipResult, TrackFinding, cells_across_face
from veilscan.catalog.expectations import validate_tables
from veilscan.catalog.findings_tables import ScanStamp, ScanTarget, clip_tables
from veilscan.catalog.ledger import LedgerEntry, already_scanned
from veilscan.catalog.objectstore import ObjectRef
from veilscan.tasks.scan_plan import plan_scan

VERSIONS = {"detector": "d1", "risk_model": "r1", "schema": schemas.SCHEMA_VERSION}
NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def _result(risk: float = 0.8, tier: str = "critical", coverage: float = 0.9) -> ClipResult:
    track = TrackFinding(
        track_id=0, redaction_type="gaussian_blur", strength_px=6.5, face_width_px=120.0,
        cells_across_face=cells_across_face("gaussian_blur", 6.5, 120.0), first_frame=0,
        last_frame=2, boxes=[(0, 10, 10, 50, 60), (1, 11, 10, 50, 60), (2, 12, 10, 50, 60)],
        dropout_frames=[1], coverage=coverage, risk_score=risk, risk_tier=tier,
        risk_factors=["dropout: 1 frame shows the face unredacted"],
    )
    info = ClipInfo("s3://a/b.mp4", 3, 25.0, 320, 240, 0.12, "h264")
    return ClipResult(clip=info, tracks=[track], versions=VERSIONS)


def _tables(result: ClipResult) -> dict[str, pa.Table]:
    target = ScanTarget("s3://a/b.mp4", "a", "b.mp4", "etag1", 1234)
    return clip_tables(result, target, ScanStamp("scan-1", NOW))


def test_json_contract_matches_design_example():
    out = _result().to_json_dict()
    assert set(out) == {"clip", "tracks", "max_risk", "risk_tier", "versions"}
    track = out["tracks"][0]
    assert track["boxes"][1] == [1, 11, 10, 50, 60]
    assert round(track["cells_across_face"], 1) == 9.2  # DESIGN.md: 120 px face, sigma 6.5
    assert out["risk_tier"] == "critical" and out["max_risk"] == 0.8


def test_tables_follow_their_schemas_and_pass_the_suite():
    tables = _tables(_result())
    assert tables["clips"].schema.equals(schemas.CLIPS)
    assert tables["tracks"].num_rows == 1 and tables["boxes"].num_rows == 3
    assert tables["clips"]["dropout_frames"].to_pylist() == [1]
    assert validate_tables(tables).success


@pytest.mark.parametrize("bad", [{"risk": 1.7}, {"tier": "severe"}, {"coverage": -0.1}])
def test_suite_rejects_impossible_findings(bad):
    result = _result(**bad)
    outcome = validate_tables(_tables(result))
    assert not outcome.success
    assert outcome.failures and all("failed on" in f for f in outcome.failures)


def test_suite_rejects_duplicate_boxes():
    result = _result()
    result.tracks[0].boxes.append((2, 12, 10, 50, 60))
    result.tracks[0].last_frame = 2
    outcome = validate_tables(_tables(result))
    assert not outcome.success and any("boxes" in f for f in outcome.failures)


def test_ledger_skips_only_same_etag_and_versions():
    entry = LedgerEntry("s3://a/b.mp4", "e1", "d1", "r1", "scan-0", NOW, "ok")
    ledger = {entry.source: entry}
    assert already_scanned(ledger, "s3://a/b.mp4", "e1", VERSIONS)
    assert not already_scanned(ledger, "s3://a/b.mp4", "e2", VERSIONS)
    assert not already_scanned(ledger, "s3://a/b.mp4", "e1", {**VERSIONS, "detector": "d2"})
    failed = {entry.source: LedgerEntry(**{**entry.__dict__, "status": "error"})}
    assert not already_scanned(failed, "s3://a/b.mp4", "e1", VERSIONS)


def test_plan_scan_honours_force():
    refs = [ObjectRef("a", "b.mp4", "e1", 10), ObjectRef("a", "c.mp4", "e1", 10)]
    entry = LedgerEntry("s3://a/b.mp4", "e1", "d1", "r1", "scan-0", NOW, "ok")
    plan = plan_scan(refs, {entry.source: entry}, VERSIONS)
    assert [r.key for r in plan.todo] == ["c.mp4"] and [r.key for r in plan.skipped] == ["b.mp4"]
    forced = plan_scan(refs, {entry.source: entry}, VERSIONS, force=True)
    assert len(forced.todo) == 2 and not forced.skipped
