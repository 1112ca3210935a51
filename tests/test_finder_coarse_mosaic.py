"""Pixelations two to five cells across a face (``coarse_mosaic``): too few cells for the
period search, so each cell's flatness and the lines crossing between them tell them. On the
bench's smallest faces (41 px, the two-person GIF at 0.6) finder-0.39 found none of the four
faces under 20 px mosaics and one of the four under 16 px resizes."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest
from skimage import data

from veilscan.footage import h264_roundtrip
from veilscan.tasks.finder import find_in_frames
from veilscan.tasks.finder.coarse_mosaic import coarse_cells, coarse_mosaic_box
from veilscan.tasks.finder.confirm import detect_faces
from veilscan.tasks.finder.measure import _inset_crop, measure_region
from veilscan.tasks.obfuscate import Recipe, apply


def _faces_on_a_wall(n: int = 10) -> list[np.ndarray]:
    """LFW faces at 48 px, each on a plain grey wall, through H.264 (grey frames)."""
    out = []
    for face in data.lfw_subset()[0:10 * n:10]:
        frame = np.full((162, 288), 170, np.uint8)
        frame[50:98, 110:158] = cv2.resize((face * 255).astype(np.uint8), (48, 48),
                                           interpolation=cv2.INTER_CUBIC)
        out.append(frame)
    return out


def _grey(rgb_frames: list[np.ndarray]) -> list[np.ndarray]:
    return [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in h264_roundtrip(rgb_frames, 23)]


BOX = (108, 48, 52, 52)


@pytest.mark.parametrize("block", [14, 18])
def test_a_pixelation_of_a_few_cells_reads_as_a_mosaic_of_its_cell_size(block):
    """Three or four cells across a 52 px box. Where two rows of cells are alike, one line
    is all an axis shows and the reading is a bound (32 px for 18 px cells, once in ten);
    finer cells are the period search's, 24 px ones (two across) are mostly missed."""
    frames = _grey([apply(np.dstack([f] * 3), BOX, Recipe("mosaic", block))
                    for f in _faces_on_a_wall()])
    readings = []
    for grey in frames:
        m = measure_region(grey, BOX, square_cells=False)
        readings.append(m.strength_px if m is not None and m.kind == "mosaic" else 0.0)
    assert sum(abs(r - block) <= 0.25 * block for r in readings) >= 7, readings


@pytest.mark.parametrize("recipe", [Recipe("gaussian_blur", 4.0), Recipe("box_blur", 9),
                                    Recipe("solid", 0), None])
def test_faces_blurs_and_fills_are_no_coarse_mosaic(recipe):
    rgb = [np.dstack([f] * 3) for f in _faces_on_a_wall()]
    frames = _grey([f if recipe is None else apply(f, BOX, recipe) for f in rgb])
    for grey in frames:
        crop = _inset_crop(grey, BOX)
        assert coarse_cells(crop) == 0.0
        assert coarse_mosaic_box(grey, BOX, 14) is None or coarse_cells(
            _inset_crop(grey, coarse_mosaic_box(grey, BOX, 14))) == 0.0


def test_the_corner_of_a_fill_on_a_wall_is_no_coarse_mosaic():
    """One line each way and flat on both sides of them: the corner of a black fill on a
    wall (an extra track on the small bench set until the lines had to cross)."""
    wall = np.tile(np.linspace(150, 175, 288, dtype=np.float32), (162, 1))
    wall[70:, 150:] = 0
    grey = _grey([np.dstack([wall.astype(np.uint8)] * 3)])[0]
    assert coarse_cells(_inset_crop(grey, (130, 50, 48, 48))) == 0.0


def test_window_panes_are_no_coarse_mosaic():
    """Flat panes between mullions 4 px wide: evenly spaced lines, but in pairs 4 px apart,
    not one grid."""
    img = np.full((162, 288), 200, np.uint8)
    for k, level in enumerate((120, 135, 150, 165)):
        r, c = divmod(k, 2)
        img[40 + r * 24:60 + r * 24, 100 + c * 24:120 + c * 24] = level
    grey = _grey([np.dstack([img] * 3)])[0]
    assert coarse_cells(_inset_crop(grey, (98, 38, 48, 48))) == 0.0


def _pair_at(scale: float, start: int, n: int,
             shared_media) -> tuple[list[np.ndarray], list[list]]:
    """The two-person GIF's frames ``start`` to ``start + n`` at ``scale``, with each face's
    box grown by 12% a side (as the bench draws its recipes)."""
    frames, faces = [], []
    with av.open(str(shared_media / "head-pose-face-detection-female-and-male.gif")) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i < start:
                continue
            if i >= start + n:
                break
            full = f.to_ndarray(format="rgb24")
            boxes = []
            for d in detect_faces(full, 0.5):
                x, y, w, h = (int(v * scale) for v in d[:4])
                boxes.append((x - w * 12 // 100, y - h * 12 // 100, w * 124 // 100,
                              h * 124 // 100))
            faces.append(boxes)
            img = cv2.resize(full, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            frames.append(np.ascontiguousarray(img[: img.shape[0] // 2 * 2,
                                                   : img.shape[1] // 2 * 2]))
    return frames, faces


def test_twenty_pixel_cells_on_the_smallest_faces_are_found(shared_media):
    """20 px cells over the GIF's two faces at 0.6 (boxes of 46-58 px: two or three cells
    across each), a plain wall around them, the cells lifted for frame 21 (the small bench
    set's draw). CenterFace scores the left face 0.1-0.17 and the right one 0.25-0.30, the
    grid walk runs on into the wall, and a box taking in the wall reads clear: finder-0.39
    gave no track."""
    frames, faces = _pair_at(0.6, 8, 45, shared_media)
    out = []
    for k, (img, boxes) in enumerate(zip(frames, faces, strict=True)):
        for box in boxes:
            img = img if k == 21 else apply(img, box, Recipe("mosaic", 20))
        out.append(img)
    tracks = find_in_frames(enumerate(h264_roundtrip(out, 20, 10.0)))
    assert [t.redaction_type for t in tracks] == ["mosaic", "mosaic"], tracks
