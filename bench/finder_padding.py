"""Redactions drawn unlike the labelled set's: the six recipes of bench/finder.py's padding check
(one per type) on the talking head at half size and both pose GIFs, three random draws of start
frame and dropout per cell (up to 45 frames, H.264 CRF 23, one dropout each). An editor's box
is rarely CenterFace's tight one, and its edge is often feathered: the labelled set pads 12%
and feathers 4 px on some clips, and a set built by someone else may do far more.

- default: the face box padded 0%, 20%, 40% and 60% on each side, hard edges (216 clips);
- ``--feather``: the mask's edge feathered 0, 4, 8 and 16 px (a Gaussian of that sigma),
  inside the region (fading to one half at its edge, as ``tasks/obfuscate.py`` draws by
  default) and, at 8 and 16 px, centred on the edge ("out": a whole-frame mask blurred, as
  many editors feather), rectangles and ellipses, 12% padding (396 clips). The regions are
  73-141 px wide: 8 px is 6-11% of their width, 16 px 11-22%.

Per setting and type: truth tracks matched (IoU >= 0.3 with the drawn region, as in
bench/finder.py), extra tracks, dropouts found and false dropout frames. About three minutes
on 2 cores (five with ``--feather``).

    .venv/bin/python bench/finder_padding.py [--feather] [--encode-cache DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from finder import (  # noqa: E402
    EDGE_RECIPES,
    ClipSpec,
    add_cache_argument,
    dropout_figures,
    load_sources,
    use_cache,
)

from veilscan.tasks.finder import DETECTOR_VERSION  # noqa: E402
from veilscan.tasks.obfuscate import Recipe  # noqa: E402

PADS = (0.0, 0.2, 0.4, 0.6)
FEATHERS = ((0.0, False), (4.0, False), (8.0, False), (16.0, False), (8.0, True), (16.0, True))
"""(sigma px, centred on the edge) of the feather sweep."""
SEEDS = (11, 12, 13)
SOURCES = (("talking_head", 0.5), ("pose_female", 1.0), ("pose_pair", 1.0))


def drawn(feather: bool) -> Iterator[tuple[object, float, Recipe]]:
    """(setting, padding, recipe) per cell: the padding sweep, or the feather sweep (each
    recipe as a rectangle and, but for the eye bar, an ellipse)."""
    if not feather:
        for pad in PADS:
            for recipe in EDGE_RECIPES:
                yield pad, pad, recipe
        return
    for px, outward in FEATHERS:
        for recipe in EDGE_RECIPES:
            for shape in ("rect", "ellipse")[:1 if recipe.method == "eye_bar" else 2]:
                yield (px, outward), 0.12, replace(recipe, feather_px=px, shape=shape,
                                                   feather_outward=outward)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feather", action="store_true", help="sweep feathered edges instead")
    add_cache_argument(ap)
    args = ap.parse_args()
    use_cache(args)
    t0 = time.perf_counter()
    sources = load_sources(tuple(name for name, _ in SOURCES))
    # (setting, type) -> truth tracks, matched, extra, dropout frames, found, false frames
    cells: dict[tuple[object, str], list[int]] = defaultdict(lambda: [0] * 6)
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        for setting, pad, recipe in drawn(args.feather):
            for name, scale in SOURCES:
                n = min(45, len(sources[name].frames))
                start = int(rng.integers(0, len(sources[name].frames) - n + 1))
                spec = ClipSpec(name, start, n, recipe, scale,
                                (int(rng.integers(3, n - 3)),), crf=23, pad=pad)
                cell = cells[(setting, recipe.method)]
                for k, v in enumerate(dropout_figures(spec, sources[name])):
                    cell[k] += v
    label = "feather" if args.feather else "pad"
    print(f"{label:>10} {'type':14s} {'tracks':>7} {'extra':>5} {'dropouts':>9} {'false':>5}")
    for setting in FEATHERS if args.feather else PADS:
        shown = (f"{setting[0]:g} px{' out' if setting[1] else ''}" if args.feather
                 else f"{setting:.0%}")
        total = [0] * 6
        for recipe in EDGE_RECIPES:
            c = cells[(setting, recipe.method)]
            total = [a + b for a, b in zip(total, c, strict=True)]
            print(f"{shown:>10} {recipe.method:14s} {c[1]:>3}/{c[0]:<3} {c[2]:>5} "
                  f"{c[4]:>4}/{c[3]:<4} {c[5]:>5}")
        print(f"{shown:>10} {'all':14s} {total[1]:>3}/{total[0]:<3} {total[2]:>5} "
              f"{total[4]:>4}/{total[3]:<4} {total[5]:>5}")
    print(f"{time.perf_counter() - t0:.0f} s; detector {DETECTOR_VERSION}")


if __name__ == "__main__":
    main()
