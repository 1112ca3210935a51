"""Redaction recipes: the ways archives hid faces, applied to a region of a frame.

Used to build the demo archive, the test clips, the finder benchmark and the attack harness's
parrot gallery, so every part of veilscan redacts faces the same, documented way.
All sizes are pixels; frames are ``H x W x 3`` uint8 arrays (RGB) or ``H x W`` grey.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import cv2
import numpy as np

Shape = Literal["rect", "ellipse"]
Method = Literal["gaussian_blur", "box_blur", "motion_blur", "mosaic", "solid", "eye_bar"]


@dataclass(frozen=True)
class Recipe:
    """How one face was redacted.

    ``strength`` is the Gaussian sigma (gaussian_blur), the kernel width (box_blur), the
    streak length (motion_blur) or the block size (mosaic), in pixels; ignored for solid
    and eye_bar.
    ``grid_origin`` anchors the mosaic grid in frame coordinates (a fixed grid over a moving
    face is what shift-and-add attacks exploit). ``feather_px`` softens the mask edge: inside
    the region only, fading to about one half at its edge (``feather_outward`` False), or
    centred on the edge, fading over the picture beyond it as well (True: a whole-frame mask
    blurred, as many editors feather; the redaction then reaches ``3 * feather_px`` past
    the region, at ever lower weight).
    ``eye_bar`` is a partial cover: a ``color`` fill over the band ``(top, height)`` of the
    box (fractions of its height) across the box's full width; the default band is
    ``attack.conditions.BANDS["eyes"]`` (0.28 to 0.52), the calibration grid's eye bar.
    """

    method: Method
    strength: float = 8.0
    shape: Shape = "rect"
    feather_px: float = 0.0
    feather_outward: bool = False
    color: tuple[int, int, int] = (0, 0, 0)
    motion_angle_deg: float = 0.0
    grid_origin: tuple[int, int] = (0, 0)
    band: tuple[float, float] = (0.28, 0.24)


def gaussian_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur with a kernel of +-3 sigma."""
    k = int(2 * round(3 * sigma) + 1)
    return cv2.GaussianBlur(img, (k, k), sigmaX=sigma, sigmaY=sigma,
                            borderType=cv2.BORDER_REFLECT101)


def box_blur(img: np.ndarray, width: int) -> np.ndarray:
    """Box (mean) blur of ``width x width`` pixels."""
    width = max(1, int(round(width)))
    return cv2.blur(img, (width, width), borderType=cv2.BORDER_REFLECT101)


def motion_blur(img: np.ndarray, length: float, angle_deg: float = 0.0) -> np.ndarray:
    """Linear motion blur: a streak of ``length`` pixels at ``angle_deg`` (0 = horizontal)."""
    n = max(1, int(round(length)))
    size = n if n % 2 else n + 1
    kernel = np.zeros((size, size), np.float32)
    kernel[size // 2, (size - n) // 2:(size - n) // 2 + n] = 1.0
    rot = cv2.getRotationMatrix2D((size / 2 - 0.5, size / 2 - 0.5), angle_deg, 1.0)
    kernel = cv2.warpAffine(kernel, rot, (size, size))
    kernel /= max(kernel.sum(), 1e-6)
    return cv2.filter2D(img, -1, kernel, borderType=cv2.BORDER_REFLECT101)


def mosaic(img: np.ndarray, block: int, origin: tuple[int, int] = (0, 0)) -> np.ndarray:
    """Pixelate: every ``block x block`` cell of a grid anchored at ``origin`` takes its mean."""
    block = max(1, int(round(block)))
    h, w = img.shape[:2]
    ox, oy = origin[0] % block, origin[1] % block
    pad_y0, pad_x0 = (block - oy) % block, (block - ox) % block
    ny = (pad_y0 + h + block - 1) // block
    nx = (pad_x0 + w + block - 1) // block
    pad = ((pad_y0, ny * block - h - pad_y0), (pad_x0, nx * block - w - pad_x0))
    pad = pad + ((0, 0),) * (img.ndim - 2)
    padded = np.pad(img.astype(np.float32), pad, mode="edge")
    cells = padded.reshape(ny, block, nx, block, *img.shape[2:]).mean(axis=(1, 3))
    big = np.repeat(np.repeat(cells, block, axis=0), block, axis=1)
    out = big[pad_y0:pad_y0 + h, pad_x0:pad_x0 + w]
    return np.clip(np.rint(out), 0, 255).astype(img.dtype)


def region_mask(h: int, w: int, shape: Shape, feather_px: float = 0.0) -> np.ndarray:
    """A float mask in [0, 1] of ``h x w``: a rectangle or an inscribed ellipse."""
    if shape == "rect":
        mask = np.ones((h, w), np.float32)
    else:
        mask = np.zeros((h, w), np.float32)
        cv2.ellipse(mask, (w // 2, h // 2), (max(1, w // 2), max(1, h // 2)), 0, 0, 360, 1.0, -1)
    if feather_px > 0:
        # Outside the region counts as unredacted, so the edge fades to about one half.
        mask = _soften(mask, feather_px)
    return mask


def _soften(mask: np.ndarray, feather_px: float) -> np.ndarray:
    """``mask`` blurred by a Gaussian of ``feather_px`` (+-3 sigma), zero beyond its border."""
    k = int(2 * round(3 * feather_px) + 1)
    return cv2.GaussianBlur(mask, (k, k), feather_px, borderType=cv2.BORDER_CONSTANT)


def _blend(frame: np.ndarray, origin: tuple[int, int], done: np.ndarray,
           mask: np.ndarray) -> np.ndarray:
    """A copy of ``frame`` with ``done`` laid over it at ``origin`` (x, y), weighted by
    ``mask`` (same height and width as ``done``)."""
    x0, y0 = origin
    h, w = mask.shape
    if frame.ndim == 3:
        mask = mask[..., None]
    out = frame.copy()
    region = out[y0:y0 + h, x0:x0 + w].astype(np.float32)
    out[y0:y0 + h, x0:x0 + w] = np.clip(np.rint(region * (1 - mask) + done * mask), 0,
                                        255).astype(frame.dtype)
    return out


def apply(frame: np.ndarray, box: tuple[int, int, int, int], recipe: Recipe) -> np.ndarray:
    """Return a copy of ``frame`` with the region ``(x, y, w, h)`` redacted by ``recipe``.

    Blurs are computed over a margin around the box so the region is filtered as a real
    editor would (not from a zero-padded crop); the mask limits where the result shows.
    """
    x, y, w, h = (int(v) for v in box)
    if recipe.method == "eye_bar":  # a solid fill over a band of the face box
        top, height = recipe.band
        bar = (x, y + int(round(top * h)), w, max(1, int(round(height * h))))
        return apply(frame, bar, replace(recipe, method="solid"))
    fh, fw = frame.shape[:2]
    if recipe.feather_outward and recipe.feather_px > 0:
        return _apply_outward(frame, (x, y, w, h), recipe)
    x0, y0, x1, y1 = max(0, x), max(0, y), min(fw, x + w), min(fh, y + h)
    if x1 <= x0 or y1 <= y0:
        return frame.copy()
    margin = int(3 * max(recipe.strength, 1)) + 2
    mx0, my0 = max(0, x0 - margin), max(0, y0 - margin)
    mx1, my1 = min(fw, x1 + margin), min(fh, y1 + margin)
    patch = frame[my0:my1, mx0:mx1]
    if recipe.method == "gaussian_blur":
        done = gaussian_blur(patch, recipe.strength)
    elif recipe.method == "box_blur":
        done = box_blur(patch, int(recipe.strength))
    elif recipe.method == "motion_blur":
        done = motion_blur(patch, recipe.strength, recipe.motion_angle_deg)
    elif recipe.method == "mosaic":
        gx, gy = recipe.grid_origin
        done = mosaic(patch, int(recipe.strength), (gx - mx0, gy - my0))
    elif recipe.method == "solid":
        done = np.empty_like(patch)
        done[...] = recipe.color if patch.ndim == 3 else recipe.color[0]
    else:  # pragma: no cover - Literal guards this
        raise ValueError(f"unknown redaction method {recipe.method!r}")
    done = done[y0 - my0:y1 - my0, x0 - mx0:x1 - mx0]
    return _blend(frame, (x0, y0), done,
                  region_mask(y1 - y0, x1 - x0, recipe.shape, recipe.feather_px))


def _apply_outward(frame: np.ndarray, box: tuple[int, int, int, int],
                   recipe: Recipe) -> np.ndarray:
    """``apply`` with the feather centred on the region's edge: the hard-edged region's mask
    is blurred over the frame, so the redaction fades in over +-3 sigma across the edge."""
    x, y, w, h = box
    fh, fw = frame.shape[:2]
    reach = int(np.ceil(3 * recipe.feather_px))
    gx0, gy0 = max(0, x - reach), max(0, y - reach)
    gx1, gy1 = min(fw, x + w + reach), min(fh, y + h + reach)
    if gx1 <= gx0 or gy1 <= gy0:
        return frame.copy()
    hard = replace(recipe, feather_px=0.0, feather_outward=False, shape="rect")
    done = apply(frame, (gx0, gy0, gx1 - gx0, gy1 - gy0), hard)[gy0:gy1, gx0:gx1]
    # The mask on a canvas around the whole region (frame edges ignored: a region running
    # off the frame stays whole up to the edge), blurred, then cut to the frame.
    canvas = np.zeros((h + 2 * reach, w + 2 * reach), np.float32)
    canvas[reach:reach + h, reach:reach + w] = region_mask(h, w, recipe.shape)
    canvas = _soften(canvas, recipe.feather_px)
    ox, oy = x - reach, y - reach
    return _blend(frame, (gx0, gy0), done, canvas[gy0 - oy:gy1 - oy, gx0 - ox:gx1 - ox])
