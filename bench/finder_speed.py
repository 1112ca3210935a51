"""Where the finder's time goes: the speed clip of bench/finder.py (talking head 608x1080,
600 frames, Gaussian sigma 6 over the face, H.264) decoded to RGB by PyAV's plain loop (the
bench's baseline), then inspected with CenterFace on OpenCV DNN, on ONNX Runtime, and on ONNX
Runtime with decoding on a thread ahead of the finder (what ``veilscan inspect`` does). Every
variant runs in the same process, twice, interleaved, so the ratios compare like with like on
a noisy machine.

    .venv/bin/python bench/finder_speed.py
"""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from finder import _pyav_decode, speed_clip  # noqa: E402

from veilscan.tasks.decode import open_clip  # noqa: E402
from veilscan.tasks.finder import find_in_frames  # noqa: E402


def _inspect(data: bytes, backend: str, prefetch: int) -> float:
    os.environ["VEILSCAN_CENTERFACE_BACKEND"] = backend
    t0 = time.perf_counter()
    with open_clip(io.BytesIO(data), name="speed") as clip:
        find_in_frames(clip.frames(prefetch=prefetch))
    return time.perf_counter() - t0


def main() -> None:
    data = speed_clip()
    _inspect(data, "onnxruntime", 0)  # warm-up: sessions, reference tables
    print(f"{'round':5s} {'decode s':>8s} {'OpenCV DNN':>16s} {'ONNX Runtime':>16s} "
          f"{'ORT + prefetch':>16s}")
    for rnd in (1, 2):
        d = _pyav_decode(data, to_rgb=True)  # PyAV's plain loop, as bench/finder.py's baseline
        cells = [_inspect(data, b, p) for b, p in (("opencv", 0), ("onnxruntime", 0),
                                                   ("onnxruntime", 8))]
        print(f"{rnd:5d} {d:8.2f} " + " ".join(f"{c:7.2f}s ({c / d:4.1f}x)" for c in cells))


if __name__ == "__main__":
    main()
