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


class DecodedFrame:
    """One decoded frame as RGB and its greyscale, both made on the thread that decodes
    (``Clip.pixels``), so the finder's own thread starts from what it measures. Satisfies the
    finder's ``Pixels`` protocol.

    The grey is the RGB's (OpenCV's RGB-to-grey), not the decoder's luma plane, though that
    would save the colour conversion of most frames (0.3 CPU-s per 600 frames of 608x1080):
    it differs by 1.4 levels on average and up to 10 at saturated colours, and the finder,
    tuned on the RGB grey, then found a false track in 1.1 minutes of clean footage on the
    bench's clips (a moving head's motion blur read as a Gaussian blur)."""

    def __init__(self, frame: av.VideoFrame) -> None:
        self._rgb = frame.to_ndarray(format="rgb24")
        self.grey = cv2.cvtColor(self._rgb, cv2.COLOR_RGB2GRAY)

    def rgb(self) -> np.ndarray:
        """H x W x 3 uint8 RGB."""
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

    def frames(self, fmt: str = "rgb24", prefetch: int = 0) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(frame_index, H x W x 3 uint8)`` in decode order.

        ``prefetch`` > 0 decodes on a background thread up to that many frames ahead, so
        decoding (which releases the GIL) overlaps the caller's work on earlier frames.
        Raises :class:`ClipDecodeError` if the stream breaks part-way (truncated upload,
        corrupt packets); frames yielded before that are valid.
        """
        return self._frames(lambda frame: frame.to_ndarray(format=fmt), prefetch)

    def pixels(self, prefetch: int = 0, threads: bool = False,
               ) -> Iterator[tuple[int, DecodedFrame]]:
        """Yield ``(frame_index, DecodedFrame)``: RGB and greyscale, what the finder takes
        (``veilscan.tasks.finder.frames.Pixels``), both made on the decoding thread when
        ``prefetch`` > 0. ``threads``: let FFmpeg decode on its own threads too; off by
        default, as the finder keeps the cores busy and single-threaded decoding costs the
        least CPU. ``prefetch`` and errors as :meth:`frames`."""
        if not threads and not self.decoded:
            self._stream.thread_type = "NONE"
        return self._frames(DecodedFrame, prefetch)

    def _frames(self, convert: Callable[[av.VideoFrame], T], prefetch: int,
                ) -> Iterator[tuple[int, T]]:
        if prefetch > 0:
            return _ahead(self._decode(convert), prefetch)
        return self._decode(convert)

    def _decode(self, convert: Callable[[av.VideoFrame], T]) -> Iterator[tuple[int, T]]:
        try:
            for frame in self._container.decode(self._stream):
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
