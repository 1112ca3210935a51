"""Interlaced footage: redactions keyed one field at a time, read whole and read by field.

Run (about 3 minutes on 2 cores):

    .venv/bin/python bench/finder_interlaced.py

Interlaced video (broadcast, DV, DVD: most of an archive before HD) is made here from the
bench's progressive sources: each frame weaves the even rows of one source frame with the
odd rows of the next, so its two fields are a source frame apart in time, as a camera's
fields are. A live keyer redacts each field on its own (``field_*`` recipes); an editor of
the digitised footage redacts the woven frame (``frame_gauss``, the control). Each clip is
coded as progressive H.264 (CRF 23, no interlace flags, as digitised tapes often are) and as
MPEG-2 at 2 Mb/s, and ``inspect_clip`` reads it twice: whole frames (``fields=False``, the
finder before ``veilscan.tasks.interlace``) and one field at a time (the default). Printed
per recipe and codec: face frames followed (a track's box within IoU 0.3 of the face) of
all, dropouts found, and tracks on clean woven clips. The sources and their face boxes are
``bench/finder.py``'s.
"""

from __future__ import annotations

import io
import sys
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import finder as bench  # noqa: E402

from veilscan.footage import field_blurred, h264_bytes, mpeg_bytes, per_field, woven  # noqa: E402
from veilscan.tasks.inspect import inspect_clip  # noqa: E402

Box = tuple[int, int, int, int]
RECIPES = (("field_gauss", 3.0), ("field_gauss", 6.0), ("field_mosaic", 12.0),
           ("frame_gauss", 5.0), ("clean", 0.0))
SOURCES = (("talking_head", 0.5), ("pose_pair", 1.0))
CODECS = ("h264", "mpeg2")
SEEDS = (31, 32)
LENGTH = 40
"""Woven frames per clip (two source frames each; the pair's GIF gives 28)."""


def field_mosaic(frame: np.ndarray, box: Box, block: int) -> np.ndarray:
    """``box`` pixelated one field at a time: cells ``block`` px wide and ``block`` frame rows
    tall (half that in each field's own rows)."""

    def pixelate(crop: np.ndarray) -> np.ndarray:
        cells = (max(1, crop.shape[1] // block), max(1, crop.shape[0] * 2 // block))
        small = cv2.resize(crop, cells, interpolation=cv2.INTER_AREA)
        return cv2.resize(small, (crop.shape[1], crop.shape[0]), interpolation=cv2.INTER_NEAREST)

    return per_field(frame, box, pixelate)


def redact(img: np.ndarray, boxes: list[Box], method: str, strength: float) -> np.ndarray:
    for b in boxes:
        if method == "field_gauss":
            img = field_blurred(img, b, strength)
        elif method == "field_mosaic":
            img = field_mosaic(img, b, int(strength))
    return img


def scaled(src: bench.Source, i: int, scale: float) -> tuple[np.ndarray, list[Box]]:
    img, faces = src.frames[i], src.faces[i]
    if scale != 1.0:
        img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        img = np.ascontiguousarray(img[: img.shape[0] // 2 * 2, : img.shape[1] // 2 * 2])
        faces = [tuple(int(v * scale) for v in b) for b in faces]
    return img, [bench._expand(b, 0.12, img.shape) for b in faces]


def clip(src: bench.Source, scale: float, start: int, n: int, method: str, strength: float,
         dropout: int) -> tuple[list[np.ndarray], list[dict[int, Box]]]:
    """Woven frames, and per face its box in each (the first field's)."""
    frames, truth = [], defaultdict(dict)
    for k in range(n):
        (a, boxes_a), (b, boxes_b) = (scaled(src, start + 2 * k + j, scale) for j in (0, 1))
        if method == "frame_gauss":
            f = woven(a, b)
            if k != dropout:
                for x, y, w, h in boxes_a:
                    f[y:y + h, x:x + w] = cv2.GaussianBlur(f[y:y + h, x:x + w], (0, 0), strength)
        elif k == dropout:
            f = woven(a, b)
        else:
            f = woven(redact(a, boxes_a, method, strength), redact(b, boxes_b, method, strength))
        frames.append(f)
        for j, box in enumerate(boxes_a):
            truth[j][k] = box
    return frames, [dict(t) for t in truth.values()]


def followed(truth: dict[int, Box], tracks: list) -> tuple[int, object]:
    """The frames of ``truth`` a track's box overlaps (IoU >= 0.3), counted for the track that
    overlaps most of them, and that track (None: none does)."""
    best, best_n = None, 0
    for t in tracks:
        boxes = {b[0]: b[1:] for b in t.boxes}
        n = sum(1 for f, box in truth.items() if f in boxes and bench._iou(box, boxes[f]) >= 0.3)
        if n > best_n:
            best, best_n = t, n
    return best_n, best


def main() -> None:
    t0 = time.perf_counter()
    sources = bench.load_sources(tuple(name for name, _ in SOURCES))
    # (method, strength, codec, fields) -> [face frames, followed, dropouts, found, clean tracks]
    cells: dict[tuple, list[int]] = defaultdict(lambda: [0] * 5)
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        for method, strength in RECIPES:
            for name, scale in SOURCES:
                src = sources[name]
                n = min(LENGTH, len(src.frames) // 2)
                start = int(rng.integers(0, len(src.frames) - 2 * n + 1))
                dropout = int(rng.integers(3, n - 3))
                frames, truth = clip(src, scale, start, n, method, strength, dropout)
                for codec in CODECS:
                    data = (h264_bytes(frames, 23, src.fps / 2) if codec == "h264"
                            else mpeg_bytes(frames, 2_000_000, fps=25))
                    for fields in (False, True):
                        tracks = inspect_clip(io.BytesIO(data), name=name, fields=fields).tracks
                        c = cells[(method, strength, codec, fields)]
                        if method == "clean":
                            c[4] += len(tracks)
                            continue
                        for t in truth:
                            hit, track = followed(t, tracks)
                            c[0] += len(t)
                            c[1] += hit
                            if dropout in t:
                                c[2] += 1
                                c[3] += track is not None and dropout in track.dropout_frames
    print(f"{'recipe':16s} {'codec':6s} {'whole frames':>26s} {'one field':>26s}")
    for method, strength in RECIPES:
        for codec in CODECS:
            row = []
            for fields in (False, True):
                c = cells[(method, strength, codec, fields)]
                row.append(f"clean tracks {c[4]}" if method == "clean" else
                           f"frames {c[1]}/{c[0]}, drops {c[3]}/{c[2]}")
            label = method if method == "clean" else f"{method} {strength:g}"
            print(f"{label:16s} {codec:6s} {row[0]:>26s} {row[1]:>26s}")
    names = ", ".join(f"{n} x{s}" for n, s in SOURCES)
    print(f"{time.perf_counter() - t0:.0f} s; sources {names}; seeds {SEEDS}")


if __name__ == "__main__":
    main()
