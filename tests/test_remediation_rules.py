"""Remediation rules without the stack: the verification verdict, id resolution, the form."""

from __future__ import annotations

import pytest

from veilscan.catalog.clip_result import ClipInfo, ClipResult, TrackFinding
from veilscan.catalog.remediation_queue import ALLOWED, resolve_ids
from veilscan.catalog.schemas import QUEUE_STATUSES
from veilscan.tasks.remediate import VerifyRule, output_key, unverified_key, verify

N = 20


def track(tid: int, kind: str, x: int, first: int = 0, last: int = N - 1, *, tier: str = "low",
          risk: float = 0.01, dropouts: tuple[int, ...] = ()) -> TrackFinding:
    boxes = [(f, x, 50, 60, 60) for f in range(first, last + 1)]
    return TrackFinding(tid, kind, 0.0 if kind == "solid" else 4.0, 60, 0.0, first, last, boxes,
                        dropout_frames=list(dropouts), risk_score=risk, risk_tier=tier)


def rescan(*tracks: TrackFinding, frames: int = N) -> ClipResult:
    info = ClipInfo("s3://b/out.mp4", frames, 25.0, 320, 240, frames / 25, "h264")
    return ClipResult(info, list(tracks), versions={})


FORMER = [track(0, "gaussian_blur", 100, tier="critical", risk=0.9)]


def test_solid_fill_over_every_former_frame_passes():
    v = verify(FORMER, rescan(track(5, "solid", 95)), N)
    assert v.passed and v.reasons == () and v.risk_tier == "low"


@pytest.mark.parametrize("found, expect", [
    ((), "solid fill seen on 0%"),                                        # finder saw nothing
    ((track(5, "solid", 95, 0, 9),), "solid fill seen on 50%"),            # half the frames
    ((track(5, "solid", 95, dropouts=(7,)),), "has dropouts at frames [7]"),
    ((track(5, "solid", 95), track(6, "mosaic", 140, 3, 8)), "now reads as mosaic"),
    ((track(5, "solid", 95), track(6, "mosaic", 260, tier="high", risk=0.6)), "high risk 0.60"),
])
def test_what_fails_verification(found, expect):
    v = verify(FORMER, rescan(*found), N)
    assert not v.passed
    assert any(expect in r for r in v.reasons), v.reasons


def test_a_low_risk_track_elsewhere_is_allowed_but_a_wrong_frame_count_is_not():
    elsewhere = track(6, "gaussian_blur", 250, tier="low", risk=0.1)
    assert verify(FORMER, rescan(track(5, "solid", 95), elsewhere), N).passed
    short = verify(FORMER, rescan(track(5, "solid", 95), frames=N - 1), N)
    assert not short.passed and "19 frames, expected 20" in short.reasons[0]


def test_stricter_rule_is_honoured():
    found = rescan(track(5, "solid", 95, 0, 17))  # 18 of 20 frames
    assert verify(FORMER, found, N).passed
    assert not verify(FORMER, found, N, VerifyRule(min_solid_share=1.0)).passed


def test_keys_and_statuses():
    assert output_key("news/a.mp4") == "remediated/news/a.mp4"
    assert unverified_key("news/a.mp4", "ab12") == "remediated/_unverified/ab12/news/a.mp4"
    assert "stale" in QUEUE_STATUSES and ALLOWED["stale"] == set()
    assert "stale" in ALLOWED["approved"] and "stale" not in ALLOWED["rendering"]


def test_ids_resolve_by_unique_prefix_only():
    rows = [{"entry_id": "abc123"}, {"entry_id": "abd456"}, {"entry_id": "ffff00"}]
    assert resolve_ids(rows, ["abc", "ffff00", "abc123"]) == (["abc123", "ffff00"], [])
    assert resolve_ids(rows, ["ab", "zz", ""]) == ([], ["ab", "zz", ""])


def test_review_form_needs_a_reason_to_reject():
    from pydantic import ValidationError

    from veilscan.flows.remediation import ReviewDecision

    form = ReviewDecision.with_initial_data(description="queue")
    assert form(approve=["abc"]).approve == ["abc"]
    with pytest.raises(ValidationError, match="needs a reason"):
        form(reject=["abc"])
    with pytest.raises(ValidationError, match="ambiguous"):
        form(approve_all=True, reject=["abc"], reason="x")
    schema = form.model_json_schema()
    assert {"approve_all", "approve", "reject", "reason", "reviewer"} <= set(schema["properties"])


def test_the_demos_weak_blur_rendered_solid_passes_its_rescan(tmp_path):
    """The real path without the stack: the demo's sigma-3 clip, found, filled with our solid
    redaction, rescanned with the rescan's settings and verified. A fill whose first
    measurement took in the astronaut's dark collar used to be skipped for 15 frames."""
    from veilscan.demo_archive import DEMO_CLIPS, render_demo_clip
    from veilscan.tasks.inspect import inspect_clip
    from veilscan.tasks.redact import render_solid_redaction
    from veilscan.tasks.remediate import RESCAN_CONFIG

    [clip] = [c for c in DEMO_CLIPS if c.key == "studio/blur-sigma3.mp4"]
    src, out = tmp_path / "src.mp4", tmp_path / "out.mp4"
    render_demo_clip(clip, src)
    found = inspect_clip(src)
    assert [t.redaction_type for t in found.tracks] == ["gaussian_blur"]
    render_solid_redaction(src, out, found.tracks)
    verdict = verify(found.tracks, inspect_clip(out, config=RESCAN_CONFIG), found.clip.frames)
    assert verdict.passed, verdict.reasons
