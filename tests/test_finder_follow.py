"""Following a held redaction by its own look (tasks/finder/follow.py): a blurred head that
walks along a still wall is found where it went; one that is gone is not placed."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from test_finder import _HEAD, _wall

from veilscan.footage import h264_roundtrip
from veilscan.tasks.finder.follow import follow
from veilscan.tasks.obfuscate import Recipe, apply


def _scene(x: int, y: int, recipe: Recipe, head: bool = True) -> np.ndarray:
    """A VGA brick wall with a 110 x 134 px head at (x, y), its face redacted."""
    img = _wall(480, 640)
    if head:
        img[y:y + 134, x:x + 110] = cv2.resize(_HEAD, (110, 134), interpolation=cv2.INTER_AREA)
        img = apply(img, (x + 22, y + 16, 68, 94), recipe)
    return img


def _grey(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


@pytest.mark.parametrize("recipe", [Recipe("gaussian_blur", 8.0), Recipe("mosaic", 12),
                                    Recipe("solid")], ids=["blur", "mosaic", "solid"])
def test_a_redaction_that_moved_is_found_where_it_went(recipe):
    a, b = h264_roundtrip([_scene(200, 120, recipe), _scene(224, 109, recipe)], 23)
    box = follow(_grey(a), _grey(b), (222, 136, 68, 94))
    assert box is not None
    assert abs(box[0] - 246) <= 3 and abs(box[1] - 125) <= 3 and box[2:] == (68, 94)


def test_a_redaction_that_is_gone_is_not_placed():
    recipe = Recipe("gaussian_blur", 8.0)
    a, b = h264_roundtrip([_scene(200, 120, recipe), _scene(200, 120, recipe, head=False)], 23)
    assert follow(_grey(a), _grey(b), (222, 136, 68, 94)) is None
