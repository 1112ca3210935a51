"""Interlaced footage: fields told by their combing, and a blur keyed one field at a time found."""

from __future__ import annotations

import io

import av
import cv2
import numpy as np
import pytest

from veilscan.footage import astronaut_scene, field_blurred, h264_bytes, mpeg_bytes, woven
from veilscan.tasks.decode import open_clip
from veilscan.tasks.inspect import inspect_clip
from veilscan.tasks.interlace import field_order, first_field

FRAMES, DROPOUT = 40, 20


def _view(scene: np.ndarray, face: tuple[int, int, int, int], t: int
          ) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The scene at field ``t`` of a camera panning 1 px a field, and the face's box there."""
    ox, oy = 150 + t, 10
    m = np.float32([[1, 0, -ox], [0, 1, -oy]])
    view = cv2.warpAffine(scene, m, (480, 400), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REFLECT)
    x, y, w, h = face
    return view, (x - 12 - ox, y - 12 - oy, w + 24, h + 24)


@pytest.fixture(scope="module", params=[False, True], ids=["coded-progressive", "coded-interlaced"])
def keyed_per_field(request: pytest.FixtureRequest) -> bytes:
    """MPEG-2 at 2 Mb/s of a panning shot woven into fields, the face blurred (sigma 4) one
    field at a time but for frame ``DROPOUT``, where it shows: coded as progressive frames (a
    digitised tape) and as interlaced ones, flagged top field first (a DVD, a broadcast)."""
    scene, face = astronaut_scene()
    frames = []
    for k in range(FRAMES):
        (a, box_a), (b, box_b) = _view(scene, face, 2 * k), _view(scene, face, 2 * k + 1)
        if k != DROPOUT:
            a, b = field_blurred(a, box_a, 4.0), field_blurred(b, box_b, 4.0)
        frames.append(woven(a, b))
    return mpeg_bytes(frames, 2_000_000, interlaced=request.param)


def _order(data: bytes) -> str | None:
    with av.open(io.BytesIO(data)) as container:
        return field_order(list(container.decode(video=0))[:16])


def _panning(woven_order: str | None) -> bytes:
    scene, face = astronaut_scene()
    frames = []
    for k in range(16):
        a, b = _view(scene, face, 2 * k)[0], _view(scene, face, 2 * k + 1)[0]
        frames.append(a if woven_order is None else woven(a, b) if woven_order == "tff"
                      else woven(b, a))
    return h264_bytes(frames, 20)


@pytest.mark.parametrize("order", ["tff", "bff", None])
def test_field_order_is_read_from_the_combing_not_the_flags(order):
    """Coded as progressive H.264 (no interlace flags), woven frames read as interlaced, in
    the order they were woven; whole frames of the same pan read as progressive."""
    assert _order(_panning(order)) == order


def test_first_field_keeps_the_frame_size_and_the_right_rows():
    plane = np.repeat(np.arange(8, dtype=np.uint8)[:, None] * 10, 6, axis=1)
    top, bottom = first_field(plane, "tff"), first_field(plane, "bff")
    assert top.shape == bottom.shape == plane.shape
    assert top[0, 0] == 0 and bottom[-1, 0] == 70  # the even rows, the odd rows
    assert first_field(np.dstack([plane] * 3), "tff").shape == (8, 6, 3)


def test_a_blur_keyed_per_field_is_followed_through_every_frame(keyed_per_field):
    """Read whole, the woven fields' rows alternate between two blurred pictures a pixel
    apart: the finder takes the region for a face in plain view and reports nothing. Read one
    field at a time, the blur is followed in every frame and its dropout found."""
    assert _order(keyed_per_field) == "tff"
    found = inspect_clip(io.BytesIO(keyed_per_field), name="keyed")
    assert [(t.redaction_type, t.first_frame, t.last_frame) for t in found.tracks] == [
        ("gaussian_blur", 0, FRAMES - 1)]
    assert found.tracks[0].dropout_frames == [DROPOUT]
    whole = inspect_clip(io.BytesIO(keyed_per_field), name="keyed", fields=False)
    assert sum(len(t.boxes) for t in whole.tracks) < FRAMES // 2


def test_a_progressive_clip_is_read_as_whole_frames():
    with open_clip(io.BytesIO(_panning(None)), name="p") as clip:
        pixels = [p for _, p in clip.pixels(prefetch=4, fields=True)]
        assert clip.field is None
    with open_clip(io.BytesIO(_panning(None)), name="p") as clip:
        plain = [p for _, p in clip.pixels(prefetch=4)]
    assert all(np.array_equal(a.grey, b.grey) for a, b in zip(pixels, plain, strict=True))
    assert len(pixels) == 16
