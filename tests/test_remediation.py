"""The remediation loop on the real stack: scan -> queue -> approve -> re-redact -> verify.

SeaweedFS + Prefect server from the session ``stack`` fixture. The review flow runs in a
background thread (an in-process flow run) and is resumed through the Prefect API with a
``run_input``, exactly as the UI's "Resume" form does.
"""

from __future__ import annotations

import contextvars
import hashlib
import json
import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest

from veilscan.footage import Camera, SceneFace, astronaut_scene, render_clip
from veilscan.tasks.obfuscate import Recipe

pytestmark = pytest.mark.integration

CAMERA = Camera(frames=30)
PAUSE_WAIT_S = 90


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def weak_blur_clip(tmp_path_factory) -> Path:
    """Astronaut, face blurred with sigma 3 px (re-identifiable), 440 Hz AAC tone."""
    scene, face = astronaut_scene()
    out = tmp_path_factory.mktemp("remediation") / "anchor.mp4"
    return render_clip(out, scene, [SceneFace(face, Recipe("gaussian_blur", 3.0))], CAMERA,
                       audio_tone_hz=440).path


def _findings_bucket(s3, bucket: str) -> str:
    from veilscan.catalog.objectstore import ensure_bucket

    name = f"{bucket[:50]}-f"
    ensure_bucket(s3, name)
    return name


def _scan_flow(bucket: str, findings: str):
    from veilscan.flows.scan_archive import ScanParameters, scan_archive
    from veilscan.infra.dask_cluster import task_runner

    params = ScanParameters(archive_url=f"s3://{bucket}/", findings_bucket=findings)
    return scan_archive.with_options(task_runner=task_runner(n_workers=1))(params)


def _scan_direct(s3, stack, bucket: str, key: str, findings: str) -> list[str]:
    """Scan one object without Prefect and queue it like the flow does; returns new entries."""
    from datetime import UTC, datetime

    from veilscan.catalog import remediation_queue
    from veilscan.catalog.objectstore import S3Settings, head_object
    from veilscan.tasks.scan_clip import ClipScanJob, scan_object
    from veilscan.tasks.scan_report import queue_candidates

    job = ClipScanJob(ref=head_object(s3, bucket, key), s3=S3Settings.from_stack(stack),
                      findings_bucket=findings, scan_id=f"test-{key}",
                      scanned_at=datetime.now(UTC))
    summary = scan_object(job)
    return remediation_queue.enqueue(s3, findings, queue_candidates([summary], job.scan_id, 0.4))


def _statuses(s3, findings: str, entry: str) -> list[str]:
    from veilscan.catalog import remediation_queue

    return [e["status"] for e in remediation_queue.history(s3, findings, entry)]


def _download(s3, url: str, dst: Path) -> Path:
    from veilscan.catalog.objectstore import parse_s3_url

    bucket, key = parse_s3_url(url)
    s3.download_file(bucket, key, str(dst))
    return dst


def _video(path: Path) -> tuple[int, float]:
    """(decoded video frames, video stream duration in s)."""
    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        n = sum(1 for _ in c.decode(vs))
        return n, float(vs.duration * vs.time_base)


def _audio(path: Path) -> np.ndarray:
    with av.open(str(path)) as c:
        return np.concatenate([f.to_ndarray() for f in c.decode(c.streams.audio[0])], axis=1)


def _wait_paused(findings: str, after_key: str | None = None):
    """The review-queue run for ``findings`` once it is Paused (at another pause than
    ``after_key``) and its form schema is saved."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.input.run_input import keyset_from_paused_state

    deadline = time.monotonic() + PAUSE_WAIT_S
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            runs = client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=["review-queue"])),
                flow_run_filter=FlowRunFilter(state=FlowRunFilterState(
                    type=FlowRunFilterStateType(any_=[StateType.PAUSED]))))
            for run in runs:
                if run.parameters.get("params", {}).get("findings_bucket") != findings:
                    continue
                if run.state.state_details.pause_key == after_key:
                    continue
                try:  # the UI shows the form once its schema is stored
                    client.read_flow_run_input(run.id, keyset_from_paused_state(run.state)
                                               ["schema"])
                    return run
                except Exception:  # noqa: BLE001 - not saved yet
                    pass
            time.sleep(0.5)
    raise AssertionError(f"review-queue for {findings} never paused within {PAUSE_WAIT_S} s")


def _review_in_background(findings: str, deployment: str):
    from veilscan.flows.remediation import ReviewParameters, review_queue

    result: dict = {}

    def run() -> None:
        try:
            result["outcome"] = review_queue(ReviewParameters(
                findings_bucket=findings, timeout_s=120, poll_interval_s=1,
                redact_deployment=deployment))
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            result["error"] = exc

    # Prefect settings live in context variables, which a new thread does not inherit.
    ctx = contextvars.copy_context()
    thread = threading.Thread(target=ctx.run, args=(run,), name="review-queue", daemon=True)
    thread.start()
    return thread, result


def _check_render(s3, tmp_path: Path, source: Path, output_url: str, findings: str) -> None:
    """Everything but the verdict: location, manifest, frames, duration, audio."""
    from veilscan.catalog.objectstore import head_object, parse_s3_url

    bucket, key = parse_s3_url(output_url)
    assert key.startswith("remediated/")
    out = _download(s3, output_url, tmp_path / "out.mp4")
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=key + ".manifest.json")["Body"]
                          .read())
    src_key = manifest["source"]["key"]
    assert key.endswith(src_key)
    assert manifest["source"]["etag"] == head_object(s3, bucket, src_key).etag
    assert manifest["output"]["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert manifest["output"]["bytes"] == out.stat().st_size
    assert manifest["method"]["name"] == "solid_fill" and manifest["findings"]["scan_id"]
    assert manifest["findings"]["bucket"] == findings
    src_frames, src_duration = _video(source)
    out_frames, out_duration = _video(out)
    assert out_frames == src_frames
    assert out_duration == pytest.approx(src_duration, abs=1e-6)
    assert manifest["output"]["audio_copied"]
    assert np.array_equal(_audio(out), _audio(source))


# --------------------------------------------------------------------------- tests


def test_scan_queue_approve_in_prefect_rerender_verify(s3, bucket, weak_blur_clip, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.flow_runs import resume_flow_run

    from veilscan.flows.deployments import REDACT_WORK_QUEUE, register_in_pool
    from veilscan.flows.remediation import RedactParameters, re_redact

    s3.upload_file(str(weak_blur_clip), bucket, "news/anchor.mp4")
    findings = _findings_bucket(s3, bucket)
    scanned = _scan_flow(bucket, findings)
    assert scanned.errors == 0 and len(scanned.queued) == 1, scanned.clips
    entry = scanned.queued[0]

    # The deployments are registered in a process pool (no worker polls it in the test):
    # approvals create re-redact runs on its work queue.
    register_in_pool("veilscan-test")
    thread, result = _review_in_background(findings, "re-redact/re-redact")
    paused = _wait_paused(findings)
    resume_flow_run(paused.id, run_input={"approve": [entry[:8]], "reviewer": "officer-k"})
    thread.join(60)
    assert not thread.is_alive() and "error" not in result, result.get("error")
    review = result["outcome"]
    assert review.approved == [entry] and review.listed == [entry] and not review.refused
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(review.redact_runs[entry])
        dep = client.read_deployment(run.deployment_id)
    assert run.parameters["params"]["entry_ids"] == [entry]
    assert dep.work_queue_name == REDACT_WORK_QUEUE and dep.global_concurrency_limit.limit == 2

    # What a worker of that deployment would run, here in-process.
    [outcome] = re_redact(RedactParameters(entry_ids=[entry], findings_bucket=findings,
                                           threads=2))
    history = _statuses(s3, findings, entry)
    assert history[:3] == ["queued", "approved", "rendering"], history
    assert outcome["output_url"], outcome["note"]
    _check_render(s3, tmp_path, weak_blur_clip, outcome["output_url"], findings)
    # The verdict depends on the finder's rescan (tasks/finder/): every former track must read
    # as solid, nothing above low risk.
    assert outcome["status"] == "verified", outcome["note"]
    assert history == ["queued", "approved", "rendering", "verified"]
    assert outcome["verification"]["risk_tier"] == "low"
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="remediated/")["Contents"]
    assert sorted(o["Key"] for o in listed) == ["remediated/news/anchor.mp4",
                                                "remediated/news/anchor.mp4.manifest.json"]


def test_kitchen_footage_with_mosaic_is_rerendered_and_verified(s3, bucket, shared_media,
                                                                tmp_path, stack):
    from veilscan.catalog.objectstore import S3Settings
    from veilscan.queue_cli import approve
    from veilscan.tasks.redact import RedactionPlan
    from veilscan.tasks.remediate import RemediationJob, remediate

    src = tmp_path / "kitchen_mosaic.mp4"
    mosaic_kitchen(shared_media / "kitchen_fisheye_2560x1920_audio.mp4", src)
    s3.upload_file(str(src), bucket, "kitchen/cam1.mp4")
    findings = _findings_bucket(s3, bucket)
    queued = _scan_direct(s3, stack, bucket, "kitchen/cam1.mp4", findings)
    assert len(queued) == 1, "the finder did not queue the kitchen clip with two mosaicked faces"
    assert approve(queued, all_queued=False, reviewer="officer-cli",
                   findings_bucket=findings, endpoint_url=None) == queued
    outcome = remediate(RemediationJob(entry_id=queued[0], s3=S3Settings.from_stack(stack),
                                       findings_bucket=findings,
                                       plan=RedactionPlan(preset="veryfast", threads=2)))
    assert outcome.output_url, outcome.note
    _check_render(s3, tmp_path, src, outcome.output_url, findings)
    assert outcome.status == "verified", outcome.note


def test_stale_source_is_refused_and_nothing_is_rendered(s3, bucket, stack, weak_blur_clip,
                                                         tmp_path):
    from veilscan.catalog import remediation_queue
    from veilscan.catalog.objectstore import S3Settings
    from veilscan.tasks.remediate import RemediationJob, remediate

    s3.upload_file(str(weak_blur_clip), bucket, "news/anchor.mp4")
    findings = _findings_bucket(s3, bucket)
    [entry] = _scan_direct(s3, stack, bucket, "news/anchor.mp4", findings)
    assert remediation_queue.decide(s3, findings, [entry], [], actor="t").approved == [entry]
    s3.put_object(Bucket=bucket, Key="news/anchor.mp4",  # edited after the scan: new ETag
                  Body=weak_blur_clip.read_bytes() + b"\0" * 16)

    outcome = remediate(RemediationJob(entry_id=entry, s3=S3Settings.from_stack(stack),
                                       findings_bucket=findings))

    assert outcome.status == "stale" and "ETag was" in outcome.note, outcome.note
    assert _statuses(s3, findings, entry) == ["queued", "approved", "stale"]
    assert s3.list_objects_v2(Bucket=bucket, Prefix="remediated/").get("KeyCount", 0) == 0
    with pytest.raises(remediation_queue.QueueTransitionError):  # stale is final
        remediation_queue.set_status(s3, findings, entry, "approved", "t")
    again = remediate(RemediationJob(entry_id=entry, s3=S3Settings.from_stack(stack),
                                     findings_bucket=findings))
    assert again.status == "skipped"


def test_same_clip_same_etag_is_one_entry_and_review_rejects_with_reason(s3, bucket, stack,
                                                                         weak_blur_clip):
    from prefect.flow_runs import resume_flow_run

    from veilscan.catalog import remediation_queue

    s3.upload_file(str(weak_blur_clip), bucket, "a/one.mp4")
    findings = _findings_bucket(s3, bucket)
    first = _scan_direct(s3, stack, bucket, "a/one.mp4", findings)
    second = _scan_direct(s3, stack, bucket, "a/one.mp4", findings)
    assert len(first) == 1 and second == []
    assert len(remediation_queue.entries(s3, findings)) == 1

    thread, result = _review_in_background(findings, "re-redact/not-deployed")
    paused = _wait_paused(findings)
    # An invalid answer (reject without a reason) is asked again, not applied.
    resume_flow_run(paused.id, run_input={"reject": [first[0]]})
    again = _wait_paused(findings, after_key=paused.state.state_details.pause_key)
    assert again.id == paused.id
    resume_flow_run(again.id, run_input={"reject": [first[0]], "reason": "archive copy only",
                                         "reviewer": "officer-r"})
    thread.join(60)
    assert "error" not in result, result.get("error")
    review = result["outcome"]
    assert review.rejected == first and review.approved == [] and review.redact_runs == {}
    [row] = remediation_queue.entries(s3, findings)
    assert (row["status"], row["note"], row["actor"]) == ("rejected", "archive copy only",
                                                          "officer-r")


# --------------------------------------------------------------------------- kitchen input

# CenterFace (the finder's confirmation net) on each frame of the kitchen clip, at half size:
# two faces, (x, y, w, h) px of the 2560x1920 frame.
KITCHEN_FACES = (
    ((1154, 801, 129, 165), (1673, 698, 131, 177)), ((1144, 800, 133, 167), (1657, 690, 132, 179)),
    ((1127, 796, 136, 172), (1646, 681, 137, 180)), ((1112, 787, 133, 160), (1643, 671, 127, 167)),
    ((1102, 766, 139, 168), (1650, 642, 131, 179)), ((1095, 777, 136, 164), (1658, 654, 129, 170)),
    ((1072, 787, 134, 158), (1644, 672, 127, 166)), ((1038, 779, 137, 161), (1618, 652, 132, 175)),
    ((1012, 762, 141, 162), (1604, 646, 127, 171)), ((1006, 742, 137, 152), (1604, 623, 126, 168)),
    ((995, 655, 129, 150), (1603, 524, 128, 173)), ((995, 655, 129, 150), (1603, 524, 128, 173)),
    ((993, 621, 133, 155), (1614, 481, 139, 180)), ((993, 621, 133, 155), (1614, 481, 139, 180)),
)


def mosaic_kitchen(src: Path, dst: Path, block_px: int = 10) -> None:
    """Mosaic both kitchen faces on every frame; re-encode H.264, AAC copied packet for
    packet (so the source's audio is the reference for the remediated clip)."""
    from veilscan.tasks import obfuscate

    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        iv, ia = inp.streams.video[0], inp.streams.audio[0]
        ov = out.add_stream("libx264", rate=iv.average_rate)
        ov.width, ov.height, ov.pix_fmt = iv.width, iv.height, "yuv420p"
        ov.time_base = iv.time_base
        ov.options = {"crf": "18", "preset": "veryfast"}
        oa = out.add_stream_from_template(ia)
        n = 0
        for packet in inp.demux(iv, ia):
            if packet.stream.index == ia.index:
                if packet.dts is not None:
                    packet.stream = oa
                    out.mux(packet)
                continue
            for frame in packet.decode():
                rgb = frame.to_ndarray(format="rgb24")
                for box in KITCHEN_FACES[min(n, len(KITCHEN_FACES) - 1)]:
                    rgb = obfuscate.apply(rgb, box, Recipe("mosaic", block_px))
                new = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                new.pts, new.time_base = frame.pts, frame.time_base
                out.mux(ov.encode(new))
                n += 1
        out.mux(ov.encode())


def test_versioned_bucket_publishes_a_version_and_leaves_no_staging_copy(s3, bucket, tmp_path):
    from veilscan.tasks.remediate import _promote, _upload, output_key, unverified_key

    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    render = tmp_path / "render.mp4"
    render.write_bytes(b"rendered bytes" * 100)
    staging, final = unverified_key("news/a.mp4", "e1"), output_key("news/a.mp4")
    _, staging_version = _upload(s3, render, bucket, staging)
    etag, version = _promote(s3, bucket, staging, staging_version, final)
    assert staging_version and version and version != staging_version
    listed = s3.list_object_versions(Bucket=bucket, Prefix="remediated/")
    assert [(v["Key"], v["VersionId"]) for v in listed.get("Versions", [])] == [(final, version)]
    assert not listed.get("DeleteMarkers")
    assert s3.get_object(Bucket=bucket, Key=final)["Body"].read() == render.read_bytes()


def test_queue_cli_lists_approves_and_rejects(s3, bucket):
    from typer.testing import CliRunner

    from veilscan.catalog import remediation_queue
    from veilscan.cli import app

    findings = _findings_bucket(s3, bucket)
    cands = [remediation_queue.QueueCandidate(f"s3://{bucket}/c{i}.mp4", bucket, f"c{i}.mp4",
                                              f"etag{i}", "scan-1", 0.5 + i / 10, "high")
             for i in range(3)]
    ids = remediation_queue.enqueue(s3, findings, cands)
    opts = ["--findings-bucket", findings]
    run = CliRunner().invoke

    listed = run(app, ["queue", "list", *opts], env={"COLUMNS": "200"})
    assert listed.exit_code == 0 and all(i in listed.output for i in ids), listed.output
    assert run(app, ["queue", "reject", ids[0], *opts]).exit_code == 2  # --reason is required
    rejected = run(app, ["queue", "reject", ids[0][:6], "--reason", "public event", *opts])
    assert rejected.exit_code == 0, rejected.output
    assert run(app, ["queue", "approve", "nope", *opts]).exit_code == 1
    approved = run(app, ["queue", "approve", "--all", "--reviewer", "ops", *opts])
    assert approved.exit_code == 0, approved.output
    state = {r["entry_id"]: (r["status"], r["actor"]) for r in
             remediation_queue.entries(s3, findings)}
    assert state == {ids[0]: ("rejected", "cli"), ids[1]: ("approved", "ops"),
                     ids[2]: ("approved", "ops")}
    again = run(app, ["queue", "approve", ids[1], *opts], env={"COLUMNS": "200"})  # twice
    assert again.exit_code == 1 and "cannot become approved" in again.output
    hist = run(app, ["queue", "history", ids[0], *opts], env={"COLUMNS": "200"})
    assert hist.exit_code == 0 and "public event" in hist.output
