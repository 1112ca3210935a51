"""Fit the monotone noisy-OR logistic risk model to measured attack success (binomial likelihood).

Per-type intercept and slopes on log-cells and log-frames for the redacted part, a shared
intercept and slope on the uncovered share for the visible part, combined as a noisy OR;
every slope is bounded >= 0 (L-BFGS-B), so the fitted model can never say a stronger
redaction is riskier or that more frames are safer. A small ridge keeps types with few
conditions sane. ``residual_detail`` is not varied by the calibration grid, so its weight
stays 0 (documented in docs/CALIBRATION.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit

from veilscan.catalog.risk_model import MODEL_TYPES, Features, RiskModel

SHRINK = 30.0
"""Strength of the pull of each type's parameters toward the mean over types (chosen on the
seed-0 calibration run's held-out rows, then fixed; see docs/CALIBRATION.md)."""
MIN_CELLS_SLOPE = 0.05
"""Smallest logit gain per doubling of cells across the face (keeps risk strictly monotone)."""


@dataclass(frozen=True)
class Observation:
    """One condition's features and the best attack's hits out of trials (probes)."""

    features: Features
    hits: int
    trials: int


def _design(obs: list[Observation]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    n_t = len(MODEL_TYPES)
    x = np.zeros((len(obs), 3 * n_t))
    u = np.zeros(len(obs))
    for i, o in enumerate(obs):
        f = o.features
        name = f.redaction_type if f.redaction_type in MODEL_TYPES else "gaussian_blur"
        t = MODEL_TYPES.index(name)
        x[i, 3 * t:3 * t + 3] = (1.0, f.log_cells, f.log_frames)
        u[i] = f.uncovered
    k = np.array([o.hits for o in obs], float)
    n = np.array([o.trials for o in obs], float)
    return x, u, k, n


def _predict(w: np.ndarray, x: np.ndarray, u: np.ndarray) -> np.ndarray:
    leak = expit(x @ w[:-2])
    visible = expit(w[-2] + w[-1] * u)
    return 1.0 - (1.0 - leak) * (1.0 - visible)


def fit_model(obs: list[Observation], *, version: str, gallery_size: int, dropout_risk: float,
              ridge: float = 0.05, shrink: float = SHRINK, meta: dict | None = None
              ) -> RiskModel:
    """Maximum-likelihood monotone noisy-OR fit over the observations (see risk_model.py)."""
    x, u, k, n = _design(obs)
    n_t = len(MODEL_TYPES)
    present = {MODEL_TYPES.index(o.features.redaction_type) for o in obs
               if o.features.redaction_type in MODEL_TYPES}
    bounds: list[tuple[float | None, float | None]] = []
    for t in range(n_t):
        solid = MODEL_TYPES[t] == "solid"
        # A floor on the cells slope keeps the ordering strict: a weaker redaction of the same
        # face always scores higher, never ties.
        bounds += [(-12.0, 12.0), (0.0, 0.0) if solid else (MIN_CELLS_SLOPE, 10.0),
                   (0.0, 0.0 if solid else 5.0)]
    # Visible part: intercept, slope on the uncovered share. With nothing uncovered it may
    # add at most chance (1 / gallery_size), so a full solid fill stays near zero.
    chance_logit = float(np.log(1.0 / max(1, gallery_size - 1)))
    bounds += [(-12.0, chance_logit), (0.0, 30.0)]
    penal = np.ones(x.shape[1] + 2)
    penal[0:3 * n_t:3] = 0.01  # intercepts: barely penalised
    penal[-2:] = 0.01

    leaky = [t for t in range(n_t) if MODEL_TYPES[t] != "solid"]

    def loss(w: np.ndarray) -> float:
        p = np.clip(_predict(w, x, u), 1e-9, 1 - 1e-9)
        nll = -np.sum(k * np.log(p) + (n - k) * np.log1p(-p))
        # Few conditions per type: shrink each type's three parameters toward the mean over
        # types (partial pooling), so one noisy condition cannot swing a type's slope.
        per = w[:3 * n_t].reshape(n_t, 3)[leaky]
        pool = np.sum((per - per.mean(axis=0)) ** 2)
        return float(nll + ridge * np.sum(penal * w * w) + shrink * pool)

    w0 = np.zeros(x.shape[1] + 2)
    w0[0:3 * n_t:3] = -2.0
    w0[1:3 * n_t:3] = 0.5
    w0[-2:] = (-4.0, 5.0)
    w0 = np.clip(w0, [b[0] for b in bounds], [b[1] for b in bounds])
    res = minimize(loss, w0, method="L-BFGS-B", bounds=bounds)
    w = res.x
    per_type = {}
    for t, name in enumerate(MODEL_TYPES):
        a, b, c = (float(v) for v in w[3 * t:3 * t + 3])
        if t not in present:  # no data: borrow the riskiest fitted blur's parameters
            a, b, c = np.nan, np.nan, np.nan
        per_type[name] = {"intercept": a, "log_cells": b, "log_frames": c}
    fitted = [v for t, v in per_type.items() if not np.isnan(v["intercept"]) and t != "solid"]
    for name, v in per_type.items():
        if np.isnan(v["intercept"]):
            per_type[name] = dict(max(fitted, key=lambda p: p["intercept"] + 4 * p["log_cells"]))
    for v in per_type.values():
        for key in v:
            v[key] = round(float(v[key]), 4)
    shared = {"visible_intercept": round(float(w[-2]), 4), "uncovered": round(float(w[-1]), 4),
              "residual_detail": 0.0}
    return RiskModel(version=version, per_type=per_type, shared=shared,
                     gallery_size=gallery_size, dropout_risk=round(float(dropout_risk), 4),
                     provisional=False, meta={**(meta or {}), "fit_converged": bool(res.success),
                                              "fit_nll": round(float(res.fun), 3)})
