"""The kernel tables of ``measure.py`` kept on disk, so a fresh process does not rebuild them.

A table (the reference face under 41 known kernels, at one face-width and crop-size bucket)
takes 30-80 ms to build, and a clip whose face changes size needs about ten: half a second of
every fresh ``veilscan inspect``, which a warm process (a Dask worker) spends once. Tables are
pure functions of ``measure.py``, the reference image and the OpenCV and NumPy builds, so they
are stored under a fingerprint of those and read back bit for bit (``.npy``).

Where: ``$VEILSCAN_CACHE_DIR``, else ``$XDG_CACHE_HOME/veilscan``, else ``~/.cache/veilscan``;
``VEILSCAN_CACHE_DIR=""`` turns the store off. Anything that fails (a read-only home, a
corrupt file, two workers writing at once) falls back to building the table: the store can
make a process faster, never wrong. CenterFace's graph as :mod:`.confirm` prepares it, and
the int8 one of :mod:`.centerface_int8`, are kept here too, as byte arrays. Each new
fingerprint (an upgrade, a changed build) starts a folder of a few MB; only the
``KEEP_FINGERPRINTS`` most recently written are kept.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger(__name__)

CACHE_ENV = "VEILSCAN_CACHE_DIR"
FOLDER_PREFIX = "kernel-tables-"
KEEP_FINGERPRINTS = 9
"""Fingerprint folders kept when a new one starts: the current one and eight before it. An
installed version writes three (its kernel tables, its prepared CenterFace and its int8 one;
the last two's fingerprints cover the source model), so that two or three versions used
side by side (a venv per project) do not evict each other's, while every upgrade does not
leave its folders behind for good."""


def cache_root() -> Path | None:
    """The directory tables are kept in, or None when the store is turned off."""
    env = os.environ.get(CACHE_ENV)
    if env is not None:
        return Path(env) if env else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "veilscan"


@functools.cache
def _fingerprint(sources: tuple[Path, ...]) -> str:
    """What a table depends on besides its key: the files that compute it and the builds."""
    h = hashlib.sha256()
    for path in sources:
        h.update(path.read_bytes())
    h.update(f"cv2 {cv2.__version__} numpy {np.__version__}".encode())
    return h.hexdigest()[:16]


def cached_table(name: str, key: tuple[int, ...], sources: tuple[Path, ...],
                 build: Callable[[], np.ndarray]) -> np.ndarray:
    """``build()``'s array for ``name`` at ``key``, from the store when it holds it."""
    root = cache_root()
    if root is None:
        return build()
    try:
        folder = root / f"{FOLDER_PREFIX}{_fingerprint(sources)}"
    except OSError:
        return build()
    path = folder / f"{name}-{'-'.join(str(k) for k in key)}.npy"
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        pass
    table = build()
    tmp = None
    try:
        if not folder.exists():
            folder.mkdir(parents=True, exist_ok=True)
            _evict_old_folders(root, folder)
        # Written aside and renamed: a worker reading at the same moment sees all or nothing.
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, table, allow_pickle=False)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        log.debug("kernel table not stored (%s)", exc)
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
    return table


def _evict_old_folders(root: Path, current: Path) -> None:
    """Remove all but the ``KEEP_FINGERPRINTS`` most recently written fingerprint folders
    (``current`` among them). A process still using an evicted folder just rebuilds."""
    try:
        others = [p for p in root.iterdir()
                  if p.is_dir() and p.name.startswith(FOLDER_PREFIX) and p != current]
        others.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return
    for old in others[KEEP_FINGERPRINTS - 1:]:
        shutil.rmtree(old, ignore_errors=True)
