"""A blur's strength is read against the face as CenterFace sees it (``measure._REF_FACE``),
so a blur drawn on the detector's own tight box is not read weak. Read against the box, as
before finder-0.13, a sigma-8 blur on a tight box read 3.6-5.3 px on these faces."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest
from skimage import data

from veilscan.tasks.finder.confirm import detect_faces
from veilscan.tasks.finder.measure import measure_region
from veilscan.tasks.obfuscate import Recipe, apply


@pytest.mark.parametrize("image", ["astronaut", "obama-480p", "obama-720p", "obama-1080p"])
def test_a_blur_on_the_detectors_own_box_reads_its_sigma(image, shared_media: Path):
    if image == "astronaut":
        img = data.astronaut()
    else:
        img = cv2.cvtColor(cv2.imread(str(shared_media / "portrait_ladder" / f"{image}.jpg")),
                           cv2.COLOR_BGR2RGB)
    face = tuple(int(v) for v in detect_faces(img, 0.5)[0][:4])
    red = cv2.cvtColor(apply(img, face, Recipe("gaussian_blur", 8.0)), cv2.COLOR_RGB2GRAY)
    m = measure_region(red, face, face_w=face[2])
    assert m is not None and m.kind == "gaussian_blur", m
    # One reference face reads other faces' blurs up to about a third off (their features
    # are finer or coarser); the track's strength is the median over its frames.
    assert abs(m.strength_px - 8.0) / 8.0 <= 0.35, m.strength_px
