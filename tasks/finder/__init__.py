"""Find faces that were already redacted (blur, mosaic, solid), track them, catch dropouts.

Public API: :class:`RedactionFinder` (streaming), :func:`find_in_frames`, :data:`DETECTOR_VERSION`.
"""

from veilscan.tasks.finder.config import DETECTOR_VERSION, FinderConfig
from veilscan.tasks.finder.finder import RedactionFinder, find_in_frames

__all__ = ["DETECTOR_VERSION", "FinderConfig", "RedactionFinder", "find_in_frames"]
