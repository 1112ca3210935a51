"""Inspect one clip: decode, find redacted faces, score their risk. Prefect-free.

This is what ``veilscan inspect`` prints and what every clip task of a scan runs; frame-level
work stays inside this one call.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from veilscan.catalog.clip_result import SCHEMA_VERSION, ClipInfo, ClipResult
from veilscan.tasks.decode import ClipDecodeError, open_clip
from veilscan.tasks.finder import DETECTOR_VERSION, FinderConfig, RedactionFinder
from veilscan.tasks.score import RISK_MODEL_VERSION, TierThresholds, score_track


def versions() -> dict[str, str]:
    """The versions a result depends on; the scan ledger keys on them."""
    return {"detector": DETECTOR_VERSION, "risk_model": RISK_MODEL_VERSION,
            "schema": SCHEMA_VERSION}


def inspect_clip(source: str | Path | BinaryIO, name: str | None = None,
                 thresholds: TierThresholds | None = None,
                 config: FinderConfig | None = None) -> ClipResult:
    """Scan one clip. A clip that cannot be decoded gives ``status='error'`` with the reason;
    tracks found before a stream broke part-way are kept (and scored) in that result.
    ``config``: the finder's settings (its defaults unless a caller has a reason)."""
    label = name or str(source)
    finder = RedactionFinder(config)
    info = ClipInfo(source=label, frames=0, fps=0.0, width=0, height=0, duration_s=0.0,
                    codec="")
    error: str | None = None
    try:
        with open_clip(source, name=label) as clip:
            info = clip.info
            try:
                for index, pixels in clip.pixels(prefetch=8):
                    finder.add_frame(index, pixels)
            finally:
                info = clip.finished_info()
    except ClipDecodeError as exc:
        error = str(exc)
    tracks = [score_track(t, info, thresholds) for t in finder.finish()]
    return ClipResult(clip=info, tracks=tracks, versions=versions(),
                      status="error" if error else "ok", error=error)
