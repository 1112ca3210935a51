"""Where the finder's time goes: the speed clip of bench/finder.py (talking head 608x1080,
600 frames, Gaussian sigma 6 over the face, H.264) decoded to RGB by PyAV's plain loop (the
bench's baseline), then inspected three ways: everything on the finder's thread as it was
until finder-0.15 (RGB frames, no worker), with the worker thread that runs the camera's
move and the detector ahead of the finder (``tasks/finder/ahead.py``), and with the worker
and the decoder's luma plane (``Clip.pixels``: what ``veilscan inspect`` runs). Decoding
runs on a thread ahead in all three. The variants run in the same process, twice,
interleaved, so the ratios compare like with like on a noisy machine; CPU seconds are the
process's.

    .venv/bin/python bench/finder_speed.py
    python3 bench/finder_speed.py CLIP     # a saved speed clip, where ../shared is not (a GPU box)
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
from veilscan.tasks.finder import RedactionFinder  # noqa: E402

VARIANTS = (("inline, RGB", 0, False), ("worker, RGB", 16, False), ("worker, luma", 16, True))


def _inspect(data: bytes, ahead: int, luma: bool) -> tuple[float, float]:
    """(wall s, CPU s) of decoding ``data`` and finding redactions in it."""
    c0, t0 = time.process_time(), time.perf_counter()
    finder = RedactionFinder(ahead=ahead)
    with open_clip(io.BytesIO(data), name="speed") as clip:
        frames = clip.pixels(prefetch=8) if luma else clip.frames(prefetch=8)
        for index, frame in frames:
            finder.add_frame(index, frame)
    finder.finish()
    return time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    data = Path(sys.argv[1]).read_bytes() if len(sys.argv) > 1 else speed_clip()
    _inspect(data, 16, True)  # warm-up: sessions, reference tables
    print(f"{os.cpu_count()} CPUs, CenterFace backend "
          f"{os.environ.get('VEILSCAN_CENTERFACE_BACKEND', 'auto')}")
    print(f"{'round':5s} {'decode s':>8s} " + " ".join(f"{v[0]:>24s}" for v in VARIANTS))
    for rnd in (1, 2):
        d = _pyav_decode(data, to_rgb=True)  # PyAV's plain loop, as bench/finder.py's baseline
        cells = [_inspect(data, ahead, luma) for _, ahead, luma in VARIANTS]
        print(f"{rnd:5d} {d:8.2f} " + " ".join(
            f"{w:5.2f}s {w / d:4.1f}x cpu {c:4.2f}s" for w, c in cells))


if __name__ == "__main__":
    main()
