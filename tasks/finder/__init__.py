"""Find faces that were already redacted (blur, mosaic, solid), track them, catch dropouts.

Public API: :class:`RedactionFinder` (streaming), :func:`find_in_frames`, :data:`DETECTOR_VERSION`,
:func:`detector_version`.
"""

from veilscan.tasks.finder.config import DETECTOR_VERSION, FinderConfig
from veilscan.tasks.finder.confirm import whole_frame_int8
from veilscan.tasks.finder.finder import RedactionFinder, find_in_frames


def detector_version() -> str:
    """:data:`DETECTOR_VERSION`, marked where whole-frame passes run the int8 network (other
    findings, so other ledger keys): ``+int8s`` where those of settled shots do (the
    default, on CPUs that run int8 exactly), ``+int8`` where all do
    (``VEILSCAN_CENTERFACE_PRECISION=int8``)."""
    if whole_frame_int8(settled=False):
        return DETECTOR_VERSION + "+int8"
    return DETECTOR_VERSION + ("+int8s" if whole_frame_int8(settled=True) else "")


__all__ = ["DETECTOR_VERSION", "FinderConfig", "RedactionFinder", "detector_version",
           "find_in_frames"]
