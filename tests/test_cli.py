"""The CLI's per-clip contract: `veilscan inspect CLIP --json` (no server needed)."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from veilscan.cli import app
from veilscan.footage import Camera, SceneFace, astronaut_scene, render_clip
from veilscan.tasks.obfuscate import Recipe

CONTRACT_TRACK_KEYS = {
    "track_id", "redaction_type", "strength_px", "face_width_px", "cells_across_face",
    "first_frame", "last_frame", "boxes", "dropout_frames", "coverage", "risk_score",
    "risk_tier", "risk_factors",
}


def test_inspect_json_follows_the_contract(tmp_path):
    scene, face = astronaut_scene()
    clip = render_clip(tmp_path / "blur.mp4", scene,
                       [SceneFace(face, Recipe("gaussian_blur", 5.0))], Camera(frames=20))
    result = CliRunner().invoke(app, ["inspect", str(clip.path), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["clip"] == {"source": str(clip.path), "frames": 20, "fps": 25.0, "width": 384,
                           "height": 288, "duration_s": 0.8, "codec": "h264"}
    assert set(out["versions"]) == {"detector", "risk_model", "schema"}
    assert out["tracks"], "a blurred 108 px face must give a track"
    track = out["tracks"][0]
    assert set(track) >= CONTRACT_TRACK_KEYS
    frames = [b[0] for b in track["boxes"]]
    assert frames == list(range(track["first_frame"], track["last_frame"] + 1))
    assert out["max_risk"] == max(t["risk_score"] for t in out["tracks"])


def test_inspect_reports_a_broken_file_without_crashing(tmp_path):
    bad = tmp_path / "notes.mp4"
    bad.write_text("not a video\n" * 10)
    result = CliRunner().invoke(app, ["inspect", str(bad), "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["status"] == "error" and "holds text" in out["error"] and out["tracks"] == []


def test_a_refitted_risk_model_is_picked_up_from_the_environment(tmp_path, monkeypatch):
    from veilscan.catalog.risk_model import DEFAULT_MODEL_PATH, MODEL_PATH_ENV, load_model

    own = json.loads(DEFAULT_MODEL_PATH.read_text())
    own["version"] = "my-archive-faces-1"
    path = tmp_path / "risk_model.json"
    path.write_text(json.dumps(own))
    monkeypatch.setenv(MODEL_PATH_ENV, str(path))
    assert load_model().version == "my-archive-faces-1"
    monkeypatch.delenv(MODEL_PATH_ENV)
    assert load_model().version != "my-archive-faces-1"


def test_warm_builds_the_int8_detector_where_it_is_used(monkeypatch):
    from veilscan.tasks.finder.centerface_int8 import PRECISION_ENV
    from veilscan.tasks.finder.confirm import whole_frame_int8

    monkeypatch.setenv(PRECISION_ENV, "float32")
    result = CliRunner().invoke(app, ["warm"])
    assert result.exit_code == 0, result.output
    assert "no int8 network used here" in result.output
    monkeypatch.delenv(PRECISION_ENV)
    result = CliRunner().invoke(app, ["warm"])
    assert result.exit_code == 0, result.output
    used = whole_frame_int8(settled=True)  # a CPU that runs int8 exactly, no CUDA
    assert ("int8 CenterFace ready" in result.output) == used, result.output
