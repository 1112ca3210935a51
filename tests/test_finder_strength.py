"""A blur's strength is read against the face as CenterFace sees it (``measure._REF_FACE``),
so a blur drawn on the detector's own tight box is not read weak. Read against the box, as
before finder-0.13, a sigma-8 blur on a tight box read 3.6-5.3 px on these faces."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from veilscan.tasks.finder.confirm import detect_faces
from veilscan.tasks.finder.measure import measure_region
from veilscan.tasks.obfuscate import Recipe, apply


@pytest.mark.parametrize("image", ["astronaut", "obama-480p", "obama-720p", "obama-1080p"])
def test_a_blur_on_the_detectors_own_box_reads_its_sigma(image, shared_media: Path):
    if image == "astronaut":
        img = data.astronaut()
    else:
        img = cv2.cvtColor(cv2.imread(str(shared_media / "portrait_ladder" / f"{image}.jpg")),
                           cv2.COLOR_BGR2RGB)
    face = tuple(int(v) for v in detect_faces(img, 0.5)[0][:4])
    red = cv2.cvtColor(apply(img, face, Recipe("gaussian_blur", 8.0)), cv2.COLOR_RGB2GRAY)
    m = measure_region(red, face, face_w=face[2])
    assert m is not None and m.kind == "gaussian_blur", m
    # One reference face reads other faces' blurs up to about a third off (their features
    # are finer or coarser); the track's strength is the median over its frames.
    assert abs(m.strength_px - 8.0) / 8.0 <= 0.35, m.strength_px


def _pan(img, face, recipe, n=60, drops=(20, 41)):
    """A pan over a still photograph, the face redacted on the detector's tight box."""
    from veilscan.footage import h264_roundtrip

    h, w = img.shape[:2]
    cw, ch = int(w * 0.75) // 2 * 2, int(h * 0.85) // 2 * 2
    red = apply(img, face, recipe)
    frames = []
    for i in range(n):
        x0 = int((w - cw) * i / (n - 1))
        y0 = int(min(face[1], h - ch) * (0.5 + 0.5 * np.sin(i / 9)))
        frames.append(np.ascontiguousarray((img if i in drops else red)[y0:y0 + ch,
                                                                        x0:x0 + cw]))
    return list(enumerate(h264_roundtrip(frames, 23)))


def test_a_blurred_face_beside_a_soft_curtain_keeps_its_own_box(shared_media: Path):
    """The portrait's defocused curtain joins the blurred face's smooth region in the pixel
    scan; boxes that took it in made the face's detail jump (false dropouts)."""
    from veilscan.tasks.finder import find_in_frames

    img = cv2.cvtColor(cv2.imread(str(shared_media / "portrait_ladder" / "obama-720p.jpg")),
                       cv2.COLOR_BGR2RGB)
    face = tuple(int(v) for v in detect_faces(img, 0.5)[0][:4])
    tracks = find_in_frames(_pan(img, face, Recipe("gaussian_blur", 8.0)))
    assert len(tracks) == 1, [(t.first_frame, t.last_frame) for t in tracks]
    assert tracks[0].dropout_frames == [20, 41]
    assert np.median([b[3] for b in tracks[0].boxes]) < 1.3 * face[2]


def test_a_dark_sleeve_beside_a_bright_flag_is_no_feathered_fill(shared_media: Path):
    """A flat patch of the portrait's dark sleeve fades into the flag on three sides, one of
    them at a hard edge: no fill was drawn there, so no solid track (finder-0.18 made one
    for the frames 40-59 of this pan until the sides that count had to trace drawn edges)."""
    from veilscan.tasks.finder import find_in_frames

    img = cv2.cvtColor(cv2.imread(str(shared_media / "portrait_ladder" / "obama-720p.jpg")),
                       cv2.COLOR_BGR2RGB)
    face = tuple(int(v) for v in detect_faces(img, 0.5)[0][:4])
    tracks = find_in_frames(_pan(img, face, Recipe("motion_blur", 15, motion_angle_deg=30)))
    assert [t.redaction_type for t in tracks] == ["motion_blur"]


def test_a_small_box_blur_is_typed_box_not_gaussian(shared_media: Path):
    """A 9 px box blur (sigma 2.6) leaves too few kinks for the spatial profiles to settle
    box against Gaussian; its spectral nulls and sidelobes tell them apart (finder-0.20 typed
    this pan's track gaussian_blur, sigma 3.6)."""
    from veilscan.tasks.finder import find_in_frames

    img = cv2.cvtColor(cv2.imread(str(shared_media / "portrait_ladder" / "obama-480p.jpg")),
                       cv2.COLOR_BGR2RGB)
    face = tuple(int(v) for v in detect_faces(img, 0.5)[0][:4])
    tracks = find_in_frames(_pan(img, face, Recipe("box_blur", 9)))
    assert [t.redaction_type for t in tracks] == ["box_blur"], [
        (t.redaction_type, t.strength_px) for t in tracks]
    assert abs(tracks[0].strength_px - 2.6) / 2.6 <= 0.3


@pytest.mark.parametrize("k", [7, 9, 15])
def test_spectral_ripple_sees_a_box_where_a_gaussian_of_its_sigma_shows_none(k):
    """On the reference face, rounded to whole grey levels as frames are, without a codec:
    a box of width k leaves a null at 1/k cycles per pixel and a sidelobe after it; the
    Gaussian of the same sigma falls smoothly (rise, notch and both null templates)."""
    from veilscan.catalog.clip_result import box_sigma
    from veilscan.tasks.finder.measure import _astronaut_grey, spectral_ripple

    face = _astronaut_grey()[40:170, 165:315]
    box = spectral_ripple(np.rint(cv2.blur(face, (k, k))))
    gauss = spectral_ripple(np.rint(cv2.GaussianBlur(face, (0, 0), box_sigma(k))))
    assert (box[1:] > gauss[1:] + 0.1).all(), (box, gauss)


@pytest.mark.parametrize("key", [(8, 156, 120), (32, 44, 56), (64, 88, 112), (181, 112, 148)])
def test_reference_tables_blur_only_the_crops_reach_and_get_the_same_pixels(key):
    """The reference tables filter the measured crop and each kernel's reach only (a fresh
    ``veilscan inspect`` builds a dozen before its first clip): every feature must equal
    the one read after filtering the whole reference face, bit for bit, up to the largest
    kernels and at the face's edges (a small face scaled down, a large crop)."""
    from veilscan.catalog.clip_result import box_sigma
    from veilscan.tasks.finder import measure

    fb, cw, ch = key
    big, y0, x0 = measure._reference_face(fb, cw, ch)

    def whole(filtered: np.ndarray) -> np.ndarray:
        return np.rint(filtered[y0:y0 + ch, x0:x0 + cw])

    labels, table = measure._reference_table(fb, cw, ch)
    expected = [measure._features_iso(whole(cv2.GaussianBlur(big, (0, 0), s)))
                for kind, s in labels if kind == "gaussian_blur"]
    expected += [measure._features_iso(whole(cv2.blur(big, (k, k)))) for k in range(3, 48, 3)]
    assert [s for kind, s in labels if kind == "box_blur"] == [box_sigma(k)
                                                                for k in range(3, 48, 3)]
    assert np.array_equal(table, np.array(expected))
    _, motion = measure._motion_table(fb, cw, ch)
    assert np.array_equal(motion, np.array([
        measure._features_dir(whole(cv2.filter2D(big, -1, measure._motion_kernel(n))))
        for n in range(3, 72, 3)]))


def test_a_blur_on_a_41_px_face_is_not_read_as_a_heavy_one():
    """On a crop of about 40 px the coarse smoothing levels read the face's own shading: a
    sigma-4 blur over ten of scikit-image's LFW faces at 41 px read 11.7-15.4 px on five of
    them while all four ratios were used (finder-0.38). Read from the ratios that fit the
    crop, the median is within the target and one face of ten still reads heavy."""
    from veilscan.footage import h264_roundtrip

    readings = []
    for face in data.lfw_subset()[0:100:10]:
        frame = np.full((162, 288), 120, np.uint8)
        frame[60:101, 120:161] = cv2.resize((face * 255).astype(np.uint8), (41, 41),
                                            interpolation=cv2.INTER_CUBIC)
        box = (116, 56, 49, 49)
        red = apply(np.dstack([frame] * 3), box, Recipe("gaussian_blur", 4.0))
        grey = cv2.cvtColor(h264_roundtrip([red] * 3, 20)[1], cv2.COLOR_RGB2GRAY)
        m = measure_region(grey, box, face_w=41.0)
        assert m is not None and m.kind in ("gaussian_blur", "box_blur", "unknown"), m
        readings.append(m.strength_px)
    assert abs(float(np.median(readings)) - 4.0) / 4.0 <= 0.3, readings
    assert sum(r > 8.0 for r in readings) <= 1, readings
