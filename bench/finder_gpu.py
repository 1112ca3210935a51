"""One-shot check of CenterFace on CUDA through PyTorch (onnx2torch) on a borrowed GPU machine.

Prints: the device; CenterFace's per-call latency on a 352x640 input (warm, median of 30) on
ONNX Runtime CPU and on PyTorch CUDA (fp32, and TF32 for reference); whether the two backends
give the same detections on real frames of the speed clip and on the astronaut photograph;
and the finder end to end over the pre-decoded speed clip with each backend, each run in a
fresh subprocess (``VEILSCAN_CENTERFACE_BACKEND`` set before anything is imported), with wall
seconds, the time the same process took to decode the clip (so a ratio), the CenterFace calls
and their time, and the tracks found.

    python3 bench/finder_gpu.py .gpu/speed_clip.h264          # about 2 minutes on an H100
    python3 bench/finder_gpu.py CLIP --rounds 1 --budget 120

The clip is the finder bench's speed clip (talking head 608x1080, 600 frames, Gaussian blur
over the face, raw H.264). It is decoded with PyAV when it imports, else cv2.VideoCapture;
the decoder is named next to every decode time. bench/gpu_check.sh sets the machine up.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

T0 = time.perf_counter()


def decode(path: str, limit: int = 0) -> tuple[list[np.ndarray], float, str]:
    """RGB frames of ``path`` (the first ``limit`` if > 0), the seconds decoding took and the
    decoder's name."""
    try:
        import av
    except ImportError:
        av = None
    t0 = time.perf_counter()
    frames = []
    if av is not None:
        with av.open(path, mode="r") as container:
            stream = container.streams.video[0]
            # PyAV's defaults, as bench/finder.py's speed baseline
            for frame in container.decode(stream):
                frames.append(frame.to_ndarray(format="rgb24"))
                if len(frames) == limit:
                    break
        name = f"PyAV {av.__version__}"
    else:
        import cv2

        cap = cv2.VideoCapture(path)
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            if len(frames) == limit:
                break
        cap.release()
        name = f"cv2.VideoCapture (OpenCV {cv2.__version__})"
    return frames, time.perf_counter() - t0, name


# ---------------------------------------------------------------- child: one finder run


def child(backend: str, clip: str, limit: int) -> None:
    os.environ["VEILSCAN_CENTERFACE_BACKEND"] = backend  # before anything reads it
    frames, decode_s, decoder = decode(clip, limit)

    from veilscan.tasks.finder import confirm, find_in_frames

    t0 = time.perf_counter()
    confirm.detect_faces(np.ascontiguousarray(frames[0][::4, ::4]))  # session / conversion
    warm_s = time.perf_counter() - t0
    fwd = confirm._forward()
    where = ("UNAVAILABLE: no CenterFace" if fwd is None else
             f"torch on {fwd.device}" if hasattr(fwd, "device") else
             "onnxruntime" if fwd is confirm._onnxruntime_forward() else "opencv")
    calls = {"n": 0, "s": 0.0}

    def counted(blob):
        t = time.perf_counter()
        try:
            return fwd(blob)
        finally:
            calls["n"] += 1
            calls["s"] += time.perf_counter() - t

    confirm._forward = lambda backend="auto": counted  # the finder looks it up per call
    t0 = time.perf_counter()
    tracks = find_in_frames(enumerate(frames))
    wall = time.perf_counter() - t0
    print(json.dumps({
        "backend": backend, "where": where, "decoder": decoder, "frames": len(frames),
        "decode_s": decode_s, "warm_s": warm_s, "finder_s": wall,
        "cf_calls": calls["n"], "cf_s": calls["s"],
        "tracks": [[t.first_frame, t.last_frame, t.redaction_type, len(t.dropout_frames),
                    round(t.strength_px, 2)] for t in tracks],
    }))


# ---------------------------------------------------------------- parent


def _latency(fn, blob, n: int = 30, warm: int = 5) -> tuple[float, float]:
    for _ in range(warm):
        fn(blob)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn(blob)
        times.append(time.perf_counter() - t0)
    times.sort()
    return statistics.median(times) * 1e3, times[int(0.9 * (n - 1))] * 1e3


def _match(ref: list, got: list) -> tuple[bool, float, float]:
    """Same count, and the largest box (px) and score differences over nearest pairs."""
    if len(ref) != len(got):
        return False, float("inf"), float("inf")
    left, dbox, dscore = list(got), 0.0, 0.0
    for d in ref:
        j = min(range(len(left)), key=lambda k: sum(abs(left[k][i] - d[i]) for i in range(4)))
        g = left.pop(j)
        dbox = max(dbox, max(abs(float(g[i]) - float(d[i])) for i in range(4)))
        dscore = max(dscore, abs(float(g[4]) - float(d[4])))
    return True, dbox, dscore


def environment() -> None:
    import cv2
    import onnxruntime as ort
    import torch

    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, numpy {np.__version__}, "
          f"opencv {cv2.__version__}")
    print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, "
          f"cuDNN {torch.backends.cudnn.version()}, cuda available: {torch.cuda.is_available()}")
    if torch.cuda.is_available():
        print(f"device: {torch.cuda.get_device_name(0)}")
    print(f"onnxruntime {ort.__version__}, providers {ort.get_available_providers()}")
    try:
        import onnx2torch
        print(f"onnx2torch {getattr(onnx2torch, '__version__', '?')} from {onnx2torch.__file__}")
    except Exception as exc:  # noqa: BLE001
        print(f"onnx2torch does not import: {exc!r}")


def latency_and_agreement(frames: list[np.ndarray]) -> None:
    import cv2
    import torch
    from skimage import data

    from veilscan.tasks.finder import confirm
    from veilscan.tasks.finder.centerface_torch import TorchCenterFace

    print(f"auto backend here: {'torch' if confirm._torch_preferred() else 'onnxruntime'} "
          "(torch only with CUDA, onnx2torch and no CUDA provider in ONNX Runtime)")
    model = confirm._prepared_centerface()
    ort_fwd = confirm._onnxruntime_forward()
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    t0 = time.perf_counter()
    torch_fwd = confirm._torch_forward()
    print(f"onnx2torch conversion + move to {torch_fwd.device}: "
          f"{time.perf_counter() - t0:.2f} s (once per process)")
    tf32_fwd = TorchCenterFace(model, confirm._OUTPUTS, device=dev, tf32=True)

    frame = cv2.resize(frames[len(frames) // 2], (640, 352), interpolation=cv2.INTER_AREA)
    blob = cv2.dnn.blobFromImage(frame, 1.0, (640, 352), (0, 0, 0), swapRB=False, crop=False)
    print("\nCenterFace per call, input 1x3x352x640, warm, median / p90 of 30 (host numpy in, "
          "numpy out):")
    rows = [("onnxruntime CPU", ort_fwd), (f"torch {dev} fp32", torch_fwd),
            (f"torch {dev} TF32 allowed", tf32_fwd)]
    for name, fn in rows:
        med, p90 = _latency(fn, blob)
        print(f"  {name:28s} {med:7.2f} ms / {p90:7.2f} ms")
    if dev == "cuda":
        x = torch.from_numpy(blob).to(dev)

        def gpu_only():
            with torch.inference_mode():
                torch_fwd.module(x)
            torch.cuda.synchronize()

        med, p90 = _latency(lambda _b: gpu_only(), blob)
        print(f"  {'torch cuda fp32, GPU only':28s} {med:7.2f} ms / {p90:7.2f} ms "
              "(input already on the GPU, no copy back)")
    ref = ort_fwd(blob)
    for name, fn in rows[1:]:
        diffs = [float(np.abs(a - b).max()) for a, b in zip(ref, fn(blob), strict=True)]
        print(f"  raw output max |diff| vs ORT, {name}: "
              + ", ".join(f"{o}={d:.2e}" for o, d in zip(confirm._OUTPUTS, diffs, strict=True)))

    # Detections: full frames, quarter-size frames (a blurred face reads as a face once small,
    # which is how the finder asks) and the astronaut, at the finder's threshold and a low one.
    picks = [frames[i] for i in np.linspace(0, len(frames) - 1, 12).astype(int)]
    images = ([("clip full", f) for f in picks]
              + [("clip 1/4", np.ascontiguousarray(cv2.resize(f, None, fx=0.25, fy=0.25,
                                                              interpolation=cv2.INTER_AREA)))
                 for f in picks]
              + [("astronaut", data.astronaut())])
    print("\nDetections, ONNX Runtime CPU vs torch (nearest pairs):")
    cached = confirm._torch_forward
    for variant, fn in (("fp32", torch_fwd), ("TF32 allowed", tf32_fwd)):
        confirm._torch_forward = lambda fn=fn: fn  # what backend="torch" uses
        stats: dict[str, list] = {}
        for label, img in images:
            for th in (0.35, 0.1):
                a = confirm.detect_faces(img, th, backend="onnxruntime")
                b = confirm.detect_faces(img, th, backend="torch")
                same, dbox, dscore = _match(a, b)
                s = stats.setdefault(f"{label} @{th}", [0, 0, 0, 0.0, 0.0, 0])
                s[0] += 1
                s[1] += len(a)
                s[2] += len(b)
                s[5] += not same
                if same:
                    s[3], s[4] = max(s[3], dbox), max(s[4], dscore)
                else:
                    print(f"  MISMATCH {variant} {label} @{th}: ORT {a} torch {b}")
        for key, (n, na, nb, dbox, dscore, bad) in stats.items():
            print(f"  {variant:12s} {key:17s} {n:2d} images, faces ORT {na:3d} torch {nb:3d}, "
                  f"count mismatches {bad}, max |dbox| {dbox:.3f} px, max |dscore| {dscore:.2e}")
    confirm._torch_forward = cached


def end_to_end(clip: str, rounds: int, budget: float, limit: int) -> None:
    print("\nFinder end to end over the pre-decoded speed clip, each run a fresh process "
          "(decode timed in the same process):")
    runs = []
    for rnd in range(1, rounds + 1):
        for backend in ("onnxruntime", "torch"):
            left = budget - (time.perf_counter() - T0)
            if left < 45:
                print(f"  (stopped: {left:.0f} s of the {budget:.0f} s budget left)")
                return _summary(runs)
            t0 = time.perf_counter()
            try:
                out = subprocess.run([sys.executable, __file__, "--child", backend, clip,
                                      "--frames", str(limit)],
                                     capture_output=True, text=True, timeout=left - 5)
            except subprocess.TimeoutExpired:
                print(f"  round {rnd} {backend}: timed out")
                return _summary(runs)
            lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
            if out.returncode or not lines:
                print(f"  round {rnd} {backend}: FAILED rc={out.returncode}\n{out.stderr[-3000:]}")
                continue
            r = json.loads(lines[-1])
            runs.append(r)
            print(f"  round {rnd} {backend:11s} [{r['where']}] {r['frames']} frames: "
                  f"finder {r['finder_s']:6.2f} s = {r['finder_s'] / r['decode_s']:5.2f}x decode "
                  f"({r['decode_s']:.2f} s, {r['decoder']}); CenterFace {r['cf_calls']} calls "
                  f"{r['cf_s']:.2f} s; warm-up {r['warm_s']:.2f} s; process "
                  f"{time.perf_counter() - t0:.1f} s; {len(r['tracks'])} tracks")
    _summary(runs)


def _summary(runs: list[dict]) -> None:
    seen: dict[str, list] = {}
    for r in runs:
        seen.setdefault(r["backend"], r["tracks"])
    for backend, tracks in seen.items():
        print(f"  tracks with {backend} [first, last, kind, dropouts, strength px]:")
        for t in tracks:
            print(f"    {t}")
    if len(seen) == 2:
        a, b = seen.values()
        same_span = [t[:3] for t in a] == [t[:3] for t in b]
        print(f"  tracks identical: {a == b}; same first/last/kind: {same_span}")
    for backend in seen:
        walls = [r["finder_s"] for r in runs if r["backend"] == backend]
        ratios = [r["finder_s"] / r["decode_s"] for r in runs if r["backend"] == backend]
        print(f"  {backend:11s} finder s {', '.join(f'{w:.2f}' for w in walls)}; "
              f"x decode {', '.join(f'{x:.2f}' for x in ratios)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clip", nargs="?", default=".gpu/speed_clip.h264")
    ap.add_argument("--rounds", type=int, default=2, help="finder runs per backend")
    ap.add_argument("--budget", type=float, default=170.0, help="seconds for the whole script")
    ap.add_argument("--frames", type=int, default=0, help="use the first N frames (0: all)")
    ap.add_argument("--child", metavar="BACKEND", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args.child, args.clip, args.frames)
    if not Path(args.clip).is_file():
        sys.exit(f"speed clip not found: {args.clip}")
    environment()
    frames, decode_s, decoder = decode(args.clip, args.frames)
    print(f"speed clip: {len(frames)} frames {frames[0].shape[1]}x{frames[0].shape[0]}, "
          f"decoded in {decode_s:.2f} s with {decoder}")
    latency_and_agreement(frames)
    del frames
    end_to_end(args.clip, args.rounds, args.budget, args.frames)
    print(f"\ntotal {time.perf_counter() - T0:.0f} s")


if __name__ == "__main__":
    main()
