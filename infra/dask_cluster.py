"""Which Dask cluster the scan runs on, as a factory of Prefect's ``DaskTaskRunner``.

Three choices, in this order:

1. an existing scheduler, by ``address`` or ``$VEILSCAN_DASK_ADDRESS`` (production: a cluster
   someone else runs; Prefect only connects to it);
2. ``gpus=True``: a ``dask_cuda.LocalCUDACluster``, one worker per visible GPU, each worker
   offering the resource ``GPU=1`` so clip tasks annotated with :func:`clip_task_annotations`
   land one per GPU. dask-cuda is an optional extra (``veilscan[gpu]``) imported only here;
3. otherwise a ``distributed.LocalCluster`` of worker *processes* (decoding and numpy hold the
   GIL in places, so threads would serialise), one thread each.

Worker processes inherit the parent's environment: set ``PREFECT_API_URL`` and the S3
variables (see ``veilscan.infra.stack.env_for``) before the flow starts the cluster.
"""

from __future__ import annotations

import importlib.util
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # prefect is imported only when a runner is built: the cluster arguments
    from prefect_dask import DaskTaskRunner  # stay usable in a plain Dask process

ADDRESS_ENV = "VEILSCAN_DASK_ADDRESS"
WORKERS_ENV = "VEILSCAN_DASK_WORKERS"
DEFAULT_WORKERS = 2  # sized for a small (2-core) machine; override by n_workers or env
GPU_RESOURCE = "GPU"
LOCAL_CLUSTER = "distributed.LocalCluster"
CUDA_CLUSTER = "dask_cuda.LocalCUDACluster"


class GPUSupportMissing(RuntimeError):
    """GPU workers were asked for but dask-cuda is not installed."""


def task_runner(
    address: str | None = None, *, gpus: bool = False, n_workers: int | None = None
) -> DaskTaskRunner:
    """The ``DaskTaskRunner`` for a scan (see the module docstring for the choice).

    ``n_workers``: worker processes of a local cluster (default ``$VEILSCAN_DASK_WORKERS`` or 2;
    for GPUs, default one per visible GPU). Ignored with an existing scheduler, whose size is
    not ours to choose.
    """
    from prefect_dask import DaskTaskRunner

    address = address or os.environ.get(ADDRESS_ENV) or None
    if address:
        return DaskTaskRunner(address=address)
    if gpus:
        return DaskTaskRunner(
            cluster_class=CUDA_CLUSTER, cluster_kwargs=cuda_cluster_kwargs(n_workers)
        )
    return DaskTaskRunner(
        cluster_class=LOCAL_CLUSTER, cluster_kwargs=local_cluster_kwargs(n_workers)
    )


def local_cluster_kwargs(n_workers: int | None = None) -> dict[str, Any]:
    """Arguments of the CPU ``LocalCluster``: loopback only, processes, one thread each."""
    workers = n_workers or _env_int(WORKERS_ENV) or DEFAULT_WORKERS
    if workers < 1:
        raise ValueError(f"n_workers must be at least 1, got {workers}")
    return {
        "n_workers": workers,
        "threads_per_worker": 1,
        "processes": True,
        "host": "127.0.0.1",
        "dashboard_address": _dashboard_address(),
    }


def cuda_cluster_kwargs(n_workers: int | None = None) -> dict[str, Any]:
    """Arguments of ``LocalCUDACluster``; raises :class:`GPUSupportMissing` without dask-cuda.

    Every worker advertises ``GPU=1``, the resource :func:`clip_task_annotations` asks for.
    """
    if importlib.util.find_spec("dask_cuda") is None:
        raise GPUSupportMissing(
            "GPU workers need dask-cuda, which is not installed: "
            "pip install 'veilscan[gpu]' (or run without --gpus)"
        )
    kwargs: dict[str, Any] = {
        "threads_per_worker": 1,
        "resources": {GPU_RESOURCE: 1},
        "host": "127.0.0.1",
        "dashboard_address": _dashboard_address(),
    }
    if n_workers:
        kwargs["n_workers"] = n_workers
    return kwargs


def clip_task_annotations(gpus: bool) -> dict[str, Any]:
    """Dask annotations for one clip task: ``{"resources": {"GPU": 1}}`` when the workers are
    GPU workers (so one clip runs per GPU at a time), else none.

    Use as ``with dask.annotate(**clip_task_annotations(gpus)): scan_clip.submit(...)``.
    """
    return {"resources": {GPU_RESOURCE: 1}} if gpus else {}


def _dashboard_address() -> str | None:
    """A loopback dashboard on a free port when bokeh is installed; none otherwise (dask would
    only warn that it cannot start one)."""
    return "127.0.0.1:0" if importlib.util.find_spec("bokeh") is not None else None


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    return int(value) if value else None
