"""Pictures for docs/CALIBRATION.md: success vs cells per type, reliability, attack wins."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from veilscan.catalog.risk_model import Features, RiskModel
from veilscan.tasks.attack.attacks import AttackOutcome

TYPES = ("gaussian_blur", "box_blur", "motion_blur", "mosaic", "solid")


def _save(fig, path: Path) -> Path:
    """Write one report figure at the report's resolution and free it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def draw_figures(fit: list[AttackOutcome], held: list[AttackOutcome], model: RiskModel,
                 out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    paths = []
    chance = 1.0 / model.gallery_size

    # 1. Best-attack success vs effective cells across the face, per type.
    fig, axes = plt.subplots(1, 5, figsize=(19, 4), sharey=True)
    xs = np.geomspace(0.8, 60, 80)
    for ax, t in zip(axes, TYPES, strict=True):
        for split, outs, mk in (("fit", fit, "o"), ("held out", held, "s")):
            pts = [o for o in outs if o.condition.redaction_type == t]
            if not pts:
                continue
            cells = [2 ** o.condition.features().log_cells - 1 for o in pts]
            succ = [o.rates[o.best] for o in pts]
            col = ["tab:blue" if o.condition.band == "full" else "tab:orange" for o in pts]
            size = [18 + 10 * np.log2(o.condition.frames) for o in pts]
            if t == "solid":
                cells = [o.condition.coverage for o in pts]
            ax.scatter(cells, succ, c=col, s=size, marker=mk, alpha=0.75, label=split)
        if t != "solid":
            for frames, ls in ((1, "-"), (64, "--")):
                ys = [model.predict(Features(t, float(np.log2(1 + c)), float(np.log2(frames)),
                                             0.0, 0.0)) for c in xs]
                ax.plot(xs, ys, "k" + ls, lw=1, label=f"model, full cover, {frames} fr")
            ax.set_xscale("log")
            ax.set_xlabel("effective cells across the face")
        else:
            cov = np.linspace(0, 1, 50)
            ax.plot(cov, [model.predict(Features("solid", 0, 0, 1 - c, 0)) for c in cov], "k-",
                    lw=1, label="model")
            ax.set_xlabel("coverage (share of face filled)")
        ax.axhline(chance, color="grey", lw=0.8, ls=":")
        ax.set_title(t)
        ax.set_ylim(-0.03, 1.03)
    axes[0].set_ylabel("best-attack rank-1 success")
    axes[0].legend(fontsize=7, loc="upper left")
    fig.suptitle("Best-attack success per condition (blue: full cover, orange: partial band; "
                 "marker size: frames; dotted: chance)", fontsize=10)
    paths.append(_save(fig, out_dir / "success_vs_cells.png"))

    # 2. Reliability diagram on held-out identities (probe-weighted bins).
    pred = np.array([model.predict(o.condition.features()) for o in held])
    hits = np.array([o.hits[o.best].sum() for o in held], float)
    n = np.array([o.hits[o.best].size for o in held], float)
    edges = np.linspace(0, 1, 6)
    fig, ax = plt.subplots(figsize=(4.6, 4.4))
    ax.plot([0, 1], [0, 1], "k:", lw=1)
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        m = (pred >= lo) & (pred < hi if hi < 1 else pred <= hi)
        if m.any():
            ax.plot(np.average(pred[m], weights=n[m]), hits[m].sum() / n[m].sum(), "o",
                    color="tab:blue", ms=4 + 2 * np.sqrt(m.sum()))
            ax.annotate(str(int(m.sum())), (np.average(pred[m], weights=n[m]),
                        hits[m].sum() / n[m].sum()), fontsize=7, xytext=(5, -10),
                        textcoords="offset points")
    ax.scatter(pred, hits / n, s=8, color="grey", alpha=0.5, label="conditions")
    ax.set_xlabel("predicted risk_score")
    ax.set_ylabel("observed best-attack success")
    ax.set_title("Reliability, held-out identities")
    ax.legend(fontsize=7)
    paths.append(_save(fig, out_dir / "reliability.png"))

    # 3. Mean success of each attack family per type (all conditions).
    fams = ("naive", "parrot", "restoration", "multi_frame")
    fig, ax = plt.subplots(figsize=(8, 3.6))
    width = 0.2
    for j, fam in enumerate(fams):
        vals = []
        for t in TYPES:
            r = [max((v for k, v in o.rates.items() if k.split(":")[0] == fam), default=np.nan)
                 for o in fit + held if o.condition.redaction_type == t]
            r = [v for v in r if not np.isnan(v)]
            vals.append(np.mean(r) if r else 0.0)
        ax.bar(np.arange(len(TYPES)) + (j - 1.5) * width, vals, width, label=fam)
    ax.set_xticks(np.arange(len(TYPES)), TYPES)
    ax.set_ylabel("mean rank-1 success")
    ax.set_title("Which attack works (multi-frame: conditions with > 1 frame only)")
    ax.legend(fontsize=7)
    paths.append(_save(fig, out_dir / "attacks.png"))
    return paths
