"""Fill tracks no head vouches for (tasks/finder/finder._flat_patch_without_head): a flat patch
that stays wider than a head once its boxes are refined is a blown-out stretch of wall (two
such white patches beside a head were followed through HEVC on bench/finder_foreign.py),
while a head-shaped light fill, and a wide fill with a face or a head seen around it (an eye
bar is found on the face it covers), are kept. A dark patch that shades across its middle (a
shadowed gap between cupboards) needs more than the weak head context a black box draws, and
a light one that shades is scenery too."""

from __future__ import annotations

import numpy as np

from veilscan.tasks.finder.detail import region_detail
from veilscan.tasks.finder.finder import _flat_patch_without_head
from veilscan.tasks.finder.measure import VIVID_CHROMA
from veilscan.tasks.finder.tracking import Track


def _fill(box: tuple[int, int, int, int], frames: int = 30) -> Track:
    t = Track(0)
    for f in range(frames):
        t.frames.append(f)
        t.boxes.append((box[0] + f, box[1], box[2], box[3]))
    t.fill_level = 252.0
    return t


def test_a_light_patch_wider_than_a_head_is_scenery() -> None:
    assert _flat_patch_without_head(_fill((66, 146, 50, 32)), asks_head=False)


def test_a_light_head_shaped_fill_stands_on_its_own() -> None:
    assert not _flat_patch_without_head(_fill((96, 41, 110, 146)), asks_head=False)
    # as wide as tall, or a little wider (a fill on a turned head): still a head's shape
    assert not _flat_patch_without_head(_fill((96, 41, 80, 60)), asks_head=False)


def test_a_wide_fill_on_a_face_seen_is_kept() -> None:
    bar = _fill((100, 80, 90, 20))
    bar.faces.append((1.0, 80.0))
    assert not _flat_patch_without_head(bar, asks_head=False)
    low = _fill((100, 80, 90, 50))
    low.context = 0.2
    assert not _flat_patch_without_head(low, asks_head=True)


def test_a_fill_that_must_show_a_head_and_shows_none_is_scenery() -> None:
    assert _flat_patch_without_head(_fill((96, 41, 110, 146)), asks_head=True)


def _patch(ramp: float, context: float, level: float = 44.0) -> Track:
    """A fill track (dark on a white wall by default, light on a dark one), its middle
    measured frame by frame: ``level``, rising ``ramp`` levels a px left to right (the
    kitchen's shadowed gap read 2-4 levels across its middle; a codec keeps an editor's fill
    at one level)."""
    t = _fill((60, 50, 56, 72), frames=12)
    t.fill_level, t.context = level, context
    wall = 235 if level < 128 else 60
    for f, (x, y, w, h) in zip(t.frames, t.boxes, strict=True):
        grey = np.full((200, 240), wall, np.uint8)
        grey[y:y + h, x:x + w] = np.clip(level + ramp * np.arange(w), 0, 255).astype(np.uint8)
        t.detail[f] = region_detail(grey, (x, y, w, h))
    return t


def test_a_weak_head_context_vouches_for_a_flat_dark_fill_not_a_shadow() -> None:
    # 0.064: what CenterFace gave the kitchen's gap beside a vase, and a black box on the
    # bench's pose GIFs (0.05-0.07 in the best view)
    assert not _flat_patch_without_head(_patch(0.0, 0.064), asks_head=True)
    assert _flat_patch_without_head(_patch(0.12, 0.064), asks_head=True)
    # a head seen plainly around it, or a face seen in it, still vouches for it
    assert not _flat_patch_without_head(_patch(0.12, 0.15), asks_head=True)
    seen = _patch(0.12, 0.0)
    seen.faces.append((0.9, 56.0))
    assert not _flat_patch_without_head(seen, asks_head=True)


def test_a_light_patch_that_shades_is_scenery() -> None:
    """A light fill needs no head around it, but it must be one level: a napkin on a table,
    which HEVC flattened enough to read as a fill over six frames, spread 4 levels."""
    assert not _flat_patch_without_head(_patch(0.0, 0.0, level=180.0), asks_head=False)
    assert _flat_patch_without_head(_patch(0.12, 0.0, level=180.0), asks_head=False)


def test_a_vivid_dark_fill_is_not_judged_by_its_shading() -> None:
    """A saturated blue oval on a 41 px face read a median spread of 2 through H.264: the
    codec's colour errors show in its grey level. Its colour vouches for it instead."""
    blue = _patch(0.05, 0.0, level=68.0)
    assert _flat_patch_without_head(blue, asks_head=False)  # a grey one this shaded is not kept
    blue.fill_chroma = float(VIVID_CHROMA) + 100.0
    assert not _flat_patch_without_head(blue, asks_head=False)
