"""A DCT codec's 8 px block lattice (MPEG-2, the archive codec) is not a mosaic
(tasks/finder/lattice.py): clean MPEG-2 footage gives no track, while an editor's mosaic in it,
even one on the codec's lattice, is still found; and its block edges are not the detail of a
face in plain view (a blurred face in hard Motion JPEG is found)."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from test_finder import _iou, make_clip

from veilscan.footage import h264_roundtrip, mpeg_roundtrip
from veilscan.tasks.finder import find_in_frames
from veilscan.tasks.finder.confirm import detect_faces
from veilscan.tasks.finder.lattice import MIN_RATIO, deblocked, lattice_ratio
from veilscan.tasks.obfuscate import Recipe, apply


def _clip(recipe: Recipe | None) -> tuple[list[np.ndarray], list]:
    frames, truth = make_clip(recipe, face_w=120, n=30, size=(288, 480))
    return [f for _, f in frames], truth


def test_mpeg2_shows_the_lattice_and_h264_does_not():
    frames, truth = _clip(None)
    box = truth[15]
    whole = (0, 0, 480, 288)
    mpeg2 = cv2.cvtColor(mpeg_roundtrip(frames, 150_000)[15], cv2.COLOR_RGB2GRAY)
    h264 = cv2.cvtColor(h264_roundtrip(frames, 30)[15], cv2.COLOR_RGB2GRAY)
    assert lattice_ratio(mpeg2, whole, skip=box) > MIN_RATIO > lattice_ratio(h264, whole, skip=box)


def test_clean_mpeg2_footage_gives_no_track(shared_media: Path):
    """The talking head at half size through MPEG-2 at 300 kb/s: its cheeks keep one level
    per 8 px block and read as an 8 px mosaic without the lattice test."""
    with av.open(str(shared_media / "talking_head_608x1080.mp4")) as clip:
        frames = [cv2.resize(f.to_ndarray(format="rgb24"), (304, 540),
                             interpolation=cv2.INTER_AREA)
                  for _, f in zip(range(60), clip.decode(video=0), strict=False)]
    assert find_in_frames(enumerate(mpeg_roundtrip(frames, 300_000))) == []


@pytest.mark.parametrize("origin", [(0, 0), (3, 5)], ids=["on-lattice", "off-lattice"])
def test_a_mosaic_in_mpeg2_footage_is_found(origin):
    """The track follows the head across the frame (box on the mosaic in most frames). Off
    the codec's lattice the grid walk cuts most scans' boxes to part of the mosaic, which
    measures clear: the scan's own box is measured then. finder-0.29 passed this only with
    its frame-0 box held still on the wall for 30 frames (without the IoU check)."""
    frames, truth = _clip(Recipe("mosaic", 16, grid_origin=origin))
    tracks = find_in_frames(enumerate(mpeg_roundtrip(frames, 1_000_000)))
    assert len(tracks) == 1 and tracks[0].redaction_type == "mosaic"
    assert abs(tracks[0].strength_px - 16) <= 2
    assert np.median([_iou(b[1:], truth[b[0]]) for b in tracks[0].boxes]) >= 0.5


def test_deblocking_spreads_the_codecs_small_steps_on_its_lattice_only():
    g = np.zeros((16, 40), np.float32)
    g[:, 8:] += 10  # a quantisation step on the lattice (x = 8)
    g[:, 16:] += 40  # a step as large as an edge of the picture, on it too (x = 16)
    g[:, 27:] += 5  # a small step off it
    out = deblocked(g, (0, 0))
    assert out[0, 5:11].tolist() == [0.0, 1.25, 3.75, 6.25, 8.75, 10.0]
    assert (out[:, 12:] == g[:, 12:]).all()
    # the same crop 3 px further right in the frame: none of its steps is on the lattice
    assert (deblocked(g, (3, 0)) == g).all()
    # rows alike: the transposed crop is deblocked down its columns
    assert (deblocked(g.T.copy(), (0, 0)) == out.T).all()


def test_a_blurred_face_in_hard_motion_jpeg_is_found(shared_media: Path):
    """The talking head at half size, a sigma-3 blur over the face (a dropout at frame 20),
    through Motion JPEG at 1 Mb/s (40 frames): the blurred face keeps one level per 8 px
    block, and until finder-0.37 those steps read as a face in plain view: the face was
    followed over its first 5 frames only."""
    with av.open(str(shared_media / "talking_head_608x1080.mp4")) as clip:
        frames = [cv2.resize(f.to_ndarray(format="rgb24"), (304, 540),
                             interpolation=cv2.INTER_AREA)
                  for i, f in zip(range(240), clip.decode(video=0), strict=False) if i >= 200]
    boxes, redacted = [], []
    for k, img in enumerate(frames):
        x, y, w, h = (int(v) for v in detect_faces(img, 0.5)[0][:4])
        dx, dy = w * 12 // 100, h * 12 // 100
        boxes.append((max(0, x - dx), max(0, y - dy), w + 2 * dx, h + 2 * dy))
        redacted.append(img if k == 20 else apply(img, boxes[-1], Recipe("gaussian_blur", 3)))
    tracks = find_in_frames(enumerate(mpeg_roundtrip(redacted, 1_000_000, codec="mjpeg")))
    assert [t.redaction_type for t in tracks] == ["gaussian_blur"]
    on_face = [b for b in tracks[0].boxes if _iou(b[1:], boxes[b[0]]) >= 0.3]
    assert len(on_face) >= 36 and 20 in tracks[0].dropout_frames
