"""Fill tracks no head vouches for (tasks/finder/finder._flat_patch_without_head): a flat patch
that stays wider than a head once its boxes are refined is a blown-out stretch of wall (two
such white patches beside a head were followed through HEVC on bench/finder_foreign.py),
while a head-shaped light fill, and a wide fill with a face or a head seen around it (an eye
bar is found on the face it covers), are kept."""

from __future__ import annotations

from veilscan.tasks.finder.finder import _flat_patch_without_head
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
