"""A streak that fades from its middle (FFmpeg's ``dblur``) is typed a motion blur.

FFmpeg's directional blur has no flat length: the kinks a flat streak leaves k px apart are
not there, and the lobe the kernel model reads sits at the least lag it reads. The model
still calls it a streak; the measurement must not then fall back on a Gaussian.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from veilscan.footage import ffmpeg_filtered_box, h264_roundtrip
from veilscan.tasks.finder.measure import measure_region


@pytest.mark.parametrize("angle", [0, 45, 90])
def test_a_fading_streak_is_a_motion_blur(angle):
    # The cameraman moving a little over five frames, CRF 26, measured on a P-frame at the
    # redaction box (as test_finder.py's test_blur_type_survives_h264).
    cam = np.dstack([data.camera()] * 3)
    box = (170, 40, 150, 180)
    frames = []
    for i in range(5):
        f = np.ascontiguousarray(np.roll(cam, i, axis=1)[:256, 64:384])
        b = (box[0] - 64 + i, box[1], box[2], min(box[3], 256 - box[1]))
        frames.append(ffmpeg_filtered_box(f, b, "dblur", f"angle={angle}:radius=10"))
    grey = cv2.cvtColor(h264_roundtrip(frames, 26)[3], cv2.COLOR_RGB2GRAY)
    m = measure_region(grey, (box[0] - 64 + 3, box[1], box[2], min(box[3], 256 - box[1])))
    assert m is not None and m.kind == "motion_blur", m
