"""The settled rate (RedactionFinder._settle): once a redacted face has been followed for a
while, the full scan and the detector run ``_COAST`` times less often, and the face is still
followed frame by frame with its dropouts found; footage with nothing redacted is searched at
the full rate."""

from __future__ import annotations

from test_finder import make_clip

from veilscan.footage import h264_roundtrip
from veilscan.tasks.finder import RedactionFinder
from veilscan.tasks.finder.config import FinderConfig
from veilscan.tasks.finder.finder import _COAST
from veilscan.tasks.obfuscate import Recipe


def _run(frames) -> tuple[RedactionFinder, list]:
    finder = RedactionFinder(ahead=0)  # its scans read before finish()
    for i, f in frames:
        finder.add_frame(i, f)
    scans = list(finder._scans)
    return finder, scans


def test_a_long_shot_is_scanned_less_often_and_its_dropouts_still_found():
    drops = (150, 151, 152, 165)  # a dropout returns the scan to the full rate
    frames, truth = make_clip(Recipe("gaussian_blur", 5.0), face_w=100, n=180, dropouts=drops,
                              size=(300, 480))
    frames = list(enumerate(h264_roundtrip([f for _, f in frames], 23)))
    finder, scans = _run(frames)
    tracks = finder.finish()
    full = FinderConfig().scan_stride
    settled = [b for a, b in zip(scans, scans[1:], strict=False) if b - a == _COAST * full]
    assert len(settled) >= 5 and len(scans) < len(range(0, len(frames), full))
    assert len(tracks) == 1
    t = tracks[0]
    assert t.first_frame <= full and t.last_frame >= len(frames) - 1 - _COAST * full
    assert t.dropout_frames == list(drops)


def test_footage_with_nothing_redacted_is_searched_at_the_full_rate():
    frames, _ = make_clip(None, face_w=100, n=60, size=(300, 480))
    _, scans = _run(frames)
    assert len(scans) == len(range(0, 60, FinderConfig().scan_stride))


def test_a_dropout_after_the_last_scan_is_still_judged():
    """The clip ends two frames after the last full scan; the face shows on the first of
    them. A last scan on the final frame anchors the box there, so the dropout is judged
    on an interpolated box, not left to an extrapolated one."""
    n = 42  # scans at 0, 3, ..., 39: frames 40 and 41 come after the last one
    frames, truth = make_clip(Recipe("gaussian_blur", 5.0), face_w=100, n=n, dropouts=(40,),
                              size=(300, 480))
    frames = list(enumerate(h264_roundtrip([f for _, f in frames], 23)))
    finder, _ = _run(frames)
    tracks = finder.finish()
    assert len(tracks) == 1 and tracks[0].last_frame == n - 1
    assert tracks[0].dropout_frames == [40]


def test_a_second_redaction_entering_a_settled_shot_is_found():
    """A second, smaller blurred face appears at frame 90, long after the first one's track
    has settled; it gets its own track within a couple of settled detector intervals."""
    import cv2
    from test_finder import _HEAD

    from veilscan.tasks.obfuscate import apply

    frames, _ = make_clip(Recipe("gaussian_blur", 5.0), face_w=100, n=180, size=(300, 480))
    head = cv2.resize(_HEAD, (64, int(64 * _HEAD.shape[0] / _HEAD.shape[1])),
                      interpolation=cv2.INTER_AREA)
    x, y = 480 - 64 - 8, 4  # the top right corner, above the first face's path
    box = (x + 13, y + int(0.12 * head.shape[0]), 40, int(0.7 * head.shape[0]))
    second = []
    for i, f in frames:
        if i >= 90:
            f = f.copy()
            f[y:y + head.shape[0], x:x + head.shape[1]] = head
            f = apply(f, box, Recipe("gaussian_blur", 5.0))
        second.append(f)
    frames = list(enumerate(h264_roundtrip(second, 23)))
    finder, scans = _run(frames)
    tracks = finder.finish()
    full = FinderConfig().scan_stride
    assert any(b - a == _COAST * full for a, b in zip(scans, scans[1:], strict=False) if a < 90)
    late = [t for t in tracks if t.first_frame >= 60]
    assert len(late) == 1, [(t.first_frame, t.last_frame, t.boxes[0]) for t in tracks]
    assert late[0].first_frame <= 90 + 4 * _COAST * full and late[0].last_frame >= 170
    assert late[0].boxes[0][1] >= x


def test_a_track_whose_kernel_fits_find_no_blur_is_not_reported():
    """A confirmed face whose kernel fits mostly read sigma under 1.5 px (a soft face, not a
    blur) was reported with the type 'clear', which the contract does not have."""
    from veilscan.tasks.finder.measure import RegionMeasure
    from veilscan.tasks.finder.tracking import Track

    frames, boxes = make_clip(None, face_w=100, n=12, size=(300, 480))
    for kind, expected in (("clear", 0), ("gaussian_blur", 1)):
        finder = RedactionFinder(ahead=0)  # its state read after each frame
        for i, f in frames:
            finder.add_frame(i, f)
        track = Track(99, faces=[(0.9, 100.0)], hits=len(boxes))
        for i, box in enumerate(boxes):
            track.add(i, box, RegionMeasure(kind, 4.0 if kind != "clear" else 0.0, 0.2, 0.1))
        finder._live, finder._done = [], [track]
        found = finder.finish()
        assert len(found) == expected and all(t.redaction_type != "clear" for t in found)
