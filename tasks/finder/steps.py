"""Steps between flat cells, told from a picture's edges: the first test of every
pixelation reading (``measure``, ``coarse_mosaic``, ``detail``)."""

import cv2
import numpy as np


def step_pairs(g: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(|x difference|, |y difference|, their energy in adjacent pairs), codec ringing of 3
    grey levels dropped: flat cells put every step on an isolated line (no pairs), a face or
    a blur spreads its steps over neighbouring pixels."""
    # OpenCV's elementwise float32 arithmetic on views: NumPy's arrays bit for bit, without
    # its temporaries (this runs on every frame of every track).
    ax = cv2.max(cv2.subtract(cv2.absdiff(g[:, 1:], g[:, :-1]), 3.0), 0.0)
    ay = cv2.max(cv2.subtract(cv2.absdiff(g[1:], g[:-1]), 3.0), 0.0)
    pairs = float(cv2.min(ax[:, 1:], ax[:, :-1]).sum() + cv2.min(ay[1:], ay[:-1]).sum())
    return ax, ay, pairs
