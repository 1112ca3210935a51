"""bench/finder.py's ``--encode-cache``: libx264 does not always encode the same frames to the
same bytes, so benchmark runs meant for comparison read each clip's bytes back from the cache."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench" / "finder.py"


@pytest.fixture()
def bench(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    spec = importlib.util.spec_from_file_location("bench_finder_under_test", BENCH)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "ENCODE_CACHE", tmp_path / "h264")
    return module


def test_the_same_frames_and_settings_give_the_stored_bytes(bench, monkeypatch) -> None:
    calls: list[tuple] = []

    def fake_encode(frames, crf, fps, **options):
        calls.append((crf, fps, tuple(sorted(options.items()))))
        return f"encode {len(calls)}".encode()  # a fresh encode differs each time

    monkeypatch.setattr(bench, "h264_bytes", fake_encode)
    frames = [np.full((32, 48, 3), i, np.uint8) for i in range(3)]
    first = bench.encoded(frames, 23, 30.0)
    assert bench.encoded([f.copy() for f in frames], 23, 30.0) == first
    assert bench.encoded(frames, 24, 30.0) != first  # another CRF
    assert bench.encoded(frames, 23, 30.0, one_slice=True) != first  # other options
    frames[1][0, 0, 0] = 7
    assert bench.encoded(frames, 23, 30.0) != first  # one pixel changed
    assert len(calls) == 4
    assert not list((bench.ENCODE_CACHE).glob("*.tmp"))


def test_without_a_cache_every_call_encodes(bench, monkeypatch) -> None:
    monkeypatch.setattr(bench, "ENCODE_CACHE", None)
    count = iter(range(10))
    monkeypatch.setattr(bench, "h264_bytes", lambda *a, **k: bytes([next(count)]))
    frames = [np.zeros((16, 16, 3), np.uint8)]
    assert bench.encoded(frames, 23, 30.0) != bench.encoded(frames, 23, 30.0)


def test_hevc_encodes_are_stored_apart_from_h264(bench, monkeypatch) -> None:
    """``--codec hevc`` reads and writes its own entries: the same frames at the same CRF
    are other bytes through libx265."""
    monkeypatch.setattr(bench, "h264_bytes", lambda *a, **k: b"h264")
    monkeypatch.setattr(bench, "hevc_bytes", lambda *a, **k: b"hevc")
    frames = [np.zeros((16, 16, 3), np.uint8)]
    assert bench.encoded(frames, 23, 30.0) == b"h264"
    monkeypatch.setattr(bench, "CODEC", "hevc")
    assert bench.encoded(frames, 23, 30.0) == b"hevc"
    monkeypatch.setattr(bench, "hevc_bytes", lambda *a, **k: b"other")
    assert bench.encoded(frames, 23, 30.0) == b"hevc"  # read back, not encoded again
