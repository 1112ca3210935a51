"""CenterFace quantised to int8 for CPU workers (tasks/finder/centerface_int8.py), for settled
shots' whole-frame passes by default and every one on request:
built from the shipped model and scikit-image's images alone, kept in the table store, close
to the float32 network on real redacted faces, and keyed into the scan ledger."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import onnx
import onnxruntime as ort
import pytest

from veilscan.tasks.finder import centerface_int8 as q8
from veilscan.tasks.finder import confirm
from veilscan.tasks.obfuscate import Recipe, apply


@pytest.fixture(scope="module")
def int8_model() -> bytes:
    """Built once for the module, through the store the test session uses (conftest)."""
    model = q8.int8_centerface(confirm._prepared_centerface(), confirm.centerface_path())
    assert model is not None, "the int8 model was not built"
    return model


def _heat(model: bytes):  # noqa: ANN202
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda rgb: session.run(["537"], {name: confirm.network_input(rgb)})[0][0, 0]


def test_the_stem_and_the_neck_stay_float32() -> None:
    """Kept in float32: from the input to the first 24-channel convolution (the stem and the
    first two MobileNetV2 blocks: quantised, they carried most of the score's error) and from
    the first transposed convolution on (the upsampling neck and the heads: quantised, the
    boxes moved by 5% of the face's width for one face in ten, against 3%)."""
    graph = onnx.load_from_string(confirm._prepared_centerface())
    names = q8._kept_float(graph)
    nodes = [n.name for n in graph.graph.node]
    assert len(set(nodes)) == len(nodes)
    ops = [n.op_type for n in graph.graph.node]
    stem = [n for n in names if nodes.index(n) < ops.index("ConvTranspose")]
    assert [ops[nodes.index(n)] for n in stem].count("Conv") == 6
    assert names[len(stem):] == nodes[ops.index("ConvTranspose"):]
    assert ops.count("ConvTranspose") == 3


def test_the_int8_graph_is_quantised_and_kept_in_the_store(
        int8_model: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    ops = {n.op_type for n in onnx.load_from_string(int8_model).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    assert len(int8_model) < 0.4 * len(confirm._prepared_centerface())  # int8 weights

    def no_build(model: bytes) -> bytes:
        raise AssertionError("rebuilt although the store holds it")

    monkeypatch.setattr(q8, "quantize", no_build)
    assert q8.int8_centerface(confirm._prepared_centerface(),
                              confirm.centerface_path()) == int8_model


def test_a_failed_build_keeps_float32(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("VEILSCAN_CACHE_DIR", str(tmp_path / "empty-store"))

    def broken(model: bytes) -> bytes:
        raise RuntimeError("no quantiser here")

    monkeypatch.setattr(q8, "quantize", broken)
    assert q8.int8_centerface(confirm._prepared_centerface(), confirm.centerface_path()) is None


def test_int8_only_where_asked_and_exact(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(q8.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(q8, "_has_vnni", lambda: True)
    monkeypatch.delenv(q8.PRECISION_ENV, raising=False)
    assert q8.precision() == "settled"  # settled shots' passes unless asked otherwise
    for asked in q8.PRECISIONS:
        monkeypatch.setenv(q8.PRECISION_ENV, asked.upper())
        assert q8.precision() == asked
    monkeypatch.setattr(q8, "_has_vnni", lambda: False)
    assert q8.precision() == "float32"  # int8 kernels could saturate here
    monkeypatch.setattr(q8.platform, "machine", lambda: "aarch64")
    assert q8.precision() == "int8"
    monkeypatch.setenv(q8.PRECISION_ENV, "fp16")
    with pytest.raises(ValueError, match="VEILSCAN_CENTERFACE_PRECISION='fp16'"):
        q8.precision()


def test_which_passes_run_int8(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VEILSCAN_CENTERFACE_BACKEND", raising=False)
    monkeypatch.setattr(confirm, "_torch_preferred", lambda: False)
    cuda = "CUDAExecutionProvider" in ort.get_available_providers()
    for mode, settled, other in (("float32", False, False), ("settled", True, False),
                                 ("int8", True, True)):
        monkeypatch.setattr(confirm, "precision", lambda mode=mode: mode)
        assert confirm.whole_frame_int8(settled=True) == (settled and not cuda)
        assert confirm.whole_frame_int8(settled=False) == (other and not cuda)
    monkeypatch.setenv("VEILSCAN_CENTERFACE_BACKEND", "opencv")
    assert not confirm.whole_frame_int8(settled=True)


def test_the_ledger_keys_on_the_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    from veilscan.tasks.finder import DETECTOR_VERSION
    from veilscan.tasks.inspect import versions

    monkeypatch.delenv("VEILSCAN_CENTERFACE_BACKEND", raising=False)
    monkeypatch.setattr(confirm, "_torch_preferred", lambda: False)
    monkeypatch.setattr(confirm, "precision", lambda: "float32")
    assert versions()["detector"] == DETECTOR_VERSION
    cuda = "CUDAExecutionProvider" in ort.get_available_providers()
    for mode, mark in (("settled", "+int8s"), ("int8", "+int8")):
        monkeypatch.setattr(confirm, "precision", lambda mode=mode: mode)
        # CUDA runs float32
        assert versions()["detector"] == DETECTOR_VERSION + ("" if cuda else mark)
    monkeypatch.setenv("VEILSCAN_CENTERFACE_BACKEND", "opencv")
    assert versions()["detector"] == DETECTOR_VERSION


def test_whole_frame_passes_run_int8_and_crops_float32(monkeypatch: pytest.MonkeyPatch) -> None:
    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("a CUDA provider runs float32")
    built: list[int] = []

    def int8_centerface(model: bytes, source: Path) -> bytes:
        built.append(len(model))
        return model

    monkeypatch.delenv("VEILSCAN_CENTERFACE_BACKEND", raising=False)
    monkeypatch.setattr(confirm, "precision", lambda: "settled")
    monkeypatch.setattr(confirm, "int8_centerface", int8_centerface)
    confirm._onnxruntime_int8_forward.cache_clear()
    try:
        fast = confirm._forward("onnxruntime", int8=True)
        assert fast is not None and fast is not confirm._forward("onnxruntime")
        assert confirm._forward("onnxruntime", int8=False) is confirm._onnxruntime_forward()
    finally:
        confirm._onnxruntime_int8_forward.cache_clear()
    assert built == [len(confirm._prepared_centerface())]


RECIPES = (None, Recipe("gaussian_blur", 3), Recipe("gaussian_blur", 6),
           Recipe("box_blur", 7), Recipe("mosaic", 10), Recipe("motion_blur", 15))


def _frames(path: Path, every: int, side: int):  # noqa: ANN202
    """Every ``every``-th frame, downscaled to ``side`` px (as the finder's passes see it)."""
    with av.open(str(path)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i % every == 0:
                rgb = frame.to_ndarray(format="rgb24")
                f = min(1.0, side / max(rgb.shape[:2]))
                yield cv2.resize(rgb, (round(rgb.shape[1] * f), round(rgb.shape[0] * f)),
                                 interpolation=cv2.INTER_AREA)


def test_scores_on_real_redacted_faces_stay_close_to_float32(
        int8_model: bytes, shared_media: Path) -> None:
    """Faces of the shared footage (none in the calibration set), clear and under six
    redactions: the talking head at the finder's 640 px pass and at 320 px, the two people of
    the head-pose GIF at 480 px. Each face's peak score moves by little against float32, and
    off the faces nothing new reaches the detector's threshold. Measured: the 90th percentile
    of the move 0.02-0.05 per clip, the largest 0.13; with the stem quantised too, 0.04-0.16
    and 0.31."""
    fp32, int8 = _heat(confirm._prepared_centerface()), _heat(int8_model)
    moves, new_off_face = [], 0
    clips = (("talking_head_608x1080.mp4", 60, 640), ("talking_head_608x1080.mp4", 60, 320),
             ("head-pose-face-detection-female-and-male.gif", 5, 480))
    for name, every, side in clips:
        for rgb in _frames(shared_media / name, every, side):
            faces = [tuple(max(0, int(v)) for v in d[:4])
                     for d in confirm.detect_faces(rgb, 0.5, backend="opencv") if d[2] >= 12]
            assert faces, f"{name}: a frame without a face to redact"
            for recipe in RECIPES:
                img = rgb.copy()
                for box in faces:
                    img = img if recipe is None else apply(img, box, recipe)
                a, b = fp32(img), int8(img)
                sy, sx = a.shape[0] / img.shape[0], a.shape[1] / img.shape[1]
                on_faces = np.zeros(a.shape, bool)
                for x, y, w, h in faces:
                    on = np.zeros(a.shape, bool)
                    on[int(y * sy):int((y + h) * sy) + 1, int(x * sx):int((x + w) * sx) + 1] = 1
                    moves.append(abs(float(a[on].max()) - float(b[on].max())))
                    on_faces |= on
                new_off_face += int(((b > 0.3) & ~on_faces & (a <= 0.3)).sum())
    moves_a = np.array(moves)
    assert len(moves) > 250
    worst = np.round(np.sort(moves_a)[-8:], 3)
    assert np.percentile(moves_a, 90) < 0.05, worst
    assert moves_a.max() < 0.2, worst
    assert new_off_face == 0
