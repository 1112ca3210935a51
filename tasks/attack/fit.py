"""Fit the monotone logistic risk model to measured attack success (binomial likelihood).

Per-type intercept and slopes on log-cells and log-frames, shared slope on the uncovered
share; every slope is bounded >= 0 (L-BFGS-B), so the fitted model can never say a stronger
redaction is riskier or that more frames are safer. A small ridge keeps types with few
conditions sane. ``residual_detail`` is not varied by the calibration grid, so its weight
stays 0 (documented in docs/CALIBRATION.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from veilscan.catalog.risk_model import MODEL_TYPES, Features, RiskModel

MIN_CELLS_SLOPE = 0.05
"""Smallest logit gain per doubling of cells across the face (keeps risk strictly monotone)."""


@dataclass(frozen=True)
class Observation:
    """One condition's features and the best attack's hits out of trials (probes)."""

    features: Features
    hits: int
    trials: int


def _design(obs: list[Observation]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n_t = len(MODEL_TYPES)
    x = np.zeros((len(obs), 3 * n_t + 1))
    for i, o in enumerate(obs):
        f = o.features
        name = f.redaction_type if f.redaction_type in MODEL_TYPES else "gaussian_blur"
        t = MODEL_TYPES.index(name)
        x[i, 3 * t:3 * t + 3] = (1.0, f.log_cells, f.log_frames)
        x[i, -1] = f.uncovered
    k = np.array([o.hits for o in obs], float)
    n = np.array([o.trials for o in obs], float)
    return x, k, n


def fit_model(obs: list[Observation], *, version: str, gallery_size: int, dropout_risk: float,
              ridge: float = 0.05, meta: dict | None = None) -> RiskModel:
    """Maximum-likelihood monotone logistic fit over the observations."""
    x, k, n = _design(obs)
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
    bounds.append((0.0, 20.0))
    penal = np.ones(x.shape[1])
    penal[0::3][:n_t] = 0.01  # intercepts: barely penalised

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = x @ w
        # Binomial negative log-likelihood, written stably.
        nll = np.sum(n * np.logaddexp(0.0, z) - k * z)
        p = 1.0 / (1.0 + np.exp(-z))
        grad = x.T @ (n * p - k) + 2 * ridge * penal * w
        return float(nll + ridge * np.sum(penal * w * w)), grad

    w0 = np.zeros(x.shape[1])
    w0[0::3][:n_t] = -2.0
    w0[1::3][:n_t] = 0.5
    res = minimize(loss, w0, jac=True, method="L-BFGS-B", bounds=bounds)
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
    shared = {"uncovered": float(w[-1]), "residual_detail": 0.0}
    for v in per_type.values():
        for key in v:
            v[key] = round(float(v[key]), 4)
    return RiskModel(version=version, per_type=per_type, shared={k: round(v, 4) for k, v in
                     shared.items()}, gallery_size=gallery_size,
                     dropout_risk=round(float(dropout_risk), 4), provisional=False,
                     meta={**(meta or {}), "fit_converged": bool(res.success),
                           "fit_nll": round(float(res.fun), 3)})
