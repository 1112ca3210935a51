"""The demo archive: a handful of clips whose redactions range from useless to safe.

Built from scikit-image's shipped images by :mod:`veilscan.footage`, so ``make demo`` needs
nothing but installed packages. Each clip says what a correct scan should report.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from veilscan.footage import (
    Camera,
    RenderedClip,
    SceneFace,
    astronaut_scene,
    lineup_scene,
    render_clip,
)
from veilscan.tasks.obfuscate import Recipe


@dataclass(frozen=True)
class DemoClip:
    """One demo clip: its key in the archive, what was done, what the scan should find."""

    key: str
    description: str
    recipe: Recipe | None
    dropout_frames: tuple[int, ...] = ()
    scene: str = "astronaut"
    expect: str = ""


DEMO_CLIPS: tuple[DemoClip, ...] = (
    DemoClip("studio/blur-sigma3.mp4", "Gaussian blur, sigma 3 px (weak)",
             Recipe("gaussian_blur", 3.0, shape="ellipse"), expect="high or critical risk"),
    DemoClip("studio/blur-sigma12.mp4", "Gaussian blur, sigma 12 px (strong)",
             Recipe("gaussian_blur", 12.0), expect="lower risk than sigma 3"),
    DemoClip("studio/mosaic-8px.mp4", "mosaic, 8 px blocks",
             Recipe("mosaic", 8), expect="mosaic track"),
    DemoClip("studio/solid-box.mp4", "solid black box",
             Recipe("solid", color=(0, 0, 0)), expect="solid track, low risk"),
    DemoClip("studio/blur-dropout.mp4", "Gaussian blur sigma 8 px; frame 30 left unredacted",
             Recipe("gaussian_blur", 8.0), dropout_frames=(30,), expect="critical (dropout)"),
    DemoClip("studio/clean.mp4", "no redaction at all", None, expect="no tracks"),
    DemoClip("crowd/lineup-boxblur.mp4", "three low-res faces, the middle one box-blurred 9 px",
             Recipe("box_blur", 9), scene="lineup", expect="one box-blur track"),
)


def render_demo_clip(clip: DemoClip, path: Path) -> RenderedClip:
    if clip.scene == "lineup":
        scene, boxes = lineup_scene()
        faces = [SceneFace(b, clip.recipe if n == 1 else None, clip.dropout_frames)
                 for n, b in enumerate(boxes)]
        return render_clip(path, scene, faces, Camera(start=(150.0, 110.0)))
    scene, box = astronaut_scene()
    faces = [SceneFace(box, clip.recipe, clip.dropout_frames)]
    return render_clip(path, scene, faces)


def build_demo_archive(out_dir: Path) -> list[tuple[DemoClip, Path]]:
    """Render every demo clip under ``out_dir`` (kept as the archive's keys); reuses files."""
    made = []
    for clip in DEMO_CLIPS:
        path = out_dir / clip.key
        if not path.exists() or path.stat().st_size == 0:
            render_demo_clip(clip, path)
        made.append((clip, path))
    return made
