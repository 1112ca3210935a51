"""Redactions drawn with room to spare: the six recipes of bench/finder.py's padding check (one
per type) on the face box padded 0%, 20%, 40% and 60% on each side, on the talking head at half
size and both pose GIFs, three random draws of start frame and dropout per cell (216 clips of
up to 45 frames, H.264 CRF 23, one dropout each). An editor's box is rarely CenterFace's tight
one: the labelled set pads 12%, and a set built by someone else may pad far more. Per pad and
type: truth tracks matched (IoU >= 0.3 with the padded region, as in bench/finder.py), extra
tracks, dropouts found and false dropout frames. About three minutes on 2 cores.

    .venv/bin/python bench/finder_padding.py
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from finder import (  # noqa: E402
    EDGE_RECIPES,
    ClipSpec,
    Outcome,
    build_clip,
    load_sources,
    match,
)

from veilscan.tasks.finder import DETECTOR_VERSION, find_in_frames  # noqa: E402

PADS = (0.0, 0.2, 0.4, 0.6)
SEEDS = (11, 12, 13)
SOURCES = (("talking_head", 0.5), ("pose_female", 1.0), ("pose_pair", 1.0))


def main() -> None:
    t0 = time.perf_counter()
    sources = load_sources(tuple(name for name, _ in SOURCES))
    # (pad, type) -> truth tracks, matched, extra, dropout frames, found, false frames
    cells: dict[tuple[float, str], list[int]] = defaultdict(lambda: [0] * 6)
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        for pad in PADS:
            for recipe in EDGE_RECIPES:
                for name, scale in SOURCES:
                    src = sources[name]
                    n = min(45, len(src.frames))
                    start = int(rng.integers(0, len(src.frames) - n + 1))
                    spec = ClipSpec(name, start, n, recipe, scale,
                                    (int(rng.integers(3, n - 3)),), crf=23, pad=pad)
                    frames, truth, face_w = build_clip(src, spec)
                    o = Outcome(spec, truth, find_in_frames(enumerate(frames)), face_w, 0.0)
                    match(o)
                    found = sum(len(set(spec.dropouts) & set(t.dropout_frames) & set(o.truth[ti]))
                                for ti, t in o.matched)
                    drops = sum(len(set(spec.dropouts) & set(tr)) for tr in o.truth)
                    false = sum(len(set(t.dropout_frames) - set(spec.dropouts))
                                for t in o.tracks)
                    row = (len(o.truth), len(o.matched), len(o.tracks) - len(o.matched),
                           drops, found, false)
                    cell = cells[(pad, recipe.method)]
                    for k, v in enumerate(row):
                        cell[k] += v
    print(f"{'pad':>4} {'type':14s} {'tracks':>7} {'extra':>5} {'dropouts':>9} {'false':>5}")
    for pad in PADS:
        total = [0] * 6
        for recipe in EDGE_RECIPES:
            c = cells[(pad, recipe.method)]
            total = [a + b for a, b in zip(total, c, strict=True)]
            print(f"{pad:4.0%} {recipe.method:14s} {c[1]:>3}/{c[0]:<3} {c[2]:>5} "
                  f"{c[4]:>4}/{c[3]:<4} {c[5]:>5}")
        print(f"{pad:4.0%} {'all':14s} {total[1]:>3}/{total[0]:<3} {total[2]:>5} "
              f"{total[4]:>4}/{total[3]:<4} {total[5]:>5}")
    print(f"{time.perf_counter() - t0:.0f} s; detector {DETECTOR_VERSION}")


if __name__ == "__main__":
    main()
