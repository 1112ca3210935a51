"""Whole shots: the finder over the talking head's 600 frames (20 s) under each of nine recipes,
at full size (608x1080) and at half size, with the long shot's ten dropouts (single frames
and one 3-frame run). Most of such a shot is scanned at the settled rate (tasks/finder/finder.py
``_COAST``), which bench/finder.py's short clips barely reach; this is where that rate's
cost in coverage and dropouts shows. Per clip: the tracks (type, first and last frame), the
face frames a track's box covers (IoU >= 0.3), the dropouts found and the false dropout frames;
then the totals. Last, the shot there and back: played forwards, backwards, forwards and
backwards (2400 frames, a sigma-6 blur, no dropout), where a settled track meets the face
receding from its close-up and then walking up to the camera at its fastest, between detector
runs: face frames boxed and false dropout frames. About four minutes on 2 cores (the encoding
is most of it).

    .venv/bin/python bench/finder_shots.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from finder import LONG_DROPOUTS, long_clip, shot_figures, whole_shot  # noqa: E402

from veilscan.tasks.finder import detector_version  # noqa: E402
from veilscan.tasks.obfuscate import Recipe  # noqa: E402

RECIPES = (Recipe("gaussian_blur", 3), Recipe("gaussian_blur", 6), Recipe("gaussian_blur", 12),
           Recipe("box_blur", 9), Recipe("motion_blur", 17, motion_angle_deg=45),
           Recipe("mosaic", 6), Recipe("mosaic", 16), Recipe("solid", color=(0, 0, 0)),
           Recipe("solid", color=(128, 128, 128)))


def _name(r: Recipe) -> str:
    return f"{r.method} {r.color}" if r.method == "solid" else f"{r.method} {r.strength:g}"


def main() -> None:
    t0 = time.perf_counter()
    shot = whole_shot()
    totals = [0, 0, 0, 0, 0]
    for scale in (1.0, 0.5):
        for recipe in RECIPES:
            tracks, covered, n_faces, hit, false = shot_figures(
                *long_clip(LONG_DROPOUTS, recipe, scale, shot))
            spans = [(t.redaction_type, t.first_frame, t.last_frame) for t in tracks]
            print(f"  {_name(recipe):24s} x{scale}: covered {covered}/{n_faces}, dropouts "
                  f"{hit}/{len(LONG_DROPOUTS)}, false {false}; tracks {spans}", flush=True)
            for k, v in enumerate((covered, n_faces, hit, len(LONG_DROPOUTS), false)):
                totals[k] += v
    c, n, h, d, f = totals
    print(f"total: face frames covered {c}/{n} ({c / n:.2f}), dropouts found {h}/{d}, "
          f"false dropout frames {f}")
    print(there_and_back(shot))
    print(f"{time.perf_counter() - t0:.0f} s; detector {detector_version()}")


def there_and_back(shot: tuple[list, list], passes: int = 4) -> str:
    """The whole shot (Gaussian sigma 6, no dropout) played forwards and backwards in turn,
    ``passes`` times: face frames boxed (IoU >= 0.3) and dropout frames reported (all false)."""
    frames, faces = shot
    order = [i for p in range(passes) for i in (range(len(frames)) if p % 2 == 0
                                                 else range(len(frames) - 1, -1, -1))]
    data, truth = long_clip((), shot=([frames[i] for i in order], [faces[i] for i in order]))
    tracks, covered, n_faces, _, _ = shot_figures(data, truth)
    false = sorted({f for t in tracks for f in t.dropout_frames})
    return (f"there and back ({passes} x {len(frames)} frames): tracks {len(tracks)}, face "
            f"frames covered {covered}/{n_faces}, false dropout frames {len(false)} {false}")


if __name__ == "__main__":
    main()
