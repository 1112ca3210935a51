"""CenterFace in int8 for the finder's whole-frame passes on CPU: a faster scan.

CenterFace's whole-frame passes are the largest single cost of a CPU scan (about 0.8 of the
4.6 CPU-s the bench's speed clip takes: 40 ms a 640 px pass). ONNX Runtime's static
quantiser turns the shipped float32 graph into int8 (QDQ; weights per channel, activation
ranges from a calibration set): about 20 ms a pass on a CPU with VNNI.

The calibration set is made here, from images scikit-image ships, so that nothing but
installed packages is needed: the astronaut's face clear and under our own redaction
recipes, at four sizes and small on wide scenes, and LFW face crops. Two parts of the graph
stay float32, for little cost:

* the stem and the first two MobileNetV2 blocks (up to the first 24-channel output):
  quantised, they carried most of the error of the scores (the peak at a face off by up
  to 0.56 and by 0.18 at the 95th percentile, against 0.17 and 0.05 with them kept, on
  768 redacted and clear faces of the shared footage);
* the upsampling neck and the heads (from the first transposed convolution on): quantised,
  the boxes moved by 5% of the face's width for one face in ten, against 3%.

Zoomed crops of a candidate (``confirm.face_in_region``) keep the float32 network: there a
score near the threshold decides, and they cost little.

Built once per machine (about 4 s) and kept in the finder's table store
(:mod:`.kernel_cache`), keyed by the builder, the source model and ONNX Runtime's version:
the build is deterministic, so a stored model and a fresh one give the same findings.

Which passes run it is ``VEILSCAN_CENTERFACE_PRECISION``'s choice (:func:`precision`):

* ``settled``, the default: the passes of settled shots (a followed face and nothing new for
  ten scans, one pass every 48 frames), which look for faces entering the shot. A score
  moved by a few hundredths there only delays a new face by a pass. On the bench's speed
  clip (600 frames, 12 of its 18 passes settled, 26.5 ms a pass against 43 ms): about 0.2
  CPU-s less; ``bench/finder_shots.py``'s 18 whole shots on the same bytes: 10567 of 10800
  face frames boxed against 10564, 180 of 180 dropouts either way, 12 false dropout frames
  against 11. The labelled bench's clips (14-60 frames) never settle.
* ``int8``: every whole-frame pass, about 8% less CPU again, but the passes that begin and
  place tracks move their boxes by a few pixels and the finder's readings downstream with
  them: on ``bench/finder.py``'s cached clips the in-scope dropout recall went from 97/99 to
  95/99 and over all clips from 100/106 to 96/106 (recall, precision and types in scope
  unchanged). A missed dropout is a face shown.
* ``float32``: none.

The scan ledger keys on the choice (:func:`veilscan.tasks.finder.detector_version`).

Used on ONNX Runtime's CPU provider only, and only where int8 arithmetic is exact: on x86
without VNNI, ONNX Runtime's int8 kernels can saturate (``pmaddubsw``), so those CPUs keep
float32.
"""

from __future__ import annotations

import functools
import logging
import os
import platform
import tempfile
from pathlib import Path

import cv2
import numpy as np

from veilscan.tasks.finder.kernel_cache import cached_table

log = logging.getLogger(__name__)

PRECISION_ENV = "VEILSCAN_CENTERFACE_PRECISION"
_FLOAT_UNTIL_CHANNELS = 24
"""The stem: nodes up to the first convolution with this many outputs stay float32."""


PRECISIONS = ("float32", "settled", "int8")
"""What ``VEILSCAN_CENTERFACE_PRECISION`` may ask for: float32 everywhere; int8 for the
whole-frame passes of settled shots (the default); int8 for every whole-frame pass."""


def precision() -> str:
    """The whole-frame passes' precision asked for (:data:`PRECISIONS`), "float32" where
    this CPU cannot run int8 exactly (see the module's notes)."""
    asked = os.environ.get(PRECISION_ENV, "settled").strip().lower()
    if asked not in PRECISIONS:
        raise ValueError(f"{PRECISION_ENV}={asked!r}: expected one of {', '.join(PRECISIONS)}")
    if asked == "float32":
        return asked
    if platform.machine().lower() not in ("x86_64", "amd64", "i686", "x86"):
        return asked  # ARM's int8 dot products do not saturate
    return asked if _has_vnni() else "float32"


@functools.cache
def _has_vnni() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False  # no way to tell: float32 is always right
    return "avx512_vnni" in flags or "avx_vnni" in flags


def calibration_images() -> list[np.ndarray]:
    """RGB images for the activation ranges: faces clear and redacted, large and small."""
    import skimage.data as sd

    from veilscan.tasks.obfuscate import Recipe, apply

    recipes = [None, Recipe("gaussian_blur", 3), Recipe("gaussian_blur", 8),
               Recipe("box_blur", 9), Recipe("mosaic", 8), Recipe("motion_blur", 15),
               Recipe("solid")]
    astronaut = sd.astronaut()
    face = (165, 30, 95, 125)  # the astronaut's face (x, y, w, h) in the 512 px image
    faces = [astronaut if r is None else apply(astronaut.copy(), face, r) for r in recipes]
    out = [_fit(img, side) for side in (640, 384, 256, 140) for img in faces]
    rng = np.random.default_rng(0)
    scenes = [sd.coffee(), sd.chelsea(), sd.rocket(), np.dstack([sd.camera()] * 3), astronaut]
    for scene in scenes:  # small faces on a wide picture, as whole-frame passes see them
        canvas = cv2.resize(scene, (640, 360), interpolation=cv2.INTER_AREA)
        for img in faces:
            f = rng.uniform(0.25, 0.8)
            small = cv2.resize(img[0:200, 120:300], None, fx=f, fy=f,
                               interpolation=cv2.INTER_AREA)
            y = int(rng.integers(0, 360 - small.shape[0]))
            x = int(rng.integers(0, 640 - small.shape[1]))
            canvas[y:y + small.shape[0], x:x + small.shape[1]] = small
        out.append(canvas)
    lfw = (sd.lfw_subset() * 255).astype(np.uint8)  # 200 grey 25 x 25 face crops
    for k in range(0, 200, 40):
        tile = np.vstack([np.hstack(list(lfw[k + 8 * i:k + 8 * i + 8])) for i in range(5)])
        big = cv2.resize(tile, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
        out.append(np.dstack([big] * 3))
    return out


def _fit(img: np.ndarray, side: int) -> np.ndarray:
    h, w = img.shape[:2]
    f = side / max(h, w)
    return cv2.resize(img, (max(8, round(w * f)), max(8, round(h * f))),
                      interpolation=cv2.INTER_AREA)


def quantize(model: bytes) -> bytes:
    """The int8 graph of ``model`` (the prepared float32 CenterFace, dynamic input size)."""
    import onnx
    import onnxruntime as ort
    from onnx import version_converter
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from veilscan.tasks.finder.confirm import network_input  # it imports this module

    ort.set_default_logger_severity(3)  # the pre-processing lists every unused initializer
    with tempfile.TemporaryDirectory() as tmp:
        src, pre, out = (Path(tmp) / n for n in ("src.onnx", "pre.onnx", "int8.onnx"))
        # Per-channel scales need opset 13's DequantizeLinear; the file is opset 9.
        onnx.save(version_converter.convert_version(onnx.load_from_string(model), 13), src)
        quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
        graph = onnx.load(pre)
        keep_float = _kept_float(graph)
        onnx.save(graph, pre)
        name = graph.graph.input[0].name
        blobs = iter([network_input(img) for img in calibration_images()])

        class Reader(CalibrationDataReader):
            def get_next(self) -> dict[str, np.ndarray] | None:
                b = next(blobs, None)
                return None if b is None else {name: b}

        quantize_static(str(pre), str(out), Reader(), quant_format=QuantFormat.QDQ,
                        per_channel=True, activation_type=QuantType.QUInt8,
                        weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax,
                        nodes_to_exclude=keep_float)
        return out.read_bytes()


def _kept_float(graph) -> list[str]:  # noqa: ANN001 (an onnx.ModelProto, imported lazily)
    """Name every node (the file's are empty) and return the names of those that stay float32:
    the stem (up to the first convolution with ``_FLOAT_UNTIL_CHANNELS`` outputs) and the
    neck and heads (from the first transposed convolution on)."""
    dims = {t.name: list(t.dims) for t in graph.graph.initializer}
    nodes = graph.graph.node
    for i, node in enumerate(nodes):
        node.name = f"{node.op_type}_{i}"
    stem = next((i for i, n in enumerate(nodes) if n.op_type == "Conv"
                 and dims.get(n.input[1], [0])[0] == _FLOAT_UNTIL_CHANNELS), None)
    neck = next((i for i, n in enumerate(nodes) if n.op_type == "ConvTranspose"), None)
    if stem is None or neck is None or neck <= stem:
        raise ValueError("CenterFace's graph is not the one this quantiser was tuned on")
    return [n.name for n in [*nodes[:stem + 1], *nodes[neck:]]]


def int8_centerface(model: bytes, source: Path) -> bytes | None:
    """The int8 graph of ``model`` (read from ``source``), from the store or built now; None
    if quantising fails (the caller keeps float32)."""
    try:
        import onnxruntime as ort

        table = cached_table(f"centerface-int8-ort{ort.__version__}", (1,),
                             (Path(__file__), source),
                             lambda: np.frombuffer(quantize(model), np.uint8))
    except Exception as exc:  # an ONNX Runtime without the quantiser, an odd graph
        log.warning("CenterFace stays float32: int8 model not built (%r)", exc)
        return None
    return table.tobytes()
