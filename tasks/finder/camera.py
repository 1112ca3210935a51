"""Camera motion between frames, so tracks follow faces through pans and a handheld shake.

A face box predicted from its own past moves is wrong as soon as the camera moves on its own:
a 10 fps head-worn camera jerks a face by a third of its size in one frame. The picture's
shift between consecutive frames (phase correlation of a 3 x 3 grid of tiles of a small copy,
the median over the tiles: about a millisecond a frame) is summed into a camera position per
frame; predictions extrapolate in scene coordinates and add the camera's move. A still camera
reads as still while people move in front of it, as long as they fill fewer than half the
tiles (a close-up that fills the frame reads as the camera following it, which predicts the
face just as well).
"""

from __future__ import annotations

import cv2
import numpy as np

WORK_PX = 192
"""Longer side (px) of the copy the shift is measured on."""
MIN_RESPONSE = 0.1
"""Phase-correlation peak below which a tile's shift is not trusted (a cut, a flash, a flat
wall)."""
TILES = 3
"""The picture is split into TILES x TILES tiles, each correlated on its own."""


class CameraMotion:
    """Cumulative camera offset (frame px) of every frame seen, in order."""

    def __init__(self) -> None:
        self._offset: dict[int, tuple[float, float]] = {}
        self._prev: np.ndarray | None = None
        self._last = (0.0, 0.0)
        self._window: np.ndarray | None = None
        self._scale = 1.0
        self._copies: dict[int, np.ndarray] = {}
        """Small copies made ahead (``prepare``), by frame."""

    def prepare(self, index: int, grey: np.ndarray) -> None:
        """Make frame ``index``'s small copy now, for its :meth:`update` later: the thread
        that decoded the frame has its luma in the CPU's caches and is idle while the finder
        works through a burst (the copy is 0.3 ms of the camera's 0.7 ms a frame at 1080p)."""
        self._copies[index] = _small_copy(grey)

    def update(self, index: int, grey: np.ndarray) -> None:
        """Measure frame ``index`` (greyscale) against the previous one."""
        size = _copy_size(grey.shape)
        if self._prev is None:
            self._scale = size[0] / grey.shape[1]
        small = self._copies.pop(index, None)
        if small is None or small.shape[::-1] != size:
            small = _small_copy(grey)
        if self._prev is not None and self._prev.shape == small.shape:
            dx, dy = self._median_shift(self._prev, small)
            self._last = (self._last[0] + dx / self._scale, self._last[1] + dy / self._scale)
        self._prev = small
        self._offset[index] = self._last

    def _median_shift(self, a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
        """Median shift over a 3 x 3 grid of tiles: a face or a person crossing a still
        picture moves a few tiles, the camera moves them all. 0 unless a majority of tiles
        agree on a confident reading."""
        h, w = a.shape
        # Tile sides a multiple of 16: OpenCV pads other sizes for its DFT and then reads a
        # still picture as moved by half a pixel.
        th, tw = h // TILES // 16 * 16, w // TILES // 16 * 16
        if th < 16 or tw < 16:
            return 0.0, 0.0
        if self._window is None:
            self._window = cv2.createHanningWindow((tw, th), cv2.CV_32F)
        shifts = []
        for i in range(TILES):
            for j in range(TILES):
                ta = a[i * th:(i + 1) * th, j * tw:(j + 1) * tw]
                tb = b[i * th:(i + 1) * th, j * tw:(j + 1) * tw]
                (dx, dy), response = cv2.phaseCorrelate(ta, tb, self._window)
                if response >= MIN_RESPONSE:
                    shifts.append((dx, dy))
        if len(shifts) <= TILES * TILES // 2:
            return 0.0, 0.0
        dx, dy = np.median(np.array(shifts), axis=0)
        return float(dx), float(dy)

    def shift(self, start: int, end: int) -> tuple[float, float]:
        """How far the picture moved (frame px) from frame ``start`` to ``end`` (0 if either
        was not seen)."""
        a, b = self._offset.get(start), self._offset.get(end)
        if a is None or b is None:
            return 0.0, 0.0
        return b[0] - a[0], b[1] - a[1]

    def forget_before(self, index: int) -> None:
        """Drop frames before ``index`` (memory stays bounded on long clips)."""
        # list() copies the keys at once: the finder's worker may be adding later frames.
        for f in [f for f in list(self._offset) if f < index]:
            del self._offset[f]
        for f in [f for f in list(self._copies) if f < index]:
            self._copies.pop(f, None)


def _copy_size(shape: tuple[int, ...]) -> tuple[int, int]:
    """(width, height) of the small copy of a frame of ``shape``: WORK_PX on the longer side."""
    return tuple(max(16, round(v * WORK_PX / max(shape))) for v in shape[1::-1])


def _small_copy(grey: np.ndarray) -> np.ndarray:
    """The float32 copy the shift is measured on: every ``step``-th pixel first (a 4K frame is
    8 MB), then an area average down to :func:`_copy_size`."""
    step = max(1, int(max(grey.shape) / WORK_PX) // 2)
    return cv2.resize(grey[::step, ::step], _copy_size(grey.shape),
                      interpolation=cv2.INTER_AREA).astype(np.float32)
