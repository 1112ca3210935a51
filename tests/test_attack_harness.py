"""The attack harness: restoration and shift-and-add really recover detail; the fit is monotone.

These run without dlib (pure image maths and the fitter); the real calibration run is in
test_attack_calibration.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from veilscan.catalog.clip_result import cells_across_face
from veilscan.catalog.risk_model import MODEL_TYPES, Features
from veilscan.tasks.attack.attacks import restore, shift_and_add
from veilscan.tasks.attack.conditions import Condition, render, scale_face, strength_for_cells
from veilscan.tasks.attack.fit import MIN_CELLS_SLOPE, Observation, fit_model


@pytest.fixture(scope="module")
def face() -> np.ndarray:
    """A tight grey face crop from scikit-image's astronaut portrait (92 px wide)."""
    grey = (data.astronaut()[30:230, 150:320].mean(axis=2)).astype(np.uint8)
    return scale_face(grey, 92)


def _err(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((a.astype(float) - b.astype(float)) ** 2)))


@pytest.mark.parametrize("rtype", ["gaussian_blur", "box_blur", "mosaic"])
@pytest.mark.parametrize("cells", [4.0, 9.0])
def test_strength_for_cells_inverts_cells_across_face(rtype, cells):
    cond = Condition(rtype, strength_for_cells(rtype, cells, 92), 92)
    got = cells_across_face(rtype, cond.strength_px, 92)
    assert got == pytest.approx(cells, rel=0.2)


@pytest.mark.parametrize("rtype,strength", [("gaussian_blur", 2.5), ("box_blur", 7.0),
                                            ("motion_blur", 9.0)])
def test_deconvolution_brings_a_blurred_face_closer_to_the_original(face, rtype, strength):
    cond = Condition(rtype, strength, face.shape[1], motion_angle_deg=30.0)
    blurred = render(face, cond, scaled=True)
    assert _err(restore(blurred, cond, (0, 0)), face) < 0.9 * _err(blurred, face)


def test_restoration_only_touches_the_redacted_band(face):
    cond = Condition("gaussian_blur", 4.0, face.shape[1], band="eyes")
    blurred = render(face, cond, scaled=True)
    x, y, w, h = cond.band_box(face.shape)
    out = restore(blurred, cond, (0, 0))
    outside = np.ones(face.shape, bool)
    outside[y:y + h, x:x + w] = False
    assert np.array_equal(out[outside], face[outside])
    assert not np.array_equal(out[y:y + h], blurred[y:y + h])


def test_shift_and_add_beats_one_mosaic_frame(face):
    one = Condition("mosaic", 8, face.shape[1], frames=1)
    many = Condition("mosaic", 8, face.shape[1], frames=64)
    single = render(face, one, scaled=True)
    sr = shift_and_add(face, many, np.random.default_rng(0))
    assert _err(sr, face) < 0.85 * _err(single, face)


def _synthetic_obs(rng: np.random.Generator) -> list[Observation]:
    obs = []
    for t in MODEL_TYPES:
        for cells in (1.5, 3, 6, 12, 24):
            for frames in (1, 16):
                for cov in (1.0, 0.3):
                    f = Features.of(t, 92 / (2 * cells) if t != "mosaic" else 92 / cells, 92,
                                    frames, cov)
                    z = -3 + (1.2 * f.log_cells if t != "solid" else 0) + 0.2 * f.log_frames
                    v = -4 + 6 * f.uncovered
                    p = 1 - (1 - 1 / (1 + np.exp(-z))) * (1 - 1 / (1 + np.exp(-v)))
                    obs.append(Observation(f, int(rng.binomial(40, p)), 40))
    return obs


def test_fit_recovers_a_monotone_truth_and_keeps_its_signs():
    obs = _synthetic_obs(np.random.default_rng(1))
    m = fit_model(obs, version="t", gallery_size=20, dropout_risk=0.9)
    for t in ("gaussian_blur", "mosaic"):
        assert m.per_type[t]["log_cells"] == pytest.approx(1.2, abs=0.35)
        assert m.per_type[t]["log_frames"] >= 0
    assert m.per_type["solid"]["log_cells"] == 0
    assert m.shared["uncovered"] == pytest.approx(6.0, abs=1.5)
    assert m.shared["visible_intercept"] == pytest.approx(-4.0, abs=1.5)


def test_fit_never_learns_a_negative_slope_from_inverted_data():
    # Data where more cells and more frames look *safer*: the fit must clamp, not follow.
    obs = []
    for cells in (2, 4, 8, 16):
        for frames in (1, 64):
            f = Features.of("gaussian_blur", 92 / (2 * cells), 92, frames)
            obs.append(Observation(f, int(40 * (0.9 - 0.2 * np.log2(cells) / 4)) - frames // 16,
                                   40))
    m = fit_model(obs, version="t", gallery_size=20, dropout_risk=0.9)
    assert m.per_type["gaussian_blur"]["log_cells"] >= MIN_CELLS_SLOPE - 1e-9
    assert m.per_type["gaussian_blur"]["log_frames"] >= 0
