"""Paint solid rectangles into decoded video frames, in the frame's own pixel format.

Re-redaction paints straight into the decoded YUV planes instead of going through RGB: pixels
outside the boxes then reach the encoder exactly as the decoder produced them (no colour
round trip), and only the encoder's own loss touches them. Boxes are snapped outwards to the
chroma grid so no chroma sample at a box edge still mixes in the face underneath.
All coordinates are pixels of the coded (unrotated) frame, as the finder reports them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import av
import numpy as np

Rect = tuple[int, int, int, int]
"""``(x, y, w, h)`` in pixels of the coded frame."""

# Luma weights (Kr, Kb) per AVColorSpace value. Unspecified (2) and unknown fall back to
# BT.601, which is what swscale (and so every RGB decode in veilscan) assumes for them.
_KR_KB: dict[int, tuple[float, float]] = {
    1: (0.2126, 0.0722),  # BT.709
    4: (0.30, 0.11),  # FCC
    5: (0.299, 0.114),  # BT.470BG
    6: (0.299, 0.114),  # SMPTE 170M
    7: (0.212, 0.087),  # SMPTE 240M
    9: (0.2627, 0.0593),  # BT.2020 non-constant luminance
    10: (0.2627, 0.0593),  # BT.2020 constant luminance (approximated as NCL)
}
_BT601 = (0.299, 0.114)
_FULL_RANGE = 2  # AVCOL_RANGE_JPEG


def rgb_to_ycbcr(color: tuple[int, int, int], colorspace: int = 2, full_range: bool = False,
                 bits: int = 8) -> tuple[int, int, int]:
    """Code values ``(Y, Cb, Cr)`` of an 8-bit RGB colour at ``bits`` per sample.

    ``colorspace`` is FFmpeg's AVColorSpace number (1 = BT.709, 5/6 = BT.601, 9 = BT.2020);
    limited range puts black at 16 and white at 235 (scaled by ``2 ** (bits - 8)``).
    """
    kr, kb = _KR_KB.get(int(colorspace), _BT601)
    r, g, b = (min(max(float(c), 0.0), 255.0) / 255.0 for c in color)
    y = kr * r + (1.0 - kr - kb) * g + kb * b
    pb = (b - y) / (2.0 * (1.0 - kb))
    pr = (r - y) / (2.0 * (1.0 - kr))
    top = (1 << bits) - 1
    mid = 1 << (bits - 1)
    if full_range:
        codes = (y * top, mid + pb * top, mid + pr * top)
    else:
        scale = 1 << (bits - 8)
        codes = ((16 + 219 * y) * scale, mid + 224 * pb * scale, mid + 224 * pr * scale)
    return tuple(int(min(max(round(c), 0), top)) for c in codes)  # type: ignore[return-value]


def _paintable_planar(fmt: av.VideoFormat) -> bool:
    """Planar YUV / grey with one component per plane, native little-endian samples."""
    if fmt.is_rgb or fmt.has_palette or fmt.is_big_endian or fmt.is_bayer:
        return False
    comps = fmt.components
    if len({c.plane for c in comps}) != len(comps):
        return False  # semi-planar (nv12) or packed (yuyv422)
    return all(c.bits <= 16 for c in comps)


def snap_to_chroma_grid(rect: Rect, shift_x: int, shift_y: int, width: int, height: int) -> Rect:
    """Grow ``rect`` outwards so its edges fall on the chroma sample grid, then clip."""
    x, y, w, h = rect
    gx, gy = 1 << shift_x, 1 << shift_y
    x0, y0 = (x // gx) * gx, (y // gy) * gy
    x1 = min(width, -(-(x + w) // gx) * gx)
    y1 = min(height, -(-(y + h) // gy) * gy)
    return x0, y0, max(0, x1 - x0), max(0, y1 - y0)


def _plane_array(plane: av.video.plane.VideoPlane, bytes_per_sample: int) -> np.ndarray:
    dtype = np.uint8 if bytes_per_sample == 1 else np.dtype("<u2")
    flat = np.frombuffer(plane, dtype=dtype)
    stride = plane.line_size // bytes_per_sample
    return flat[: stride * plane.height].reshape(plane.height, stride)


def _paint_planes(frame: av.VideoFrame, rects: Sequence[Rect],
                  color: tuple[int, int, int]) -> None:
    fmt = frame.format
    comps = fmt.components
    luma_bits = comps[0].bits
    full = frame.color_range == _FULL_RANGE or fmt.name.startswith("yuvj")
    y_code, cb_code, cr_code = rgb_to_ycbcr(color, frame.colorspace, full, luma_bits)
    frame.make_writable()  # decoded buffers are shared with the decoder's reference frames
    planes = frame.planes
    # Not ``is_chroma``: PyAV 18 returns the chroma shift there, 0 (falsy) for 4:4:4.
    chroma = [c for c in comps if not c.is_luma and not c.is_alpha]
    shift_x = shift_y = 0
    if chroma:
        cplane = planes[chroma[0].plane]
        shift_x = round(math.log2(frame.width / cplane.width))
        shift_y = round(math.log2(frame.height / cplane.height))
    for rect in rects:
        x, y, w, h = snap_to_chroma_grid(rect, shift_x, shift_y, frame.width, frame.height)
        if w <= 0 or h <= 0:
            continue
        for i, comp in enumerate(comps):
            plane = planes[comp.plane]
            arr = _plane_array(plane, 1 if comp.bits <= 8 else 2)
            if comp.is_alpha:
                value = (1 << comp.bits) - 1
            elif comp.is_luma:
                value = y_code
            else:
                value = cb_code if i == 1 else cr_code
            sx, sy = (0, 0) if comp.is_luma or comp.is_alpha else (shift_x, shift_y)
            arr[y >> sy:(y + h) >> sy, x >> sx:(x + w) >> sx] = value


# Packed / semi-planar layouts and the planar layout that holds the same samples.
_PLANAR_EQUIVALENT = {
    "nv12": "yuv420p", "nv21": "yuv420p", "nv16": "yuv422p", "nv24": "yuv444p",
    "yuyv422": "yuv422p", "uyvy422": "yuv422p", "p010le": "yuv420p10le",
    "p016le": "yuv420p16le",
}


def _with_props_of(out: av.VideoFrame, frame: av.VideoFrame) -> av.VideoFrame:
    out.pts = frame.pts
    out.duration = frame.duration
    if frame.time_base is not None:
        out.time_base = frame.time_base
    out.colorspace = frame.colorspace
    out.color_range = frame.color_range
    return out


def _paint_rgb(frame: av.VideoFrame, rects: Sequence[Rect],
               color: tuple[int, int, int]) -> av.VideoFrame:
    rgb = frame.to_ndarray(format="rgb24")
    for x, y, w, h in rects:
        rgb[y:y + h, x:x + w] = color
    return _with_props_of(av.VideoFrame.from_ndarray(rgb, format="rgb24"), frame)


def paint_solid(frame: av.VideoFrame, rects: Sequence[Rect],
                color: tuple[int, int, int] = (0, 0, 0)) -> av.VideoFrame:
    """Return ``frame`` with every rect filled with ``color`` (RGB, 0-255).

    Planar YUV and grey frames are painted in place (after making their buffers private).
    Packed or semi-planar YUV (nv12, yuyv422, ...) is first moved, sample for sample, into
    its planar layout (converting through RGB would smear chroma across the box edge); RGB
    frames are painted as rgb24. So the result may be in a different pixel format than
    ``frame``; the caller converts it to what its encoder wants. Rects must be clipped.
    """
    if not rects:
        return frame
    fmt = frame.format
    if not _paintable_planar(fmt) and not fmt.is_rgb:
        planar = _PLANAR_EQUIVALENT.get(fmt.name)
        if planar is None:
            planar = "yuv444p" if max(c.bits for c in fmt.components) <= 8 else "yuv444p16le"
        frame = _with_props_of(frame.reformat(format=planar), frame)
        fmt = frame.format
    if _paintable_planar(fmt):
        _paint_planes(frame, rects, color)
        return frame
    return _paint_rgb(frame, rects, color)
