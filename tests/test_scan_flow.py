"""The scan-archive flow end to end on the real stack: SeaweedFS, Prefect server, Dask."""

from __future__ import annotations

from pathlib import Path

import pytest

from veilscan.footage import Camera, SceneFace, astronaut_scene, render_clip
from veilscan.tasks.obfuscate import Recipe

pytestmark = pytest.mark.integration

CAMERA = Camera(frames=30)


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("clips")
    scene, face = astronaut_scene()
    return {
        "blur": render_clip(out / "blur.mp4", scene,
                            [SceneFace(face, Recipe("gaussian_blur", 4.0))], CAMERA).path,
        "clean": render_clip(out / "clean.mp4", scene, [SceneFace(face)], CAMERA).path,
    }


def _scan(bucket: str, findings: str, **kw):
    from veilscan.flows.scan_archive import ScanParameters, scan_archive
    from veilscan.infra.dask_cluster import task_runner

    params = ScanParameters(archive_url=f"s3://{bucket}/", findings_bucket=findings, **kw)
    return scan_archive.with_options(task_runner=task_runner(n_workers=2))(params)


def _findings_bucket(s3, bucket: str) -> str:
    from veilscan.catalog.objectstore import ensure_bucket

    name = f"{bucket[:50]}-f"
    ensure_bucket(s3, name)
    return name


def test_bad_inputs_are_reported_and_the_scan_goes_on(s3, bucket, clips):
    from veilscan.catalog.findings_query import latest_clips

    good = clips["blur"].read_bytes()
    s3.put_object(Bucket=bucket, Key="good/blur.mp4", Body=good)
    s3.put_object(Bucket=bucket, Key="bad/empty.mp4", Body=b"")
    s3.put_object(Bucket=bucket, Key="bad/notes.mp4", Body=b"meeting notes, not a video\n" * 20)
    s3.put_object(Bucket=bucket, Key="bad/truncated.mp4", Body=good[: len(good) * 2 // 5])
    findings = _findings_bucket(s3, bucket)
    keys = ["good/blur.mp4", "bad/empty.mp4", "bad/notes.mp4", "bad/truncated.mp4",
            "bad/missing.mp4"]

    outcome = _scan(bucket, findings, clip_keys=keys)

    assert outcome.scanned == 5 and outcome.errors == 4
    rows = {r["clip"]: r for r in latest_clips(s3, findings)}
    assert set(rows) == set(keys)
    assert rows["good/blur.mp4"]["status"] == "ok" and rows["good/blur.mp4"]["tracks"] >= 1
    assert "empty object (0 bytes)" in rows["bad/empty.mp4"]["error"]
    assert "holds text" in rows["bad/notes.mp4"]["error"]
    assert "truncated" in rows["bad/truncated.mp4"]["error"]
    assert "object not found" in rows["bad/missing.mp4"]["error"]
    for key in keys[1:]:
        assert rows[key]["status"] == "error" and rows[key]["tracks"] == 0


def test_rerun_skips_unchanged_clips_and_never_duplicates_rows(s3, bucket, clips):
    from veilscan.catalog import remediation_queue
    from veilscan.catalog.findings_store import read_table

    for name, path in clips.items():
        s3.upload_file(str(path), bucket, f"news/{name}.mp4")
    findings = _findings_bucket(s3, bucket)

    first = _scan(bucket, findings)
    assert (first.scanned, first.skipped, first.errors) == (2, 0, 0)
    assert len(first.queued) == 1  # the blurred clip: sigma 4 px on a 108 px face

    second = _scan(bucket, findings)
    assert (second.scanned, second.skipped) == (0, 2)

    forced = _scan(bucket, findings, force=True)
    assert (forced.scanned, forced.skipped) == (2, 0)
    assert forced.queued == [], forced.clips  # same clip at the same ETag is queued once

    clips_table = read_table(s3, findings, "clips")
    sources = clips_table["source"].to_pylist()
    assert len(sources) == len(set(sources)) == 2  # reruns replaced, not duplicated
    tracks = read_table(s3, findings, "tracks").to_pylist()
    assert len({(t["source"], t["track_id"]) for t in tracks}) == len(tracks)
    assert len(remediation_queue.current(s3, findings)) == 1

    s3.upload_file(str(clips["blur"]), bucket, "news/clean.mp4")  # content changed: new ETag
    changed = _scan(bucket, findings)
    assert (changed.scanned, changed.skipped) == (1, 1)
