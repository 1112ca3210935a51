"""A streak that fades from its middle (FFmpeg's ``dblur``) is typed a motion blur.

FFmpeg's directional blur has no flat length: the kinks a flat streak leaves k px apart are
not there, and the lobe the kernel model reads sits at the least lag it reads. The model
still calls it a streak; the measurement must not then fall back on a Gaussian.
"""

from __future__ import annotations

from fractions import Fraction

import av
import cv2
import numpy as np
import pytest
from skimage import data

from veilscan.footage import h264_roundtrip
from veilscan.tasks.finder.measure import measure_region


def dblur(frame: np.ndarray, box: tuple[int, int, int, int], angle: int,
          radius: int) -> np.ndarray:
    """``frame`` with ``box``'s crop run through FFmpeg's ``dblur`` (PyAV's filter graph)."""
    x, y, w, h = box
    crop = np.ascontiguousarray(frame[y:y + h, x:x + w])
    graph = av.filter.Graph()
    src = graph.add_buffer(width=w, height=h, format="rgb24", time_base=Fraction(1, 25))
    filt = graph.add("dblur", f"angle={angle}:radius={radius}")
    sink = graph.add("buffersink")
    src.link_to(filt)
    filt.link_to(sink)
    graph.configure()
    picture = av.VideoFrame.from_ndarray(crop, format="rgb24")
    picture.pts = 0
    graph.push(picture)
    out = frame.copy()
    out[y:y + h, x:x + w] = graph.pull().to_ndarray(format="rgb24")
    return out


@pytest.mark.parametrize("angle", [0, 45, 90])
def test_a_fading_streak_is_a_motion_blur(angle):
    # The cameraman moving a little over five frames, CRF 26, measured on a P-frame at the
    # redaction box (as test_finder.py's test_blur_type_survives_h264).
    cam = np.dstack([data.camera()] * 3)
    box = (170, 40, 150, 180)
    frames = []
    for i in range(5):
        f = np.ascontiguousarray(np.roll(cam, i, axis=1)[:256, 64:384])
        frames.append(dblur(f, (box[0] - 64 + i, box[1], box[2], min(box[3], 256 - box[1])),
                            angle, 10))
    grey = cv2.cvtColor(h264_roundtrip(frames, 26)[3], cv2.COLOR_RGB2GRAY)
    m = measure_region(grey, (box[0] - 64 + 3, box[1], box[2], min(box[3], 256 - box[1])))
    assert m is not None and m.kind == "motion_blur", m
