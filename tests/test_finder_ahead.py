"""The finder's worker thread (tasks/finder/ahead.py) runs the camera's move and CenterFace's
whole-frame passes ahead of it: the findings must be those of running everything inline."""

from __future__ import annotations

import dataclasses
import threading

import numpy as np
import pytest
from test_finder import make_clip

from veilscan.footage import h264_roundtrip
from veilscan.tasks.finder import RedactionFinder
from veilscan.tasks.finder.ahead import FramePrep
from veilscan.tasks.finder.confirm import whole_frame_int8
from veilscan.tasks.finder.frames import RGBPixels
from veilscan.tasks.obfuscate import Recipe


def _findings(frames, ahead: int) -> list:
    finder = RedactionFinder(ahead=ahead)
    for i, f in frames:
        finder.add_frame(i, f)
    return [dataclasses.asdict(t) for t in finder.finish()]


@pytest.mark.parametrize("recipe", [Recipe("gaussian_blur", 5.0), Recipe("mosaic", 10.0)])
def test_running_ahead_changes_no_finding(recipe):
    # 150 frames: the scan settles (every other detector run is skipped) and a dropout
    # returns it to the full rate, so the worker's guess of the detector frames is wrong
    # around each change and those frames are detected inline.
    frames, _ = make_clip(recipe, face_w=100, n=150, dropouts=(100, 101), size=(300, 480))
    frames = list(enumerate(h264_roundtrip([f for _, f in frames], 23)))
    inline = _findings(frames, 0)
    assert inline and inline[0]["dropout_frames"] == [100, 101]
    assert _findings(frames, 16) == inline
    assert _findings([(i, RGBPixels(f)) for i, f in frames], 4) == inline


def test_a_detector_pass_the_worker_did_not_guess_is_run_inline(monkeypatch):
    """Whatever the worker guessed, the finder uses exactly the passes it needs: none
    guessed (every pass inline) and every frame guessed (most wasted) give the same."""
    frames, _ = make_clip(Recipe("gaussian_blur", 5.0), face_w=100, n=40, size=(300, 480))
    frames = list(enumerate(h264_roundtrip([f for _, f in frames], 23)))
    inline = _findings(frames, 0)
    assert inline
    monkeypatch.setattr(RedactionFinder, "_likely_sides", lambda self, index, shape: ())
    assert _findings(frames, 8) == inline
    monkeypatch.setattr(RedactionFinder, "_likely_sides",
                        lambda self, index, shape: (640, 256))
    assert _findings(frames, 8) == inline


@pytest.fixture(scope="module")
def settling_clip() -> list:
    """A blurred face for 150 frames at 480 px: the scan settles, the coarse pass stops."""
    frames, _ = make_clip(Recipe("gaussian_blur", 5.0), face_w=100, n=150, size=(300, 480))
    return list(enumerate(h264_roundtrip([f for _, f in frames], 23)))


def test_the_worker_runs_only_the_passes_a_settling_finder_uses(monkeypatch, settling_clip):
    """The worker guesses which frames the detector will run on, before the finder gets
    there; guessed at the full rate, it ran passes on frames a settling finder no longer
    scans (two per settling, 40 ms each at 640 px)."""
    frames = settling_clip
    ran, used = [], []
    prepare, faces = FramePrep._prepare, RedactionFinder._faces

    def spy_prepare(self, index, pixels, work):
        if work.sides:
            ran.append((index, work.sides, work.int8))
        return prepare(self, index, pixels, work)

    def spy_faces(self, pixels):
        used.append((self._last_index, self._detector_sides(self._shape),
                     self._int8_at(self._stride)))
        return faces(self, pixels)

    monkeypatch.setattr(FramePrep, "_prepare", spy_prepare)
    monkeypatch.setattr(RedactionFinder, "_faces", spy_faces)
    assert len(_findings(frames, 16)) == 1
    settled = [i for i, sides, _ in used if len(sides) == 1]
    assert len(settled) >= 2  # it settled: the coarse pass stopped
    # The worker's guess (the network too) is what the finder then used.
    assert ran == [u for u in used if u[0] != len(frames) - 1]  # the last frame: inline
    # Settled shots' passes alone run int8 (where it runs at all: whole_frame_int8).
    assert [i8 for _, sides, i8 in used] == [
        len(sides) == 1 and whole_frame_int8(settled=True) for _, sides, _ in used]


def test_a_failure_on_the_worker_is_raised_to_the_caller():
    class Broken(RGBPixels):
        def rgb(self) -> np.ndarray:
            raise RuntimeError("no colour for frame")

    frames, _ = make_clip(None, n=8)
    finder = RedactionFinder(ahead=2)
    with pytest.raises(RuntimeError, match="no colour"):
        for i, f in frames:
            finder.add_frame(i, Broken(f))
        finder.finish()


def test_the_worker_runs_the_pixel_scans_the_finder_uses(monkeypatch, settling_clip):
    """The pixel scan (8 ms a 1080p frame) moves to the worker on the frames it predicts;
    the finder's own thread would run it only where the prediction missed (here none, though
    the scan settles: the full rate's scans, then every other settled one)."""
    frames = settling_clip
    planned, inline = [], []
    prepare, scan_pixels = FramePrep._prepare, RedactionFinder._scan_pixels

    def spy_prepare(self, index, pixels, work):
        if work.pixel_scan:
            planned.append(index)
        return prepare(self, index, pixels, work)

    def spy_scan_pixels(self, grey):
        if threading.current_thread() is threading.main_thread():
            inline.append(self._last_index)
        return scan_pixels(self, grey)

    monkeypatch.setattr(FramePrep, "_prepare", spy_prepare)
    monkeypatch.setattr(RedactionFinder, "_scan_pixels", spy_scan_pixels)
    assert len(_findings(frames, 16)) == 1
    assert len(planned) > 10 and inline == []
