"""Dropout judgement: every frame of a track against its neighbours or the track's median detail
(tasks/finder/detail.py), on hand-made series and on small generated clips."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest
from skimage import data
from test_finder import _one_track, make_clip

from veilscan.footage import h264_roundtrip
from veilscan.tasks.finder import find_in_frames
from veilscan.tasks.finder.confirm import detect_faces
from veilscan.tasks.finder.detail import Detail, dropout_frames, region_detail
from veilscan.tasks.obfuscate import Recipe, apply

_FACE = (170, 50, 120, 150)
"""(x, y, w, h) of the face in scikit-image's astronaut portrait, px."""


def _series(values: dict[int, float], field: str) -> dict[int, Detail]:
    base = {"sharp_share": 0.05, "off_grid": 0.02, "spread": 2.0, "least_direction": 0.1}
    return {f: Detail(**{**base, field: v}) for f, v in values.items()}


def _blur_series(bright: dict[int, tuple[float, float]], n: int = 40,
                 seed: int = 1) -> dict[int, Detail]:
    """A blurred track's detail with noise; ``bright`` frames get (sharp_share,
    least_direction)."""
    rng = np.random.default_rng(seed)
    out = {}
    for f in range(n):
        s, ld = bright.get(f, (0.05 + 0.04 * rng.random(), 0.1 + 0.04 * rng.random()))
        out[f] = Detail(s, 0.02, 2.0, ld)
    return out


def test_only_the_frame_that_gains_detail_above_its_neighbours_is_a_dropout():
    assert dropout_frames(_blur_series({17: (0.45, 0.5)}), "gaussian_blur") == [17]


def test_one_statistic_rising_alone_is_no_blur_dropout():
    """A face gaining fine detail gains it in every direction: a jump in sharp share alone
    (codec noise, a box slipping onto the hairline) is no face, nor is a rise in
    least-direction detail alone that stays within three spreads of its noisy neighbours."""
    assert dropout_frames(_blur_series({17: (0.45, 0.12)}), "gaussian_blur") == []
    assert dropout_frames(_blur_series({17: (0.07, 0.21)}), "gaussian_blur") == []


def test_least_direction_detail_standing_far_out_of_a_steady_run_is_a_dropout():
    """HEVC codes a face shown for one frame amid blurred ones with almost none of its sharp
    pixels back (a gain of 0.026 on the talking head, where 0.055 is the least the two-statistic
    rules take), but its detail in every direction rises 0.12 over neighbours that vary by
    0.008: fifteen times their spread. The same rise amid neighbours that vary by 0.05 is not
    one."""
    def series(spread: float) -> dict[int, Detail]:
        return {f: Detail(*((0.026, 0.02, 2.0, 0.175) if f == 9 else
                            (0.0, 0.02, 2.0, 0.05 + spread * (f % 2)))) for f in range(20)}

    assert dropout_frames(series(0.008), "gaussian_blur") == [9]
    assert dropout_frames(series(0.05), "gaussian_blur") == []


def test_a_one_frame_dropout_hevc_codes_nearly_as_blurred_is_found(shared_media):
    """The talking head's first 45 frames at full size, the face blurred by Pillow's
    ``GaussianBlur(6)`` on the crop, shown at frame 36, through libx265 at CRF 22 (the
    foreign bench's draw). HEVC codes the shown face with almost none of its sharp pixels:
    until finder-0.41 that frame went unreported (see ``detail.LONE_JUMP``)."""
    from PIL import Image, ImageFilter

    from veilscan.footage import hevc_roundtrip

    frames = []
    with av.open(str(shared_media / "talking_head_608x1080.mp4")) as c:
        for i, f in enumerate(c.decode(video=0)):
            if i == 45:
                break
            img = f.to_ndarray(format="rgb24")
            if i != 36:
                x, y, w, h = (int(v) for v in detect_faces(img, 0.5)[0][:4])
                dx, dy = w * 12 // 100, h * 12 // 100
                x0, y0 = max(0, x - dx), max(0, y - dy)
                crop = Image.fromarray(np.ascontiguousarray(img[y0:y + h + dy, x0:x + w + dx]))
                img[y0:y + h + dy, x0:x + w + dx] = np.asarray(
                    crop.filter(ImageFilter.GaussianBlur(6)))
            frames.append(img)
    tracks = find_in_frames(enumerate(hevc_roundtrip(frames, 22)))
    assert [(t.redaction_type, t.dropout_frames) for t in tracks] == [("gaussian_blur", [36])]


def test_a_faint_dropout_as_hevc_codes_it_is_found():
    """libx265 codes a one-frame dropout in a blurred run with less of its detail than
    libx264: the face shows, but gains only 0.07 sharp share and 0.095 least-direction
    detail. The frames nearest to that which were no dropout (bench/finder.py's streak over
    a turning head, a kitchen box blur) gained in one statistic far more than in the other."""
    def series(bright: tuple[float, float]) -> dict[int, Detail]:
        # Neighbours that vary as a redacted run's do (0.07-0.13): no lone jump.
        return {f: Detail(*((bright[0], 0.02, 2.0, bright[1]) if f == 9
                            else (0.005, 0.02, 2.0, 0.07 + 0.06 * (f % 2)))) for f in range(20)}

    assert dropout_frames(series((0.075, 0.195)), "gaussian_blur") == [9]
    assert dropout_frames(series((0.255, 0.183)), "gaussian_blur") == []
    assert dropout_frames(series((0.059, 0.26)), "box_blur") == []


def test_a_dropout_hevc_strips_of_its_finest_detail_is_found_by_the_detail_it_keeps():
    """On the kitchen through libx265 a face that shows for one frame gained only 0.056-0.065
    sharp share, but 0.12-0.30 least-direction detail: a third more than a dropout needs
    with the full sharp share. The nearest frame that was no dropout (an FFmpeg directional
    blur on the talking head) gained (0.050, 0.158)."""
    def series(bright: tuple[float, float]) -> dict[int, Detail]:
        # Neighbours that vary as a redacted run's do (0.077-0.137): no lone jump.
        return {f: Detail(*((bright[0], 0.02, 2.0, bright[1]) if f == 6
                            else (0.007, 0.02, 2.0, 0.077 + 0.06 * (f % 2)))) for f in range(14)}

    assert dropout_frames(series((0.070, 0.288)), "gaussian_blur") == [6]
    assert dropout_frames(series((0.065, 0.230)), "box_blur") == [6]
    assert dropout_frames(series((0.057, 0.265)), "gaussian_blur") == []
    assert dropout_frames(series((0.070, 0.210)), "gaussian_blur") == []


def test_soft_footage_dropout_is_judged_against_its_neighbours():
    """Soft footage: a blurred track at ~0.005 sharp; the unredacted face reads only 0.15
    sharp (a clear face elsewhere reads 0.4+) but gains detail in every direction."""
    def series(bright: set[int]) -> dict[int, Detail]:
        return {f: Detail(0.15 if f in bright else 0.005, 0.02, 2.0,
                          0.33 if f in bright else 0.1) for f in range(14)}

    assert dropout_frames(series({7}), "gaussian_blur") == [7]
    noisy = {f: Detail(0.15 if f == 7 else 0.005, 0.02, 2.0, 0.1) for f in range(14)}
    assert dropout_frames(noisy, "gaussian_blur") == []


def test_slow_drift_is_no_dropout_but_a_jump_on_top_of_it_is():
    """A head turning into the light, or a box lagging onto the hair, raises a blurred track's
    detail over many frames; only a frame that jumps above its neighbours is a slip."""
    drift = {f: (0.05 + 0.3 * f / 40, 0.1 + 0.3 * f / 40) for f in range(40)}
    assert dropout_frames(_blur_series(drift), "gaussian_blur") == []
    s, ld = drift[30]
    drift[30] = (s + 0.2, ld + 0.2)
    assert dropout_frames(_blur_series(drift), "gaussian_blur") == [30]


def test_a_long_dropout_is_caught_whole():
    """Off for longer than the neighbourhood (here 6 frames): judged against the track."""
    off = {f: (0.5, 0.5) for f in range(20, 26)}
    assert dropout_frames(_blur_series(off), "gaussian_blur") == list(range(20, 26))


def test_a_track_that_is_soft_throughout_has_no_dropout():
    values = {f: 0.3 + 0.01 * (f % 3) for f in range(30)}  # high but steady: no jump
    assert dropout_frames(_series(values, "sharp_share"), "gaussian_blur") == []


def test_each_type_is_judged_by_what_it_suppresses():
    # A mosaic's block edges are sharp in every frame: sharp_share says nothing, the
    # detail inside its cells (off_grid) does.
    frames = range(30)
    mosaic = {f: Detail(0.8, 0.45 if f == 12 else 0.03, 60.0, 0.2) for f in frames}
    assert dropout_frames(mosaic, "mosaic") == [12]
    solid = {f: Detail(0.0, 0.0, 70.0 if f == 5 else 1.0, 0.0) for f in frames}
    assert dropout_frames(solid, "solid") == [5]
    # A streak keeps detail across it; along it, a dropout brings detail back.
    streak = {f: Detail(0.3, 0.3, 40.0, 0.6 if f == 20 else 0.12) for f in frames}
    assert dropout_frames(streak, "motion_blur") == [20]


def test_a_mosaic_smeared_over_many_frames_is_no_dropout_but_a_slip_is():
    """A fine mosaic that H.264 smears while the face rushes at the camera rises past the
    floor over 20 frames (as on the bench's whole shot, off_grid 0.2-0.3 against a track
    median of 0.04): no single frame of it stands out from its neighbours. A frame that
    shows the face, a 3-frame slip and an 8-frame one still do."""
    rng = np.random.default_rng(3)

    def mosaic(off_grid: dict[int, float]) -> dict[int, Detail]:
        return {f: Detail(0.8, off_grid.get(f, 0.04 + 0.01 * rng.random()), 60.0, 0.2)
                for f in range(80)}

    smear = {f: 0.2 + 0.1 * np.sin(np.pi * (f - 50) / 20) + 0.02 * rng.random()
             for f in range(50, 71)}
    assert dropout_frames(mosaic(smear), "mosaic") == []
    assert dropout_frames(mosaic({**smear, 60: 0.5}), "mosaic") == [60]
    slips = {**{f: 0.5 for f in (10, 11, 12)}, **{f: 0.48 for f in range(25, 33)}}
    assert dropout_frames(mosaic(slips), "mosaic") == [10, 11, 12, *range(25, 33)]


def test_a_fills_extrapolated_first_and_last_boxes_are_not_dropouts():
    """A fill's first box in a close-up can overlap the face beside the fill (its spread
    jumps); the frames just outside a track are checked on their own, so a track's own
    first and last frames count only within a long run, as a blur's do."""
    spread = {0: 90.0, 14: 70.0, 29: 85.0}
    fill = {f: Detail(0.0, 0.0, spread.get(f, 1.0 + 0.5 * (f % 3)), 0.0) for f in range(30)}
    assert dropout_frames(fill, "solid") == [14]
    run = {f: Detail(0.0, 0.0, 80.0 if f >= 24 else 1.0, 0.0) for f in range(30)}
    assert dropout_frames(run, "solid") == list(range(24, 30))


def test_too_short_a_track_is_not_judged():
    values = {0: 0.05, 1: 0.5, 2: 0.05}
    assert dropout_frames(_series(values, "sharp_share"), "gaussian_blur") == []


def test_region_detail_separates_redactions_from_the_clear_face():
    grey = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)
    rgb = data.astronaut()
    clear = region_detail(grey, _FACE)
    looks = {
        kind: region_detail(cv2.cvtColor(apply(rgb, _FACE, recipe), cv2.COLOR_RGB2GRAY), _FACE)
        for kind, recipe in {
            "blur": Recipe("gaussian_blur", 4.0),
            "mosaic": Recipe("mosaic", 10),
            "solid": Recipe("solid"),
        }.items()
    }
    assert clear is not None and all(v is not None for v in looks.values())
    assert looks["blur"].sharp_share < clear.sharp_share - 0.2
    assert looks["mosaic"].off_grid < clear.off_grid - 0.15
    assert looks["solid"].spread < 3.0 < 20.0 < clear.spread
    assert region_detail(grey, (0, 0, 9, 40)) is None  # under 10 px across: too small to judge


@pytest.mark.parametrize(
    "recipe", [Recipe("gaussian_blur", 4.0), Recipe("mosaic", 8), Recipe("solid")],
    ids=["gaussian", "mosaic", "solid"],
)
def test_a_three_frame_dropout_is_caught_whole(recipe):
    drops = (9, 10, 11)
    frames, truth = make_clip(recipe, face_w=100, dropouts=drops)
    t = _one_track(frames, truth)
    assert t.dropout_frames == list(drops)


@pytest.mark.parametrize("recipe", [Recipe("gaussian_blur", 6.0), Recipe("mosaic", 12.0),
                                    Recipe("solid", color=(20, 20, 20))],
                         ids=["blur", "mosaic", "solid"])
@pytest.mark.parametrize("edge", ["first", "last"])
def test_a_redaction_that_starts_late_or_ends_early_exposes_a_dropout(recipe, edge):
    """The face in plain view on a clip's first (or last) frame, redacted on all the others:
    the scan sees a clear face there and no redaction, yet that frame is the face exposed."""
    n = 24
    drop = 0 if edge == "first" else n - 1
    frames, _ = make_clip(recipe, face_w=100, n=n, dropouts=(drop,))
    tracks = find_in_frames(frames)
    assert [(t.first_frame, t.last_frame, t.dropout_frames) for t in tracks] == [
        (0, n - 1, [drop])]


def test_frames_before_a_track_is_worth_reporting_are_judged_once_it_is():
    """A candidate's frames are not judged while it may be scenery; once it becomes worth
    reporting (here: its region measures as a mosaic), the frames still buffered are."""
    from veilscan.tasks.finder import RedactionFinder
    from veilscan.tasks.finder.measure import RegionMeasure
    from veilscan.tasks.finder.tracking import Track

    frames, boxes = make_clip(Recipe("mosaic", 12.0), face_w=100, n=8, size=(300, 480))
    finder = RedactionFinder(ahead=0)  # its state read after each frame
    for i, f in frames:
        finder.add_frame(i, f)
    track = Track(99)
    for i, box in enumerate(boxes):
        track.add(i, box, RegionMeasure("blur", 0.0, 0.0, 0.0))
    finder._judge_buffered(track)
    assert track.detail == {} and not track.judged
    track.measures[-1] = RegionMeasure("mosaic", 12.0, 0.2, 0.0)
    finder._judge_buffered(track)
    assert sorted(track.detail) == list(range(8)) and track.judged


def test_a_dark_fill_over_the_whole_head_is_confirmed_by_the_face_where_it_lifts(
        shared_media) -> None:
    """A black box drawn with 40% to spare around the face hides the head too, so no head
    shows around it (which a dark fill must show, or it is a screen or a tile); the frame
    where it lifted shows the face, and that confirms it: track and dropout are reported."""
    with av.open(str(shared_media / "head-pose-face-detection-female.gif")) as c:
        raw = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)][:23]
    raw = [np.ascontiguousarray(f[: f.shape[0] // 2 * 2, : f.shape[1] // 2 * 2]) for f in raw]
    frames = []
    for i, f in enumerate(raw):
        x, y, w, h = (int(v) for v in detect_faces(f, 0.5)[0][:4])
        padded = (max(0, x - int(0.4 * w)), max(0, y - int(0.4 * h)), int(1.8 * w),
                  int(1.8 * h))
        frames.append(f if i == 12 else apply(f, padded, Recipe("solid", color=(20, 20, 20))))
    tracks = find_in_frames(enumerate(h264_roundtrip(frames, 23)))
    assert [(t.redaction_type, t.dropout_frames) for t in tracks] == [("solid", [12])]


def test_a_soft_face_where_a_fill_was_looks_clear():
    """A fill's dropout on a soft face (a close-up through HEVC) shows few sharp pixels but a
    range of grey no fill has: the frame just before a fill's track is then looked at for
    the face (``_exposed_edge``). The fill itself never looks clear."""
    from veilscan.tasks.finder.measure import looks_clear

    grey = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)
    for sigma in (2.0, 3.0):
        assert looks_clear(cv2.GaussianBlur(grey, (0, 0), sigma), _FACE, "solid")
    filled = cv2.cvtColor(apply(data.astronaut(), _FACE, Recipe("solid", color=(214, 180, 150))),
                          cv2.COLOR_RGB2GRAY)
    assert not looks_clear(filled, _FACE, "solid")


def test_a_gifs_own_pixel_grid_is_not_the_tracks_mosaic():
    """A GIF scaled up 4x with nearest neighbours has a 4 px grid of its own: where a 16 px
    mosaic lifted, that face is clear; with the cell size unknown, or near the grid's, it is
    taken for a mosaic (the cautious answer)."""
    from veilscan.tasks.finder.measure import looks_clear

    grey = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)
    small = cv2.resize(grey, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    gif = cv2.resize(small, None, fx=4, fy=4, interpolation=cv2.INTER_NEAREST)
    assert looks_clear(gif, _FACE, "mosaic", block=16.0)
    assert not looks_clear(gif, _FACE, "mosaic") and not looks_clear(gif, _FACE, "mosaic", 6.0)
    mosaic = cv2.cvtColor(apply(data.astronaut(), _FACE, Recipe("mosaic", 16)),
                          cv2.COLOR_RGB2GRAY)
    assert not looks_clear(mosaic, _FACE, "mosaic", block=16.0)


def test_a_fills_frame_is_judged_when_its_detection_measures_as_a_blur():
    """Where a fill lifts, the scan finds the face it hid and measures it, soft as it is, as
    a blur; that detection joins the fill's track, and its frame is judged for a dropout
    (two such HEVC dropouts on the two-person GIF were not). A candidate that never was a
    fill or a mosaic (scenery, most of them) is still not judged."""
    from veilscan.tasks.finder.finder import _add_detection
    from veilscan.tasks.finder.measure import RegionMeasure
    from veilscan.tasks.finder.tracking import Track

    grey = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2GRAY)
    blur = RegionMeasure("blur", 0.0, 0.3, 0.0)
    fill = Track(1)
    _add_detection(fill, 0, grey, _FACE, RegionMeasure("solid", 0.0, 0.0, 0.0))
    _add_detection(fill, 3, grey, _FACE, blur)
    assert sorted(fill.detail) == [0, 3]
    scenery = Track(2)
    _add_detection(scenery, 0, grey, _FACE, blur)
    _add_detection(scenery, 3, grey, _FACE, blur)
    assert scenery.detail == {}
