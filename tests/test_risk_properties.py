"""Property tests of scan-time scoring: the monotonicity the risk score promises."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from veilscan.catalog.clip_result import ClipInfo, TrackFinding, box_sigma, cells_across_face
from veilscan.catalog.risk_model import load_model
from veilscan.tasks.score import RISK_MODEL_VERSION, TierThresholds, score_track

CLIP = ClipInfo("mem://test", 600, 30.0, 1920, 1080, 20.0, "h264")
TYPES = ("gaussian_blur", "box_blur", "motion_blur", "mosaic", "unknown")


def _track(rtype: str, strength: float, face: float, frames: int = 1, coverage: float = 1.0,
           residual: float = 0.0, dropouts: list[int] | None = None) -> TrackFinding:
    return TrackFinding(
        track_id=0, redaction_type=rtype, strength_px=strength, face_width_px=face,
        cells_across_face=cells_across_face(rtype, strength, face), first_frame=0,
        last_frame=frames - 1, boxes=[], dropout_frames=dropouts or [], coverage=coverage,
        residual_detail=residual,
    )


def _score(**kw) -> float:
    return score_track(_track(**kw), CLIP).risk_score


faces = st.floats(min_value=8.0, max_value=800.0)
strengths = st.floats(min_value=0.5, max_value=120.0)
frame_counts = st.integers(min_value=1, max_value=5000)
coverages = st.floats(min_value=0.0, max_value=1.0)
residuals = st.floats(min_value=0.0, max_value=1.0)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(TYPES), faces, strengths, strengths, frame_counts, coverages, residuals)
def test_risk_never_rises_with_stronger_redaction(rtype, face, s1, s2, frames, cov, res):
    weak, strong = sorted((s1, s2))
    kw = dict(rtype=rtype, face=face, frames=frames, coverage=cov, residual=res)
    assert _score(strength=weak, **kw) >= _score(strength=strong, **kw)


@settings(max_examples=200, deadline=None)
@given(faces, st.integers(min_value=2, max_value=60), st.integers(min_value=2, max_value=60))
def test_box_blur_width_and_mosaic_block_monotone(face, k1, k2):
    lo, hi = sorted((k1, k2))
    assert _score(rtype="box_blur", strength=box_sigma(lo), face=face) >= _score(
        rtype="box_blur", strength=box_sigma(hi), face=face)
    assert _score(rtype="mosaic", strength=lo, face=face) >= _score(
        rtype="mosaic", strength=hi, face=face)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from((*TYPES, "solid")), faces, strengths, frame_counts, frame_counts, coverages)
def test_risk_never_falls_with_more_frames(rtype, face, strength, f1, f2, cov):
    few, many = sorted((f1, f2))
    kw = dict(rtype=rtype, face=face, strength=strength, coverage=cov)
    assert _score(frames=many, **kw) >= _score(frames=few, **kw)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from((*TYPES, "solid")), faces, strengths, frame_counts, coverages,
       st.lists(st.integers(min_value=0, max_value=4999), min_size=1, max_size=5))
def test_any_dropout_is_critical(rtype, face, strength, frames, cov, drops):
    out = score_track(_track(rtype, strength, face, frames, cov, dropouts=drops), CLIP)
    assert out.risk_tier == "critical"
    assert out.risk_score >= load_model().dropout_risk
    assert any(f.startswith("dropout:") for f in out.risk_factors)


@settings(max_examples=100, deadline=None)
@given(faces, frame_counts)
def test_full_solid_fill_scores_near_zero(face, frames):
    out = score_track(_track("solid", 0.0, face, frames), CLIP)
    assert out.risk_score < 0.1
    assert out.risk_tier == "low"
    assert any("context" in f for f in out.risk_factors)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(TYPES), faces, strengths, coverages, coverages)
def test_less_coverage_never_lowers_risk(rtype, face, strength, c1, c2):
    lo, hi = sorted((c1, c2))
    kw = dict(rtype=rtype, face=face, strength=strength)
    assert _score(coverage=lo, **kw) >= _score(coverage=hi, **kw)


def test_weak_blur_on_big_face_outranks_heavy_blur_and_explains_itself():
    weak = score_track(_track("gaussian_blur", 2.0, 200.0, 300), CLIP)
    heavy = score_track(_track("gaussian_blur", 40.0, 200.0, 300), CLIP)
    assert 0.0 <= heavy.risk_score < weak.risk_score <= 1.0
    assert "sigma 2.0 px on a 200 px face" in weak.risk_factors[0]
    assert weak.risk_tier != "low"


def test_thresholds_are_configurable_and_validated():
    t = _track("gaussian_blur", 6.0, 100.0, 30)
    s = score_track(t, CLIP).risk_score
    zero = TierThresholds(medium=0.0, high=0.0, critical=0.0)
    assert score_track(t, CLIP, zero).risk_tier == "critical"
    strict = TierThresholds(medium=min(1.0, s + 1e-6), high=1.0, critical=1.0)
    assert score_track(t, CLIP, strict).risk_tier == "low"
    with pytest.raises(ValueError):
        TierThresholds(medium=0.5, high=0.4, critical=0.9)


def test_score_returns_copy_and_version_is_recorded():
    t = _track("mosaic", 8.0, 120.0, 10)
    out = score_track(t, CLIP)
    assert t.risk_factors == [] and out is not t
    assert dataclasses.asdict(out)["risk_score"] == out.risk_score
    assert load_model().version == RISK_MODEL_VERSION


def test_unmeasured_face_width_is_scored_conservatively():
    measured = score_track(_track("gaussian_blur", 4.0, 120.0, 30), CLIP)
    blind = dataclasses.replace(_track("gaussian_blur", 4.0, 120.0, 30), face_width_px=0.0)
    from_boxes = score_track(dataclasses.replace(blind, boxes=[(0, 10, 10, 120, 150)]), CLIP)
    assert from_boxes.risk_score == pytest.approx(measured.risk_score)
    unknown = score_track(blind, CLIP)
    assert unknown.risk_score >= measured.risk_score
    assert any("face width" in f for f in unknown.risk_factors)
