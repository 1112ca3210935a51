"""CenterFace on PyTorch, for GPU workers whose ONNX Runtime cannot use the GPU.

Why this exists: the GPU images our workers run on ship PyTorch with CUDA, but their ONNX
Runtime is the CPU build (no ``onnxruntime-gpu``, no ``CUDAExecutionProvider``). onnx2torch
(installed with ``--no-deps`` next to the worker's own torchvision: with its dependencies pip
would replace the worker's torch) converts the same prepared ONNX graph that ONNX Runtime
runs into a ``torch.nn.Module``, which then runs on CUDA. On CPU the converted module is
about four times slower than ONNX Runtime (43 against 10 ms per 352x640 input), so
:mod:`.confirm` chooses it by itself only where CUDA is available and ONNX Runtime has no CUDA
provider; the ``VEILSCAN_CENTERFACE_BACKEND=torch`` setting pins it anywhere (on CPU too, for
the tests).

The module runs in fp32. cuDNN would run fp32 convolutions in TF32 on Ampere and later GPUs
(PyTorch's default), which moves scores by about 1e-3; each call turns that off for its own
duration (the flag is process-wide, so torch code running on another thread at that moment
also gets plain fp32) to keep the detections those of ONNX Runtime.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator, Sequence

import numpy as np

log = logging.getLogger(__name__)


class TorchCenterFace:
    """A converted CenterFace module on one device; call it like the other backends' forwards.

    ``model_bytes`` is the serialized ONNX model as :func:`.confirm._prepared_centerface`
    gives it (weights out of the graph inputs, batch, height and width symbolic); ``outputs``
    are the output names to return, in that order, as float32 numpy arrays.
    """

    def __init__(self, model_bytes: bytes, outputs: Sequence[str], device: str | None = None,
                 tf32: bool = False) -> None:
        import onnx
        import torch
        from onnx2torch import convert

        model = onnx.load_from_string(model_bytes)
        names = [o.name for o in model.graph.output]
        self._order = [names.index(n) for n in outputs]
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.module = convert(model).to(self.device).eval()
        self._tf32 = tf32
        self._lock = threading.Lock()  # one call at a time: the finder's threads share it

    @contextlib.contextmanager
    def _precision(self) -> Iterator[None]:
        import torch

        cudnn = torch.backends.cudnn
        if self.device.type != "cuda" or self._tf32:
            yield
            return
        try:
            before = cudnn.allow_tf32
            cudnn.allow_tf32 = False
        except RuntimeError as exc:  # the new fp32_precision API was used: leave it as set
            log.debug("CenterFace on torch keeps the process's TF32 setting: %s", exc)
            yield
            return
        try:
            yield
        finally:
            cudnn.allow_tf32 = before

    def __call__(self, blob: np.ndarray) -> list[np.ndarray]:
        import torch

        with self._lock, self._precision(), torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(blob, dtype=np.float32)).to(self.device)
            out = self.module(x)
            out = [out] if isinstance(out, torch.Tensor) else list(out)
            return [out[i].float().cpu().numpy() for i in self._order]
