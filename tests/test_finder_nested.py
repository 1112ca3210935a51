"""Tracks lying inside a larger track (tasks/finder/finder._nested): a piece of the same
redaction followed on its own (a quarter of a coarse mosaic's grid, a run of its flat cells
read as a fill) is not reported as a second face; a face beside another, a piece that
outlives the larger track, and the larger track itself are."""

from __future__ import annotations

from veilscan.tasks.finder.finder import _nested

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
