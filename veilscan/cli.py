"""The ``veilscan`` command: start the embedded stack, scan, inspect, read findings.

Prefect is imported only inside the commands that need it, after the environment points at
the right API: Prefect reads its settings when first imported.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from veilscan.queue_cli import queue_app
from veilscan.terminal import console

app = typer.Typer(help="Audit video archives for face redactions that no longer protect anyone.",
                  no_args_is_help=True, pretty_exceptions_show_locals=False)
app.add_typer(queue_app, name="queue")

TIER_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "green",
              "": "dim"}
DEMO_BUCKET, DEMO_PREFIX = "archive", "demo/"


def _use_stack(required: bool = False):
    """Point this process at the embedded stack if it runs (explicit env settings win)."""
    from veilscan.infra import stack

    info = stack.status()
    if info is None:
        if required:
            console.print("[red]The embedded stack is not running: run `veilscan up`.[/]")
            raise typer.Exit(2)
        return None
    for name, value in stack.env_for(info).items():
        os.environ.setdefault(name, value)
    return info


@app.command()
def up() -> None:
    """Start (or reuse) the embedded SeaweedFS S3 store and Prefect server on loopback."""
    from veilscan.infra import stack

    info = stack.up()
    word = "reused" if info.reused else "started"
    console.print(f"[green]Stack {word}[/]: S3 {info.s3_endpoint}, Prefect UI "
                  f"{info.prefect_ui_url}, state in {info.state_dir}")
    console.print("Point a shell at it: " + " ".join(
        f"{k}={v}" for k, v in stack.env_for(info).items() if not k.startswith("AWS_SECRET")))


@app.command()
def down() -> None:
    """Stop the embedded stack (its data stays in the state directory)."""
    from veilscan.infra import stack

    stopped = stack.down()
    console.print("Stack stopped." if stopped else "No stack was running.")


def _run_scan(archive_url: str, *, findings_bucket: str, risk_threshold: float, force: bool,
              keys: list[str], endpoint_url: str | None, dask_address: str | None,
              gpus: bool):
    from veilscan.flows.scan_archive import ScanParameters, scan_archive
    from veilscan.infra.dask_cluster import task_runner

    params = ScanParameters(archive_url=archive_url, findings_bucket=findings_bucket,
                            risk_threshold=risk_threshold, force=force, clip_keys=keys,
                            endpoint_url=endpoint_url, gpus=gpus)
    runner = task_runner(dask_address, gpus=gpus)
    # The local cluster's start/stop chatter (nannies, scheduler) is not the user's concern;
    # errors (a worker that dies mid-scan) still show.
    logging.getLogger("distributed").setLevel(logging.ERROR)
    return scan_archive.with_options(task_runner=runner)(params)


def _print_clips(rows: list[dict], title: str, notes: dict[str, str] | None = None) -> None:
    """Clips by risk; the last column is the error of a failed clip, else the demo recipe."""
    table = Table(title=title)
    table.add_column("clip", overflow="fold")
    table.add_column("tier")
    table.add_column("max risk", justify="right")
    table.add_column("tracks", justify="right")
    table.add_column("types", overflow="fold")
    table.add_column("dropouts", justify="right")
    table.add_column("error" if not notes else "error / demo recipe", overflow="fold")
    for r in rows:
        tier = r["risk_tier"] if r["status"] == "ok" else "error"
        style = TIER_STYLE.get(tier, "magenta")
        note = r["error"] or (notes or {}).get(r["clip"], "")
        table.add_row(r["clip"], f"[{style}]{tier}[/]", f"{r['max_risk']:.2f}",
                      str(r["tracks"]), r["types"] or "-", str(r["dropout_frames"]), note)
    console.print(table)


@app.command()
def scan(
    archive_url: Annotated[str, typer.Argument(help="s3://bucket/prefix to scan")],
    endpoint_url: Annotated[str | None, typer.Option(help="S3 endpoint (default: env/AWS)")] = None,
    dask_address: Annotated[str | None, typer.Option(
        help="existing Dask scheduler (default: $VEILSCAN_DASK_ADDRESS or a LocalCluster)")] = None,
    risk_threshold: Annotated[float, typer.Option(min=0, max=1,
                                                  help="queue clips at or above")] = 0.4,
    findings_bucket: Annotated[str, typer.Option(help="where findings go")] = "veilscan-findings",
    key: Annotated[list[str] | None, typer.Option(help="rescan only this key (repeatable)")] = None,
    force: Annotated[bool, typer.Option(help="rescan clips the ledger says are unchanged")] = False,
    gpus: Annotated[bool, typer.Option(help="use a LocalCUDACluster / GPU workers")] = False,
) -> None:
    """Scan a bucket prefix with the scan-archive flow and print the clips by risk."""
    _use_stack(required=endpoint_url is None and "VEILSCAN_S3_ENDPOINT" not in os.environ
               and "AWS_ACCESS_KEY_ID" not in os.environ)
    outcome = _run_scan(archive_url, findings_bucket=findings_bucket,
                        risk_threshold=risk_threshold, force=force, keys=key or [],
                        endpoint_url=endpoint_url, dask_address=dask_address, gpus=gpus)
    _print_clips(outcome.clips, f"{archive_url}: {outcome.scanned} scanned, "
                 f"{outcome.skipped} unchanged, {outcome.errors} errors")
    console.print(f"Findings: {outcome.findings_url}  queued: {len(outcome.queued)}")


@app.command()
def inspect(
    source: Annotated[str, typer.Argument(help="a local video file or s3://bucket/key")],
    as_json: Annotated[bool, typer.Option("--json", help="print the JSON contract")] = False,
    endpoint_url: Annotated[str | None, typer.Option(help="S3 endpoint")] = None,
) -> None:
    """Scan one clip without Prefect and print its tracks (the per-clip JSON contract)."""
    from veilscan.tasks.inspect import inspect_clip

    if source.startswith("s3://"):
        _use_stack()
        from veilscan.catalog.objectstore import (
            S3Settings,
            client,
            head_object,
            open_object,
            parse_s3_url,
        )

        cli = client(S3Settings.from_env(endpoint_url=endpoint_url))
        bucket, key = parse_s3_url(source)
        with open_object(cli, head_object(cli, bucket, key)) as reader:
            result = inspect_clip(reader, name=source)
    else:
        result = inspect_clip(Path(source), name=source)
    if as_json:
        print(json.dumps(result.to_json_dict(), indent=2))
        return
    rows = [{"clip": f"track {t.track_id}", "risk_tier": t.risk_tier, "max_risk": t.risk_score,
             "tracks": 1, "types": f"{t.redaction_type} {t.strength_px:.1f}px",
             "dropout_frames": len(t.dropout_frames),
             "error": "; ".join(t.risk_factors), "status": "ok"} for t in result.tracks]
    _print_clips(rows, f"{source}: {result.clip.frames} frames, {result.status}"
                 + (f" ({result.error})" if result.error else ""))


@app.command()
def warm() -> None:
    """Build the finder's int8 detector into its table store now (about 5 s, once per store:
    when baking a worker image), instead of in the first settled shot a scan meets."""
    from veilscan.tasks.finder import detector_version
    from veilscan.tasks.finder.confirm import prepare_int8
    from veilscan.tasks.finder.kernel_cache import cache_root

    built = prepare_int8()
    where = cache_root() or "nowhere (VEILSCAN_CACHE_DIR is empty)"
    console.print(f"detector {detector_version()}: " + (
        f"int8 CenterFace ready, kept in {where}" if built else "no int8 network used here"))


@app.command()
def findings(
    findings_bucket: Annotated[str, typer.Option(help="findings bucket")] = "veilscan-findings",
    endpoint_url: Annotated[str | None, typer.Option(help="S3 endpoint")] = None,
    tier: Annotated[str | None, typer.Option(help="only this tier")] = None,
) -> None:
    """Read the Parquet findings back with DuckDB: the latest result of every clip."""
    _use_stack()
    from veilscan.catalog.findings_query import latest_clips
    from veilscan.catalog.objectstore import S3Settings, client

    cli = client(S3Settings.from_env(endpoint_url=endpoint_url))
    rows = latest_clips(cli, findings_bucket, tier=tier)
    _print_clips(rows, f"s3://{findings_bucket}/clips: latest scan of {len(rows)} clips")


@app.command()
def demo(
    rebuild: Annotated[bool, typer.Option(help="render the demo clips again")] = False,
) -> None:
    """Start the stack, build and upload the demo archive, scan it, print the clips by risk."""
    from veilscan.catalog.objectstore import S3Settings, client, ensure_bucket
    from veilscan.demo_archive import DEMO_CLIPS, build_demo_archive
    from veilscan.infra import stack

    info = stack.up()
    for name, value in stack.env_for(info).items():
        os.environ[name] = value
    console.print(f"Stack: S3 {info.s3_endpoint}, Prefect UI {info.prefect_ui_url}")
    out_dir = info.state_dir / "demo-archive"
    if rebuild:
        for clip in DEMO_CLIPS:
            (out_dir / clip.key).unlink(missing_ok=True)
    with console.status("Rendering the demo archive from scikit-image's images"):
        made = build_demo_archive(out_dir)
    cli = client(S3Settings.from_stack(info))
    ensure_bucket(cli, DEMO_BUCKET)
    for clip, path in made:
        cli.upload_file(str(path), DEMO_BUCKET, DEMO_PREFIX + clip.key)
    console.print(f"Uploaded {len(made)} clips to s3://{DEMO_BUCKET}/{DEMO_PREFIX}")
    outcome = _run_scan(f"s3://{DEMO_BUCKET}/{DEMO_PREFIX}", findings_bucket="veilscan-findings",
                        risk_threshold=0.4, force=True, keys=[], endpoint_url=None,
                        dask_address=None, gpus=False)
    notes = {c.key: f"{c.description} (expect {c.expect})" for c in DEMO_CLIPS}
    rows = [{**r, "clip": r["clip"].removeprefix(DEMO_PREFIX)} for r in outcome.clips]
    _print_clips(rows, f"Demo archive s3://{DEMO_BUCKET}/{DEMO_PREFIX}", notes)
    console.print(f"Findings (Parquet): {outcome.findings_url}clips|tracks|boxes/scan_date=…/ "
                  f"— read them with `veilscan findings`")
    console.print(f"Queued for re-redaction: {len(outcome.queued)}; Prefect UI: "
                  f"{info.prefect_ui_url}")
    _demo_remediation(f"s3://{DEMO_BUCKET}/{DEMO_PREFIX}", "veilscan-findings")


def _demo_remediation(prefix_url: str, findings_bucket: str) -> None:
    """End of the demo: approve the queued demo clips as an operator would with
    `veilscan queue approve`, re-redact + verify them (`veilscan queue render`), show where."""
    from veilscan import queue_cli
    from veilscan.catalog import remediation_queue
    from veilscan.catalog.objectstore import S3Settings, client

    cli = client(S3Settings.from_env())

    def demo_rows(status: str | None = None) -> list[dict]:
        return [r for r in remediation_queue.entries(cli, findings_bucket, status)
                if r["source"].startswith(prefix_url)]

    console.rule("Re-redaction: veilscan queue approve … && veilscan queue render")
    # queued, and failed ones again (an operator retries them once the cause is fixed)
    queued = [r["entry_id"] for r in demo_rows() if r["status"] in ("queued", "failed")]
    if queued:
        queue_cli.approve(queued, all_queued=False, reviewer="demo-operator",
                          findings_bucket=findings_bucket, endpoint_url=None)
    approved = [r["entry_id"] for r in demo_rows("approved")]
    if approved:
        queue_cli.render(approved, findings_bucket=findings_bucket, endpoint_url=None,
                         threads=0)
    rows = demo_rows()
    if not approved:  # a rerun: the same clips (same ETags) were verified before
        queue_cli.print_entries(rows, f"Queue of {prefix_url} (s3://{findings_bucket}/queue)")
    done = [r for r in rows if r["status"] == "verified"]
    console.print(f"{len(done)} of {len(rows)} queued demo clips re-redacted and verified; "
                  f"outputs + manifests under s3://{DEMO_BUCKET}/remediated/"
                  "; `veilscan queue history ENTRY` shows each one's trail")


@app.command()
def calibrate(
    faces: Annotated[Path, typer.Option(exists=True, file_okay=False,
                                        help="identity set: one folder of photos per person")],
    out: Annotated[Path, typer.Option(help="where the fitted model JSON goes")] = Path(
        "risk_model.json"),
    report: Annotated[Path, typer.Option(help="folder for the report pictures and CSVs")] = Path(
        "calibration-report"),
    identities: Annotated[int | None, typer.Option(help="use at most this many people")] = None,
    quick: Annotated[bool, typer.Option(help="a few identities, small grid (a smoke run)")] = False,
    seed: Annotated[int, typer.Option(help="identity split and sampling seed")] = 0,
    tight_crops: Annotated[bool, typer.Option(
        help="photos are already tight face crops (else the ORL head-crop face box is cut)")
    ] = False,
) -> None:
    """Re-fit the risk model against the attack harness on your own identity set.

    Needs the calibrate extra (``pip install -e '.[calibrate]'``: dlib and its face models).
    Use the result with ``VEILSCAN_RISK_MODEL=PATH veilscan scan ...``.
    """
    from veilscan.tasks.attack.calibrate import calibrate as fit
    from veilscan.tasks.attack.faces import ORL_FACE_BOX

    result = fit(faces, out, report, identities=identities, quick=quick, seed=seed,
                 face_box=None if tight_crops else ORL_FACE_BOX)
    console.print(result.summary())
    console.print(f"Model: {out}  report: {report}  use it with VEILSCAN_RISK_MODEL={out}")


@app.command()
def serve() -> None:
    """Register the nightly and on-demand scan deployments and serve them (blocks)."""
    _use_stack()
    from veilscan.flows.deployments import serve_all

    serve_all()


if __name__ == "__main__":  # pragma: no cover
    app()
