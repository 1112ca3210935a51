"""``veilscan queue``: the re-redaction queue from a shell.

    veilscan queue list [--status queued]       the queue, highest risk first
    veilscan queue approve ENTRY... | --all     approve entries (ids or unique prefixes)
    veilscan queue reject ENTRY... --reason ... reject with the reason compliance will read
    veilscan queue render [ENTRY...]            re-redact + verify approved entries here
    veilscan queue history ENTRY                every status change of one entry

``render`` runs the same unit as the ``re-redact`` deployment, in this process, so no
Prefect worker or deployment is needed.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer
from rich.table import Table

from veilscan.terminal import console

queue_app = typer.Typer(help="Review and re-redact the clips the scan queued.",
                        no_args_is_help=True)

STATUS_STYLE = {"queued": "yellow", "approved": "cyan", "rendering": "blue",
                "verified": "green", "failed": "red", "rejected": "dim", "stale": "magenta"}

FindingsOpt = Annotated[str, typer.Option(help="bucket holding the queue")]
EndpointOpt = Annotated[str | None, typer.Option(help="S3 endpoint (default: env/stack)")]


def _client(endpoint_url: str | None):
    """A client on the embedded stack if it runs (explicit env settings win)."""
    from veilscan.catalog.objectstore import S3Settings, client
    from veilscan.infra import stack

    if endpoint_url is None:
        info = stack.status()
        if info is not None:
            for name, value in stack.env_for(info).items():
                os.environ.setdefault(name, value)
    settings = S3Settings.from_env(endpoint_url=endpoint_url)
    return settings, client(settings)


NOTE_CHARS = 110  # `queue list` shortens notes; `queue history` prints them whole


def _short(text: str, limit: int = NOTE_CHARS) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def print_entries(rows: list[dict], title: str) -> None:
    table = Table(title=title)
    for col in ("entry", "status", "tier", "risk", "clip", "by", "note"):
        table.add_column(col, overflow="fold", justify="right" if col == "risk" else "left")
    for r in rows:
        style = STATUS_STYLE.get(r["status"], "")
        table.add_row(r["entry_id"], f"[{style}]{r['status']}[/]", r["risk_tier"],
                      f"{r['max_risk']:.2f}", r["source"], r["actor"], _short(r["note"]))
    console.print(table)


@queue_app.command("list")
def list_entries(
    status: Annotated[str | None, typer.Option(help="only entries in this status")] = None,
    findings_bucket: FindingsOpt = "veilscan-findings",
    endpoint_url: EndpointOpt = None,
) -> None:
    """The queue: the current status of every entry, highest risk first."""
    from veilscan.catalog import remediation_queue

    _, cli = _client(endpoint_url)
    rows = remediation_queue.entries(cli, findings_bucket, status)
    print_entries(rows, f"s3://{findings_bucket}/queue: {len(rows)} entries"
                  + (f" {status}" if status else ""))


def _report(decision) -> None:
    for eid in decision.approved:
        console.print(f"[cyan]approved[/] {eid}")
    for eid in decision.rejected:
        console.print(f"[dim]rejected[/] {eid}")
    for eid, why in decision.refused:
        console.print(f"[red]refused[/] {eid}: {why}")


@queue_app.command()
def approve(
    entries: Annotated[list[str] | None, typer.Argument(help="entry ids or unique prefixes")
                       ] = None,
    all_queued: Annotated[bool, typer.Option("--all", help="approve every queued entry")
                          ] = False,
    reviewer: Annotated[str, typer.Option(help="who approves (recorded)")] = "cli",
    findings_bucket: FindingsOpt = "veilscan-findings",
    endpoint_url: EndpointOpt = None,
) -> list[str]:
    """Approve entries for re-redaction (queued, or failed ones for another try)."""
    from veilscan.catalog import remediation_queue

    if bool(entries) == all_queued:
        console.print("[red]Name entries or pass --all (not both).[/]")
        raise typer.Exit(2)
    _, cli = _client(endpoint_url)
    ids = entries or [r["entry_id"] for r in
                      remediation_queue.entries(cli, findings_bucket, "queued")]
    if not ids:
        console.print("Nothing queued.")
        return []
    decision = remediation_queue.decide(cli, findings_bucket, ids, [], actor=reviewer)
    _report(decision)
    if decision.refused:
        raise typer.Exit(1)
    return decision.approved


@queue_app.command()
def reject(
    entries: Annotated[list[str], typer.Argument(help="entry ids or unique prefixes")],
    reason: Annotated[str, typer.Option(help="why (required; compliance reads it)")],
    reviewer: Annotated[str, typer.Option(help="who rejects (recorded)")] = "cli",
    findings_bucket: FindingsOpt = "veilscan-findings",
    endpoint_url: EndpointOpt = None,
) -> None:
    """Reject entries with a reason; they are not re-redacted."""
    from veilscan.catalog import remediation_queue

    if not reason.strip():
        console.print("[red]--reason must not be empty.[/]")
        raise typer.Exit(2)
    _, cli = _client(endpoint_url)
    decision = remediation_queue.decide(cli, findings_bucket, [], entries, actor=reviewer,
                                        reason=reason)
    _report(decision)
    if decision.refused:
        raise typer.Exit(1)


@queue_app.command()
def render(
    entries: Annotated[list[str] | None, typer.Argument(
        help="approved entries (default: every approved entry)")] = None,
    findings_bucket: FindingsOpt = "veilscan-findings",
    endpoint_url: EndpointOpt = None,
    threads: Annotated[int, typer.Option(help="decoder/encoder threads, 0 = auto")] = 0,
) -> list:
    """Re-redact, upload, verify and record approved entries in this process."""
    from veilscan.catalog import remediation_queue
    from veilscan.tasks.redact import RedactionPlan
    from veilscan.tasks.remediate import RemediationJob, remediate

    settings, cli = _client(endpoint_url)
    approved = remediation_queue.entries(cli, findings_bucket, "approved")
    if entries:
        ids, unknown = remediation_queue.resolve_ids(approved, entries)
        for w in unknown:
            console.print(f"[red]not an approved entry[/]: {w}")
    else:
        ids = [r["entry_id"] for r in approved]
    outcomes = []
    for eid in ids:
        with console.status(f"Re-redacting {eid}"):
            outcomes.append(remediate(RemediationJob(
                entry_id=eid, s3=settings, findings_bucket=findings_bucket,
                plan=RedactionPlan(threads=threads), actor="cli")))
    table = Table(title=f"Re-redacted {len(outcomes)} entries")
    for col in ("entry", "status", "clip", "output / why", "s"):
        table.add_column(col, overflow="fold")
    for o in outcomes:
        style = STATUS_STYLE.get(o.status, "")
        reasons = (o.verification or {}).get("reasons") or []
        if o.status == "verified":
            where = f"{o.output_url}\n{o.manifest_url}"
        elif reasons:
            more = f" (+{len(reasons) - 1} more)" if len(reasons) > 1 else ""
            where = f"{_short(reasons[0])}{more}\nunverified render: {o.output_url}"
        else:
            where = _short(o.note, 2 * NOTE_CHARS)
        table.add_row(o.entry_id, f"[{style}]{o.status}[/]", o.source, where, f"{o.seconds:.1f}")
    console.print(table)
    return outcomes


@queue_app.command()
def history(
    entry: Annotated[str, typer.Argument(help="entry id or unique prefix")],
    findings_bucket: FindingsOpt = "veilscan-findings",
    endpoint_url: EndpointOpt = None,
) -> None:
    """Every status change of one entry, oldest first."""
    from veilscan.catalog import remediation_queue

    _, cli = _client(endpoint_url)
    ids, unknown = remediation_queue.resolve_ids(remediation_queue.entries(cli, findings_bucket),
                                                 [entry])
    if unknown:
        console.print(f"[red]no such entry[/]: {entry}")
        raise typer.Exit(1)
    rows = remediation_queue.history(cli, findings_bucket, ids[0])
    table = Table(title=f"history of {ids[0]} ({rows[0]['source']})")
    for col in ("at", "status", "by", "note"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(f"{r['event_at']:%Y-%m-%d %H:%M:%S}",
                      f"[{STATUS_STYLE.get(r['status'], '')}]{r['status']}[/]", r["actor"],
                      r["note"])
    console.print(table)
