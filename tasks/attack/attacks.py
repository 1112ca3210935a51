"""The four attacks on a redacted face, and their rank-1 success under one condition.

1. naive: the redacted probe against clear gallery photos;
2. parrot (McPherson et al. 2016): the attacker redacts the gallery the same way (type and
   strength as the finder estimates them from the probe) and matches in that space;
3. restoration: Wiener deconvolution with the known kernel (blurs) or cubic interpolation of
   the cell means (mosaic) before matching the clear gallery;
4. multi-frame: distances pooled (averaged) over up to ``MAX_VIEWS`` frames that show the
   face in different poses/expressions, in both clear and parrot space; for a mosaic, also
   shift-and-add super-resolution: a face moving under a fixed grid is seen with many grid
   offsets, whose registered average equals a box blur of the face (width = block), which
   is then deconvolved.
The attacker is assumed to know the redaction type, strength and (for mosaics) the frame
registration exactly: an upper bound, which is what a risk score should track.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
from skimage import restoration

from veilscan.tasks.attack.conditions import Condition, render, scale_face
from veilscan.tasks.attack.recogniser import Recogniser

MAX_VIEWS = 3
"""Distinct frames (poses) whose descriptors a multi-frame attack pools (cost bound)."""
MAX_SHIFTS = 64
"""Grid offsets a shift-and-add attack averages at most."""
WIENER_BALANCE = {"gaussian_blur": 0.02, "box_blur": 0.03, "motion_blur": 0.03, "mosaic": 0.1}
"""Regularisation of the Wiener filter (noise-to-signal) per kernel; for box-like kernels
(spectral zeros, ringing) it grows with (width / 4 px)^2 up to 1. Chosen by RMSE on a test
portrait (scikit-image astronaut), not on the calibration faces."""


def _balance(cond: Condition) -> float:
    t = cond.redaction_type
    if t in ("box_blur", "motion_blur"):
        return float(min(1.0, WIENER_BALANCE[t] * max(1.0, cond.recipe_strength / 4) ** 2))
    return WIENER_BALANCE.get(t, 0.05)

ATTACKS: tuple[str, ...] = ("naive", "parrot", "restoration", "multi_frame")


def _psf(cond: Condition) -> np.ndarray:
    s = cond.recipe_strength
    if cond.redaction_type == "gaussian_blur":
        r = int(np.ceil(3 * s))
        ax = np.arange(-r, r + 1, dtype=np.float64)
        g = np.exp(-(ax**2) / (2 * s * s))
        k = np.outer(g, g)
    elif cond.redaction_type in ("box_blur", "mosaic"):
        n = max(1, int(round(s)))
        # cv2.blur anchors an even box at n // 2 (correlation), i.e. a convolution kernel
        # spanning offsets -n/2+1 .. n/2: place it in an odd array accordingly.
        size = n if n % 2 else n + 1
        k = np.zeros((size, size))
        k[size - n:, size - n:] = 1.0
    elif cond.redaction_type == "motion_blur":
        n = max(1, int(round(s)))
        size = n if n % 2 else n + 1
        k = np.zeros((size, size), np.float32)
        k[size // 2, (size - n) // 2:(size - n) // 2 + n] = 1.0
        rot = cv2.getRotationMatrix2D((size / 2 - 0.5, size / 2 - 0.5), cond.motion_angle_deg, 1.0)
        # filter2D correlates; as a convolution kernel the streak is point-reflected.
        k = cv2.warpAffine(k, rot, (size, size)).astype(np.float64)[::-1, ::-1]
    else:
        raise ValueError(f"no kernel for {cond.redaction_type}")
    return k / k.sum()


def deconvolve(img: np.ndarray, psf: np.ndarray, balance: float = 0.05) -> np.ndarray:
    """Wiener deconvolution of a grey uint8 image, reflect-padded against FFT wrap-around."""
    pad = max(psf.shape)
    x = np.pad(img.astype(np.float64) / 255.0, pad, mode="reflect")
    out = restoration.wiener(x, psf, balance, clip=True)[pad:-pad, pad:-pad]
    return np.clip(np.rint(out * 255), 0, 255).astype(np.uint8)


def _in_band(restored: np.ndarray, redacted: np.ndarray, cond: Condition) -> np.ndarray:
    x, y, w, h = cond.band_box(redacted.shape)
    out = redacted.copy()
    out[y:y + h, x:x + w] = restored[y:y + h, x:x + w]
    return out


def restore(redacted: np.ndarray, cond: Condition, grid_origin: tuple[int, int]) -> np.ndarray:
    """Undo what can be undone of one redacted frame (the restoration attack)."""
    t = cond.redaction_type
    if t == "solid":
        return redacted
    if t == "mosaic":
        b = max(1, int(round(cond.recipe_strength)))
        h, w = redacted.shape[:2]
        ox, oy = grid_origin[0] % b, grid_origin[1] % b
        # Cell centres on the grid, cubic-interpolated back to the pixel grid.
        ys = np.arange(oy - b, h + b, b) + b / 2 - 0.5
        xs = np.arange(ox - b, w + b, b) + b / 2 - 0.5
        iy = np.clip(np.rint(ys), 0, h - 1).astype(int)
        ix = np.clip(np.rint(xs), 0, w - 1).astype(int)
        small = redacted[iy][:, ix].astype(np.float32)
        gy = (np.arange(h) - ys[0]) / b
        gx = (np.arange(w) - xs[0]) / b
        mx, my = np.meshgrid(gx.astype(np.float32), gy.astype(np.float32))
        out = cv2.remap(small, mx, my, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
        out = np.clip(np.rint(out), 0, 255).astype(np.uint8)
    else:
        out = deconvolve(redacted, _psf(cond), _balance(cond))
    return _in_band(out, redacted, cond)


def shift_and_add(face_scaled: np.ndarray, cond: Condition, rng: np.random.Generator) -> np.ndarray:
    """Super-resolve a mosaic from ``cond.frames`` frames of a face under shifted grids.

    Each frame is the same face with the grid at another offset (the face moved by a
    sub-block amount); registered and averaged they give the face convolved with a
    ``block x block`` box, which a Wiener filter then sharpens.
    """
    b = max(1, int(round(cond.recipe_strength)))
    offsets = [(i % b, i // b) for i in range(b * b)]
    n = min(cond.frames, MAX_SHIFTS, len(offsets))
    pick = rng.choice(len(offsets), size=n, replace=False)
    acc = np.zeros(face_scaled.shape, np.float64)
    for j in pick:
        acc += render(face_scaled, cond, grid_origin=offsets[j], scaled=True)
    mean = np.clip(np.rint(acc / n), 0, 255).astype(np.uint8)
    # Averaged over grid offsets, pixel p sees q with weight (b-|dx|)(b-|dy|): a tent kernel,
    # the box convolved with itself, which the Wiener filter inverts.
    box = np.ones((b, b))
    tent = cv2.filter2D(np.pad(box, b // 2 + 1), -1, box, borderType=cv2.BORDER_CONSTANT)
    sharp = deconvolve(mean, tent / tent.sum(), WIENER_BALANCE["mosaic"])
    return _in_band(sharp, mean, cond)


def _rank1(probe: np.ndarray, gallery: np.ndarray, labels: np.ndarray) -> np.ndarray:
    d = np.linalg.norm(probe[:, None, :] - gallery[None, :, :], axis=-1)
    return d.argmin(axis=1) == labels


def _dist(probe: np.ndarray, gallery: np.ndarray) -> np.ndarray:
    return np.linalg.norm(probe[:, None, :] - gallery[None, :, :], axis=-1)


@dataclass
class AttackOutcome:
    """Per-probe rank-1 hits (bool arrays, one entry per gallery identity) of each attack."""

    condition: Condition
    hits: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def rates(self) -> dict[str, float]:
        return {k: float(v.mean()) for k, v in self.hits.items()}

    @property
    def best(self) -> str:
        return max(self.hits, key=lambda k: (self.hits[k].mean(), -ATTACKS.index(k.split(":")[0])))


def run_attacks(
    rec: Recogniser,
    gallery: list[np.ndarray],
    gallery_desc: np.ndarray,
    probe_views: list[list[np.ndarray]],
    cond: Condition,
    rng: np.random.Generator,
    labels: np.ndarray | None = None,
) -> AttackOutcome:
    """Attack each probe's redacted views against the gallery.

    ``probe_views[i]`` are clear crops of gallery identity ``labels[i]`` (default ``i``) other
    than its gallery photo; the first ``min(frames, MAX_VIEWS)`` of them (cycled) are
    redacted as one track's frames.
    """
    labels = np.arange(len(probe_views)) if labels is None else np.asarray(labels)
    n_views = min(cond.frames, MAX_VIEWS)
    mosaic = cond.redaction_type == "mosaic"

    def origin() -> tuple[int, int]:
        b = max(1, int(round(cond.recipe_strength)))
        return (int(rng.integers(b)), int(rng.integers(b))) if mosaic else (0, 0)

    # Frame 0 and the parrot gallery share the grid phase: the attacker reads the phase off
    # the probe's block edges and renders the gallery to match. Later frames move freely.
    frames, origins = [], []
    for views in probe_views:
        for v in range(n_views):
            o = origin() if v else (0, 0)
            frames.append(render(views[v % len(views)], cond, grid_origin=o))
            origins.append(o)
    parrot_gallery = [render(g, cond) for g in gallery]
    restored = [restore(frames[i * n_views], cond, origins[i * n_views])
                for i in range(len(probe_views))]
    if mosaic:  # parrot in restored space: smooth both sides' block edges the same way
        restored += [restore(g, cond, (0, 0)) for g in parrot_gallery]
        # and the later frames of each track, for pooling in that space
        restored += [restore(frames[i * n_views + v], cond, origins[i * n_views + v])
                     for i in range(len(probe_views)) for v in range(1, n_views)]
    batch = frames + parrot_gallery + restored
    sr: list[np.ndarray] = []
    if mosaic and cond.frames > 1:
        sr = [shift_and_add(scale_face(v[0], cond.face_width_px), cond, rng) for v in probe_views]
    desc = rec.describe(batch + sr)
    n_f, n_g = len(frames), len(parrot_gallery)
    fd = desc[:n_f].reshape(len(probe_views), n_views, -1)
    pd = desc[n_f:n_f + n_g]
    rd = desc[n_f + n_g:n_f + n_g + len(restored)]
    out = AttackOutcome(cond)
    out.hits["naive"] = _rank1(fd[:, 0], gallery_desc, labels)
    out.hits["parrot"] = _rank1(fd[:, 0], pd, labels)
    n_p = len(probe_views)
    out.hits["restoration"] = _rank1(rd[:n_p], gallery_desc, labels)
    if mosaic:  # restored layout: probes (n_p), parrot gallery (n_g), later frames
        rp = rd[n_p:n_p + n_g]
        out.hits["parrot:restored"] = _rank1(rd[:n_p], rp, labels)
    if cond.frames > 1:
        pooled_clear = np.mean([_dist(fd[:, v], gallery_desc) for v in range(n_views)], axis=0)
        pooled_parrot = np.mean([_dist(fd[:, v], pd) for v in range(n_views)], axis=0)
        out.hits["multi_frame:pooled_clear"] = pooled_clear.argmin(1) == labels
        out.hits["multi_frame:pooled_parrot"] = pooled_parrot.argmin(1) == labels
        if mosaic:
            later = rd[n_p + n_g:].reshape(n_p, n_views - 1, -1)
            rf = np.concatenate([rd[:n_p, None], later], axis=1)
            pooled_rest = np.mean([_dist(rf[:, v], rp) for v in range(n_views)], axis=0)
            out.hits["multi_frame:pooled_parrot_restored"] = pooled_rest.argmin(1) == labels
        if sr:
            sd = desc[n_f + n_g + len(restored):]
            out.hits["multi_frame:shift_and_add"] = _rank1(sd, gallery_desc, labels)
    return out
