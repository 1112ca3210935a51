"""Inspect one clip: decode, find redacted faces, score their risk. Prefect-free.

This is what ``veilscan inspect`` prints and what every clip task of a scan runs; frame-level
work stays inside this one call.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from veilscan.catalog.clip_result import SCHEMA_VERSION, ClipInfo, ClipResult
from veilscan.tasks.decode import ClipDecodeError, open_clip
from veilscan.tasks.finder import FinderConfig, RedactionFinder, detector_version
from veilscan.tasks.score import RISK_MODEL_VERSION, TierThresholds, score_track

_PREFETCH, _PREFETCH_BIG, _PREFETCH_BYTES = 16, 8, 96 << 20
"""Decoded frames queued ahead of the finder: 16, or 8 where 16 would hold more than 96 MB
(each costs about 2.5 bytes a pixel, its luma and the decoder's frame: 1080p gets 16, 4K 8).
The finder's work comes in bursts (in a settled shot, a scan every 12th frame, 20-50 ms, and
next to nothing between): a deeper queue lets the decoder go on through a burst instead of
waiting for room. On the bench's speed clip, 16 rounds alternating: median 2.84 s against
2.97 s with 8; 24 was no faster than 8 (more frames out of the CPU's caches)."""


def _prefetch(info: ClipInfo) -> int:
    """How many decoded frames to queue ahead of the finder for a clip of ``info``'s size."""
    frame_bytes = info.width * info.height * 5 // 2
    return _PREFETCH if _PREFETCH * frame_bytes <= _PREFETCH_BYTES else _PREFETCH_BIG


def versions() -> dict[str, str]:
    """The versions a result depends on; the scan ledger keys on them."""
    return {"detector": detector_version(), "risk_model": RISK_MODEL_VERSION,
            "schema": SCHEMA_VERSION}


def inspect_clip(source: str | Path | BinaryIO, name: str | None = None,
                 thresholds: TierThresholds | None = None,
                 config: FinderConfig | None = None, fields: bool = True) -> ClipResult:
    """Scan one clip. A clip that cannot be decoded gives ``status='error'`` with the reason;
    tracks found before a stream broke part-way are kept (and scored) in that result.
    ``config``: the finder's settings (its defaults unless a caller has a reason).
    ``fields``: read interlaced footage one field at a time (``veilscan.tasks.interlace``);
    off, every clip is read as whole frames (for comparison)."""
    label = name or str(source)
    finder = RedactionFinder(config)
    info = ClipInfo(source=label, frames=0, fps=0.0, width=0, height=0, duration_s=0.0,
                    codec="")
    error: str | None = None
    try:
        with open_clip(source, name=label) as clip:
            info = clip.info
            try:
                for index, pixels in clip.pixels(prefetch=_prefetch(info),
                                                 each=finder.decoded, fields=fields):
                    finder.add_frame(index, pixels)
            finally:
                info = clip.finished_info()
    except ClipDecodeError as exc:
        error = str(exc)
    tracks = [score_track(t, info, thresholds) for t in finder.finish()]
    return ClipResult(clip=info, tracks=tracks, versions=versions(),
                      status="error" if error else "ok", error=error)
