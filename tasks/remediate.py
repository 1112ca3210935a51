"""Re-redact one approved queue entry: solid fill, upload, manifest, rescan, verdict. Prefect-free.

For one entry of the remediation queue (:mod:`veilscan.catalog.remediation_queue`):

1. HEAD the source; if its ETag is not the one the scan saw (or it is gone) the entry becomes
   ``stale`` and nothing is rendered: the boxes describe other bytes.
2. Load the tracks and every-frame boxes of that source's scan from the findings tables
   (the entry's ``scan_id``; if a later same-day scan of the *same ETag* replaced those rows,
   that scan's rows: same bytes, so the boxes still fit; the manifest names the scan used).
3. Render with :func:`veilscan.tasks.redact.render_solid_redaction`, reading the source by
   ETag-pinned ranged GETs, writing a temp file (audio copied packet for packet).
4. Upload it multipart (aborted on failure) to ``remediated/_unverified/<entry>/<key>`` in
   the source bucket, and rescan that object with
   :func:`veilscan.tasks.inspect.inspect_clip`; judge it with :func:`verify`.
5. Verified: server-side copy to ``remediated/<original key>`` (the published name; on a
   versioned bucket a new version of it, whose VersionId is recorded), staging copy removed.
   Failed: the render stays at its ``_unverified`` key for inspection, never published.
   The original is never touched.
6. Write ``<output key>.manifest.json`` (source key + ETag, findings scan, method + plan,
   sha256, bytes, verification) and set the entry ``verified`` or ``failed`` with a note
   saying where the output and manifest are.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from botocore.exceptions import BotoCoreError, ClientError

from veilscan.catalog import remediation_queue, schemas
from veilscan.catalog.clip_result import RISK_TIERS, ClipResult, TrackFinding
from veilscan.catalog.findings_tables import ScanTarget
from veilscan.catalog.objectstore import (
    ObjectRef,
    S3Settings,
    client,
    head_object,
    open_object,
    put_bytes,
    s3_url,
    upload_file_multipart,
)
from veilscan.tasks.finder import FinderConfig
from veilscan.tasks.inspect import inspect_clip, versions
from veilscan.tasks.redact import RedactionPlan, RenderError, RenderResult, render_solid_redaction

REMEDIATED_PREFIX = "remediated/"
MANIFEST_SUFFIX = ".manifest.json"
MANIFEST_VERSION = "remediation-manifest-1"
_CONTENT_TYPES = {".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime",
                  ".mkv": "video/x-matroska", ".webm": "video/webm"}


@dataclass(frozen=True)
class VerifyRule:
    """When a rescanned render passes.

    For every former track, the rescanned tracks that *touch* it (share a frame where their
    boxes overlap the former box grown by ``grow`` of its size on each side) must all be
    ``solid`` with no dropout frame, and solid tracks must cover at least ``min_solid_share``
    of the former track's frames. Anywhere in the clip, no rescanned track may rank above
    ``max_tier`` (``low``: the near-zero risk a solid fill should leave). The rescan must
    decode cleanly with the same frame count as the render.
    """

    grow: float = 0.25
    min_solid_share: float = 0.9
    max_tier: str = "low"


@dataclass(frozen=True)
class Verification:
    """The verdict on one rescanned render; ``reasons`` say exactly why it failed."""

    passed: bool
    reasons: tuple[str, ...]
    frames: int
    duration_s: float
    max_risk: float
    risk_tier: str
    tracks: tuple[dict[str, Any], ...]
    rule: VerifyRule = VerifyRule()


@dataclass(frozen=True)
class RemediationJob:
    """One entry to re-redact; picklable so a Prefect task or a Dask worker can run it."""

    entry_id: str
    s3: S3Settings
    findings_bucket: str
    plan: RedactionPlan = RedactionPlan()
    rule: VerifyRule = VerifyRule()
    actor: str = "re-redact"
    prefix: str = REMEDIATED_PREFIX


@dataclass(frozen=True)
class RemediationOutcome:
    """What happened to the entry. ``status`` is the queue status written (``verified``,
    ``failed``, ``stale``) or ``skipped`` when the entry was not approved (nothing written)."""

    entry_id: str
    status: str
    source: str
    note: str
    output_url: str = ""
    manifest_url: str = ""
    version_id: str | None = None
    sha256: str = ""
    bytes: int = 0
    findings_scan_id: str = ""
    render: dict[str, Any] = field(default_factory=dict)
    verification: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


class _Refused(Exception):
    """The entry cannot be rendered; carries the queue status and note to write."""

    def __init__(self, status: str, note: str) -> None:
        super().__init__(note)
        self.status, self.note = status, note


# --------------------------------------------------------------------------- findings


def _clip_rows(cli: Any, bucket: str, table: str, source: str) -> pa.Table:
    """Every row of ``table`` for ``source`` (all scan dates): reads only that clip's files."""
    name = ScanTarget(source=source, bucket="", key="", etag="", size_bytes=0).clip_id
    parts = []
    paginator = cli.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket, Prefix=f"{table}/"):
        for obj in page.get("Contents", ()):
            if obj["Key"].endswith(f"/{name}.parquet"):
                body = cli.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
                parts.append(pq.read_table(pa.BufferReader(body), schema=schemas.TABLES[table]))
    if not parts:
        return schemas.TABLES[table].empty_table()
    return pa.concat_tables(parts)


def load_scan_tracks(cli: Any, findings_bucket: str, entry: dict[str, Any]
                     ) -> tuple[str, dict[str, Any], list[TrackFinding]]:
    """``(scan_id used, clips row, tracks with every-frame boxes)`` of the entry's scan.

    Only rows of the entry's ETag are used. The entry's own scan is preferred; a later scan
    of the same ETag (which replaces a same-day scan's rows) is the fallback.
    """
    at_etag = [r for r in _clip_rows(cli, findings_bucket, "clips", entry["source"])
               .to_pylist() if r["etag"] == entry["etag"]]
    clips = [r for r in at_etag if r["status"] == "ok"]
    if not clips:
        why = (f"its scans at this ETag failed ({at_etag[-1]['error']})" if at_etag
               else f"no findings in s3://{findings_bucket}/clips")
        raise _Refused("failed", f"{entry['source']} at ETag {entry['etag']}: {why}; "
                                 "rescan it")
    own = [r for r in clips if r["scan_id"] == entry["scan_id"]]
    row = own[0] if own else max(clips, key=lambda r: r["scanned_at"])
    scan_id = row["scan_id"]
    track_rows = [r for r in _clip_rows(cli, findings_bucket, "tracks", entry["source"])
                  .to_pylist() if r["scan_id"] == scan_id and r["etag"] == entry["etag"]]
    box_rows = [r for r in _clip_rows(cli, findings_bucket, "boxes", entry["source"])
                .to_pylist() if r["scan_id"] == scan_id and r["etag"] == entry["etag"]]
    by_track: dict[int, list[tuple[int, int, int, int, int]]] = {}
    for b in box_rows:
        by_track.setdefault(b["track_id"], []).append((b["frame"], b["x"], b["y"], b["w"], b["h"]))
    tracks = []
    for t in track_rows:
        boxes = sorted(by_track.get(t["track_id"], []))
        if not boxes:
            raise _Refused("failed", f"scan {scan_id}: track {t['track_id']} of "
                                     f"{entry['source']} has no boxes in the boxes table")
        tracks.append(TrackFinding(
            track_id=t["track_id"], redaction_type=t["redaction_type"],
            strength_px=t["strength_px"], face_width_px=t["face_width_px"],
            cells_across_face=t["cells_across_face"], first_frame=t["first_frame"],
            last_frame=t["last_frame"], boxes=boxes,
            dropout_frames=list(t["dropout_frames"] or []), coverage=t["coverage"],
            confidence=t["confidence"], residual_detail=t["residual_detail"],
            risk_score=t["risk_score"], risk_tier=t["risk_tier"],
            risk_factors=list(t["risk_factors"] or [])))
    if not tracks:
        raise _Refused("failed", f"scan {scan_id} of {entry['source']} has no tracks to fill")
    return scan_id, row, tracks


# --------------------------------------------------------------------------- verification


def _grown(box: tuple[int, int, int, int], share: float) -> tuple[float, float, float, float]:
    x, y, w, h = box
    return x - share * w, y - share * h, x + w + share * w, y + h + share * h


def _overlaps(a: tuple[float, float, float, float], b: tuple[int, int, int, int]) -> bool:
    bx0, by0, bx1, by1 = b[0], b[1], b[0] + b[2], b[1] + b[3]
    return a[0] < bx1 and bx0 < a[2] and a[1] < by1 and by0 < a[3]


RESCAN_CONFIG = FinderConfig(dark_fill_needs_head=False, reject_frames=0)
"""The finder's settings for the rescan of a render. Our fills cover whole heads, so no head
shows around them to ask for. And every candidate is measured on every scan: by default a
region measured as unredacted is skipped for ``reject_frames`` (static scenery, a saving on
long footage), but a fill's first measurement can take in a dark collar below it and read
clear (the demo's weak-blur clip: frames 0-15 of 50 were lost, 68% < 90%, and the render
failed verification); a rescan is one rendered clip, so the time is affordable."""


def verify(former: list[TrackFinding], rescan: ClipResult, expected_frames: int,
           rule: VerifyRule = VerifyRule()) -> Verification:
    """Judge a rescan of the render against the tracks it was meant to cover (see
    :class:`VerifyRule`)."""
    reasons: list[str] = []
    if rescan.status != "ok":
        reasons.append(f"rescan could not read the render: {rescan.error}")
    if rescan.clip.frames != expected_frames:
        reasons.append(f"render has {rescan.clip.frames} frames, expected {expected_frames}")
    rank = {t: i for i, t in enumerate(RISK_TIERS)}
    limit = rank[rule.max_tier]
    for t in rescan.tracks:
        if rank.get(t.risk_tier, len(RISK_TIERS)) > limit:
            box = t.boxes[0][1:] if t.boxes else ()
            reasons.append(f"rescanned track {t.track_id} ({t.redaction_type}, frames "
                           f"{t.first_frame}-{t.last_frame}, first box {box}) is "
                           f"{t.risk_tier} risk {t.risk_score:.2f} > {rule.max_tier}")
    rescanned = [(t, {b[0]: tuple(b[1:]) for b in t.boxes}) for t in rescan.tracks]
    for old in former:
        solid_frames: set[int] = set()
        touching: dict[int, TrackFinding] = {}
        for f, *box in old.boxes:
            area = _grown(tuple(box), rule.grow)
            for t, boxes in rescanned:
                nb = boxes.get(f)
                if nb is not None and _overlaps(area, nb):
                    touching[t.track_id] = t
                    if t.redaction_type == "solid" and not t.dropout_frames:
                        solid_frames.add(f)
        for t in touching.values():
            if t.redaction_type != "solid":
                reasons.append(f"former track {old.track_id} now reads as {t.redaction_type} "
                               f"(rescanned track {t.track_id}), not solid")
            elif t.dropout_frames:
                reasons.append(f"former track {old.track_id}: solid track {t.track_id} has "
                               f"dropouts at frames {t.dropout_frames[:10]}")
        frames = {b[0] for b in old.boxes}
        share = len(solid_frames) / max(1, len(frames))
        if share < rule.min_solid_share:
            reasons.append(f"former track {old.track_id}: solid fill seen on {share:.0%} of "
                           f"its {len(frames)} frames (< {rule.min_solid_share:.0%})")
    summary = tuple(
        {"track_id": t.track_id, "redaction_type": t.redaction_type,
         "first_frame": t.first_frame, "last_frame": t.last_frame,
         "dropout_frames": list(t.dropout_frames), "risk_score": round(t.risk_score, 4),
         "risk_tier": t.risk_tier}
        for t in rescan.tracks)
    return Verification(passed=not reasons, reasons=tuple(reasons), frames=rescan.clip.frames,
                        duration_s=rescan.clip.duration_s, max_risk=round(rescan.max_risk, 4),
                        risk_tier=rescan.risk_tier, tracks=summary, rule=rule)


# --------------------------------------------------------------------------- the unit


def output_key(key: str, prefix: str = REMEDIATED_PREFIX) -> str:
    """Where the re-redacted object of ``key`` goes (same bucket)."""
    return prefix + key


def manifest_key(key: str, prefix: str = REMEDIATED_PREFIX) -> str:
    return output_key(key, prefix) + MANIFEST_SUFFIX


def unverified_key(key: str, entry_id: str, prefix: str = REMEDIATED_PREFIX) -> str:
    """Where a render waits for its verdict, and stays if it fails verification."""
    return f"{prefix}_unverified/{entry_id}/{key}"


def _entry(cli: Any, bucket: str, entry_id: str) -> dict[str, Any]:
    rows = [r for r in remediation_queue.current(cli, bucket).to_pylist()
            if r["entry_id"] == entry_id]
    if not rows:
        raise remediation_queue.QueueTransitionError(f"no queue entry {entry_id!r}")
    return rows[0]


def _check_source(cli: Any, entry: dict[str, Any]) -> ObjectRef:
    """The source as the scan saw it, or :class:`_Refused` ``stale``."""
    try:
        ref = head_object(cli, entry["bucket"], entry["key"])
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "?")
        if code in ("404", "NoSuchKey", "NotFound"):
            raise _Refused("stale", f"source {entry['source']} no longer exists; "
                                    "nothing rendered") from exc
        raise
    if ref.etag != entry["etag"]:
        raise _Refused("stale", f"source changed since scan {entry['scan_id']}: ETag was "
                                f"{entry['etag']}, now {ref.etag}; nothing rendered (rescan "
                                "to queue the new version)")
    return ref


def _versioned(cli: Any, bucket: str) -> bool:
    try:
        return cli.get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled"
    except (ClientError, BotoCoreError):
        return False


def _upload(cli: Any, path: Path, bucket: str, key: str) -> tuple[str, str | None]:
    """Multipart upload (aborted on failure); ``(etag, version id or None)``."""
    ctype = _CONTENT_TYPES.get(PurePosixPath(key).suffix.lower(), "application/octet-stream")
    etag = upload_file_multipart(cli, path, bucket, key, content_type=ctype)
    version = None
    if _versioned(cli, bucket):
        version = cli.head_object(Bucket=bucket, Key=key).get("VersionId")
    return etag, version if version not in (None, "null") else None


def build_manifest(entry: dict[str, Any], source: ObjectRef, findings_bucket: str,
                   scan_id: str, tracks: list[TrackFinding], plan: RedactionPlan,
                   render: RenderResult, out_key: str, out_etag: str, version_id: str | None,
                   verification: Verification | None) -> dict[str, Any]:
    """The JSON that links a remediated object to its source, findings and checks."""
    return {
        "manifest_version": MANIFEST_VERSION,
        "entry_id": entry["entry_id"],
        "created_at": datetime.now(UTC).isoformat(),
        "source": {"url": s3_url(source.bucket, source.key), "bucket": source.bucket,
                   "key": source.key, "etag": source.etag, "bytes": source.size},
        "findings": {"bucket": findings_bucket, "queued_scan_id": entry["scan_id"],
                     "scan_id": scan_id, "track_ids": [t.track_id for t in tracks],
                     "boxes": sum(len(t.boxes) for t in tracks),
                     "max_risk_before": entry["max_risk"],
                     "risk_tier_before": entry["risk_tier"]},
        "method": {"name": "solid_fill", "renderer": "veilscan.tasks.redact",
                   "plan": asdict(plan), "versions": versions()},
        "output": {"url": s3_url(source.bucket, out_key), "bucket": source.bucket,
                   "key": out_key, "etag": out_etag, "version_id": version_id,
                   "sha256": render.sha256, "bytes": render.bytes, "frames": render.frames,
                   "duration_s": render.duration_s, "video_codec": render.video_codec,
                   "encoder": render.encoder, "audio_copied": render.audio_copied,
                   "dropped_streams": list(render.dropped_streams)},
        "verification": None if verification is None else {
            **asdict(verification), "reasons": list(verification.reasons),
            "tracks": list(verification.tracks)},
    }


def remediate(job: RemediationJob) -> RemediationOutcome:
    """Re-redact, upload, verify and record one approved entry (see the module docstring).

    Never leaves the entry in ``rendering``: any error after that point is written as
    ``failed`` with the message. An entry that is not ``approved`` is skipped untouched.
    """
    started = time.perf_counter()
    cli = client(job.s3)
    fb = job.findings_bucket
    entry = _entry(cli, fb, job.entry_id)
    base = {"entry_id": job.entry_id, "source": entry["source"]}
    if entry["status"] != "approved":
        return RemediationOutcome(**base, status="skipped",
                                  note=f"entry is {entry['status']}, not approved")

    def finish(status: str, note: str, **kw: Any) -> RemediationOutcome:
        remediation_queue.set_status(cli, fb, job.entry_id, status, job.actor, note)
        return RemediationOutcome(**base, status=status, note=note,
                                  seconds=round(time.perf_counter() - started, 3), **kw)

    try:
        source = _check_source(cli, entry)
        scan_id, _, tracks = load_scan_tracks(cli, fb, entry)
    except _Refused as refused:
        return finish(refused.status, refused.note)

    bucket = source.bucket
    final_key = output_key(source.key, job.prefix)
    staging_key = unverified_key(source.key, job.entry_id, job.prefix)
    remediation_queue.set_status(
        cli, fb, job.entry_id, "rendering", job.actor,
        f"rendering {len(tracks)} tracks of scan {scan_id} to {s3_url(bucket, final_key)}")
    written: list[tuple[str, str | None]] = []  # (key, version) to delete if anything fails
    try:
        suffix = PurePosixPath(source.key).suffix or ".mp4"
        with tempfile.TemporaryDirectory(prefix="veilscan-remediate-") as tmp:
            local = Path(tmp) / f"render{suffix}"
            with open_object(cli, source) as reader:
                render = render_solid_redaction(reader, local, tracks, job.plan)
            staging_etag, staging_version = _upload(cli, local, bucket, staging_key)
            written.append((staging_key, staging_version))
        with open_object(cli, ObjectRef(bucket, staging_key, staging_etag, render.bytes)) as r:
            rescan = inspect_clip(r, name=s3_url(bucket, staging_key), config=RESCAN_CONFIG)
        verdict = verify(tracks, rescan, render.frames, job.rule)
        if verdict.passed:  # only verified bytes reach the published key
            out_key = final_key
            out_etag, version_id = _promote(cli, bucket, staging_key, staging_version,
                                            final_key)
            written = [(final_key, version_id)]
        else:  # kept for inspection, outside the published names
            out_key, out_etag, version_id = staging_key, staging_etag, None
        man_key = out_key + MANIFEST_SUFFIX
        manifest = build_manifest(entry, source, fb, scan_id, tracks, job.plan, render,
                                  out_key, out_etag, version_id, verdict)
        put_bytes(cli, bucket, man_key, json.dumps(manifest, indent=2).encode(),
                  "application/json")
    except (RenderError, OSError, ClientError, BotoCoreError) as exc:
        _delete(cli, bucket, written)
        return finish("failed", f"re-redaction of {entry['source']} failed: {exc}")
    except BaseException as exc:
        _delete(cli, bucket, written)
        remediation_queue.set_status(cli, fb, job.entry_id, "failed", job.actor,
                                     f"re-redaction crashed: {type(exc).__name__}: {exc}")
        raise
    out_url, man_url = s3_url(bucket, out_key), s3_url(bucket, man_key)
    extra = {"output_url": out_url, "manifest_url": man_url, "sha256": render.sha256,
             "bytes": render.bytes, "version_id": version_id, "findings_scan_id": scan_id,
             "render": asdict(render), "verification": manifest["verification"]}
    if verdict.passed:
        return finish("verified", f"verified: {out_url} (manifest {man_url}); sha256 "
                                  f"{render.sha256[:16]}…, rescan max risk "
                                  f"{verdict.max_risk:.2f} ({verdict.risk_tier})", **extra)
    reasons = "; ".join(verdict.reasons[:4]) + (
        f"; +{len(verdict.reasons) - 4} more" if len(verdict.reasons) > 4 else "")
    return finish("failed", f"verification failed: {reasons}. Unverified render kept at "
                            f"{out_url} (manifest {man_url})", **extra)


def _promote(cli: Any, bucket: str, staging_key: str, staging_version: str | None,
             final_key: str) -> tuple[str, str | None]:
    """Server-side copy of the verified render to its published key, then drop the staging
    copy (that exact version, so a versioned bucket keeps no stray copy); ``(etag, version
    id)`` of the published object. Copies up to 5 GiB in one request."""
    cli.copy_object(Bucket=bucket, Key=final_key,
                    CopySource={"Bucket": bucket, "Key": staging_key},
                    ContentType=_CONTENT_TYPES.get(PurePosixPath(final_key).suffix.lower(),
                                                   "application/octet-stream"),
                    MetadataDirective="REPLACE")
    head = cli.head_object(Bucket=bucket, Key=final_key)
    _delete(cli, bucket, [(staging_key, staging_version)])
    version = head.get("VersionId")
    return head["ETag"].strip('"'), version if version not in (None, "null") else None


def _delete(cli: Any, bucket: str, keys: list[tuple[str, str | None]]) -> None:
    """Delete ``(key, version)`` pairs; best effort (the queue note already says why)."""
    for key, version in keys:
        kwargs = {"VersionId": version} if version else {}
        with contextlib.suppress(ClientError, BotoCoreError):
            cli.delete_object(Bucket=bucket, Key=key, **kwargs)
