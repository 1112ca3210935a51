"""Decoding with a prefetch thread gives the same frames and the same errors as without."""

from __future__ import annotations

import io
import threading

import numpy as np
import pytest

from veilscan.catalog.clip_result import ClipInfo
from veilscan.footage import h264_bytes
from veilscan.tasks.decode import ClipDecodeError, _ahead, open_clip
from veilscan.tasks.inspect import _prefetch


@pytest.fixture(scope="module")
def clip_bytes() -> bytes:
    rng = np.random.default_rng(3)
    frames = [rng.integers(0, 255, (64, 96, 3), dtype=np.uint8) for _ in range(40)]
    return h264_bytes(frames, 23, 25)


def _frames(data: bytes, prefetch: int) -> list[tuple[int, np.ndarray]]:
    with open_clip(io.BytesIO(data), name="c") as clip:
        return list(clip.frames(prefetch=prefetch))


def test_prefetch_yields_the_same_frames(clip_bytes):
    plain, ahead = _frames(clip_bytes, 0), _frames(clip_bytes, 4)
    assert [i for i, _ in ahead] == list(range(40))
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(plain, ahead, strict=True))


def test_each_frame_is_handed_to_a_hook_on_the_decoding_thread(clip_bytes):
    seen = []
    with open_clip(io.BytesIO(clip_bytes), name="c") as clip:
        hook = lambda i, p: seen.append((i, p, threading.current_thread().name))  # noqa: E731
        out = list(clip.pixels(prefetch=4, each=hook))
    assert [(i, p) for i, p, _ in seen] == out and len(out) == 40
    assert {name for *_, name in seen} == {"clip-decode"}


def test_prefetch_hands_over_a_broken_stream_after_the_good_frames():
    """A stream that breaks part-way raises in the consumer, after every good frame."""

    def breaks_after_five():
        for i in range(5):
            yield i, np.full((4, 4, 3), i, np.uint8)
        raise ClipDecodeError("c: stream broke after 5 frames")

    got: list[int] = []
    with pytest.raises(ClipDecodeError, match="broke after 5"):
        for i, _ in _ahead(breaks_after_five(), 2):
            got.append(i)
    assert got == [0, 1, 2, 3, 4]


def test_stopping_early_stops_the_decode_thread(clip_bytes):
    with open_clip(io.BytesIO(clip_bytes), name="c") as clip:
        frames = clip.frames(prefetch=2)
        next(frames)
        frames.close()
    assert not any(t.name == "clip-decode" for t in threading.enumerate())


def test_pixels_are_the_frames_rgb_and_its_luma(clip_bytes):
    """What the finder is handed: the same RGB as ``frames()``, and a grey taken from the
    decoder's luma plane, which OpenCV's grey of that RGB approximates (within a level or
    two: the decoder's colour conversion rounds)."""
    import cv2

    with open_clip(io.BytesIO(clip_bytes), name="c") as clip:
        pixels = list(clip.pixels(prefetch=4))
    rgb = _frames(clip_bytes, 0)
    assert [i for i, _ in pixels] == list(range(40))
    for (_, p), (_, f) in zip(pixels, rgb, strict=True):
        assert p.grey.shape == f.shape[:2] and p.grey.flags["C_CONTIGUOUS"]
        diff = cv2.cvtColor(f, cv2.COLOR_RGB2GRAY).astype(int) - p.grey
        assert abs(diff.mean()) < 2.0 and np.abs(diff).mean() < 2.5
        assert np.array_equal(p.rgb(), f)


def test_stretching_the_luma_leaves_the_decoders_plane_as_it_was():
    """A frame as wide as the decoder's row stride (no padding) hands over its plane as a
    contiguous array; the studio-range stretch must not write into it, or the RGB converted
    from that plane later (the detector's frames) is wrong."""
    rng = np.random.default_rng(4)
    frames = [rng.integers(0, 255, (64, 128, 3), dtype=np.uint8) for _ in range(6)]
    data = h264_bytes(frames, 23, 25)
    with open_clip(io.BytesIO(data), name="c") as clip:
        pixels = list(clip.pixels())
    assert all(p.grey.flags["C_CONTIGUOUS"] for _, p in pixels)
    for (_, p), (_, f) in zip(pixels, _frames(data, 0), strict=True):
        assert np.array_equal(p.rgb(), f)


def test_studio_range_luma_is_stretched_to_full_range():
    """Luma 16-235 (studio range, what H.264 carries) becomes grey 0-255, saturated."""
    import av

    from veilscan.tasks.decode import DecodedFrame

    planes = np.full((48, 60), 128, np.uint8)  # yuv420p: 32 rows of luma, then chroma
    planes[:32] = np.repeat(np.array([0, 16, 126, 235, 255], np.uint8), 12)
    grey = DecodedFrame(av.VideoFrame.from_ndarray(planes, format="yuv420p")).grey
    assert grey.shape == (32, 60)
    assert list(grey[0, ::12]) == [0, 0, 128, 255, 255]


def test_the_finder_queue_holds_16_frames_unless_they_pass_96_mb():
    """A deeper decode queue absorbs the finder's bursts; at 4K it would hold 330 MB."""
    def queued(w: int, h: int) -> int:
        return _prefetch(ClipInfo(source="x", frames=1, fps=30.0, width=w, height=h,
                                  duration_s=1.0, codec="h264"))

    assert queued(608, 1080) == queued(1920, 1080) == 16
    assert queued(3840, 2160) == queued(7680, 4320) == 8
    assert queued(1920, 1080) * 1920 * 1080 * 5 // 2 <= 96 << 20


def test_one_slice_encodes_as_libx264_does_by_default():
    """PyAV opens libx264 with slice threads (a frame cut into one slice per encoding thread,
    which PyAV's own decoding loop then decodes in parallel); ``one_slice`` encodes as libx264
    and FFmpeg do by default, as the talking head in ../shared/media was encoded. libx264
    writes its settings into the stream."""
    rng = np.random.default_rng(4)
    frames = [rng.integers(0, 255, (240, 320, 3), dtype=np.uint8) for _ in range(3)]
    plain = h264_bytes(frames, 23, 25)
    # One encoding thread (a 1-core machine) has nothing to cut a frame for.
    assert b"sliced_threads=1" in plain or b" threads=1 " in plain
    assert b"sliced_threads=0" in h264_bytes(frames, 23, 25, one_slice=True)
