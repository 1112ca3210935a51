"""Decode a clip with PyAV from a path or any seekable binary stream (e.g. ranged S3 reads).

Decode errors become :class:`ClipDecodeError` with a message that says what is wrong with
this clip, so a scan can record it as a finding row and go on.
"""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO, TypeVar

import av
import cv2
import numpy as np

from veilscan.catalog.clip_result import ClipInfo
from veilscan.tasks.interlace import PROBE_FRAMES, field_order, first_field

T = TypeVar("T")


class ClipDecodeError(Exception):
    """The clip cannot be decoded; the message is specific to what went wrong."""


def _size_of(stream: BinaryIO) -> int | None:
    try:
        pos = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(pos)
        return end
    except (OSError, AttributeError):
        return None


def _head(source: str | Path | BinaryIO, n: int = 512) -> bytes:
    if isinstance(source, (str, Path)):
        with open(source, "rb") as fh:
            return fh.read(n)
    pos = source.tell()
    source.seek(0)
    head = source.read(n)
    source.seek(pos)
    return head


def _why_unopenable(source: str | Path | BinaryIO) -> str:
    """Name the likely cause from the first bytes, so an archive team knows what to fix."""
    try:
        head = _head(source)
    except OSError:
        return "not a readable video container"
    if head[4:8] == b"ftyp":
        return "MP4/MOV header present but the file is truncated or corrupt (no usable moov index)"
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in head)
    if head and printable / len(head) > 0.95:
        return "not a video: the object holds text"
    return "not a readable video container"


_LUMA_FORMATS = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p",
                 "yuv411p", "yuv410p", "yuva420p", "nv12", "nv21", "gray"}
"""Pixel formats whose first plane is 8-bit luma, one byte a pixel."""
_FULL_RANGE_FORMATS = {"yuvj420p", "yuvj422p", "yuvj444p", "gray"}
_JPEG_RANGE = 2
"""``VideoFrame.color_range`` of full-range ("JPEG") video; 0 and 1 are studio range."""
_STUDIO_BLACK, _STUDIO_GAIN = 16, 255 / 219
"""Studio-range luma (16-235) to 0-255 grey: ``(y - 16) * 255 / 219``, saturated."""


class DecodedFrame:
    """One decoded frame: ``grey``, taken from the decoder's own luma plane (where it has
    one, expanded to 0-255), and ``rgb()``, converted on first use. Satisfies the finder's
    ``Pixels`` protocol.

    The finder measures greyscale on every frame and needs colour on few (its detector
    runs), so most frames skip the colour conversion: 0.3 CPU-s of the 1.0 that decoding the
    bench's speed clip (600 frames, 608x1080) to RGB costs. The luma is what converting to
    RGB and back to grey approximates: OpenCV's grey of the decoder's RGB runs 1.4 levels
    under it on average (up to 10 at saturated colours)."""

    def __init__(self, frame: av.VideoFrame, field: str | None = None) -> None:
        self._frame: av.VideoFrame | None = frame
        self._rgb: np.ndarray | None = None
        self._lock = threading.Lock()
        self._field = field
        """Interlaced footage: the field the finder reads ("tff": the top one, "bff": the
        bottom one; ``interlace.first_field``), None: the whole frame."""
        name = frame.format.name
        if name in _LUMA_FORMATS:
            plane = frame.planes[0]
            luma = np.frombuffer(plane, np.uint8).reshape(frame.height, plane.line_size)
            luma = luma[:, :frame.width]
            if field is not None:
                luma = first_field(luma, field)
            full = name in _FULL_RANGE_FORMATS or frame.color_range == _JPEG_RANGE
            if full:
                self.grey = np.ascontiguousarray(luma)  # the decoder's own plane if unpadded
            else:
                # Two saturating SIMD passes in place, on a copy (the plane is the decoder's,
                # and ``rgb()`` still reads it): a table lookup costs 4x more, and each fresh
                # OpenCV output array as much again in page faults (0.2 CPU-s on the bench's
                # speed clip against making two new arrays a frame).
                # (A field, line-doubled, is a fresh array already.)
                self.grey = luma if field is not None else luma.copy()
                cv2.subtract(self.grey, _STUDIO_BLACK, dst=self.grey)
                cv2.convertScaleAbs(self.grey, dst=self.grey, alpha=_STUDIO_GAIN)
        else:  # RGB, palette or high bit-depth video: through RGB
            self.grey = cv2.cvtColor(self.rgb(), cv2.COLOR_RGB2GRAY)

    def rgb(self) -> np.ndarray:
        """H x W x 3 uint8 RGB, converted once (the finder's worker and its own thread may
        both ask)."""
        with self._lock:
            if self._rgb is None:
                assert self._frame is not None
                rgb = self._frame.to_ndarray(format="rgb24")
                self._rgb = rgb if self._field is None else first_field(rgb, self._field)
                self._frame = None  # the decoder's buffer is no longer needed
            return self._rgb


class Clip:
    """An open video: its :class:`ClipInfo` and a single pass over its frames."""

    def __init__(self, container: av.container.InputContainer, source: str) -> None:
        self._container = container
        self._source = source
        if not container.streams.video:
            raise ClipDecodeError(f"{source}: container has no video stream")
        self._stream = container.streams.video[0]
        self._stream.thread_type = "AUTO"
        ctx = self._stream.codec_context
        rate = self._stream.average_rate or self._stream.guessed_rate or Fraction(0)
        fps = float(rate) if rate else 0.0
        duration_s = 0.0
        if self._stream.duration is not None and self._stream.time_base is not None:
            duration_s = float(self._stream.duration * self._stream.time_base)
        elif container.duration is not None:
            duration_s = container.duration / av.time_base
        frames = int(self._stream.frames or 0) or int(round(duration_s * fps))
        self.info = ClipInfo(
            source=source, frames=frames, fps=round(fps, 3), width=int(ctx.width),
            height=int(ctx.height), duration_s=round(duration_s, 3), codec=ctx.name,
        )
        self.decoded = 0
        self.field: str | None = None
        """Interlaced footage read one field at a time (:meth:`pixels` with ``fields``):
        "tff" or "bff", the field handed on; None: whole frames."""
        self._probe_fields = False

    def frames(self, fmt: str = "rgb24", prefetch: int = 0) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(frame_index, H x W x 3 uint8)`` in decode order.

        ``prefetch`` > 0 decodes on a background thread up to that many frames ahead, so
        decoding (which releases the GIL) overlaps the caller's work on earlier frames.
        Raises :class:`ClipDecodeError` if the stream breaks part-way (truncated upload,
        corrupt packets); frames yielded before that are valid.
        """
        return self._frames(lambda frame: frame.to_ndarray(format=fmt), prefetch)

    def pixels(self, prefetch: int = 0, threads: bool = False,
               each: Callable[[int, DecodedFrame], None] | None = None,
               fields: bool = False) -> Iterator[tuple[int, DecodedFrame]]:
        """Yield ``(frame_index, DecodedFrame)``: greyscale at once, RGB when asked for: what
        the finder takes (``veilscan.tasks.finder.frames.Pixels``). ``threads``: let FFmpeg
        decode on its own threads too; off by default, as the finder keeps the cores busy
        and single-threaded decoding costs the least CPU. ``each(index, frame)`` runs on the
        decoding thread as each frame is decoded (``RedactionFinder.decoded``). ``fields``:
        where the first frames show interlacing (``interlace.field_order``; :attr:`field`
        says which), hand on the field shown first of every frame, line-doubled. ``prefetch``
        and errors as :meth:`frames`."""
        if not threads and not self.decoded:
            self._stream.thread_type = "NONE"
        self._probe_fields = fields and not self.decoded

        def convert(frame: av.VideoFrame) -> DecodedFrame:
            pixels = DecodedFrame(frame, self.field)
            if each is not None:
                each(self.decoded - 1, pixels)
            return pixels

        return self._frames(convert, prefetch)

    def _frames(self, convert: Callable[[av.VideoFrame], T], prefetch: int,
                ) -> Iterator[tuple[int, T]]:
        if prefetch > 0:
            return _ahead(self._decode(convert), prefetch)
        return self._decode(convert)

    def _decode(self, convert: Callable[[av.VideoFrame], T]) -> Iterator[tuple[int, T]]:
        try:
            for frame in self._in_order():
                self.decoded += 1
                yield self.decoded - 1, convert(frame)
        except av.FFmpegError as exc:
            raise ClipDecodeError(
                f"{self._source}: stream broke after {self.decoded} frames: {exc}"
            ) from exc
        expected = self.info.frames
        if expected and self.decoded < expected * 0.98 - 1:
            raise ClipDecodeError(
                f"{self._source}: truncated: decoded {self.decoded} of {expected} frames "
                "the header announces"
            )
        if self.decoded == 0:
            raise ClipDecodeError(f"{self._source}: video stream holds no decodable frame")

    def _in_order(self) -> Iterator[av.VideoFrame]:
        """The decoder's frames; asked to probe for fields, it reads ``PROBE_FRAMES`` first
        and sets :attr:`field` before handing on any (a stream that breaks among them still
        hands on the good ones, then raises)."""
        frames = self._container.decode(self._stream)
        if not self._probe_fields:
            yield from frames
            return
        head: list[av.VideoFrame] = []
        try:
            for frame in frames:
                head.append(frame)
                if len(head) >= PROBE_FRAMES:
                    break
        except av.FFmpegError:
            self.field = field_order(head)
            yield from head
            raise
        self.field = field_order(head)
        yield from head
        if len(head) >= PROBE_FRAMES:  # (PyAV's decoder, run out, must not be asked again)
            yield from frames

    def finished_info(self) -> ClipInfo:
        """:attr:`info` with the frame count and duration actually decoded."""
        if not self.decoded:
            return self.info
        fps = self.info.fps or 1.0
        return ClipInfo(**{**self.info.__dict__, "frames": self.decoded,
                           "duration_s": round(self.decoded / fps, 3)})


_DONE = object()


def _ahead(frames: Iterator[tuple[int, T]],
           depth: int) -> Iterator[tuple[int, T]]:
    """Run ``frames`` on a daemon thread, ``depth`` items ahead; its error is re-raised here.

    Stopping early (the consumer breaks or fails) tells the thread to stop at its next frame.
    """
    buf: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                buf.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work() -> None:
        try:
            for item in frames:
                if not put(item):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed over to the consumer
            put(exc)
            return
        put(_DONE)

    thread = threading.Thread(target=work, name="clip-decode", daemon=True)
    thread.start()
    try:
        while True:
            item = buf.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()


@contextmanager
def open_clip(source: str | Path | BinaryIO, name: str | None = None) -> Iterator[Clip]:
    """Open ``source`` (a path or a seekable binary stream) for decoding.

    ``name`` is how the clip is called in errors and results (defaults to the path).
    """
    label = name or str(source)
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise ClipDecodeError(f"{label}: no such file")
        size: int | None = path.stat().st_size
    else:
        size = _size_of(source)
    if size == 0:
        raise ClipDecodeError(f"{label}: empty object (0 bytes)")
    try:
        container = av.open(source if not isinstance(source, Path) else str(source), mode="r")
    except av.FFmpegError as exc:
        raise ClipDecodeError(f"{label}: {_why_unopenable(source)} ({exc})") from exc
    try:
        yield Clip(container, label)
    finally:
        container.close()
