"""Calibrate the risk model: attack redacted faces of an identity set, fit, report.

Identities are split in two halves: the model is fitted on attacks against the first half
and judged on the second (different people, independently sampled conditions). Success is
rank-1 identification in a gallery of all identities of that half, one clear photo each.
``veilscan calibrate --faces DIR`` calls :func:`calibrate`.

Cost: one dlib descriptor is ~60-100 ms on one shared CPU core; a full run (40 ORL identities,
49 conditions x 40 probes) takes ~15 min, ``quick=True`` (8 identities, 10 conditions) < 60 s.
"""

from __future__ import annotations

import csv
import hashlib
import json
import time
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from veilscan.catalog.risk_model import RiskModel
from veilscan.tasks.attack.attacks import MAX_VIEWS, AttackOutcome, run_attacks
from veilscan.tasks.attack.conditions import FACE_FRACTION, Condition, strength_for_cells
from veilscan.tasks.attack.faces import ORL_FACE_BOX, Identity, load_identities
from veilscan.tasks.attack.fit import Observation, fit_model
from veilscan.tasks.attack.ladder import LadderRow, ladder_check
from veilscan.tasks.attack.recogniser import Recogniser


@dataclass(frozen=True)
class Grid:
    """The calibration grid that conditions are sampled from."""

    types: tuple[str, ...] = ("gaussian_blur", "box_blur", "motion_blur", "mosaic", "solid")
    type_weights: tuple[float, ...] = (0.22, 0.15, 0.15, 0.33, 0.15)
    cells: tuple[float, ...] = (0.75, 1.0, 1.5, 2.5, 4.0, 6.0, 9.0, 14.0, 22.0)
    widths_px: tuple[int, ...] = (24, 46, 92, 184)
    frames: tuple[int, ...] = (1, 4, 16, 64)
    bands: tuple[str, ...] = ("full", "eyes", "upper", "lower")
    band_weights: tuple[float, ...] = (0.6, 0.14, 0.13, 0.13)
    fit_conditions: int = 25
    heldout_conditions: int = 24
    probes_per_identity: int = 2


QUICK_GRID = Grid(widths_px=(46, 92), frames=(1, 4), fit_conditions=6, heldout_conditions=4,
                  probes_per_identity=1)


def sample_conditions(grid: Grid, n: int, rng: np.random.Generator) -> list[Condition]:
    """``n`` distinct conditions, stratified by type (weights), strengths by cell target."""
    out: list[Condition] = []
    seen: set[Condition] = set()
    tw = np.array(grid.type_weights) / sum(grid.type_weights)
    bw = np.array(grid.band_weights) / sum(grid.band_weights)
    counts = np.maximum(1, np.round(tw * n)).astype(int)
    for t, c in zip(grid.types, counts, strict=True):
        tries = 0
        while c > 0 and tries < 200:
            tries += 1
            width = int(rng.choice(grid.widths_px))
            band = str(rng.choice(grid.bands, p=bw))
            if t == "solid":
                cond = Condition("solid", 0.0, width, 1, band)
            else:
                cells = float(rng.choice(grid.cells))
                face = width * FACE_FRACTION
                if cells > face / 2:
                    continue
                angle = float(rng.uniform(0, 180)) if t == "motion_blur" else 0.0
                cond = Condition(t, strength_for_cells(t, cells, face), width,
                                 int(rng.choice(grid.frames)), band, round(angle, 1))
            if cond in seen:
                continue
            seen.add(cond)
            out.append(cond)
            c -= 1
    return out


@dataclass
class CalibrationReport:
    """What a calibration measured; ``summary()`` is what the CLI prints."""

    model: RiskModel
    model_path: Path
    report_dir: Path
    fit_identities: list[str]
    heldout_identities: list[str]
    gallery_size: int
    clear_rank1: float
    spearman: float
    brier: float
    brier_base_rate: float
    n_fit_conditions: int
    n_heldout_conditions: int
    best_attack_counts: dict[str, int]
    seconds: float
    descriptors: int
    figures: list[Path] = field(default_factory=list)
    ladder: list[LadderRow] = field(default_factory=list)

    def summary(self) -> str:
        wins = ", ".join(f"{k} {v}" for k, v in sorted(self.best_attack_counts.items()))
        ladder = []
        if self.ladder:
            hit = [r.risk_score for r in self.ladder if r.identified]
            miss = [r.risk_score for r in self.ladder if not r.identified]
            ladder = [f"portrait ladder: {len(hit)}/{len(self.ladder)} redacted probes identified;"
                      f" mean risk_score identified {np.mean(hit or [np.nan]):.2f}, "
                      f"not identified {np.mean(miss or [np.nan]):.2f}"]
        return "\n".join([
            f"risk model {self.model.version} -> {self.model_path}",
            f"identities: {len(self.fit_identities)} fit, {len(self.heldout_identities)} held out;"
            f" gallery {self.gallery_size} identities x 1 clear photo (chance "
            f"{1 / self.gallery_size:.3f})",
            f"clear-face rank-1 (held out): {self.clear_rank1:.3f}",
            f"conditions: {self.n_fit_conditions} fit, {self.n_heldout_conditions} held out",
            f"held-out Spearman(risk_score, best-attack success) = {self.spearman:.3f}",
            f"held-out Brier score = {self.brier:.4f} (base-rate predictor: "
            f"{self.brier_base_rate:.4f})",
            f"best attack per held-out condition: {wins}",
            *ladder,
            f"{self.descriptors} face descriptors in {self.seconds:.0f} s; "
            f"report in {self.report_dir}",
        ])


def _split(ids: list[Identity], identities: int | None, rng: np.random.Generator
           ) -> tuple[list[Identity], list[Identity]]:
    order = rng.permutation(len(ids))
    chosen = [ids[i] for i in order[: identities or len(ids)]]
    if len(chosen) < 4:
        raise ValueError("need at least 4 identities (2 fit, 2 held out)")
    half = len(chosen) // 2
    return chosen[:half], chosen[half:]


def _attack_half(rec: Recogniser, people: list[Identity], conds: list[Condition],
                 rng: np.random.Generator, probes_per_identity: int
                 ) -> tuple[list[AttackOutcome], float]:
    """Attack every condition with ``probes_per_identity`` tracks per person, each built
    from different photos of that person (the gallery photo is never a probe)."""
    gallery = [p.faces[0] for p in people]
    views, labels = [], []
    shuffled = [[p.faces[1:][i] for i in rng.permutation(len(p.faces) - 1)] for p in people]
    for r in range(probes_per_identity):
        for i, rest in enumerate(shuffled):
            k = (r * MAX_VIEWS) % len(rest)
            views.append(rest[k:] + rest[:k])
            labels.append(i)
    lab = np.array(labels)
    gallery_desc = rec.describe(gallery)
    clear = rec.describe([v[0] for v in views])
    d = np.linalg.norm(clear[:, None] - gallery_desc[None], axis=-1)
    clear_rank1 = float((d.argmin(1) == lab).mean())
    outs = [run_attacks(rec, gallery, gallery_desc, views, c, rng, lab) for c in conds]
    return outs, clear_rank1


def _observation(o: AttackOutcome) -> Observation:
    hits = o.hits[o.best]
    return Observation(o.condition.features(), int(hits.sum()), int(hits.size))


def _write_rows(path: Path, split: str, outcomes: list[AttackOutcome], model: RiskModel) -> None:
    new = not path.exists()
    with path.open("a", newline="") as fh:
        w = csv.writer(fh)
        if new:
            w.writerow(["split", "type", "recipe_strength", "strength_px", "crop_width_px",
                        "face_width_px", "frames", "band", "coverage", "cells", "best_attack",
                        "success", "trials", "risk_score", "naive", "parrot", "restoration",
                        "multi_frame"])
        for o in outcomes:
            c, r = o.condition, o.rates
            multi = max((v for k, v in r.items() if k.startswith("multi_frame")), default="")
            f = c.features()
            w.writerow([split, c.redaction_type, c.recipe_strength, round(c.strength_px, 3),
                        c.face_width_px, round(c.reported_face_width_px, 1), c.frames, c.band,
                        round(c.coverage, 3),
                        round(2 ** f.log_cells - 1, 2), o.best, round(r[o.best], 4),
                        o.hits[o.best].size, round(model.predict(f), 4), r["naive"],
                        r["parrot"], r["restoration"], multi])


def calibrate(faces_dir: Path, out_model: Path, report_dir: Path, *,
              identities: int | None = None, quick: bool = False, seed: int = 0,
              ladder_dir: Path | None = None,
              face_box: tuple[float, float, float, float] | None = ORL_FACE_BOX
              ) -> CalibrationReport:
    """Attack, fit, evaluate on held-out identities; write the model JSON and report figures.

    ``identities`` caps how many people are used (half fit, half held out); ``quick`` runs a
    few identities over a small grid (CI smoke run, < 60 s). ``ladder_dir`` (the portrait
    ladder) adds the real-capture face-size check (``ladder.py``; ~1 min). ``face_box`` cuts
    each image to its face (fractions of width/height; the ORL default suits head-and-
    shoulders crops; None if your images are already face boxes).
    """
    from scipy.stats import spearmanr

    t0 = time.perf_counter()
    faces_dir, out_model, report_dir = Path(faces_dir), Path(out_model), Path(report_dir)
    rng = np.random.default_rng(seed)
    grid = QUICK_GRID if quick else Grid()
    if quick and identities is None:
        identities = 8
    fit_people, held_people = _split(load_identities(faces_dir, face_box=face_box), identities, rng)
    rec = Recogniser()
    fit_conds = sample_conditions(grid, grid.fit_conditions, rng)
    held_conds = sample_conditions(grid, grid.heldout_conditions, rng)
    fit_out, _ = _attack_half(rec, fit_people, fit_conds, rng, grid.probes_per_identity)
    held_out, clear_rank1 = _attack_half(rec, held_people, held_conds, rng,
                                         grid.probes_per_identity)

    fit_obs = [_observation(o) for o in fit_out]
    held_obs = [_observation(o) for o in held_out]
    meta = {
        "faces": faces_dir.name,
        "seed": seed,
        "quick": quick,
        "fit_identities": [p.name for p in fit_people],
        "heldout_identities": [p.name for p in held_people],
        "success": "rank-1 of the best attack (naive, parrot, restoration, multi-frame)",
        "face_box": list(face_box) if face_box else None,
        "probes_per_identity": grid.probes_per_identity,
        "fitted_on": time.strftime("%Y-%m-%d", time.gmtime()),
    }
    draft = fit_model(fit_obs, version="draft", gallery_size=len(held_people),
                      dropout_risk=clear_rank1, meta=meta)
    digest = hashlib.sha256(json.dumps([draft.per_type, draft.shared], sort_keys=True)
                            .encode()).hexdigest()[:8]
    version = f"{meta['fitted_on']}.{faces_dir.name}{'.quick' if quick else ''}.{digest}"
    model = RiskModel(version, draft.per_type, draft.shared, draft.gallery_size,
                      draft.dropout_risk, False, draft.meta)

    pred = model.predict_many([o.features for o in held_obs])
    obs_rate = np.array([o.hits / o.trials for o in held_obs])
    trials = np.array([o.trials for o in held_obs], float)
    hits = np.array([o.hits for o in held_obs], float)
    rho = float(spearmanr(pred, obs_rate).statistic) if len(set(obs_rate)) > 1 else float("nan")
    brier = float(np.sum(hits * (1 - pred) ** 2 + (trials - hits) * pred**2) / trials.sum())
    base = hits.sum() / trials.sum()
    brier_base = float(np.sum(hits * (1 - base) ** 2 + (trials - hits) * base**2) / trials.sum())
    model.meta.update({"heldout_spearman": round(rho, 4), "heldout_brier": round(brier, 4),
                       "heldout_conditions": len(held_obs), "fit_conditions": len(fit_obs)})

    out_model.parent.mkdir(parents=True, exist_ok=True)
    model.save(out_model)
    report_dir.mkdir(parents=True, exist_ok=True)
    rows = report_dir / "calibration_rows.csv"
    rows.unlink(missing_ok=True)
    _write_rows(rows, "fit", fit_out, model)
    _write_rows(rows, "heldout", held_out, model)
    wins: dict[str, int] = {}
    for o in held_out:
        key = o.best.split(":")[0]
        wins[key] = wins.get(key, 0) + 1
    ladder: list[LadderRow] = []
    if ladder_dir is not None:
        ladder = ladder_check(rec, Path(ladder_dir), [p.faces[0] for p in held_people], model)
        with (report_dir / "ladder_rows.csv").open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow([f.name for f in fields(LadderRow)])
            w.writerows([[getattr(r, f.name) for f in fields(LadderRow)] for r in ladder])
    report = CalibrationReport(
        model=model, model_path=out_model, report_dir=report_dir,
        fit_identities=[p.name for p in fit_people],
        heldout_identities=[p.name for p in held_people], gallery_size=len(held_people),
        clear_rank1=clear_rank1, spearman=rho, brier=brier, brier_base_rate=brier_base,
        n_fit_conditions=len(fit_obs), n_heldout_conditions=len(held_obs),
        best_attack_counts=wins, seconds=time.perf_counter() - t0, descriptors=rec.calls,
        ladder=ladder,
    )
    try:
        from veilscan.tasks.attack.report_figures import draw_figures
    except ImportError:  # matplotlib missing: numbers and JSON are still written
        return report
    report.figures = draw_figures(fit_out, held_out, model, report_dir)
    return report
