"""What the finder is handed per frame: luma for its own measurements, RGB only for CenterFace.

Every measurement of the finder reads greyscale; only the detector runs (every sixth frame at
most, and zoomed crops) need colour. A decoder can hand over its luma plane as it is and
convert to RGB only when asked (:class:`veilscan.tasks.decode.DecodedFrame`), which saves the
colour conversion of most frames; a caller with RGB arrays wraps them in :class:`RGBPixels`.
"""

from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np


class Pixels(Protocol):
    """One frame's pixels: ``grey`` (H x W uint8, full-range luma) and ``rgb()`` on demand."""

    @property
    def grey(self) -> np.ndarray: ...

    def rgb(self) -> np.ndarray:
        """H x W x 3 uint8 RGB (may convert on first call; thread-safe)."""
        ...


class RGBPixels:
    """:class:`Pixels` of an RGB array (tests, the bench, any caller that already has RGB)."""

    def __init__(self, rgb: np.ndarray) -> None:
        self._rgb = rgb
        self._grey: np.ndarray | None = None

    @property
    def grey(self) -> np.ndarray:
        if self._grey is None:
            self._grey = cv2.cvtColor(self._rgb, cv2.COLOR_RGB2GRAY)
        return self._grey

    def rgb(self) -> np.ndarray:
        return self._rgb


def as_pixels(frame: np.ndarray | Pixels) -> Pixels:
    """``frame`` as :class:`Pixels` (an RGB array is wrapped)."""
    return RGBPixels(frame) if isinstance(frame, np.ndarray) else frame
