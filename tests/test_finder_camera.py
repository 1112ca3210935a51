"""Camera motion: a pan is measured, a face crossing a still picture is not, and a track
follows a face through a camera jerk without a false dropout."""

from __future__ import annotations

import cv2
import numpy as np
from test_finder import _HEAD, _wall, make_clip

from veilscan.footage import h264_roundtrip
from veilscan.tasks.finder import find_in_frames
from veilscan.tasks.finder.camera import CameraMotion
from veilscan.tasks.obfuscate import Recipe, apply


def _grey(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def _moved(img: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """The picture as a camera sees it after turning so that content moves by (dx, dy)."""
    m = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(img, m, img.shape[1::-1], borderMode=cv2.BORDER_REFLECT)


def test_a_pan_is_measured():
    wall = _wall(240, 360)
    cam = CameraMotion()
    for i in range(12):
        cam.update(i, _grey(_moved(wall, 7 * i, 0)))
    dx, dy = cam.shift(0, 11)
    assert abs(dx - 77) < 3 and abs(dy) < 2


def test_a_face_crossing_a_still_wall_is_not_camera_motion():
    frames, _ = make_clip(Recipe("gaussian_blur", 5.0), face_w=64)
    cam = CameraMotion()
    for i, f in frames:
        cam.update(i, _grey(f))
    dx, dy = cam.shift(0, len(frames) - 1)
    assert abs(dx) < 2 and abs(dy) < 2  # while the head itself crosses 260 px


def test_a_track_follows_a_face_through_a_camera_jerk():
    """A blurred head walking along a wall (VGA); at frame 10 the camera jerks and everything
    moves 45 px down and 30 px left, half the face's height. One track over the clip, on the
    face, with no dropout."""
    wall = _wall(480, 640)
    head = cv2.resize(_HEAD, (110, 134), interpolation=cv2.INTER_AREA)
    frames = []
    for i in range(30):
        x, y = 100 + 3 * i, 80
        f = wall.copy()
        f[y:y + 134, x:x + 110] = head
        f = apply(f, (x + 22, y + 16, 68, 94), Recipe("gaussian_blur", 6.0))
        frames.append(_moved(f, -30, 45) if i >= 10 else f)
    tracks = find_in_frames(enumerate(h264_roundtrip(frames, 23)))
    assert len(tracks) == 1, [(t.first_frame, t.last_frame) for t in tracks]
    t = tracks[0]
    assert t.first_frame <= 3 and t.last_frame >= 26 and t.dropout_frames == []
    x, y = t.boxes[12][1:3]  # two frames after the jerk: on the face where it now is
    assert abs(x - (100 + 36 + 22 - 30)) < 25 and abs(y - (80 + 16 + 45)) < 25


def test_copies_made_ahead_give_the_same_path():
    """The decoding thread may make a frame's small copy ahead (``prepare``); frames it did
    not prepare are copied in ``update``, and both give the path of updating alone."""
    wall = _wall(240, 360)
    frames = [_grey(_moved(wall, 5 * i, -2 * i)) for i in range(10)]
    plain, ahead = CameraMotion(), CameraMotion()
    for i, g in enumerate(frames):
        plain.update(i, g)
    for i, g in enumerate(frames):
        if i % 3:
            ahead.prepare(i, g)
    for i, g in enumerate(frames):
        ahead.update(i, g)
    assert [ahead.shift(0, i) for i in range(10)] == [plain.shift(0, i) for i in range(10)]
    assert plain.shift(0, 9) != (0.0, 0.0) and not ahead._copies
