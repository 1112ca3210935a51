"""review-queue and re-redact: a person approves queued clips, then each is re-redacted.

- ``review-queue`` lists the queued entries, shows them as a table artifact and pauses with a
  typed form (:class:`ReviewDecision`: approve all / approve chosen entry ids / reject chosen
  ids with a reason). A compliance officer fills it in the Prefect UI ("Resume"), or anything
  resumes it through the API with ``resume_flow_run(id, run_input={...})``. The decision is
  written to the queue, and one flow run of the ``re-redact`` deployment is started per
  approved entry (``run_deployment(..., timeout=0)``: fire and forget) if it is deployed.
- ``re-redact`` runs one task per entry around :func:`veilscan.tasks.remediate.remediate`
  (render, upload, manifest, rescan, verdict written to the queue). Its deployment sits on
  its own work queue with a concurrency limit (see :mod:`veilscan.flows.deployments`).

Without the deployments, ``veilscan queue approve`` + ``veilscan queue render`` do the same
in-process.
"""

from __future__ import annotations

from dataclasses import asdict

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectNotFound
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from prefect.runtime import flow_run
from pydantic import BaseModel, Field, ValidationError, model_validator

from veilscan.catalog.objectstore import S3Settings
from veilscan.tasks.prefect_tasks import list_queued, re_redact_entry, record_review
from veilscan.tasks.redact import RedactionPlan
from veilscan.tasks.remediate import RemediationJob

REDACT_FLOW = "re-redact"
REDACT_DEPLOYMENT = "re-redact/re-redact"  # <flow name>/<deployment name>
REVIEW_ATTEMPTS = 3  # an invalid form (e.g. reject without a reason) is asked again


class ReviewDecision(RunInput):
    """The form a compliance officer fills in to resume ``review-queue``."""

    approve_all: bool = Field(False, description="Approve every entry listed above.")
    approve: list[str] = Field(default_factory=list,
                               description="Entry ids (or unique prefixes) to approve.")
    reject: list[str] = Field(default_factory=list,
                              description="Entry ids (or unique prefixes) to reject.")
    reason: str = Field("", description="Why the rejected entries are rejected "
                                        "(required when rejecting).")
    reviewer: str = Field("compliance", description="Who decides (recorded in the queue).")

    @model_validator(mode="after")
    def _consistent(self) -> ReviewDecision:
        if self.reject and not self.reason.strip():
            raise ValueError("rejecting needs a reason")
        if self.approve_all and self.reject:
            raise ValueError("approve_all with rejections is ambiguous: list approvals instead")
        return self


class ReviewParameters(BaseModel):
    """Where the queue is, and how long the review waits."""

    findings_bucket: str = Field("veilscan-findings", description="bucket holding the queue")
    endpoint_url: str | None = Field(None, description="S3 endpoint; empty = environment/AWS")
    timeout_s: int = Field(7 * 24 * 3600, ge=1,
                           description="fail the review if nobody decides within this (s)")
    poll_interval_s: int = Field(10, ge=1, description="how often the paused run checks (s)")
    redact_deployment: str = Field(REDACT_DEPLOYMENT,
                                   description="deployment started per approved entry")


class ReviewOutcome(BaseModel):
    listed: list[str]
    approved: list[str]
    rejected: list[str]
    refused: list[tuple[str, str]]
    reviewer: str = ""
    redact_runs: dict[str, str] = Field(default_factory=dict)  # entry id -> flow run id
    not_started: list[str] = Field(default_factory=list)


class RedactParameters(BaseModel):
    """Which approved entries to re-redact, and how (see RedactionPlan for the units)."""

    entry_ids: list[str] = Field(default_factory=list, description="approved queue entries")
    findings_bucket: str = Field("veilscan-findings", description="bucket holding the queue")
    endpoint_url: str | None = Field(None, description="S3 endpoint; empty = environment/AWS")
    margin: float = Field(0.15, ge=0, le=2, description="share of box size added per side")
    pad_frames: int = Field(3, ge=0, le=100, description="frames filled before/after tracks")
    crf: int = Field(18, ge=0, le=51, description="encoder quality (x264 CRF scale)")
    threads: int = Field(0, ge=0, description="decoder/encoder threads, 0 = auto")

    def plan(self) -> RedactionPlan:
        return RedactionPlan(margin=self.margin, pad_frames=self.pad_frames, crf=self.crf,
                             threads=self.threads)


def _queue_table(rows: list[dict]) -> list[dict]:
    return [{"entry_id": r["entry_id"], "source": r["source"], "risk": round(r["max_risk"], 3),
             "tier": r["risk_tier"], "scan_id": r["scan_id"], "note": r["note"]} for r in rows]


def _form_description(rows: list[dict]) -> str:
    lines = ["**Re-redaction queue: decide for each clip.** Approved clips are re-rendered "
             "with a solid fill, verified by a rescan, and stored under `remediated/`.", "",
             "| entry id | clip | risk | tier |", "|---|---|---|---|"]
    lines += [f"| `{r['entry_id']}` | {r['source']} | {r['max_risk']:.2f} | {r['risk_tier']} |"
              for r in rows]
    return "\n".join(lines)


@flow(name="review-queue", log_prints=True)
def review_queue(params: ReviewParameters | None = None) -> ReviewOutcome:
    """List the queue, pause for a typed decision, record it, start re-redact runs."""
    params = params or ReviewParameters()
    logger = get_run_logger()
    s3 = S3Settings.from_env(endpoint_url=params.endpoint_url)
    rows = list_queued(s3, params.findings_bucket)
    listed = [r["entry_id"] for r in rows]
    if not rows:
        logger.info("Nothing queued in s3://%s/queue: no review needed", params.findings_bucket)
        return ReviewOutcome(listed=[], approved=[], rejected=[], refused=[])
    create_table_artifact(key="review-queue", table=_queue_table(rows),
                          description="Clips waiting for a re-redaction decision")
    description = _form_description(rows)
    decision: ReviewDecision | None = None
    for attempt in range(1, REVIEW_ATTEMPTS + 1):
        form = ReviewDecision.with_initial_data(description=description)
        try:
            decision = pause_flow_run(wait_for_input=form, timeout=params.timeout_s,
                                      poll_interval=params.poll_interval_s,
                                      key=f"review-{attempt}")
            break
        except ValidationError as exc:
            problem = "; ".join(e["msg"] for e in exc.errors())
            logger.warning("Review form rejected (%s); asking again", problem)
            description = f"**Previous answer was invalid: {problem}**\n\n" + \
                _form_description(rows)
    if decision is None:
        raise RuntimeError(f"no valid review decision after {REVIEW_ATTEMPTS} attempts")
    approve = listed if decision.approve_all else decision.approve
    outcome = record_review(s3, params.findings_bucket, approve, decision.reject,
                            decision.reviewer, decision.reason)
    redact_runs: dict[str, str] = {}
    not_started: list[str] = []
    review_id = flow_run.get_id()  # a retried review does not start a second run per entry
    for eid in outcome.approved:
        redact = RedactParameters(entry_ids=[eid], findings_bucket=params.findings_bucket,
                                  endpoint_url=params.endpoint_url)
        try:
            run = run_deployment(name=params.redact_deployment,
                                 parameters={"params": redact.model_dump()}, timeout=0,
                                 flow_run_name=f"re-redact {eid}",
                                 idempotency_key=f"re-redact-{eid}-{review_id}")
        except ObjectNotFound:
            logger.warning("Deployment %s not found: run `veilscan queue render` to "
                           "re-redact %s in-process", params.redact_deployment, eid)
            not_started.append(eid)
            continue
        redact_runs[eid] = str(run.id)
    create_markdown_artifact(key="review-decision", markdown=(
        f"# Review by {decision.reviewer}\n\n- approved: {len(outcome.approved)}\n"
        f"- rejected: {len(outcome.rejected)} ({decision.reason or '-'})\n"
        f"- refused: {outcome.refused or '-'}\n- re-redact runs started: {len(redact_runs)}"))
    return ReviewOutcome(listed=listed, approved=outcome.approved, rejected=outcome.rejected,
                         refused=outcome.refused, reviewer=decision.reviewer,
                         redact_runs=redact_runs, not_started=not_started)


@flow(name=REDACT_FLOW, flow_run_name="re-redact {params.entry_ids}", log_prints=True)
def re_redact(params: RedactParameters) -> list[dict]:
    """Re-redact the given approved entries, one task each; returns each outcome."""
    logger = get_run_logger()
    s3 = S3Settings.from_env(endpoint_url=params.endpoint_url)
    futures = [re_redact_entry.submit(RemediationJob(entry_id=eid, s3=s3,
                                                     findings_bucket=params.findings_bucket,
                                                     plan=params.plan()))
               for eid in params.entry_ids]
    outcomes = [f.result() for f in futures]
    for o in outcomes:
        logger.info("%s %s: %s", o.entry_id, o.status, o.note)
    create_table_artifact(key="re-redact", table=[
        {"entry_id": o.entry_id, "source": o.source, "status": o.status,
         "output": o.output_url, "manifest": o.manifest_url, "note": o.note}
        for o in outcomes], description="Re-redaction results")
    return [asdict(o) for o in outcomes]
