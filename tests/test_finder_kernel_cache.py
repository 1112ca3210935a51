"""The finder's kernel tables on disk (tasks/finder/kernel_cache.py): read back bit for bit,
rebuilt when what they are computed from changes, and never in the way when the disk is."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

from veilscan.tasks.finder import kernel_cache, measure


@pytest.fixture()
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(kernel_cache.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def _counting(table: np.ndarray) -> tuple[list[int], object]:
    calls: list[int] = []

    def build() -> np.ndarray:
        calls.append(1)
        return table

    return calls, build


def test_a_stored_table_is_read_back_exactly_and_not_rebuilt(store: Path, tmp_path: Path) -> None:
    src = tmp_path / "measure_like.py"
    src.write_text("v1")
    table = np.random.default_rng(0).normal(size=(41, 4))
    calls, build = _counting(table)
    first = kernel_cache.cached_table("iso", (90, 112, 140), (src,), build)
    again = kernel_cache.cached_table("iso", (90, 112, 140), (src,), build)
    assert calls == [1]
    assert np.array_equal(first, table) and np.array_equal(again, table)
    assert again.dtype == table.dtype
    assert not list(store.rglob("*.tmp"))


def test_a_changed_source_file_means_a_new_table(store: Path, tmp_path: Path) -> None:
    src = tmp_path / "measure_like.py"
    src.write_text("v1")
    calls, build = _counting(np.zeros((3, 4)))
    kernel_cache.cached_table("iso", (1, 2, 3), (src,), build)
    kernel_cache._fingerprint.cache_clear()
    src.write_text("v2: the kernels changed")
    kernel_cache.cached_table("iso", (1, 2, 3), (src,), build)
    kernel_cache._fingerprint.cache_clear()
    assert calls == [1, 1]
    assert len(list(store.iterdir())) == 2


def _folder_of(store: Path, src: Path, text: str) -> Path:
    """The fingerprint folder for ``src`` holding ``text``."""
    src.write_text(text)
    kernel_cache._fingerprint.cache_clear()
    return store / f"{kernel_cache.FOLDER_PREFIX}{kernel_cache._fingerprint((src,))}"


def test_only_the_newest_fingerprint_folders_are_kept(store: Path, tmp_path: Path) -> None:
    src = tmp_path / "measure_like.py"
    calls, build = _counting(np.zeros((3, 4)))
    n = kernel_cache.KEEP_FINGERPRINTS + 2
    for version in range(n):  # upgrades, each writing its folder a minute after the last
        folder = _folder_of(store, src, f"v{version}")
        kernel_cache.cached_table("iso", (1, 2, 3), (src,), build)
        os.utime(folder, (1_000_000 + 60 * version,) * 2)
    (store / "notes.txt").write_text("not ours")  # anything else in the store stays
    newest = _folder_of(store, src, f"v{n}")
    kernel_cache.cached_table("iso", (1, 2, 3), (src,), build)
    assert calls == [1] * (n + 1)
    kept = {p for p in store.iterdir() if p.is_dir()}
    assert kept == {newest} | {_folder_of(store, src, f"v{v}")
                               for v in range(n - kernel_cache.KEEP_FINGERPRINTS + 1, n)}
    assert len(kept) == kernel_cache.KEEP_FINGERPRINTS
    assert (store / "notes.txt").exists()
    kernel_cache._fingerprint.cache_clear()


def test_a_corrupt_file_or_an_unwritable_store_only_costs_a_rebuild(
        store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "measure_like.py"
    src.write_text("v1")
    table = np.ones((2, 4))
    calls, build = _counting(table)
    kernel_cache.cached_table("iso", (5, 6, 7), (src,), build)
    (stored,) = store.rglob("iso-5-6-7.npy")
    stored.write_bytes(b"not an array")
    assert np.array_equal(kernel_cache.cached_table("iso", (5, 6, 7), (src,), build), table)
    blocker = tmp_path / "a-file-not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv(kernel_cache.CACHE_ENV, str(blocker))
    assert np.array_equal(kernel_cache.cached_table("iso", (5, 6, 7), (src,), build), table)
    monkeypatch.setenv(kernel_cache.CACHE_ENV, "")  # turned off
    assert np.array_equal(kernel_cache.cached_table("iso", (5, 6, 7), (src,), build), table)
    assert calls == [1, 1, 1, 1]


def test_the_finders_tables_from_the_store_equal_fresh_ones(store: Path) -> None:
    measure._reference_table.cache_clear()
    measure._motion_table.cache_clear()
    try:
        built = measure._reference_table(64, 72, 88), measure._motion_table(64, 72, 88)
        measure._reference_table.cache_clear()
        measure._motion_table.cache_clear()
        read = measure._reference_table(64, 72, 88), measure._motion_table(64, 72, 88)
    finally:
        measure._reference_table.cache_clear()
        measure._motion_table.cache_clear()
    assert len(list(store.rglob("*.npy"))) == 2
    for (labels_a, feats_a), (labels_b, feats_b) in zip(built, read, strict=True):
        assert labels_a == labels_b and np.array_equal(feats_a, feats_b)


def test_prepared_centerface_is_read_back_without_rebuilding(
        store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from veilscan.tasks.finder import confirm

    if importlib.util.find_spec("onnx") is None:
        pytest.skip("onnx is not installed: the detector falls back to OpenCV's reader")
    confirm._prepared_centerface.cache_clear()
    try:
        built = confirm._prepared_centerface()
        assert built == confirm._prepare(confirm.centerface_path())
        assert [p.name for p in store.glob("*/centerface-prepared-*")]

        def fail(source: Path) -> bytes:
            raise AssertionError("rebuilt although the store holds it")

        monkeypatch.setattr(confirm, "_prepare", fail)
        confirm._prepared_centerface.cache_clear()
        assert confirm._prepared_centerface() == built
    finally:
        confirm._prepared_centerface.cache_clear()
