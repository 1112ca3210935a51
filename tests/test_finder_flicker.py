"""Two guards against false tracks in clean footage of a moving head (the bench's talking
head, whose last seconds blur as she moves): a region found on one scan only is a flicker,
and a patch of a face does not stand for the face beyond the face's own track."""

from __future__ import annotations

from test_finder import make_clip

from veilscan.tasks.finder import RedactionFinder
from veilscan.tasks.finder.finder import _merge_fragments
from veilscan.tasks.finder.measure import RegionMeasure
from veilscan.tasks.finder.tracking import Track

_BLUR = RegionMeasure("gaussian_blur", 4.0, 0.2, 0.1)


def _track(tid: int, frames: range, box: tuple[int, int, int, int], hits: int) -> Track:
    t = Track(tid, faces=[(0.9, float(box[2]))], hits=hits)
    for f in frames:
        t.add(f, box, _BLUR)
    return t


def test_a_region_found_by_one_scan_only_is_not_reported():
    """Its other frames were filled in around that one scan (the buffered frames before it,
    the frames after it that still looked the same): nothing shows that it persists."""
    frames, boxes = make_clip(None, face_w=100, n=12, size=(300, 480))
    for hits, expected in ((1, 0), (2, 1)):
        finder = RedactionFinder(ahead=0)
        for i, f in frames:
            finder.add_frame(i, f)
        track = _track(99, range(12), boxes[0], hits)
        finder._live, finder._done = [], [track]
        assert len(finder.finish()) == expected


def test_a_patch_of_a_face_does_not_extend_the_faces_track():
    face = _track(1, range(20, 40), (100, 100, 200, 240), 4)
    before = _track(2, range(5, 20), (220, 280, 40, 40), 3)  # a patch of it, earlier
    inside = _track(3, range(25, 35), (150, 150, 60, 60), 2)  # a patch within its span
    merged = _merge_fragments([face, before, inside], max_gap=14)
    assert sorted((t.frames[0], t.last_frame) for t in merged) == [(5, 19), (20, 39)]
    same_size = _track(4, range(5, 20), (105, 100, 190, 230), 3)  # the face, found earlier
    merged = _merge_fragments([_track(1, range(20, 40), (100, 100, 200, 240), 4), same_size],
                              max_gap=14)
    assert [(t.frames[0], t.last_frame, t.hits) for t in merged] == [(5, 39, 7)]


def test_a_part_that_began_on_the_whole_face_extends_the_faces_track():
    """The scan followed a part of the face beside the face's own track, from a frame before
    that track began, where its box held the whole face (the kitchen's motion-blurred face
    through HEVC): it is the same face there, and lends its frame."""
    face = _track(1, range(1, 14), (100, 100, 200, 240), 4)
    part = _track(2, range(1, 14), (150, 200, 80, 80), 4)
    part.prepend(0, (105, 100, 190, 230), _BLUR)
    merged = _merge_fragments([face, part], max_gap=14)
    assert [(t.frames[0], t.last_frame, t.hits) for t in merged] == [(0, 13, 8)]
    assert merged[0].boxes[0] == (105, 100, 190, 230)
