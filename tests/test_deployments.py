"""Deployments register on the real Prefect server with their schedule and a validated form."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def test_scan_deployments_register_with_schedule_and_parameter_form(stack):
    from prefect.client.orchestration import get_client

    from veilscan.flows.deployments import NIGHTLY_CRON, deployments

    ids = {d.name: d.apply() for d in deployments()}
    assert {"nightly", "on-demand"} <= set(ids)
    with get_client(sync_client=True) as client:
        nightly = client.read_deployment(ids["nightly"])
        on_demand = client.read_deployment(ids["on-demand"])
    assert [s.schedule.cron for s in nightly.schedules] == [NIGHTLY_CRON]
    assert on_demand.schedules == []
    schema = nightly.parameter_openapi_schema
    assert schema["required"] == ["params"]
    model = schema["definitions"]["ScanParameters"]["properties"]
    # The UI renders these fields as a form and validates them before a run starts.
    assert model["archive_url"]["pattern"].startswith("^s3://")
    assert model["risk_threshold"]["maximum"] == 1.0
    assert {"force", "clip_keys", "findings_bucket", "gpus"} <= set(model)
