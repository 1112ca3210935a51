"""Synthetic archive footage from images that installed packages ship.

A moving camera over a still scene, with faces redacted the way an editor would (per frame,
following the face), encoded with PyAV. The demo, the tests and the benchmarks build their
inputs here, so nothing is downloaded and nothing from ../shared is copied.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import av
import av.filter
import cv2
import numpy as np
from skimage import data

from veilscan.tasks import obfuscate

ASTRONAUT_FACE = (172, 60, 108, 112)
"""``(x, y, w, h)`` of the face in scikit-image's 512x512 ``astronaut.png``."""


@lru_cache(maxsize=1)
def lfw_faces() -> np.ndarray:
    """The 100 face crops of scikit-image's ``lfw_subset`` (25x25 grey, 0..1)."""
    return data.lfw_subset()[:100]


@dataclass(frozen=True)
class Camera:
    """A camera panning over a scene: frame size and a drift in pixels per frame."""

    width: int = 384
    height: int = 288
    frames: int = 50
    fps: int = 25
    start: tuple[float, float] = (40.0, 20.0)
    drift: tuple[float, float] = (1.6, 0.7)
    wobble_px: float = 3.0

    def offset(self, i: int) -> tuple[float, float]:
        """Top-left of the view in scene coordinates at frame ``i`` (sub-pixel)."""
        wob = self.wobble_px * np.sin(i / 7.0)
        return (self.start[0] + self.drift[0] * i + wob,
                self.start[1] + self.drift[1] * i + 0.5 * wob)


@dataclass(frozen=True)
class SceneFace:
    """A face in scene coordinates and how (and when) it is redacted."""

    box: tuple[int, int, int, int]
    recipe: obfuscate.Recipe | None = None
    dropout_frames: tuple[int, ...] = ()


@dataclass(frozen=True)
class RenderedClip:
    """Ground truth of a rendered clip: per face, the frame-coordinate box of every frame."""

    path: Path
    frames: int
    fps: int
    boxes: list[list[tuple[int, int, int, int, int]]] = field(default_factory=list)


def textured_backdrop(width: int, height: int) -> np.ndarray:
    """A studio wall with texture (brick) so a redaction contrasts with its surround."""
    brick = data.brick()
    tile = cv2.cvtColor(cv2.resize(brick, (256, 256)), cv2.COLOR_GRAY2RGB)
    tile = (tile.astype(np.float32) * np.array([0.9, 0.8, 0.7])).astype(np.uint8)
    reps = (height // 256 + 1, width // 256 + 1, 1)
    return np.tile(tile, reps)[:height, :width].copy()


def astronaut_scene() -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The astronaut portrait set into a wider textured scene; returns (scene, face box)."""
    scene = textured_backdrop(800, 620)
    scene[40:552, 120:632] = data.astronaut()
    x, y, w, h = ASTRONAUT_FACE
    return scene, (x + 120, y + 40, w, h)


def lineup_scene(face_ids: Sequence[int] = (3, 17, 42), face_px: int = 72
                 ) -> tuple[np.ndarray, list[tuple[int, int, int, int]]]:
    """Faces from ``lfw_subset`` side by side on a textured wall (a low-resolution crowd)."""
    scene = textured_backdrop(800, 620)
    boxes = []
    for n, fid in enumerate(face_ids):
        face = cv2.resize((lfw_faces()[fid] * 255).astype(np.uint8), (face_px, face_px),
                          interpolation=cv2.INTER_CUBIC)
        x, y = 200 + n * (face_px + 36), 220
        scene[y:y + face_px, x:x + face_px] = face[..., None]
        boxes.append((x, y, face_px, face_px))
    return scene, boxes


def render_frames(scene: np.ndarray, faces: Sequence[SceneFace], camera: Camera
                  ) -> Iterable[tuple[np.ndarray, list[tuple[int, int, int, int, int]]]]:
    """Yield ``(frame, boxes)``: the camera view with each face redacted as it moves."""
    for i in range(camera.frames):
        ox, oy = camera.offset(i)
        m = np.float32([[1, 0, -ox], [0, 1, -oy]])
        frame = cv2.warpAffine(scene, m, (camera.width, camera.height),
                               flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        boxes = []
        for face in faces:
            bx, by, bw, bh = face.box
            fbox = (int(round(bx - ox)), int(round(by - oy)), bw, bh)
            boxes.append((i, *fbox))
            if face.recipe is not None and i not in face.dropout_frames:
                frame = obfuscate.apply(frame, fbox, face.recipe)
        yield frame, boxes


def write_video(path: Path, frames: Iterable[np.ndarray], fps: int = 25, *,
                codec: str = "libx264", crf: int = 20, audio_tone_hz: float | None = None,
                on_frame: Callable[[int], None] | None = None) -> int:
    """Encode RGB frames to ``path`` (H.264 yuv420p by default); returns the frame count.

    With ``audio_tone_hz`` an AAC sine tone of the same duration is muxed in, so audio
    handling can be checked.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with av.open(str(path), mode="w") as out:
        stream = None
        audio = None
        frames = iter(frames)
        for rgb in frames:
            if stream is None:
                stream = out.add_stream(codec, rate=fps)
                stream.width, stream.height = rgb.shape[1], rgb.shape[0]
                stream.pix_fmt = "yuv420p"
                stream.options = {"crf": str(crf), "preset": "veryfast"}
                if audio_tone_hz:
                    audio = out.add_stream("aac", rate=48000)
                    audio.layout = "mono"
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = count
            frame.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                out.mux(packet)
            count += 1
            if on_frame:
                on_frame(count)
        if stream is None:
            raise ValueError("no frames to write")
        for packet in stream.encode():
            out.mux(packet)
        if audio is not None:
            _write_tone(out, audio, audio_tone_hz, count / fps)
    return count


def _encoded(frames: Sequence[np.ndarray], codec: str, container: str, fps: float,
             options: dict[str, str] | None = None, bit_rate: int | None = None,
             pix_fmt: str = "yuv420p", interlaced: bool = False) -> bytes:
    """RGB frames encoded (``pix_fmt``) into an in-memory ``container``; ``interlaced``:
    coded as interlaced frames, top field first (field DCT and motion estimation)."""
    buf = io.BytesIO()
    out = av.open(buf, "w", format=container)
    stream = out.add_stream(codec, rate=int(round(fps)))
    stream.height, stream.width = frames[0].shape[:2]
    stream.pix_fmt = pix_fmt
    if interlaced:
        flags = av.codec.context.Flags
        stream.codec_context.flags |= flags.interlaced_dct | flags.interlaced_me
        options = {**(options or {}), "top": "1"}
    if options:
        stream.options = options
    if bit_rate:
        stream.bit_rate = bit_rate
    for img in frames:
        for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)
    out.close()
    return buf.getvalue()


def _decoded(data: bytes) -> list[np.ndarray]:
    with av.open(io.BytesIO(data)) as inp:
        return [f.to_ndarray(format="rgb24") for f in inp.decode(video=0)]


def h264_bytes(frames: Sequence[np.ndarray], crf: int, fps: float = 25,
               preset: str = "veryfast", one_slice: bool = False) -> bytes:
    """RGB frames encoded with libx264 (yuv420p) into an in-memory MP4.

    PyAV opens the encoder with slice threads, so libx264 cuts every frame into one slice
    per thread it runs (two on a 2-core machine), and a decoder with slice threads decodes
    them in parallel. ``one_slice`` encodes as libx264 and FFmpeg do by default (frame
    threads, one slice a frame), as most archive footage is encoded."""
    options = {"crf": str(crf), "preset": preset}
    if one_slice:
        options["x264-params"] = "sliced-threads=0"
    return _encoded(frames, "libx264", "mp4", fps, options)


HEVC_CRF_OFFSET = 5
"""Added to a libx264 CRF, the libx265 CRF of about the same quality (x265's default 28 is
meant to match x264's 23)."""


def hevc_bytes(frames: Sequence[np.ndarray], crf: int, fps: float = 25) -> bytes:
    """RGB frames encoded with libx265 (yuv420p, preset fast) into an in-memory MP4, at the
    quality libx264 gives at ``crf`` (``HEVC_CRF_OFFSET``). Encoded on one thread with no
    worker pool, so the same frames give the same bytes (x265's pool makes them vary)."""
    options = {"crf": str(crf + HEVC_CRF_OFFSET), "preset": "fast",
               "x265-params": "log-level=error:pools=none:frame-threads=1"}
    return _encoded(frames, "libx265", "mp4", fps, options)


def h264_roundtrip(frames: Sequence[np.ndarray], crf: int, fps: float = 25) -> list[np.ndarray]:
    """Encode RGB frames with libx264 (yuv420p, veryfast) in memory and decode them again:
    the blocking, ringing and chroma loss that archive footage carries, for benchmarks and
    tests of anything that looks at pixels."""
    return _decoded(h264_bytes(frames, crf, fps))


def hevc_roundtrip(frames: Sequence[np.ndarray], crf: int, fps: float = 25) -> list[np.ndarray]:
    """:func:`h264_roundtrip` through libx265 (:func:`hevc_bytes`, at x264's ``crf``)."""
    return _decoded(hevc_bytes(frames, crf, fps))


def mpeg_bytes(frames: Sequence[np.ndarray], bit_rate: int, codec: str = "mpeg2video",
               fps: float = 25, interlaced: bool = False) -> bytes:
    """RGB frames encoded with an older DCT codec (MPEG-2 by default, ``mpeg4`` for MPEG-4
    Part 2, or ``mjpeg`` for Motion JPEG) at ``bit_rate`` b/s into an in-memory MPEG
    program stream (MPEG-2) or AVI; ``interlaced``: as interlaced frames, top field first
    (woven frames, :func:`woven`, as a DVD or a broadcast encoder codes them)."""
    container = "mpeg" if codec == "mpeg2video" else "avi"
    pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"  # Motion JPEG is full range
    return _encoded(frames, codec, container, fps, bit_rate=bit_rate, pix_fmt=pix_fmt,
                    interlaced=interlaced)


def mpeg_roundtrip(frames: Sequence[np.ndarray], bit_rate: int, codec: str = "mpeg2video",
                   fps: float = 25) -> list[np.ndarray]:
    """Encode RGB frames with :func:`mpeg_bytes` and decode them again: 8 px blocking with no
    deblocking filter, as in DVD, broadcast and early digital camera archives."""
    return _decoded(mpeg_bytes(frames, bit_rate, codec, fps))


def woven(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """An interlaced frame: the even rows (top field) of ``first``, the odd rows of
    ``second``, a field later. Woven from consecutive frames of progressive footage, two
    fields a frame apart, as broadcast and DV footage carries them."""
    frame = first.copy()
    frame[1::2] = second[1::2]
    return frame


def per_field(frame: np.ndarray, box: tuple[int, int, int, int],
              redact: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``frame`` with ``redact`` run on ``box`` one field at a time (the even rows among
    themselves, then the odd rows), as a live keyer of interlaced video does; ``redact``
    takes a field's crop and returns it redacted, the same size."""
    out = frame.copy()
    x, y, w, h = box
    x0, x1 = max(0, x), min(frame.shape[1], x + w)
    ya, yb = max(0, y), min(frame.shape[0], y + h)
    for parity in (0, 1):
        rows = out[parity::2]  # a view: the field's rows of ``out``
        y0, y1 = (ya - parity + 1) // 2, (yb - parity + 1) // 2
        if x1 - x0 > 0 and y1 - y0 > 0:
            rows[y0:y1, x0:x1] = redact(rows[y0:y1, x0:x1])
    return out


def field_blurred(frame: np.ndarray, box: tuple[int, int, int, int], sigma: float,
                  ) -> np.ndarray:
    """``frame`` with ``box`` Gaussian-blurred one field at a time (:func:`per_field`)."""
    return per_field(frame, box, lambda crop: cv2.GaussianBlur(crop, (0, 0), sigma))


def _write_tone(out: av.container.OutputContainer, stream, hz: float, seconds: float) -> None:
    rate, chunk = 48000, 1024
    total = int(rate * seconds)
    t = np.arange(total) / rate
    samples = (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)
    for start in range(0, total, chunk):
        block = samples[start:start + chunk]
        frame = av.AudioFrame.from_ndarray(block[None, :], format="fltp", layout="mono")
        frame.sample_rate = rate
        frame.pts = start
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)


def render_clip(path: Path, scene: np.ndarray, faces: Sequence[SceneFace],
                camera: Camera = Camera(), **encode) -> RenderedClip:
    """Render and encode one clip; returns its ground-truth boxes per face."""
    truth: list[list[tuple[int, int, int, int, int]]] = [[] for _ in faces]

    def frames() -> Iterable[np.ndarray]:
        for frame, boxes in render_frames(scene, faces, camera):
            for n, b in enumerate(boxes):
                truth[n].append(b)
            yield frame

    n = write_video(path, frames(), camera.fps, **encode)
    return RenderedClip(path=path, frames=n, fps=camera.fps, boxes=truth)


def ffmpeg_filtered_box(frame: np.ndarray, box: tuple[int, int, int, int], name: str,
                        args: str) -> np.ndarray:
    """``frame`` (RGB) with ``box``'s crop (x, y, w, h, cut to the frame) run through the
    FFmpeg video filter ``name=args`` on PyAV's filter graph, as ``ffmpeg -vf`` with a crop
    and an overlay would: a redaction drawn by FFmpeg's own filters."""
    fh, fw = frame.shape[:2]
    x0, y0 = max(0, int(box[0])), max(0, int(box[1]))
    x1, y1 = min(fw, int(box[0] + box[2])), min(fh, int(box[1] + box[3]))
    crop = np.ascontiguousarray(frame[y0:y1, x0:x1])
    graph = av.filter.Graph()
    src = graph.add_buffer(width=crop.shape[1], height=crop.shape[0], format="rgb24",
                           time_base=Fraction(1, 25))
    filt = graph.add(name, args)
    sink = graph.add("buffersink")
    src.link_to(filt)
    filt.link_to(sink)
    graph.configure()
    picture = av.VideoFrame.from_ndarray(crop, format="rgb24")
    picture.pts = 0
    graph.push(picture)
    out = frame.copy()
    out[y0:y1, x0:x1] = graph.pull().to_ndarray(format="rgb24")
    return out
