"""Matching detections to tracks (tasks/finder/tracking.assign): a box beside a track's
prediction, not overlapping it, joins the track only when CenterFace found it, or when the
track's face was never found on the whole frame (then the pixel scan alone follows it)."""

from __future__ import annotations

from veilscan.tasks.finder.tracking import Track, assign

PREDICTED = (100, 30, 92, 160)
"""A still face box (the track's last two boxes are here, so it predicts no move)."""
BESIDE = (175, 0, 96, 156)
"""A similar-sized box whose centre is half a face height away (a soft wall and hair next to
a blurred face in a shaken frame): overlapping the prediction by an IoU of about 0.08."""


def _track(detected: bool) -> Track:
    t = Track(0, detected=detected)
    for frame in (0, 3):
        t.add(frame, PREDICTED, None)  # type: ignore[arg-type]
    t.faces.append((1.0, 92.0))
    return t


def test_a_soft_patch_beside_a_detected_face_does_not_take_its_track() -> None:
    pairs, fresh = assign([_track(detected=True)], [BESIDE], 6, 0.2, seen=[False])
    assert pairs == [] and fresh == [0]


def test_the_detector_finding_the_face_beside_its_prediction_keeps_the_track() -> None:
    pairs, _ = assign([_track(detected=True)], [BESIDE], 6, 0.2, seen=[True])
    assert pairs == [(0, 0)]


def test_a_face_only_the_pixel_scan_follows_may_move_its_width() -> None:
    pairs, _ = assign([_track(detected=False)], [BESIDE], 6, 0.2, seen=[False])
    assert pairs == [(0, 0)]
