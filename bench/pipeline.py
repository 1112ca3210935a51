"""Pipeline benchmark: what orchestration costs on top of the per-clip work.

Renders the demo archive, times ``inspect_clip`` on every clip in this process (the work
itself), then runs the ``scan-archive`` flow over the same clips on the embedded stack
(SeaweedFS ranged reads, Prefect server, Dask LocalCluster) and prints both, so the overhead of
listing, ledger, one Prefect task per clip, validation and publishing is measured in one run.

    .venv/bin/python bench/pipeline.py [--workers 2] [--copies 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2, help="Dask worker processes")
    ap.add_argument("--copies", type=int, default=2, help="copies of the demo archive to scan")
    args = ap.parse_args()

    from veilscan.catalog.objectstore import S3Settings, client, ensure_bucket
    from veilscan.demo_archive import build_demo_archive
    from veilscan.infra import stack
    from veilscan.tasks.inspect import inspect_clip

    work = Path(tempfile.mkdtemp(prefix="veilscan-bench-"))
    clips = build_demo_archive(work / "archive")
    frames = 0
    started = time.perf_counter()
    for _, path in clips:
        frames += inspect_clip(path).clip.frames
    inspect_s = time.perf_counter() - started
    n_clips = len(clips)

    info = stack.up(work / "state")
    try:
        with stack.activate(info):
            from veilscan.flows.scan_archive import ScanParameters, scan_archive
            from veilscan.infra.dask_cluster import task_runner

            cli = client(S3Settings.from_stack(info))
            ensure_bucket(cli, "bench")
            for copy in range(args.copies):
                for clip, path in clips:
                    cli.upload_file(str(path), "bench", f"copy{copy}/{clip.key}")
            params = ScanParameters(archive_url="s3://bench/", findings_bucket="bench-findings",
                                    force=True)
            runner = task_runner(n_workers=args.workers)
            started = time.perf_counter()
            outcome = scan_archive.with_options(task_runner=runner)(params)
            flow_s = time.perf_counter() - started
            started = time.perf_counter()
            skipped = scan_archive.with_options(task_runner=task_runner(n_workers=1))(
                ScanParameters(archive_url="s3://bench/", findings_bucket="bench-findings"))
            rerun_s = time.perf_counter() - started
    finally:
        stack.down(info.state_dir)

    total_clips = n_clips * args.copies
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, no GPU")
    print(f"inspect_clip in-process: {n_clips} clips, {frames} frames in {inspect_s:.2f} s "
          f"({frames / inspect_s:.0f} frames/s, {inspect_s / n_clips:.2f} s/clip, 1 core)")
    print(f"scan-archive flow: {outcome.scanned} clips ({total_clips} uploaded), "
          f"{args.workers} Dask workers, {flow_s:.2f} s wall "
          f"({flow_s / max(1, outcome.scanned):.2f} s/clip incl. cluster start)")
    ideal = inspect_s * args.copies / args.workers
    print(f"  per-clip work alone, spread over {args.workers} workers: {ideal:.2f} s; "
          f"orchestration + I/O overhead: {flow_s - ideal:.2f} s "
          f"({(flow_s - ideal) / max(1, outcome.scanned):.2f} s/clip)")
    print(f"rerun with nothing changed: {skipped.skipped} skipped, {skipped.scanned} scanned, "
          f"{rerun_s:.2f} s")


if __name__ == "__main__":
    main()
