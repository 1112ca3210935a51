"""Solid-fill re-redaction: render a clip again with every tracked face painted over.

A solid fill is the one redaction no restoration or recognition attack can undo, so a risky
clip is rendered again with each track's boxes (each frame's box widened to its neighbours'
within a few frames, grown by a margin, held a few frames before and after the track and
widened around dropouts) filled with one colour. Everything else is
kept as close to the source as a re-encode allows: the video is re-encoded with the source
codec (or the nearest available encoder) at near-transparent quality, with the source's time
base and timestamps (so fps, frame count and duration stay), pixel format, colour tags,
rotation and metadata; audio packets are copied untouched, so decoded audio is bit-identical.

The output is written to a temporary file and only then moved to (or copied into) ``dst``:
a failed render never leaves a partial object. Frame indices are decode-output order, as in
:mod:`veilscan.tasks.decode`; boxes are pixels of the coded (unrotated) frame.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import shutil
import struct
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

import av
from av.sidedata.sidedata import Type as SideDataType

from veilscan.catalog.clip_result import TrackFinding
from veilscan.tasks.solid_fill import Rect, paint_solid

_CHUNK = 1 << 20


class RenderError(Exception):
    """The clip cannot be re-redacted; the message says why (bad source, stale boxes, ...)."""


@dataclass(frozen=True)
class RedactionPlan:
    """How the solid fill is drawn and encoded.

    ``margin``: share of a box's width (height) added on its left and right (top and bottom).
    ``pad_frames``: frames filled before and after each track (holding its first / last box)
    and, around each dropout, the window of frames that gets the union of the window's boxes.
    ``color``: RGB 0-255. ``crf`` / ``preset``: x264 / x265 / VP9 / AV1 quality settings
    (CRF 18 is close to visually lossless); encoders without CRF get the source's bit rate.
    ``threads``: decoder and encoder threads each, 0 = one per core (set it on a Dask
    worker that runs several renders at once).
    """

    margin: float = 0.15
    pad_frames: int = 3
    color: tuple[int, int, int] = (0, 0, 0)
    crf: int = 18
    preset: str = "medium"
    threads: int = 0

    def __post_init__(self) -> None:
        if not (self.margin >= 0 and math.isfinite(self.margin)):
            raise ValueError(f"margin must be a finite share >= 0, got {self.margin}")
        if self.pad_frames < 0:
            raise ValueError(f"pad_frames must be >= 0, got {self.pad_frames}")
        if len(self.color) != 3 or any(not 0 <= int(c) <= 255 for c in self.color):
            raise ValueError(f"color must be three 0-255 values, got {self.color}")
        if self.threads < 0:
            raise ValueError(f"threads must be >= 0 (0 = auto), got {self.threads}")


@dataclass(frozen=True)
class RenderResult:
    """What was written. ``bytes`` / ``sha256`` describe the output object exactly.

    ``audio_copied`` is True when the source had audio and every audio stream was copied
    packet for packet; ``dropped_streams`` names source streams the output could not carry
    (e.g. a data track the muxer rejects). ``video_codec`` is the output codec (``h264``),
    ``encoder`` the FFmpeg encoder that made it (``libx264``).
    """

    frames: int
    duration_s: float
    video_codec: str
    audio_copied: bool
    sha256: str
    bytes: int
    encoder: str = ""
    render_s: float = 0.0
    dropped_streams: tuple[str, ...] = ()


# --------------------------------------------------------------------------- boxes


def _box_of(raw: Iterable[float]) -> tuple[int, float, float, float, float]:
    f, x, y, w, h = raw
    return int(f), float(x), float(y), float(w), float(h)


def _track_boxes(track: TrackFinding) -> dict[int, tuple[float, float, float, float]]:
    """The track's box for every frame of ``first_frame..last_frame``.

    The contract gives a box for every frame; a frame that lacks one (or has an empty one)
    holds the nearest earlier box (the first box before the first), so no frame of the
    track is ever left unfilled.
    """
    given: dict[int, tuple[float, float, float, float]] = {}
    for raw in track.boxes:
        f, x, y, w, h = _box_of(raw)
        if w > 0 and h > 0:
            given[f] = (x, y, w, h)
    if not given:
        return {}
    first = min(track.first_frame, min(given))
    last = max(track.last_frame, max(given))
    held = given[min(given)]
    out: dict[int, tuple[float, float, float, float]] = {}
    for f in range(first, last + 1):
        held = given.get(f, held)
        out[f] = held
    return out


PARTIAL_COVERAGE = 0.6
"""A track covering less of its face than this (an eye bar) is re-redacted over the whole
face, not just over the old cover."""


def _whole_face(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """The face around an eye bar's box: as wide as the bar (bars span the face, often
    more), 1.3 times that tall, with the bar 40% of the way down (the eye line)."""
    x, y, w, h = box
    face_h = 1.3 * w
    return x, y + h / 2 - 0.4 * face_h, w, face_h


def _grow_and_clip(box: tuple[float, float, float, float], margin: float, width: int,
                   height: int) -> Rect | None:
    x, y, w, h = box
    x0 = max(0, math.floor(x - margin * w))
    y0 = max(0, math.floor(y - margin * h))
    x1 = min(width, math.ceil(x + w + margin * w))
    y1 = min(height, math.ceil(y + h + margin * h))
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1 - x0, y1 - y0


def _bounding(boxes: list[tuple[float, float, float, float]]) -> tuple[float, float, float, float]:
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return x0, y0, x1 - x0, y1 - y0


def fill_boxes_by_frame(tracks: list[TrackFinding], frame_count: int, width: int, height: int,
                        plan: RedactionPlan) -> dict[int, list[Rect]]:
    """Frame index -> ``(x, y, w, h)`` rectangles (px, clipped to the frame) to fill.

    Per track: a partial cover (``coverage`` below :data:`PARTIAL_COVERAGE`, an eye bar) counts
    as the whole face around it. On every frame of the track, the bounding box of its boxes
    within ``pad_frames`` of that frame (dropout frames included: a dropout is a frame inside
    the track whose redaction failed, and it gets the track's box; the window absorbs a box that
    jitters for a frame, which left part of a face showing in a render); the first box held for
    ``pad_frames`` frames before the track and the last box for ``pad_frames`` after it
    (detections start late and end early); around each dropout, every frame within
    ``pad_frames`` gets the bounding box of the track's boxes over that window (a dropout means
    the old redaction was unreliable there, so cover every place the face was). Every box is
    then grown by ``margin`` on each side and clipped to ``width`` x ``height``;
    frames outside ``0..frame_count-1`` are dropped.
    """
    pad = plan.pad_frames
    fills: dict[int, list[Rect]] = {}
    for track in tracks:
        boxes = _track_boxes(track)
        if not boxes:
            continue
        if track.coverage < PARTIAL_COVERAGE:
            boxes = {f: _whole_face(b) for f, b in boxes.items()}
        first, last = min(boxes), max(boxes)
        # Each frame gets the bounding box of the track's boxes within pad_frames of it: a
        # detector box that jitters for a frame (too narrow, shifted) must not leave part of
        # the face uncovered, and a face moves little in a few frames.
        per_frame = {f: _bounding([boxes[g] for g in range(max(first, f - pad),
                                                            min(last, f + pad) + 1)
                                   if g in boxes])
                     for f in boxes}
        for k in range(1, pad + 1):
            per_frame[first - k] = boxes[first]
            per_frame[last + k] = boxes[last]
        for d in sorted(set(int(f) for f in track.dropout_frames)):
            # A dropout outside the track breaks the contract; cover it with the nearest
            # end's box rather than leave a visible face.
            lo = min(max(first, d - pad), last)
            hi = max(min(last, d + pad), first)
            window = _bounding([boxes[f] for f in range(lo, hi + 1)])
            for f in range(d - pad, d + pad + 1):
                per_frame[f] = _bounding([per_frame.get(f, window), window])
        for f, box in per_frame.items():
            if not 0 <= f < frame_count:
                continue
            rect = _grow_and_clip(box, plan.margin, width, height)
            if rect is not None and rect not in fills.setdefault(f, []):
                fills[f].append(rect)
    return {f: fills[f] for f in sorted(fills) if fills[f]}


# --------------------------------------------------------------------------- encoding

# Source codec -> encoders to try, best first. Anything else falls back to H.264.
_ENCODERS: dict[str, tuple[str, ...]] = {
    "h264": ("libx264",),
    "hevc": ("libx265",),
    "vp9": ("libvpx-vp9",),
    "vp8": ("libvpx",),
    "av1": ("libsvtav1", "libaom-av1"),
    "mpeg4": ("mpeg4",),
    "mpeg2video": ("mpeg2video",),
    "mjpeg": ("mjpeg",),
    "prores": ("prores_ks",),
}
_FALLBACK_ENCODERS = ("libx264", "mpeg4")
_MUXER_BY_SUFFIX = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska",
                    ".webm": "webm", ".avi": "avi", ".ts": "mpegts", ".mpg": "mpeg",
                    ".mpeg": "mpeg"}


def _encoder_candidates(codec_name: str) -> list[str]:
    names = [*_ENCODERS.get(codec_name, ()), *_FALLBACK_ENCODERS]
    seen: list[str] = []
    for name in names:
        if name in av.codecs_available and name not in seen:
            seen.append(name)
    return seen


def _pick_pix_fmt(encoder: str, source_fmt: str | None) -> str:
    supported = [f.name for f in (av.codec.Codec(encoder, "w").video_formats or ())]
    if not supported:
        return source_fmt or "yuv420p"
    if source_fmt in supported:
        return source_fmt
    return "yuv420p" if "yuv420p" in supported else supported[0]


def _source_bit_rate(stream: av.video.stream.VideoStream, container: av.container.InputContainer,
                     file_bytes: int | None) -> int:
    rate = stream.bit_rate or stream.codec_context.bit_rate
    if rate:
        return int(rate)
    if file_bytes and container.duration:
        return int(file_bytes * 8 / (container.duration / av.time_base))
    return 8_000_000


def _encoder_options(encoder: str, plan: RedactionPlan) -> dict[str, str]:
    if encoder in ("libx264", "libx265"):
        return {"crf": str(plan.crf), "preset": plan.preset}
    if encoder in ("libvpx-vp9", "libaom-av1"):
        return {"crf": str(plan.crf + 13), "b": "0"}  # VP9/AV1 CRF scales are 0-63
    if encoder == "libsvtav1":
        return {"crf": str(plan.crf + 13), "preset": "8"}
    return {}


def _display_matrix(frame: av.VideoFrame) -> tuple[int, ...] | None:
    sd = frame.side_data.get(SideDataType.DISPLAYMATRIX)
    if sd is None:
        return None
    raw = bytes(sd)
    return struct.unpack("<9i", raw[:36]) if len(raw) >= 36 else None


def _output_format(src: str | Path | BinaryIO, dst: str | Path | BinaryIO,
                   in_container: av.container.InputContainer) -> tuple[str, str]:
    """(muxer name, file suffix) for the output: from dst's suffix, else the source's."""
    for candidate in (dst, src):
        if isinstance(candidate, (str, Path)):
            suffix = Path(candidate).suffix.lower()
            if suffix in _MUXER_BY_SUFFIX:
                return _MUXER_BY_SUFFIX[suffix], suffix
    names = in_container.format.name.split(",")
    if "mp4" in names:
        brand = in_container.metadata.get("major_brand", "").strip()
        return ("mov", ".mov") if brand == "qt" else ("mp4", ".mp4")
    if "matroska" in names:
        return "matroska", ".mkv"
    return names[0], "." + names[0]


def _open_source(src: str | Path | BinaryIO) -> tuple[av.container.InputContainer, str, int | None]:
    label = str(src) if isinstance(src, (str, Path)) else getattr(src, "name", "<stream>")
    size: int | None = None
    if isinstance(src, (str, Path)):
        path = Path(src)
        if not path.is_file():
            raise RenderError(f"{label}: no such file")
        size = path.stat().st_size
    else:
        try:
            pos = src.tell()
            size = src.seek(0, os.SEEK_END) - pos
            src.seek(pos)
        except (OSError, AttributeError):
            size = None
    if size == 0:
        raise RenderError(f"{label}: empty source (0 bytes)")
    try:
        container = av.open(str(src) if isinstance(src, Path) else src, mode="r")
    except av.FFmpegError as exc:
        raise RenderError(f"{label}: not a readable video container ({exc})") from exc
    if not container.streams.video:
        container.close()
        raise RenderError(f"{label}: source has no video stream")
    return container, label, size


def _check_tracks(tracks: list[TrackFinding], width: int, height: int, label: str) -> None:
    """Refuse boxes that cannot belong to this clip (stale or mismatched findings)."""
    for track in tracks:
        for raw in track.boxes:
            f, x, y, w, h = _box_of(raw)
            if f < 0:
                raise RenderError(f"{label}: track {track.track_id} has a box at frame {f} < 0")
            if w > 0 and h > 0 and (x >= width or y >= height or x + w <= 0 or y + h <= 0):
                raise RenderError(
                    f"{label}: track {track.track_id} box at frame {f} ({x:g}, {y:g}, {w:g}, "
                    f"{h:g}) lies outside the {width}x{height} frame: findings do not match "
                    "this source")


def _same_file(src: str | Path | BinaryIO, dst: str | Path | BinaryIO) -> bool:
    if not isinstance(src, (str, Path)) or not isinstance(dst, (str, Path)):
        return False
    s, d = Path(src), Path(dst)
    return d.exists() and s.exists() and os.path.samefile(s, d)


def render_solid_redaction(src: str | Path | BinaryIO, dst: str | Path | BinaryIO,
                           tracks: list[TrackFinding],
                           plan: RedactionPlan = RedactionPlan()) -> RenderResult:
    """Render ``src`` to ``dst`` with every track's boxes filled solid; audio copied as is.

    ``src``/``dst`` are paths or binary streams (``dst`` stream: written from its current
    position; the muxer is chosen from the paths' suffixes, else the source's container).
    Raises :class:`RenderError` for an unreadable source, boxes that do not fit the clip,
    ``dst`` being ``src``, or a failed encode; ``dst`` is untouched in that case.
    """
    if _same_file(src, dst):
        raise RenderError(f"{dst}: refusing to overwrite the source; write a new object")
    started = time.perf_counter()
    in_c, label, src_bytes = _open_source(src)
    tmp_dir = Path(dst).parent if isinstance(dst, (str, Path)) else None
    if tmp_dir is not None and not tmp_dir.is_dir():
        in_c.close()
        raise RenderError(f"{dst}: destination directory does not exist")
    tmp_path: Path | None = None
    try:
        fmt, suffix = _output_format(src, dst, in_c)
        fd, tmp_name = tempfile.mkstemp(prefix=".veilscan-render-", suffix=suffix, dir=tmp_dir)
        os.close(fd)
        tmp_path = Path(tmp_name)
        frames, encoder, dropped, audio_copied = _render(in_c, tmp_path, fmt, tracks, plan,
                                                         label, src_bytes)
    except Exception:
        in_c.close()
        if tmp_path is not None:
            tmp_path.unlink(missing_ok=True)
        raise
    in_c.close()
    try:
        codec, duration_s, out_frames = _probe_output(tmp_path)
        if out_frames != frames:
            raise RenderError(f"{label}: encoded {frames} frames but the output holds "
                              f"{out_frames}")
        digest, size = _deliver(tmp_path, dst)
    finally:
        tmp_path.unlink(missing_ok=True)
    return RenderResult(frames=frames, duration_s=duration_s, video_codec=codec,
                        audio_copied=audio_copied, sha256=digest, bytes=size, encoder=encoder,
                        render_s=round(time.perf_counter() - started, 3),
                        dropped_streams=tuple(dropped))


def _probe_output(path: Path) -> tuple[str, float, int]:
    """(codec, duration in s, video packet count) of the written file, from its index."""
    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        count = sum(1 for p in c.demux(vs) if p.size)
        if vs.duration is not None and vs.time_base is not None:
            duration = float(vs.duration * vs.time_base)
        else:
            duration = (c.duration or 0) / av.time_base
        return vs.codec_context.name, round(duration, 6), count


def _deliver(tmp_path: Path, dst: str | Path | BinaryIO) -> tuple[str, int]:
    """Hash the finished file and move it to ``dst`` (atomic rename) or copy it into it."""
    h = hashlib.sha256()
    size = 0
    with tmp_path.open("rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
            size += len(chunk)
    if isinstance(dst, (str, Path)):
        os.replace(tmp_path, dst)
    else:
        with tmp_path.open("rb") as f:
            shutil.copyfileobj(f, dst, _CHUNK)
    return h.hexdigest(), size


def _render(in_c: av.container.InputContainer, out_path: Path, fmt: str,
            tracks: list[TrackFinding], plan: RedactionPlan, label: str,
            src_bytes: int | None) -> tuple[int, str, list[str], bool]:
    in_v = in_c.streams.video[0]
    in_v.thread_type = "AUTO"
    in_ctx = in_v.codec_context
    in_ctx.thread_count = plan.threads
    width, height = int(in_ctx.width), int(in_ctx.height)
    if width <= 0 or height <= 0:
        raise RenderError(f"{label}: video stream has no frame size")
    _check_tracks(tracks, width, height, label)
    last_box = max((_box_of(b)[0] for t in tracks for b in t.boxes), default=-1)
    horizon = max(int(in_v.frames or 0), last_box + 1) + plan.pad_frames + 1
    fills = fill_boxes_by_frame(tracks, horizon, width, height, plan)

    out_c = av.open(str(out_path), mode="w", format=fmt)
    failed = True
    try:
        out_v, encoder = _add_video_stream(out_c, in_v, in_c, plan, label, src_bytes)
        copies: dict[int, av.stream.Stream] = {}
        dropped: list[str] = []
        for s in in_c.streams:
            if s.type not in ("audio", "subtitle"):
                if s is not in_v:
                    dropped.append(f"{s.index}:{s.type}")
                continue
            try:
                o = out_c.add_stream_from_template(s)
            except (ValueError, av.FFmpegError):
                dropped.append(f"{s.index}:{s.type}:{s.codec_context.name}")
                continue
            o.metadata.update(s.metadata)
            o.disposition = s.disposition
            copies[s.index] = o
        out_c.metadata.update({k: v for k, v in in_c.metadata.items() if k != "encoder"})
        n_audio = len(in_c.streams.audio)
        audio_copied = n_audio > 0 and all(s.index in copies for s in in_c.streams.audio)

        frames = _transcode(in_c, in_v, out_c, out_v, copies, fills, plan, label)
        if last_box >= frames:
            raise RenderError(f"{label}: boxes reach frame {last_box} but the clip has "
                              f"{frames} frames: findings do not match this source")
        failed = False
    finally:
        if failed:  # the output is discarded: don't let closing it mask the real error
            with contextlib.suppress(Exception):
                out_c.close()
        else:
            out_c.close()
    return frames, encoder, dropped, audio_copied


def _add_video_stream(out_c: av.container.OutputContainer, in_v: av.video.stream.VideoStream,
                      in_c: av.container.InputContainer, plan: RedactionPlan, label: str,
                      src_bytes: int | None) -> tuple[av.video.stream.VideoStream, str]:
    in_ctx = in_v.codec_context
    rate = in_v.average_rate or in_v.guessed_rate or in_v.base_rate or Fraction(25)
    errors = []
    for encoder in _encoder_candidates(in_ctx.name):
        try:
            out_v = out_c.add_stream(encoder, rate=rate)
        except (ValueError, av.FFmpegError) as exc:
            errors.append(f"{encoder}: {exc}")
            continue
        break
    else:
        raise RenderError(f"{label}: no encoder for {in_ctx.name} fits the "
                          f"{out_c.format.name} container ({'; '.join(errors) or 'none'})")
    ctx = out_v.codec_context
    ctx.width, ctx.height = in_ctx.width, in_ctx.height
    ctx.pix_fmt = _pick_pix_fmt(encoder, in_ctx.pix_fmt)
    ctx.time_base = in_v.time_base
    out_v.time_base = in_v.time_base
    ctx.framerate = rate
    ctx.thread_count = plan.threads
    for attr in ("color_range", "colorspace", "color_primaries", "color_trc"):
        setattr(ctx, attr, getattr(in_ctx, attr))
    if in_ctx.sample_aspect_ratio:
        ctx.sample_aspect_ratio = in_ctx.sample_aspect_ratio
    options = _encoder_options(encoder, plan)
    if not options:
        ctx.bit_rate = _source_bit_rate(in_v, in_c, src_bytes)
    out_v.options = options
    out_v.metadata.update({k: v for k, v in in_v.metadata.items() if k != "encoder"})
    out_v.disposition = in_v.disposition
    return out_v, encoder


class _Writer:
    """Encodes painted frames and muxes copied packets into the output container.

    Copied packets wait until the first video frame is known, because the header (written
    with the first muxed packet) must already carry that frame's display matrix.
    Failures here are the encoder's or muxer's, and say so.
    """

    def __init__(self, out_c: av.container.OutputContainer,
                 out_v: av.video.stream.VideoStream, in_v: av.video.stream.VideoStream,
                 label: str) -> None:
        self._out_c, self._out_v, self._in_v, self._label = out_c, out_v, in_v, label
        self._pending: list[av.Packet] = []
        self._started = False
        self.frames = 0

    def _mux(self, packets: av.Packet | list[av.Packet]) -> None:
        try:
            self._out_c.mux(packets)
        except av.FFmpegError as exc:
            raise RenderError(f"{self._label}: writing the output failed at frame "
                              f"{self.frames}: {exc}") from exc

    def _encode(self, frame: av.VideoFrame | None) -> list[av.Packet]:
        try:
            return self._out_v.encode(frame)
        except av.FFmpegError as exc:
            raise RenderError(f"{self._label}: encoding failed at frame {self.frames}: "
                              f"{exc}") from exc

    def copy(self, packet: av.Packet, to: av.stream.Stream) -> None:
        packet.stream = to
        if self._started:
            self._mux(packet)
        else:
            self._pending.append(packet)

    def video(self, frame: av.VideoFrame | None) -> None:
        """Encode ``frame`` (None flushes the encoder)."""
        if not self._started and frame is not None:
            _carry_rotation(frame, self._in_v, self._out_v)
        packets = self._encode(frame)
        if frame is not None:
            self.frames += 1
        if not self._started:
            self._started = True
            self._mux(packets)
            for p in self._pending:
                self._mux(p)
            self._pending.clear()
        else:
            self._mux(packets)


def _transcode(in_c: av.container.InputContainer, in_v: av.video.stream.VideoStream,
               out_c: av.container.OutputContainer, out_v: av.video.stream.VideoStream,
               copies: dict[int, av.stream.Stream], fills: dict[int, list[Rect]],
               plan: RedactionPlan, label: str) -> int:
    """Decode, paint and encode every video frame; copy the other streams' packets."""
    enc_fmt = out_v.codec_context.pix_fmt
    writer = _Writer(out_c, out_v, in_v, label)
    last_pts: int | None = None
    step = _pts_step(in_v)
    streams = [in_v, *(s for s in in_c.streams if s.index in copies)]
    try:
        for packet in in_c.demux(streams):
            if packet.stream.index != in_v.index:
                if packet.dts is not None:
                    writer.copy(packet, copies[packet.stream.index])
                continue
            for frame in in_v.decode(packet):
                if frame.pts is None:
                    frame.pts = 0 if last_pts is None else last_pts + step
                elif last_pts is not None and frame.pts <= last_pts:
                    frame.pts = last_pts + 1  # encoders need strictly rising pts
                last_pts = frame.pts
                # keep the source's keyframe positions; let the encoder choose the rest
                frame.pict_type = av.video.frame.PictureType.I if frame.key_frame else 0
                frame = paint_solid(frame, fills.get(writer.frames, ()), plan.color)
                if frame.format.name != enc_fmt:
                    frame = _to_format(frame, enc_fmt)
                writer.video(frame)
    except av.FFmpegError as exc:
        raise RenderError(f"{label}: source broke after {writer.frames} frames: "
                          f"{exc}") from exc
    if writer.frames == 0:
        raise RenderError(f"{label}: video stream holds no decodable frame")
    expected = int(in_v.frames or 0)
    if expected and writer.frames < expected * 0.98 - 1:  # same tolerance as tasks.decode
        raise RenderError(f"{label}: truncated: decoded {writer.frames} of {expected} frames "
                          "the header announces")
    writer.video(None)
    return writer.frames


def _pts_step(stream: av.video.stream.VideoStream) -> int:
    rate = stream.average_rate or stream.guessed_rate
    if rate and stream.time_base:
        return max(1, round(1 / (rate * stream.time_base)))
    return 1


def _to_format(frame: av.VideoFrame, pix_fmt: str) -> av.VideoFrame:
    out = frame.reformat(format=pix_fmt)
    out.pts, out.duration = frame.pts, frame.duration
    if frame.time_base is not None:
        out.time_base = frame.time_base
    return out


def _carry_rotation(frame: av.VideoFrame, in_v: av.video.stream.VideoStream,
                    out_v: av.video.stream.VideoStream) -> None:
    """Write the source's display matrix (or legacy ``rotate`` tag) into the output."""
    matrix = _display_matrix(frame)
    if matrix is not None:
        out_v.set_display_matrix(list(matrix))
        return
    rotate = in_v.metadata.get("rotate")
    if rotate:
        with contextlib.suppress(ValueError):
            out_v.set_display_rotation(-float(rotate))  # tag: clockwise; PyAV: counter
