"""Interlaced footage: tell it by its combing, and hand the finder one field of each frame.

Most of an archive's video before HD is interlaced (broadcast, DV, DVD): each frame weaves
two fields taken a field apart in time, and a live keyer blurs or pixelates each field on
its own. Woven again, a redaction over a moving head alternates, row by row, between two
blurred pictures a few pixels apart: fine detail the finder reads as a face in plain view.
``bench/finder_interlaced.py``: faces blurred per field (sigma 3 and 6) were followed in 436
of 768 face frames read whole, 653 read one field at a time; a blur of the woven frame, and
clean footage, read the same either way. The line-doubling smooths a pixelation's horizontal
steps: per-field mosaics were followed in 174 of 384 frames whole, 169 by field (fewer in
H.264, more in MPEG-2).

Which clips are interlaced is read from the picture, not the stream's flags (digitised
tapes are often coded as progressive): FFmpeg's ``idet`` filter over the first
``PROBE_FRAMES`` frames. A clip without motion there shows no combing and is read whole
(a limit: a shot that starts moving only later is read whole throughout). Only the field
shown first is read, so a dropout in the other field alone is not seen.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import av
import cv2
import numpy as np

PROBE_FRAMES = 16
"""Frames read through ``idet`` before the first is handed on (the decoder runs that far
ahead of the finder anyway)."""
_MIN_INTERLACED = 3
"""Frames ``idet`` must call interlaced, and more than it calls progressive."""


def field_order(frames: Sequence[av.VideoFrame]) -> str | None:
    """"tff" or "bff" where FFmpeg's ``idet`` reads most of ``frames`` (decoded, in order)
    as interlaced (top or bottom field first), None where it reads them as progressive or
    cannot tell."""
    if len(frames) < _MIN_INTERLACED + 1:
        return None
    first = frames[0]
    try:
        graph = av.filter.Graph()
        src = graph.add_buffer(width=first.width, height=first.height,
                               format=first.format.name,
                               time_base=first.time_base or Fraction(1, 25))
        idet = graph.add("idet")
        sink = graph.add("buffersink")
        src.link_to(idet)
        idet.link_to(sink)
        graph.configure()
        stats: dict[str, str] = {}
        for frame in [*frames, None]:
            graph.push(frame)
            while True:
                try:
                    stats = dict(graph.pull().metadata) or stats
                except (av.BlockingIOError, av.EOFError):
                    break
    except (av.FFmpegError, ValueError):
        return None  # a format the filter cannot take: read the frames whole

    def count(kind: str) -> float:
        return float(stats.get(f"lavfi.idet.multiple.{kind}", 0.0))

    tff, bff = count("tff"), count("bff")
    if tff + bff < _MIN_INTERLACED or tff + bff <= count("progressive"):
        return None
    return "tff" if tff >= bff else "bff"


def first_field(plane: np.ndarray, order: str) -> np.ndarray:
    """The field shown first (even rows for "tff", odd for "bff") of ``plane`` (H x W or
    H x W x 3), line-doubled back to H rows: boxes stay in the frame's pixels."""
    h, w = plane.shape[:2]
    field = plane[0 if order == "tff" else 1::2]
    return cv2.resize(field, (w, h), interpolation=cv2.INTER_LINEAR)
