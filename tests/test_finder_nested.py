"""Tracks lying inside a larger track (tasks/finder/finder._nested): a piece of the same
redaction followed on its own (a quarter of a coarse mosaic's grid, a run of its flat cells
read as a fill) is not reported as a second face, and lends the larger track the frames it
was followed before it (``_without_pieces``); a face beside another, a piece that mostly
outlives the larger track, and the larger track itself are reported."""

from __future__ import annotations

from veilscan.catalog.clip_result import TrackFinding
from veilscan.tasks.finder.finder import _nested, _without_pieces

FACE = (100, 40, 120, 160)


def _boxes(box: tuple[int, int, int, int], frames: range, dx: int = 0):
    return [(f, box[0] + dx * f, box[1], box[2], box[3]) for f in frames]


def test_a_quarter_of_a_mosaic_inside_the_face_track_is_part_of_it() -> None:
    face = _boxes(FACE, range(0, 45), dx=1)
    quarter = _boxes((160, 40, 60, 80), range(10, 45), dx=1)  # its top-right quarter
    assert _nested(quarter, face)
    assert not _nested(face, quarter)


def test_a_second_face_beside_the_first_is_not_part_of_it() -> None:
    face = _boxes(FACE, range(0, 45))
    other = _boxes((200, 60, 100, 130), range(0, 45))  # overlaps the first by a fifth
    assert not _nested(other, face)


def test_a_piece_that_outlives_the_larger_track_is_not_part_of_it() -> None:
    face = _boxes(FACE, range(0, 20))
    piece = _boxes((130, 80, 60, 80), range(10, 45))  # inside it, but 25 of its 35 frames alone
    assert not _nested(piece, face)


def _finding(track_id: int, boxes, dropouts: list[int]) -> TrackFinding:
    return TrackFinding(track_id, "solid", 0.0, 100.0, 0.0, boxes[0][0], boxes[-1][0], boxes,
                        dropouts)


def test_a_piece_followed_before_the_larger_track_lends_it_those_frames() -> None:
    """A white fill on a white wall: a patch of it is followed from frame 0, the whole fill
    only from frame 16 on."""
    piece = _finding(0, _boxes((150, 80, 40, 70), range(0, 45)), [30])
    whole = _finding(1, _boxes(FACE, range(16, 45)), [30])
    [track] = _without_pieces([piece, whole])
    assert (track.track_id, track.first_frame, track.last_frame) == (0, 0, 44)
    assert [b[0] for b in track.boxes] == list(range(45))
    assert track.boxes[0][1:] == (150, 80, 40, 70) and track.boxes[16][1:] == FACE
    assert track.dropout_frames == [30]


def test_findings_with_no_piece_among_them_stay_as_they_are() -> None:
    a = _finding(0, _boxes(FACE, range(0, 45)), [7])
    b = _finding(1, _boxes((260, 40, 120, 160), range(5, 30)), [])
    assert [(f.track_id, f.first_frame) for f in _without_pieces([a, b])] == [(0, 0), (1, 5)]


def _mosaic(track_id: int, boxes, cell: float) -> TrackFinding:
    return TrackFinding(track_id, "mosaic", cell, 100.0, 0.0, boxes[0][0], boxes[-1][0], boxes,
                        [])


def test_a_coarse_grid_found_again_over_its_top_rows_is_one_track() -> None:
    """Through HEVC, 6 px cells on the talking head at half size: the face's track holds
    rows 54-156 of the grid, a second one its top rows and the wall beside them (half of it
    over the first), both 6 px cells."""
    whole = _mosaic(0, _boxes((111, 54, 100, 102), range(0, 45)), 6.1)
    again = _mosaic(1, _boxes((94, 30, 128, 64), range(10, 45)), 6.0)
    assert not _nested(again.boxes, whole.boxes)
    [track] = _without_pieces([whole, again])
    assert track.boxes == whole.boxes


def test_a_grid_found_again_in_a_larger_box_is_one_track() -> None:
    """On the one-person GIF, 10 px cells: the grid is followed over all 23 frames, and
    again for the last 9 in a box around it."""
    whole = _mosaic(0, _boxes((195, 50, 76, 112), range(0, 23)), 10.2)
    again = _mosaic(1, _boxes((168, 73, 114, 99), range(14, 23)), 10.0)
    assert [f.boxes for f in _without_pieces([whole, again])] == [whole.boxes]


def test_two_faces_pixelated_alike_side_by_side_are_two_tracks() -> None:
    left = _mosaic(0, _boxes((25, 82, 93, 79), range(0, 45)), 16.0)
    right = _mosaic(1, _boxes((100, 52, 106, 99), range(0, 45)), 16.0)  # over a sixth of the left
    assert len(_without_pieces([left, right])) == 2


def test_overlapping_mosaics_of_different_cells_are_two_tracks() -> None:
    whole = _mosaic(0, _boxes((111, 54, 100, 102), range(0, 45)), 6.0)
    other = _mosaic(1, _boxes((94, 30, 128, 64), range(10, 45)), 12.0)
    assert len(_without_pieces([whole, other])) == 2
