"""Finder benchmark: redact real faces from ../shared/media/ with our own recipes, encode them
with H.264, run the finder and print recall, precision, type accuracy, strength error, dropout
recall, false tracks per minute of clean footage and the speed ratio against plain decoding.

Run (a few minutes on 2 cores):

    .venv/bin/python bench/finder.py            # full set
    .venv/bin/python bench/finder.py --quick    # a third of the clips, for iterating
    .venv/bin/python bench/finder.py --encode-cache /tmp/bench-h264   # the same bytes each run
    .venv/bin/python bench/finder.py --speed-only   # the speed section alone (a quiet machine)

libx264 here does not always turn the same frames into the same bytes (in one process, from
identical YUV, one encoder thread too), so two runs differ by a few tracks' types although the
finder is deterministic on bytes. To compare two versions of the finder, give both runs the
same ``--encode-cache``: each clip's H.264 is kept there under a hash of its frames and encoder
settings and read back on later runs.

How the labelled set is built: faces are located once per source with CenterFace (every few
frames, interpolated); each labelled clip is a segment of a source with one recipe from
tasks/obfuscate.py applied over every face (type, strength, rect/ellipse mask, feathering,
random mosaic grid origin), optionally downscaled (low-resolution footage), with single- and
multi-frame dropouts (frames left unredacted), then encoded with libx264 (CRF 20-28) and decoded
again so the finder sees codec noise. Sources: the talking head (608x1080, 30 fps), the two
head-pose GIFs (480x270) and the kitchen (2560x1920 fisheye, 10 fps, moving camera). Clean clips
(no redaction) include the raw sources, a shallow-depth-of-field version (everything but the
face blurred) and a whole-frame motion blur. Truth boxes are the redacted boxes; a finding
matches a truth track when their boxes overlap (IoU >= 0.3 on the median shared frame) for at
least half the truth frames.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import platform
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import av
import cv2
import numpy as np

from veilscan.catalog.clip_result import TrackFinding, box_sigma
from veilscan.footage import h264_bytes, h264_roundtrip, hevc_bytes, mpeg_roundtrip
from veilscan.tasks.decode import DecodedFrame, open_clip
from veilscan.tasks.finder import detector_version, find_in_frames
from veilscan.tasks.finder.confirm import detect_faces
from veilscan.tasks.finder.frames import Pixels
from veilscan.tasks.inspect import inspect_clip
from veilscan.tasks.obfuscate import Recipe, apply

MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"
Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Source:
    """Decoded frames of one piece of real footage and its face boxes per frame."""

    name: str
    fps: float
    frames: list[np.ndarray]
    faces: list[list[Box]]
    """Per frame, the face boxes (x, y, w, h) in pixels."""


Encoder = Callable[[list[np.ndarray], float], Sequence[np.ndarray | Pixels]]
"""Frames and frame rate in, the frames through a codec and back out (H.264 when not given)."""


ENCODE_CACHE: Path | None = None
"""Folder of kept H.264 encodes (``--encode-cache``); None encodes afresh every run."""
CODEC = "h264"
"""What the labelled clips are encoded with (``--codec``): ``h264`` or ``hevc``."""


def encoded(frames: Sequence[np.ndarray], crf: int, fps: float, **options: object) -> bytes:
    """``footage.h264_bytes(frames, crf, fps, **options)`` (``footage.hevc_bytes`` when
    ``CODEC`` is ``hevc``: H.264's options do not apply), read from ``ENCODE_CACHE`` when
    it holds these frames at these settings (see the module's docstring for why)."""
    hevc = CODEC == "hevc"
    encode = partial(hevc_bytes, frames, crf, fps) if hevc else partial(
        h264_bytes, frames, crf, fps, **options)
    key = repr((crf, fps, "hevc" if hevc else sorted(options.items()), av.__version__))
    if ENCODE_CACHE is None:
        return encode()
    h = hashlib.sha256(key.encode())
    for f in frames:
        h.update(repr(f.shape).encode())
        h.update(np.ascontiguousarray(f).tobytes())
    path = ENCODE_CACHE / f"{h.hexdigest()[:24]}.mp4"
    if path.exists():
        return path.read_bytes()
    data = encode()
    ENCODE_CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)  # a concurrent run sees the whole file or none
    return data


def h264_pixels(frames: list[np.ndarray], crf: int, fps: float) -> list[DecodedFrame]:
    """``frames`` through libx264 (or ``CODEC``) and back as ``veilscan inspect`` decodes
    them (the luma plane as it is, RGB when the detector asks): the finder is measured on
    what it runs on."""
    with open_clip(io.BytesIO(encoded(frames, crf, fps)), name="bench") as clip:
        return [p for _, p in clip.pixels()]


@dataclass(frozen=True)
class ClipSpec:
    """One labelled clip: which source frames, which redaction, how it is degraded."""

    source: str
    start: int
    length: int
    recipe: Recipe | None
    scale: float = 1.0
    dropouts: tuple[int, ...] = ()
    """Frame indices within the clip where the face is left unredacted."""
    crf: int = 23
    clean_kind: str = ""
    """For clean clips: '' (raw), 'defocus' (background blurred) or 'shake' (motion blur)."""
    pad: float = 0.12
    """Share of the face box's size added on each side before the recipe is drawn (editors
    pad the face; ``robustness_check`` also draws on tight and on generous boxes)."""


@dataclass
class Outcome:
    spec: ClipSpec
    truth: list[dict[int, Box]]
    tracks: list[TrackFinding]
    face_w: float
    seconds: float
    matched: list[tuple[int, TrackFinding]] = field(default_factory=list)


def load_source(path: Path, name: str, max_frames: int = 600, step: int = 3,
                downscale: float = 1.0) -> Source:
    """Decode ``path`` and locate faces with CenterFace every ``step`` frames (interpolated)."""
    frames: list[np.ndarray] = []
    container = av.open(str(path))
    stream = container.streams.video[0]
    fps = float(stream.average_rate or 25)
    for frame in container.decode(stream):
        img = frame.to_ndarray(format="rgb24")
        if downscale != 1.0:
            img = cv2.resize(img, None, fx=downscale, fy=downscale, interpolation=cv2.INTER_AREA)
        h, w = img.shape[:2]
        frames.append(np.ascontiguousarray(img[: h // 2 * 2, : w // 2 * 2]))
        if len(frames) >= max_frames:
            break
    container.close()
    keyed: dict[int, list[Box]] = {}
    for i in list(range(0, len(frames), step)) + [len(frames) - 1]:
        img = frames[i]
        f = min(1.0, 640 / max(img.shape[:2]))
        small = cv2.resize(img, None, fx=f, fy=f, interpolation=cv2.INTER_AREA) if f < 1 else img
        dets = detect_faces(np.ascontiguousarray(small), 0.5)
        keyed[i] = [(int(d[0] / f), int(d[1] / f), int(d[2] / f), int(d[3] / f))
                    for d in dets if d[2] / f >= 24]
    return Source(name, fps, frames, _link_faces(keyed, len(frames)))


SOURCE_FILES = {
    "talking_head": ("talking_head_608x1080.mp4", 3),
    "pose_female": ("head-pose-face-detection-female.gif", 1),
    "pose_pair": ("head-pose-face-detection-female-and-male.gif", 1),
    "kitchen": ("kitchen_fisheye_2560x1920_audio.mp4", 1),
}
"""The bench's sources in ../shared/media: the file, and every how many frames CenterFace
locates the faces (``load_source``'s ``step``)."""


def load_sources(names: tuple[str, ...] = tuple(SOURCE_FILES)) -> dict[str, Source]:
    """The sources called ``names`` (all four by default), decoded and located."""
    return {n: load_source(MEDIA / SOURCE_FILES[n][0], n, step=SOURCE_FILES[n][1])
            for n in names}


def _iou(a: Box, b: Box) -> float:
    iw = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / float(a[2] * a[3] + b[2] * b[3] - inter) if inter else 0.0


def _link_faces(keyed: dict[int, list[Box]], n: int) -> list[list[Box]]:
    """Link sparse detections into per-face tracks and interpolate every frame."""
    tracks: list[dict[int, Box]] = []
    for i in sorted(keyed):
        for box in keyed[i]:
            best = max(tracks, key=lambda t: _iou(t[max(t)], box) if max(t) < i else -1,
                       default=None)
            if best is not None and max(best) < i and _iou(best[max(best)], box) > 0.2:
                best[i] = box
            else:
                tracks.append({i: box})
    out: list[list[Box]] = [[] for _ in range(n)]
    for t in tracks:
        keys = sorted(t)
        if len(keys) < 2:
            continue
        arr = np.array([t[k] for k in keys], float)
        for f in range(keys[0], keys[-1] + 1):
            out[f].append(tuple(int(round(np.interp(f, keys, arr[:, j]))) for j in range(4)))
    return out


def _expand(box: Box, frac: float, shape: tuple[int, ...]) -> Box:
    """Grow a tight face box by ``frac`` of its size on each side (editors pad the face)."""
    x, y, w, h = box
    dx, dy = int(w * frac), int(h * frac)
    x0, y0 = max(0, x - dx), max(0, y - dy)
    x1, y1 = min(shape[1], x + w + dx), min(shape[0], y + h + dy)
    return (x0, y0, x1 - x0, y1 - y0)


def build_clip(src: Source, spec: ClipSpec, encode: Encoder | None = None,
               draw: Callable[[np.ndarray, Box, Recipe], np.ndarray] = apply,
               ) -> tuple[list[np.ndarray | Pixels], list[dict[int, Box]], float]:
    """Frames of the labelled clip, truth boxes per face track, and the median face width.
    ``draw`` redacts one face (``tasks/obfuscate.py``'s recipes unless given)."""
    frames, truth = [], defaultdict(dict)
    widths = []
    for k in range(spec.length):
        i = spec.start + k
        img = src.frames[i]
        faces = src.faces[i]
        if spec.scale != 1.0:
            img = cv2.resize(img, None, fx=spec.scale, fy=spec.scale, interpolation=cv2.INTER_AREA)
            img = np.ascontiguousarray(img[: img.shape[0] // 2 * 2, : img.shape[1] // 2 * 2])
            faces = [tuple(int(v * spec.scale) for v in b) for b in faces]
        if spec.clean_kind == "defocus":
            blurred = cv2.GaussianBlur(img, (0, 0), 5)
            keep = np.zeros(img.shape[:2], np.float32)
            for b in faces:
                x, y, w, h = _expand(b, 0.6, img.shape)
                cv2.ellipse(keep, (x + w // 2, y + h // 2), (w // 2, int(h * 0.75)), 0, 0, 360,
                            1.0, -1)
            keep = cv2.GaussianBlur(keep, (0, 0), 8)[..., None]
            img = np.clip(img * keep + blurred * (1 - keep), 0, 255).astype(np.uint8)
        elif spec.clean_kind == "shake":
            kern = np.zeros((1, 15), np.float32) + 1 / 15
            img = cv2.filter2D(img, -1, kern)
        for j, b in enumerate(faces):
            widths.append(b[2])
            if spec.recipe is None:
                continue
            rbox = _expand(b, spec.pad, img.shape)
            truth[j][k] = rbox if spec.recipe.method != "eye_bar" else _band(rbox, spec.recipe)
            if k not in spec.dropouts:
                img = draw(img, rbox, spec.recipe)
        frames.append(img)
    out = (h264_pixels(frames, spec.crf, src.fps) if encode is None
           else encode(frames, src.fps))
    return list(out), [dict(t) for t in truth.values()], float(np.median(widths) if widths else 0)


def _band(box: Box, recipe: Recipe) -> Box:
    """The bar an eye-bar recipe paints over ``box`` (as ``obfuscate.apply`` places it)."""
    x, y, w, h = box
    top, height = recipe.band
    return (x, y + int(round(top * h)), w, max(1, int(round(height * h))))


def _strength_label(recipe: Recipe) -> str:
    """How a recipe is named in the misses list: its strength, or a fill's colour."""
    if recipe.method == "eye_bar":
        return f"rgb{recipe.color} band{recipe.band}"
    if recipe.method == "solid":
        return f"rgb{recipe.color}"
    return f"{recipe.strength:g}"


def true_type(recipe: Recipe) -> str:
    """The contract's type for a recipe: an eye bar is a solid fill over part of the face."""
    return "solid" if recipe.method == "eye_bar" else recipe.method


def true_strength(recipe: Recipe) -> float:
    """Strength as the contract defines it: block px, or equivalent Gaussian sigma px."""
    if recipe.method in ("box_blur", "motion_blur"):
        return box_sigma(recipe.strength)
    if recipe.method in ("solid", "eye_bar"):
        return 0.0
    return float(recipe.strength)


def match(outcome: Outcome) -> None:
    """Pair truth tracks with findings (greedy on box overlap)."""
    used: set[int] = set()
    for ti, truth in enumerate(outcome.truth):
        best, best_score = None, 0.0
        for k, track in enumerate(outcome.tracks):
            if k in used:
                continue
            boxes = {b[0]: b[1:] for b in track.boxes}
            common = [f for f in truth if f in boxes]
            if len(common) < 0.5 * len(truth):
                continue
            score = float(np.median([_iou(truth[f], boxes[f]) for f in common]))
            if score >= 0.3 and score > best_score:
                best, best_score = k, score
        if best is not None:
            used.add(best)
            outcome.matched.append((ti, outcome.tracks[best]))


def specs(sources: dict[str, Source], quick: bool, rng: np.random.Generator) -> list[ClipSpec]:
    """The labelled and clean clips (fixed seed: the same set every run)."""
    recipes = (
        [Recipe("gaussian_blur", s) for s in (2, 3, 5, 8, 12)]
        + [Recipe("box_blur", k) for k in (5, 9, 15, 21)]
        + [Recipe("motion_blur", n, motion_angle_deg=a) for n, a in ((11, 0), (17, 45), (25, 90))]
        + [Recipe("mosaic", b) for b in (4, 6, 10, 16)]
        + [Recipe("solid", color=c) for c in ((0, 0, 0), (128, 128, 128), (210, 170, 150))]
        # Partial covers last, so the clips above keep their random draws.
        + [Recipe("eye_bar", color=c, band=b) for c, b in (
            ((0, 0, 0), (0.28, 0.24)), ((255, 255, 255), (0.3, 0.2)),
            ((60, 60, 170), (0.25, 0.3)))]
    )
    out: list[ClipSpec] = []
    th = sources["talking_head"]
    for i, base in enumerate(recipes):
        shape = "ellipse" if i % 3 == 1 and base.method != "eye_bar" else "rect"
        feather = 4.0 if i % 4 == 2 else 0.0
        origin = (int(rng.integers(0, 32)), int(rng.integers(0, 32)))
        recipe = replace(base, shape=shape, feather_px=feather, grid_origin=origin)
        for scale in (1.0, 0.5, 0.3):
            length = 45
            start = int(rng.integers(0, len(th.frames) - length))
            drops: tuple[int, ...] = ()
            if (i + int(scale * 10)) % 2 == 0:
                d = int(rng.integers(5, length - 5))
                drops = (d,) if (i % 4) else (d, d + 1, d + 2)
            out.append(ClipSpec("talking_head", start, length, recipe, scale, drops,
                                crf=int(rng.choice([20, 23, 28]))))
        for name in ("pose_female", "pose_pair"):
            src = sources[name]
            length = min(len(src.frames), 40)
            drops = (int(rng.integers(4, length - 4)),) if i % 2 else ()
            out.append(ClipSpec(name, 0, length, recipe, 1.0, drops, crf=23))
    # The kitchen: 2560x1920 fisheye at 10 fps from a moving (head-worn) camera, two
    # people; every recipe once, at full or half size (no random draws: the clips above
    # keep theirs).
    kitchen = sources["kitchen"]
    for i, base in enumerate(recipes):
        recipe = replace(base, grid_origin=(5 * i % 32, 11 * i % 32))
        out.append(ClipSpec("kitchen", 0, len(kitchen.frames), recipe, 1.0 if i % 2 else 0.5,
                            (7,) if i % 3 else ()))
    clean = [
        ClipSpec("kitchen", 0, len(kitchen.frames), None, 1.0),
        ClipSpec("kitchen", 0, len(kitchen.frames), None, 0.5),
        ClipSpec("talking_head", 0, 600, None, 1.0),
        ClipSpec("talking_head", 0, 300, None, 0.5),
        ClipSpec("talking_head", 300, 300, None, 0.3),
        ClipSpec("talking_head", 0, 150, None, 1.0, clean_kind="defocus"),
        ClipSpec("talking_head", 150, 150, None, 0.5, clean_kind="defocus"),
        ClipSpec("talking_head", 300, 150, None, 0.5, clean_kind="shake"),
        ClipSpec("pose_female", 0, len(sources["pose_female"].frames), None, 1.0),
        ClipSpec("pose_pair", 0, len(sources["pose_pair"].frames), None, 1.0),
        ClipSpec("pose_pair", 0, len(sources["pose_pair"].frames), None, 1.0,
                 clean_kind="defocus"),
    ]
    if quick:
        out = out[::3]
        clean = clean[1:]
    return out + clean


def speed_clip() -> bytes:
    """The talking head with a Gaussian blur (sigma 6) over its face, as H.264 in memory."""
    return long_clip()[0]


def speed_clips() -> list[tuple[str, bytes]]:
    """The speed clip encoded two ways, named: as the source file was (libx264's defaults:
    frame threads, one slice a frame; ``sliced_threads=0`` in its SEI) and as PyAV encodes by
    default (slice threads: here two slices a frame). PyAV's plain decoding loop, the
    baseline, decodes the slices of a frame on two threads at once: a third faster than one
    slice, at no gain to the finder, whose own decoding thread shares the two cores."""
    shot = whole_shot()
    return [("one slice a frame (libx264's default, as the source)",
             long_clip(one_slice=True, shot=shot)[0]),
            ("two slices a frame (PyAV's default encoder threads)", long_clip(shot=shot)[0])]


LONG_DROPOUTS = (45, 130, 217, 250, 251, 252, 301, 388, 475, 562)
"""Frames of the long clip left unredacted: single frames, and one 3-frame run."""


def whole_shot() -> tuple[list[np.ndarray], list[list[Box]]]:
    """The whole talking head (600 frames, RGB) and its face boxes per frame (CenterFace on
    every 10th frame at half size, linked and interpolated)."""
    frames = []
    container = av.open(str(MEDIA / "talking_head_608x1080.mp4"))
    for frame in container.decode(video=0):
        frames.append(frame.to_ndarray(format="rgb24"))
    container.close()
    keyed = {}
    for i in range(0, len(frames), 10):
        dets = detect_faces(np.ascontiguousarray(frames[i][::2, ::2]), 0.5)
        keyed[i] = [tuple(int(v * 2) for v in d[:4]) for d in dets]
    keyed[len(frames) - 1] = keyed[max(keyed)]
    return frames, _link_faces(keyed, len(frames))


LONG_RECIPE = Recipe("gaussian_blur", 6)


def long_clip(dropouts: tuple[int, ...] = (), recipe: Recipe = LONG_RECIPE, scale: float = 1.0,
              shot: tuple[list[np.ndarray], list[list[Box]]] | None = None,
              one_slice: bool = False) -> tuple[bytes, list[list[Box]]]:
    """The whole talking head (600 frames; ``shot`` if already decoded) with ``recipe`` over its
    face except on ``dropouts``, downscaled by ``scale``, as H.264 in memory (``one_slice``:
    see ``footage.h264_bytes``), and the face boxes per frame."""
    frames, faces = shot or whole_shot()
    red, truth = [], []
    for i, (img, fb) in enumerate(zip(frames, faces, strict=True)):
        if scale != 1.0:
            img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            img = np.ascontiguousarray(img[:img.shape[0] // 2 * 2, :img.shape[1] // 2 * 2])
        boxes = [_expand(tuple(int(v * scale) for v in b), 0.12, img.shape) for b in fb]
        if i not in dropouts:
            for b in boxes:
                img = apply(img, b, recipe)
        red.append(img)
        truth.append(boxes)
    # libx264's default preset
    return encoded(red, 23, 30, preset="medium", one_slice=one_slice), truth


def shot_figures(data: bytes, truth: list[list[Box]]) -> tuple[list[TrackFinding], int, int,
                                                                  int, int]:
    """``inspect_clip`` over a whole shot: (tracks, face frames covered by a track's box at
    IoU >= 0.3, face frames, LONG_DROPOUTS found, false dropout frames)."""
    result = inspect_clip(io.BytesIO(data), name="long")
    boxes: dict[int, Box] = {}
    for t in result.tracks:
        boxes.update({b[0]: tuple(b[1:]) for b in t.boxes})
    faces = [(i, fb[0]) for i, fb in enumerate(truth) if fb]
    covered = sum(1 for i, b in faces if i in boxes and _iou(b, boxes[i]) >= 0.3)
    found = {f for t in result.tracks for f in t.dropout_frames}
    return (result.tracks, covered, len(faces), len(found & set(LONG_DROPOUTS)),
            len(found - set(LONG_DROPOUTS)))


def long_check() -> str:
    """How the finder does over a whole shot (600 frames, where it scans at the settled rate
    most of the time): frames of the face covered by a track, and the dropouts found
    (bench/finder_shots.py runs more recipes and a smaller size)."""
    tracks, covered, n_faces, hit, false = shot_figures(*long_clip(LONG_DROPOUTS))
    return (f"  tracks {len(tracks)}, face frames covered {covered}/{n_faces} "
            f"(IoU >= 0.3), dropouts found {hit}/{len(LONG_DROPOUTS)}, "
            f"false dropout frames {false}")


CODECS = (("MPEG-2 0.3 Mb/s", "mpeg2video", 300_000), ("MPEG-2 0.8 Mb/s", "mpeg2video", 800_000),
          ("MPEG-2 2 Mb/s", "mpeg2video", 2_000_000),
          ("MPEG-2 5 Mb/s", "mpeg2video", 5_000_000), ("MPEG-4 pt 2 0.8 Mb/s", "mpeg4", 800_000),
          ("Motion JPEG 1 Mb/s", "mjpeg", 1_000_000), ("Motion JPEG 3 Mb/s", "mjpeg", 3_000_000))
CODEC_RECIPES = (None, Recipe("gaussian_blur", 5), Recipe("box_blur", 9),
                 Recipe("mosaic", 10, grid_origin=(3, 5)), Recipe("mosaic", 16),
                 Recipe("solid", color=(128, 128, 128)))
"""Clean footage first; the 16 px mosaic sits on the codec's own 8 px lattice (origin 0)."""


def _mpeg_encode(frames: list[np.ndarray], fps: float, rate: int,
                 codec: str) -> list[np.ndarray]:
    return mpeg_roundtrip(frames, rate, codec, fps)


def codec_check(src: Source) -> list[str]:
    """The talking head at half size (100 frames) through older DCT codecs, which block the
    picture in 8 px squares with no deblocking filter (DVD, broadcast and early digital camera
    archives; Motion JPEG from finder-0.37's round): false
    tracks on the clean clip, and per recipe the share of the face's frames a track of the
    right type covers."""
    lines = []
    for label, codec, rate in CODECS:
        cells = []
        for recipe in CODEC_RECIPES:
            spec = ClipSpec("talking_head", 200, 100, recipe, 0.5)
            frames, truth, _ = build_clip(src, spec, encode=partial(
                _mpeg_encode, rate=rate, codec=codec))
            tracks = find_in_frames(enumerate(frames))
            if recipe is None:
                cells.append(f"clean: {len(tracks)} false")
                continue
            want = true_type(recipe)
            boxes = {b[0]: tuple(b[1:]) for t in tracks if t.redaction_type == want
                     or (want == "box_blur" and t.redaction_type == "gaussian_blur")
                     for b in t.boxes}
            faces = truth[0] if truth else {}
            hit = sum(1 for f, b in faces.items() if f in boxes and _iou(b, boxes[f]) >= 0.3)
            share = hit / max(1, len(faces))
            cells.append(f"{recipe.method} {_strength_label(recipe)}: {share:.2f}")
        lines.append(f"  {label:20s} " + ", ".join(cells))
    return lines


PAN_RECIPES = (Recipe("gaussian_blur", 3), Recipe("gaussian_blur", 8), Recipe("box_blur", 9),
               Recipe("motion_blur", 15, motion_angle_deg=30), Recipe("mosaic", 8),
               Recipe("solid"))
PAN_DROPOUTS = (20, 41)
PAN_FRAMES = 60


def pan_clip(img: np.ndarray, face: Box, recipe: Recipe) -> tuple[list[np.ndarray], list[Box]]:
    """A documentary pan over a still photograph: a window of 75 x 85% of the picture moving
    across it and bobbing, the face redacted on CenterFace's own box (no margin, unlike the
    labelled clips), unredacted on ``PAN_DROPOUTS``; H.264 CRF 23. Returns the frames and the
    face's box per frame."""
    h, w = img.shape[:2]
    cw, ch = int(w * 0.75) // 2 * 2, int(h * 0.85) // 2 * 2
    red = apply(img, face, recipe)
    frames, boxes = [], []
    for i in range(PAN_FRAMES):
        x0 = int((w - cw) * i / (PAN_FRAMES - 1))
        y0 = int(min(face[1], h - ch) * (0.5 + 0.5 * np.sin(i / 9)))
        src = img if i in PAN_DROPOUTS else red
        frames.append(np.ascontiguousarray(src[y0:y0 + ch, x0:x0 + cw]))
        boxes.append((face[0] - x0, face[1] - y0, face[2], face[3]))
    return h264_roundtrip(frames, 23, 25), boxes


def pan_check() -> list[str]:
    """Clips built unlike the labelled set: the portrait ladder (one photograph at 480p, 720p
    and 1080p) panned, each recipe drawn on the detector's tight box. Per clip: tracks (type,
    strength against the truth), the face frames a track covers, dropouts found and false."""
    lines, errors = [], []
    for res in (480, 720, 1080):
        img = cv2.cvtColor(cv2.imread(str(MEDIA / "portrait_ladder" / f"obama-{res}p.jpg")),
                           cv2.COLOR_BGR2RGB)
        face = tuple(int(v) for v in detect_faces(img, 0.5)[0][:4])
        cells = []
        for recipe in PAN_RECIPES:
            frames, boxes = pan_clip(img, face, recipe)
            tracks = find_in_frames(enumerate(frames))
            on = {b[0]: tuple(b[1:]) for t in tracks for b in t.boxes}
            covered = sum(1 for f, b in enumerate(boxes) if f in on and _iou(b, on[f]) >= 0.3)
            found = {f for t in tracks for f in t.dropout_frames}
            types = "+".join(t.redaction_type for t in tracks) or "none"
            ts = true_strength(recipe)
            if ts and tracks:
                errors.append(abs(tracks[0].strength_px - ts) / ts)
            strength = (f" {tracks[0].strength_px:.1f}/{ts:.1f}" if ts and tracks else "")
            cells.append(f"{recipe.method} {_strength_label(recipe)}: {types}{strength}, "
                         f"{covered}/{PAN_FRAMES}, drops {len(found & set(PAN_DROPOUTS))}/"
                         f"{len(PAN_DROPOUTS)} +{len(found - set(PAN_DROPOUTS))}")
        lines.append(f"  {res}p (face {face[2]} px): " + "; ".join(cells))
    lines.append(f"  median strength error {float(np.median(errors)):.2f} over {len(errors)} "
                 "blurs and mosaics (strength found/true px; frames covered; dropouts found/2 "
                 "+false)")
    return lines


EDGE_RECIPES = (Recipe("gaussian_blur", 5), Recipe("box_blur", 9),
                Recipe("motion_blur", 17, motion_angle_deg=30),
                Recipe("mosaic", 10, grid_origin=(3, 7)), Recipe("solid", color=(20, 20, 20)),
                Recipe("eye_bar", color=(0, 0, 0), band=(0.28, 0.24)))
"""Recipes of the edge-dropout and padding checks (one per type)."""


def dropout_figures(spec: ClipSpec, src: Source) -> tuple[int, int, int, int, int, int]:
    """Build ``spec``, run the finder: (truth tracks, matched, extra tracks, dropout frames,
    dropout frames found in the matched tracks, false dropout frames in any track)."""
    frames, truth, face_w = build_clip(src, spec)
    o = Outcome(spec, truth, find_in_frames(enumerate(frames)), face_w, 0.0)
    match(o)
    found = sum(len(set(spec.dropouts) & set(t.dropout_frames) & set(o.truth[ti]))
                for ti, t in o.matched)
    drops = sum(len(set(spec.dropouts) & set(tr)) for tr in o.truth)
    false = sum(len(set(t.dropout_frames) - set(spec.dropouts)) for t in o.tracks)
    return len(o.truth), len(o.matched), len(o.tracks) - len(o.matched), drops, found, false


def edge_check(sources: dict[str, Source]) -> list[str]:
    """Dropouts on a clip's first, second, second-to-last and last frames (a redaction keyed a
    frame late or ending a frame early): the scan sees a clear face there, and the frame has
    neighbours on one side only. 30-frame clips of the talking head (x0.5) and the pose GIF,
    one recipe per type."""
    lines = []
    total = [0, 0]
    for name, scale, start in (("talking_head", 0.5, 40), ("pose_female", 1.0, 0)):
        src = sources[name]
        n = min(30, len(src.frames) - start)
        per = []
        for recipe in EDGE_RECIPES:
            got = []
            for d in (0, 1, n - 2, n - 1):
                spec = ClipSpec(name, start, n, recipe, scale, (d,), crf=23)
                *_, drops, found, _ = dropout_figures(spec, src)
                total[0] += drops
                total[1] += found
                got.append(f"{d}:{'y' if found else '-'}")
            per.append(f"{recipe.method} {' '.join(got)}")
        lines.append(f"  {name} x{scale}: " + "; ".join(per))
    lines.append(f"  found {total[1]}/{total[0]} edge dropout frames")
    return lines


def padding_check(sources: dict[str, Source]) -> list[str]:
    """The same recipes drawn on the face box padded 0% (tight) and 40% (the whole head)
    instead of the labelled set's 12%, with one dropout each: tracks matched, extra tracks
    and dropouts found. 45-frame clips of the talking head (x0.5) and both pose GIFs."""
    rng = np.random.default_rng(11)
    lines = []
    for pad in (0.0, 0.4):
        t = [0] * 6
        for recipe in EDGE_RECIPES:
            for name, scale in (("talking_head", 0.5), ("pose_female", 1.0),
                                ("pose_pair", 1.0)):
                src = sources[name]
                n = min(45, len(src.frames))
                start = int(rng.integers(0, len(src.frames) - n + 1))
                spec = ClipSpec(name, start, n, recipe, scale, (int(rng.integers(3, n - 3)),),
                                crf=23, pad=pad)
                t = [a + b for a, b in zip(t, dropout_figures(spec, src), strict=True)]
        lines.append(f"  pad {pad:.0%}: tracks {t[1]}/{t[0]}, extra tracks {t[2]}, dropouts "
                     f"found {t[4]}/{t[3]}")
    return lines


def _pyav_decode(data: bytes, to_rgb: bool) -> float:
    """Seconds for PyAV's plain loop over ``data`` with its default settings: decoding alone,
    or decoding and converting each frame to an RGB array (what any consumer of the pixels
    needs, and what the finder is handed)."""
    t0 = time.perf_counter()
    with av.open(io.BytesIO(data)) as container:
        for frame in container.decode(video=0):
            if to_rgb:
                frame.to_ndarray(format="rgb24")
    return time.perf_counter() - t0


SPEED_ROUNDS = 3
"""Rounds of (decode, decode to RGB, inspect) run one after the other (the machine is shared
and noisy: a ratio is only fair within one round)."""


def speed_check(clips: list[bytes]) -> tuple[list[list[tuple[float, float, float]]], int]:
    """Per clip of ``clips`` (``speed_clips``), per round: (PyAV decode s, PyAV decode to RGB s,
    ``inspect_clip`` s), all from the same H.264 bytes in memory; and the frame count. Each
    round runs every clip in turn, so the encodes are compared within the same minutes."""
    rounds: list[list[tuple[float, float, float]]] = [[] for _ in clips]
    n = 0
    for _ in range(SPEED_ROUNDS):
        for data, out in zip(clips, rounds, strict=True):
            t_decode = _pyav_decode(data, to_rgb=False)
            t_rgb = _pyav_decode(data, to_rgb=True)
            t0 = time.perf_counter()
            result = inspect_clip(io.BytesIO(data), name="speed")  # `veilscan inspect`'s work
            t_full = time.perf_counter() - t0
            assert result.status == "ok" and result.tracks, "the speed clip's face was missed"
            out.append((t_decode, t_rgb, t_full))
            n = result.clip.frames
    return rounds, n


def cli_check(data: bytes) -> tuple[float, float, list[float], list[float]]:
    """(PyAV decode s, PyAV decode to RGB s, wall s of fresh ``veilscan inspect`` processes
    with an empty kernel-table store, and of processes with the store a first one filled)
    on ``data`` (the speed clip) written to a file: what a user waits for, the interpreter's
    start, the imports, the detector's session and the finder's tables included. The first
    is a machine's first run, the second any later one; two of each, alternating (a single
    process's time varies by seconds on this shared machine)."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "speed.mp4"
        path.write_bytes(data)
        t_decode = _pyav_decode(data, to_rgb=False)
        t_rgb = _pyav_decode(data, to_rgb=True)
        walls: dict[bool, list[float]] = {False: [], True: []}
        for i, filled in enumerate((False, True, False, True)):
            store = Path(tmp) / f"tables-{i // 2}"  # each empty store is then filled once
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "veilscan.cli", "inspect", str(path)],
                           check=True, stdout=subprocess.DEVNULL,
                           env={**os.environ, "VEILSCAN_CACHE_DIR": str(store)})
            walls[filled].append(time.perf_counter() - t0)
        return t_decode, t_rgb, walls[False], walls[True]


def speed_lines(rounds: list[tuple[float, float, float]]) -> list[str]:
    """The speed figures per round, and the median ratios (the target is against decode to
    RGB; decoding alone is printed too, since it is the strictest reading of the target)."""
    lines = [f"  round {i + 1}: PyAV decode {d:5.2f} s, decode to RGB {r:5.2f} s, "
             f"veilscan inspect {f:5.2f} s   ratio {f / r:.2f}x to RGB, {f / d:.2f}x to decode"
             for i, (d, r, f) in enumerate(rounds)]
    to_rgb = float(np.median([f / r for _, r, f in rounds]))
    to_decode = float(np.median([f / d for d, _, f in rounds]))
    lines.append(f"  median ratio {to_rgb:.2f}x PyAV decode to RGB (target <= 3x); "
                 f"{to_decode:.2f}x PyAV decode alone")
    return lines


def print_speed() -> None:
    """The speed section: ``speed_check`` and ``cli_check`` on both encodes of the speed clip,
    printed. Alone on the machine, or its ratios mean little (``--speed-only``)."""
    clips = speed_clips()
    rounds, n = speed_check([data for _, data in clips])
    print(f"\nSpeed (talking head 608x1080, {n} frames, gaussian sigma 6 over the face, H.264 "
          "encoded two ways; PyAV's plain loop with its default threading, then `inspect_clip`):")
    for (name, data), clip_rounds in zip(clips, rounds, strict=True):
        print(f" {name}:")
        print("\n".join(speed_lines(clip_rounds)))
        t_dec, t_rgb, firsts, laters = cli_check(data)
        print(f"  the CLI, a fresh process: PyAV decode {t_dec:5.2f} s, to RGB {t_rgb:5.2f} s")
        for label, walls in (("an empty kernel-table store", firsts), ("the store filled", laters)):
            best = min(walls)
            print(f"   `veilscan inspect FILE` with {label}: "
                  + ", ".join(f"{w:5.2f} s" for w in walls)
                  + f"; the faster {best / t_rgb:.2f}x to RGB, {best / t_dec:.2f}x to decode")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a third of the clips")
    ap.add_argument("--speed-only", action="store_true",
                    help="only the speed section (about 1.5 minutes; nothing else running)")
    add_cache_argument(ap)
    args = ap.parse_args()
    use_cache(args)
    if args.speed_only:
        t_start = time.perf_counter()
        print_speed()
        print(f"\nSpeed wall time {time.perf_counter() - t_start:.0f} s; "
              f"detector {detector_version()}; "
              f"{platform.processor() or platform.machine()}, {_cores()} cores, no GPU")
        return
    rng = np.random.default_rng(2026)
    t_start = time.perf_counter()
    sources = load_sources()
    outcomes: list[Outcome] = []
    for spec in specs(sources, args.quick, rng):
        src = sources[spec.source]
        frames, truth, face_w = build_clip(src, spec)
        t0 = time.perf_counter()
        tracks = find_in_frames(enumerate(frames))
        o = Outcome(spec, truth, tracks, face_w, time.perf_counter() - t0)
        match(o)
        outcomes.append(o)
    report(outcomes, sources)
    print("\nOlder DCT codecs (talking head x0.5, 100 frames; box blur counts typed Gaussian "
          "too; share of face frames covered by a track of the type):")
    print("\n".join(codec_check(sources["talking_head"])))
    print("\nPortrait pans (a still photograph panned, redacted on the detector's tight box, "
          f"dropouts at {list(PAN_DROPOUTS)}):")
    print("\n".join(pan_check()))
    print("\nDropouts at a clip's edges (frame: found):")
    print("\n".join(edge_check(sources)))
    print("\nRecipes on tight and generous boxes (one per type, one dropout each):")
    print("\n".join(padding_check(sources)))
    print("\nLong shot (talking head, 600 frames, gaussian sigma 6, dropouts at "
          f"{list(LONG_DROPOUTS)}):")
    print(long_check())
    print_speed()
    print(f"\nBench wall time {time.perf_counter() - t_start:.0f} s; "
          f"detector {detector_version()}; "
          f"{platform.processor() or platform.machine()}, {_cores()} cores, no GPU")


def add_cache_argument(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--encode-cache", type=Path, metavar="DIR",
                    help="keep each clip's H.264 here and reuse it (comparable runs)")


def use_cache(args: argparse.Namespace) -> None:
    global ENCODE_CACHE
    ENCODE_CACHE = args.encode_cache


def add_codec_argument(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--codec", choices=("h264", "hevc"), default="h264",
                    help="encode the labelled clips with libx264 (default) or libx265, at "
                         "the same CRF draws (x265's CRF is x264's + 5: alike in quality)")


def use_codec(args: argparse.Namespace) -> None:
    global CODEC
    CODEC = args.codec


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def report(outcomes: list[Outcome], sources: dict[str, Source]) -> None:
    """Print the per-type table and the summary figures."""
    rows: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    drop_truth = drop_hit = drop_pred = drop_pred_ok = 0
    in_drops = [0, 0]  # dropout frames in scope: (truth, found)
    clean_minutes, clean_tracks = 0.0, 0
    misses: list[str] = []
    for o in outcomes:
        spec = o.spec
        if spec.recipe is None:
            clean_minutes += spec.length / sources[spec.source].fps / 60.0
            clean_tracks += len(o.tracks)
            if o.tracks:
                misses.append(f"clean {spec.source} x{spec.scale} {spec.clean_kind}: "
                              f"{len(o.tracks)} false track(s) "
                              f"{[(t.redaction_type, t.boxes[0][1:]) for t in o.tracks]}")
            continue
        kind = spec.recipe.method
        in_scope = o.face_w * 1.0 >= 40 and (
            kind in ("solid", "eye_bar")
            or true_strength(spec.recipe) >= (4 if kind == "mosaic" else 2))
        scope = "in" if in_scope else "out"
        r = rows[f"{kind}|{scope}"]
        r["truth"].append(len(o.truth))
        r["found"].append(len(o.matched))
        r["pred"].append(len(o.tracks))
        r["pred_ok"].append(len(o.matched))
        for _, t in o.matched:
            r["type_ok"].append(t.redaction_type == true_type(spec.recipe))
            if kind == "eye_bar":
                r["coverage"].append(t.coverage)
            elif kind != "solid":
                ts = true_strength(spec.recipe)
                r["err"].append(abs(t.strength_px - ts) / ts)
        extra = [t for t in o.tracks if all(t is not m for _, m in o.matched)]
        if extra:
            seen = [(t.redaction_type, t.first_frame, t.last_frame, t.boxes[0][1:]) for t in extra]
            misses.append(f"extra {kind} {_strength_label(spec.recipe)} {spec.source} "
                          f"x{spec.scale}: {seen}")
        if len(o.matched) < len(o.truth):
            misses.append(f"miss {kind} {_strength_label(spec.recipe)} {spec.recipe.shape} "
                          f"f{spec.recipe.feather_px:g} {spec.source} x{spec.scale} "
                          f"face {o.face_w:.0f}px: found {len(o.matched)}/{len(o.truth)}, "
                          f"{len(o.tracks)} track(s)")
        for ti, t in o.matched:
            span = set(o.truth[ti])
            truth_drops = {d for d in spec.dropouts if d in span}
            drop_truth += len(truth_drops)
            drop_hit += len(truth_drops & set(t.dropout_frames))
            if in_scope:
                in_drops[0] += len(truth_drops)
                in_drops[1] += len(truth_drops & set(t.dropout_frames))
            drop_pred += len(t.dropout_frames)
            drop_pred_ok += len(set(t.dropout_frames) & truth_drops)
            if truth_drops != set(t.dropout_frames) & span:
                misses.append(f"dropouts {kind} {_strength_label(spec.recipe)} {spec.source} "
                              f"x{spec.scale}: true {sorted(truth_drops)}, "
                              f"found {sorted(t.dropout_frames)}")
        for ti in range(len(o.truth)):
            if ti not in {m[0] for m in o.matched}:
                lost = [d for d in spec.dropouts if d in o.truth[ti]]
                drop_truth += len(lost)
                in_drops[0] += len(lost) if in_scope else 0
                if lost:
                    misses.append(f"dropouts {kind} {_strength_label(spec.recipe)} {spec.source} "
                                  f"x{spec.scale}: true {lost}, track not found")

    def pct(a: float, b: float) -> str:
        return f"{a / b:5.2f}" if b else "  -  "

    print(f"{'type':14s} {'scope':5s} {'clips':>5s} {'recall':>6s} {'prec':>6s} "
          f"{'type_acc':>8s} {'med_err':>7s}")
    tot = defaultdict(float)
    for key in sorted(rows):
        kind, scope = key.split("|")
        r = rows[key]
        truth, found = sum(r["truth"]), sum(r["found"])
        pred, pred_ok = sum(r["pred"]), sum(r["pred_ok"])
        tacc = pct(sum(r["type_ok"]), len(r["type_ok"]))
        err = f"{statistics.median(r['err']):7.2f}" if r["err"] else "    -  "
        print(f"{kind:14s} {scope:5s} {len(r['truth']):5d} {pct(found, truth):>6s} "
              f"{pct(pred_ok, pred):>6s} {tacc:>8s} {err}")
        if scope == "in":
            # "_nb": the figures as benched before eye bars were added.
            for sfx in ("",) if kind == "eye_bar" else ("", "_nb"):
                for name, value in (("truth", truth), ("found", found), ("pred", pred),
                                    ("pred_ok", pred_ok), ("type_ok", sum(r["type_ok"])),
                                    ("typed", len(r["type_ok"]))):
                    tot[name + sfx] += value
    errs = [e for k, r in rows.items() if k.endswith("|in") for e in r["err"]]
    print("\nIn scope (face >= 40 px, sigma >= 2 px or block >= 4 px, any solid):")
    print(f"  track recall        {pct(tot['found'], tot['truth'])}   (target >= 0.95)")
    print(f"  track precision     {pct(tot['pred_ok'], tot['pred'])}   (target >= 0.95)")
    print(f"  type accuracy       {pct(tot['type_ok'], tot['typed'])}   (target >= 0.90)")
    med = f"{statistics.median(errs):5.2f}" if errs else "  -  "
    print(f"  median strength err {med}   (target <= 0.30)")
    print(f"  without eye bars: recall {pct(tot['found_nb'], tot['truth_nb'])}, precision "
          f"{pct(tot['pred_ok_nb'], tot['pred_nb'])}, type accuracy "
          f"{pct(tot['type_ok_nb'], tot['typed_nb'])}")
    print(f"  dropout recall      {pct(in_drops[1], in_drops[0])}   ({in_drops[1]}/{in_drops[0]} "
          "frames, target >= 0.95)")
    cov = [c for k, r in rows.items() if k.startswith("eye_bar|") for c in r["coverage"]]
    if cov:
        print(f"  eye-bar coverage    median {statistics.median(cov):.2f} of the face "
              f"(bars cover 0.20-0.30 of the face box; CenterFace's box is tighter)")
    print("All clips:")
    print(f"  dropout recall      {pct(drop_hit, drop_truth)}   ({drop_hit}/{drop_truth} frames, "
          f"target >= 0.95)")
    print(f"  dropout precision   {pct(drop_pred_ok, drop_pred)}   ({drop_pred_ok}/{drop_pred})")
    rate = clean_tracks / clean_minutes if clean_minutes else 0.0
    print(f"  false tracks, clean {clean_tracks} in {clean_minutes:.2f} min = {rate:.2f}/min "
          f"(target <= 0.10/min)")
    if misses:
        print("\nMisses and false tracks:")
        for line in misses:
            print("  " + line)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
