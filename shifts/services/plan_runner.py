"""Walking an approved staged shift, one tick at a time.

Beat enqueues a tick for every active plan every OPSPORTAL_PLAN_TICK_SECONDS, and each
decision enqueues the next one at once; a tick does what the plan's current phase needs and
returns. Nothing sleeps and nothing is remembered between ticks but the `PlanRun` row, so a
killed worker, a redelivered task or a broker outage costs at most a tick: the plan resumes at
the step it was on.

Each tick reads AWS first, outside any lock, then locks the proposal and goes on only if the
run is still in the phase it read (another tick may have moved it meanwhile). The phases:

* waiting: start when the approvals still hold, the weights are still the ones approved
  (else superseded), the endpoint is InService and has no open incident;
* a step not sent yet: set `step_sent_at` and commit, then send its one
  UpdateEndpointWeightsAndCapacities. The committed marker means a redelivered or concurrent
  tick never sends the step again;
* a step sent, not yet live: wait for InService with the step's weights, then start its bake.
  A worker killed between the marker and the call leaves the old weights: once
  OPSPORTAL_PLAN_SETTLE_SECONDS have passed and the endpoint is InService with exactly the
  weights from before the step (nothing took effect), the step is sent again, once, under a
  second committed marker (`step_resent_at`), and the decision log says so. So the plan
  resumes at the step it was on with one call reaching AWS for it. Nothing is resent while
  the endpoint is Updating or shows any other weights, and a step lost twice pauses the plan
  ("did not take") for a person;
* baking: every OPSPORTAL_PLAN_EVALUATE_SECONDS and at the end of the bake, re-read the
  endpoint (weights moved outside the portal: pause, no call) and judge the gates
  (`plan_evaluation.py`). A failed gate rolls back or pauses, as the plan says. At the end of
  the bake a pass moves to the next step (or pauses at a manual one, or promotes after the
  last); too little traffic extends the bake, up to the plan's limit, then pauses;
* rolling back: send the weights from before the plan in one call (again after an error: a
  rollback repeated is harmless, unlike a step), then finish.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.aws import traffic as aws_traffic
from core.aws.errors import AwsError
from core.aws.types import EndpointDescription, EndpointStatus
from core.queue import enqueue_on_commit
from endpoints.services import endpoint_refresh_later
from shifts import selectors, tasks
from shifts.changes.base import LiveRead
from shifts.changes.common import describe, live_weights, target_of
from shifts.changes.traffic import TrafficChange, instance_counts
from shifts.deployment_notes import duration
from shifts.gates import VariantWindow
from shifts.models import (
    ChangeType,
    PauseCause,
    PlanRun,
    PlanStatus,
    ShiftProposal,
    ShiftState,
)
from shifts.monitor_gate import monitor_runs
from shifts.plan_evaluation import Evaluation, evaluate
from shifts.plan_spec import PlanSpec, plan_from
from shifts.plan_steps import step_weights
from shifts.plan_words import split_words, step_words
from shifts.services.apply import REFUSED
from shifts.services.transitions import audit_step, locked, notify, timeline_step, transition
from shifts.weights import same_weights

# CloudWatch's period: a bake younger than this has no data point of its own yet.
FIRST_MINUTE = 60

Phase = tuple[str, int, datetime | None, datetime | None, datetime | None, datetime | None]


def _phase(run: PlanRun | None) -> Phase | None:
    if run is None:
        return None
    return (
        run.status,
        run.step,
        run.step_sent_at,
        run.step_resent_at,
        run.bake_started_at,
        run.rollback_sent_at,
    )


def _spec(proposal: ShiftProposal) -> PlanSpec:
    return plan_from(proposal.spec)


def _locked_run(proposal_id: int) -> tuple[ShiftProposal, PlanRun | None]:
    proposal = locked(proposal_id)
    return proposal, PlanRun.objects.select_for_update().filter(proposal=proposal).first()


def _locked_in(proposal_id: int, phase: Phase | None) -> tuple[ShiftProposal, PlanRun] | None:
    """The proposal and its run, locked, if the run is still in `phase` (else another tick
    or a person moved it since it was read: this tick has nothing left to do)."""
    proposal, run = _locked_run(proposal_id)
    if run is None or _phase(run) != phase:
        return None
    return proposal, run


def record(
    *,
    proposal: ShiftProposal,
    run: PlanRun,
    action: str,
    comment: str,
    now: datetime,
    actor: Any = None,
    detail: dict[str, Any] | None = None,
    request: Any = None,
) -> None:
    """Save the run and write the decision to the plan's log (the proposal's timeline) and
    the audit log, in the caller's transaction."""
    run.save()
    proposal.updated_at = now
    proposal.save(update_fields=["updated_at"])
    full = {"step": run.step + 1, "status": run.status, **(detail or {})}
    timeline_step(
        proposal=proposal,
        actor=actor,
        action=action,
        source=proposal.state,
        now=now,
        comment=comment,
        detail=full,
    )
    audit_step(
        proposal=proposal,
        actor=actor,
        action=action,
        source=proposal.state,
        destination=proposal.state,
        comment=comment,
        request=request,
        extra={"plan": full},
    )


def pause(
    *,
    proposal: ShiftProposal,
    run: PlanRun,
    cause: str,
    why: str,
    now: datetime,
    actor: Any = None,
    detail: dict[str, Any] | None = None,
    request: Any = None,
) -> None:
    """Stop moving until a person resumes, promotes or aborts; everyone is told why."""
    run.status = PlanStatus.PAUSED
    run.pause_cause = cause
    run.pause_reason = why
    record(
        proposal=proposal,
        run=run,
        action="plan.pause",
        comment=why,
        now=now,
        actor=actor,
        detail=detail,
        request=request,
    )
    notify(proposal, "paused")


def begin_rollback(
    *,
    proposal: ShiftProposal,
    run: PlanRun,
    why: str,
    now: datetime,
    actor: Any = None,
    detail: dict[str, Any] | None = None,
    request: Any = None,
) -> None:
    """Decide to roll back (the call itself follows, after this commits)."""
    run.status = PlanStatus.ROLLING_BACK
    run.pause_cause = PauseCause.NONE
    run.pause_reason = ""
    run.rollback_reason = why
    run.rollback_sent_at = None
    record(
        proposal=proposal,
        run=run,
        action="plan.rollback",
        comment=why,
        now=now,
        actor=actor,
        detail=detail,
        request=request,
    )
    enqueue_on_commit(tasks.plan_tick, proposal.pk)


def _read(proposal: ShiftProposal) -> EndpointDescription | AwsError:
    try:
        return describe(proposal)
    except AwsError as exc:
        return exc


def _note_error(proposal_id: int, phase: Phase | None, why: str) -> str:
    """Keep the plan where it is and say on its page why it could not move on."""
    with transaction.atomic():
        proposal, run = _locked_run(proposal_id)
        if run is not None and _phase(run) == phase:
            run.last_error = why[:2000]
            run.save(update_fields=["last_error"])
    return f"waiting: {why}"


def plan_tick(*, proposal_id: int, now: datetime | None = None) -> str:
    """Do what the plan's current phase needs. Returns what happened, for logs and tests."""
    now = now or timezone.now()
    proposal = (
        ShiftProposal.objects.select_related("endpoint")
        .filter(pk=proposal_id, change=ChangeType.PLAN)
        .first()
    )
    if proposal is None:
        return "gone"
    run = PlanRun.objects.filter(proposal=proposal).first()
    if proposal.state == ShiftState.APPROVED and (run is None or run.status == PlanStatus.WAITING):
        return _start(proposal, run, now)
    if proposal.state != ShiftState.APPLYING or run is None:
        return f"nothing to do: {proposal.state}"
    if run.status == PlanStatus.ROLLING_BACK:
        return _roll_back(proposal, run, now)
    if run.status != PlanStatus.RUNNING:
        return f"nothing to do: {run.status}"
    if run.step_sent_at is None:
        return _send_step(proposal, run, now)
    if run.bake_started_at is None:
        return _settle(proposal, run, now)
    return _bake(proposal, run, now)


# --- starting ---------------------------------------------------------------------------


def _start(proposal: ShiftProposal, run: PlanRun | None, now: datetime) -> str:
    """Check what the approval was bound to, then send the first step."""
    phase = _phase(run)
    live = _read(proposal)
    with transaction.atomic():
        proposal, run = _locked_run(proposal.pk)
        if proposal.state != ShiftState.APPROVED or _phase(run) != phase:
            return "raced"
        if run is None:
            run = PlanRun(proposal=proposal, status=PlanStatus.WAITING)
        spec = _spec(proposal)
        valid = len(selectors.valid_approvals(proposal=proposal, now=now))
        if valid < selectors.approvals_required():
            hours = settings.OPSPORTAL_SHIFT_APPROVAL_TTL_HOURS
            return _stop(
                proposal,
                run,
                ShiftState.EXPIRED,
                f"The approvals were older than {hours} h before the plan could start; nothing "
                "was sent.",
                now,
            )
        if isinstance(live, AwsError):
            run.last_error = f"Could not read the endpoint: {live}"
            run.save()
            return f"waiting: {live}"
        moved = TrafficChange.moved_in_inventory(proposal=proposal) or TrafficChange.moved_live(
            proposal=proposal, live=LiveRead(described=live)
        )
        if moved is not None:
            return _stop(proposal, run, ShiftState.SUPERSEDED, moved.comment, now)
        cause, blocker = _start_blocker(proposal, spec, live)
        if blocker:
            if run.pause_reason != blocker:
                run.pause_reason = blocker
                run.pause_cause = cause
                record(proposal=proposal, run=run, action="plan.wait", comment=blocker, now=now)
            return f"waiting: {blocker}"
        run.status = PlanStatus.RUNNING
        run.pause_cause = PauseCause.NONE
        run.pause_reason = ""
        run.step_from_weights = proposal.before_weights
        run.started_at = now
        run.last_error = ""
        run.save()
        proposal.update_sent_at = now
        transition(
            proposal=proposal,
            to=ShiftState.APPLYING,
            actor=None,
            action="plan.start",
            now=now,
            comment=f"Plan started: {len(spec.steps)} steps towards {spec.candidate} 100 %.",
        )
    return _send_step(proposal, run, now)


def _start_blocker(
    proposal: ShiftProposal, spec: PlanSpec, live: EndpointDescription
) -> tuple[str, str]:
    """Why the plan cannot start yet (its cause and words), or ("", "")."""
    if live.status != EndpointStatus.IN_SERVICE:
        return (
            PauseCause.ENDPOINT,
            f"The endpoint is {live.status}; the plan starts once it is InService.",
        )
    incident = selectors.plan_incident(endpoint=proposal.endpoint, gated=())
    if incident:
        return (
            PauseCause.INCIDENT,
            f"The endpoint has an open incident ({incident}); the plan starts once it is over.",
        )
    current, _ = live_weights(live)
    if spec.candidate not in current or spec.baseline not in current:
        return PauseCause.ENDPOINT, f"The endpoint's variants are now {', '.join(current)}."
    return "", ""


def _stop(proposal: ShiftProposal, run: PlanRun, state: str, why: str, now: datetime) -> str:
    """The plan ends before sending anything (superseded, expired, failed)."""
    run.status = PlanStatus.STOPPED
    run.finished_at = now
    run.outcome = why
    run.save()
    actions = {str(ShiftState.EXPIRED): "expire", str(ShiftState.SUPERSEDED): "supersede"}
    action = actions.get(state, "apply")
    transition(
        proposal=proposal,
        to=state,
        actor=None,
        action=action,
        now=now,
        comment=why if state != ShiftState.FAILED else "",
        error=why if state == ShiftState.FAILED else "",
    )
    return str(state)


# --- sending a step ------------------------------------------------------------------------


def _send_step(proposal: ShiftProposal, run: PlanRun, now: datetime) -> str:
    """Mark the step sent (committed), then send it: at most once."""
    phase = _phase(run)
    live = _read(proposal)
    if isinstance(live, AwsError):
        return _note_error(proposal.pk, phase, f"Could not read the endpoint: {live}")
    with transaction.atomic():
        held = _locked_in(proposal.pk, phase)
        if held is None:
            return "raced"
        proposal, run = held
        spec = _spec(proposal)
        current, pending = live_weights(live)
        expected = run.step_from_weights or current
        if live.status != EndpointStatus.IN_SERVICE and same_weights(pending, expected):
            return "waiting: not InService"
        if not (same_weights(current, expected) and same_weights(pending, expected)):
            pause(
                proposal=proposal,
                run=run,
                cause=PauseCause.MOVED,
                why="Weights moved outside the portal: plan paused. Live "
                f"{split_words(current)}; the plan expected {split_words(expected)}.",
                now=now,
            )
            return "paused: moved"
        if live.status != EndpointStatus.IN_SERVICE:
            run.last_error = f"The endpoint is {live.status}; the step waits for InService."
            run.save()
            return "waiting: not InService"
        step = spec.steps[run.step]
        weights = step_weights(
            live=current,
            candidate=spec.candidate,
            baseline=spec.baseline,
            candidate_percent=step.candidate_percent,
        )
        run.step_from_weights = current
        run.step_weights = weights
        run.step_sent_at = now
        run.last_error = ""
        record(
            proposal=proposal,
            run=run,
            action="plan.step",
            comment=f"Sending step {run.step + 1} of {len(spec.steps)}: "
            f"{step_words(spec, weights)} (UpdateEndpointWeightsAndCapacities).",
            now=now,
            detail={"weights": weights},
        )
        counts = instance_counts(live)
    # The marker is committed: from here on no other tick sends this step.
    return _call_step(proposal, run, weights, counts, verb="sent")


def _call_step(
    proposal: ShiftProposal,
    run: PlanRun,
    weights: dict[str, float],
    counts: dict[str, int | None],
    *,
    verb: str,
) -> str:
    """The step's UpdateEndpointWeightsAndCapacities, its marker already committed. A call
    that ends in an error may still have taken: the next tick reads what the endpoint has."""
    try:
        request_id = aws_traffic.update_weights(
            target=target_of(proposal),
            region=proposal.endpoint.region,
            endpoint_name=proposal.endpoint.name,
            weights=weights,
            instance_counts=counts,
        )
    except REFUSED as exc:
        with transaction.atomic():
            proposal, fresh = _locked_run(proposal.pk)
            if fresh is not None and fresh.status == PlanStatus.RUNNING:
                pause(
                    proposal=proposal,
                    run=fresh,
                    cause=PauseCause.ENDPOINT,
                    why=f"AWS refused step {run.step + 1}: {exc}. Nothing changed; resume to "
                    "send it again, or abort.",
                    now=timezone.now(),
                )
        return f"paused: refused: {exc}"
    except AwsError as exc:
        _note_error(
            proposal.pk,
            _phase(run),
            f"The step's call ended with {exc}; the next tick reads whether it took.",
        )
        return f"unknown: {exc}"
    with transaction.atomic():
        proposal, fresh = _locked_run(proposal.pk)
        if fresh is not None and fresh.step_sent_at is not None:
            fresh.step_request_id = request_id[:64]
            fresh.save(update_fields=["step_request_id"])
        enqueue_on_commit(
            tasks.plan_tick, proposal.pk, countdown=settings.OPSPORTAL_SHIFT_POLL_SECONDS
        )
    endpoint_refresh_later(endpoint_id=proposal.endpoint_id)
    return f"{verb} step {run.step + 1}: {request_id}"


def _settle(proposal: ShiftProposal, run: PlanRun, now: datetime) -> str:
    """The step was sent: its bake starts once the endpoint is InService with its weights."""
    phase = _phase(run)
    live = _read(proposal)
    if isinstance(live, AwsError):
        return _note_error(proposal.pk, phase, f"Could not read the endpoint: {live}")
    with transaction.atomic():
        held = _locked_in(proposal.pk, phase)
        if held is None:
            return "raced"
        proposal, run = held
        spec = _spec(proposal)
        current, pending = live_weights(live)
        settled = live.status == EndpointStatus.IN_SERVICE
        if settled and same_weights(current, run.step_weights):
            step = spec.steps[run.step]
            run.bake_started_at = now
            run.bake_until = now + timedelta(seconds=step.bake_seconds)
            run.extensions = 0
            run.last_error = ""
            record(
                proposal=proposal,
                run=run,
                action="plan.live",
                comment=f"Step {run.step + 1} is live: {step_words(spec, current)}; "
                + (f"baking {duration(step.bake_seconds)}." if step.bake_seconds else "no bake."),
                now=now,
            )
            enqueue_on_commit(tasks.plan_tick, proposal.pk)
            return f"live: step {run.step + 1}"
        if live.status in (EndpointStatus.FAILED, EndpointStatus.UPDATE_ROLLBACK_FAILED):
            begin_rollback(
                proposal=proposal,
                run=run,
                why=f"The endpoint is {live.status} after step {run.step + 1}: "
                f"{live.failure_reason or 'no reason given'}.",
                now=now,
            )
            return "rolling back: endpoint failed"
        in_flight = same_weights(pending, run.step_weights)
        if in_flight and not settled:
            return f"waiting: {live.status}"
        before = same_weights(current, run.step_from_weights) and same_weights(
            pending, run.step_from_weights
        )
        sent = run.step_resent_at or run.step_sent_at or now
        settle = settings.OPSPORTAL_PLAN_SETTLE_SECONDS
        if before and (now - sent).total_seconds() < settle:
            return "waiting: not applied yet"
        if not before:
            pause(
                proposal=proposal,
                run=run,
                cause=PauseCause.MOVED,
                why=f"Weights moved outside the portal: plan paused. Live "
                f"{split_words(current)}; step {run.step + 1} sent "
                f"{split_words(run.step_weights)}.",
                now=now,
            )
            return "paused: moved"
        if not settled or run.step_resent_at is not None:
            again = " (sent twice)" if run.step_resent_at is not None else ""
            pause(
                proposal=proposal,
                run=run,
                cause=PauseCause.NOT_TAKEN,
                why=f"Step {run.step + 1}'s update did not take{again}: the endpoint is "
                f"{live.status} and still has {split_words(current)}. {run.last_error} Resume "
                "to send the step again, or abort.".replace("  ", " "),
                now=now,
            )
            return "paused: not taken"
        # Nothing took effect (InService, exactly the weights from before the step): the
        # call never reached AWS, e.g. the worker was killed after the marker. Send it once
        # more, under a marker of its own.
        run.step_resent_at = now
        run.last_error = ""
        record(
            proposal=proposal,
            run=run,
            action="plan.resend",
            comment=f"Step {run.step + 1}'s update never took: {settle} s after it was "
            f"marked sent the endpoint is InService with {split_words(current)}, the weights "
            f"from before it. Sending it once more: {step_words(spec, run.step_weights)} "
            "(UpdateEndpointWeightsAndCapacities).",
            now=now,
            detail={"weights": run.step_weights},
        )
        weights, counts = dict(run.step_weights), instance_counts(live)
    # The resend is marked (committed): a second loss pauses the plan instead.
    return _call_step(proposal, run, weights, counts, verb="resent")


# --- baking --------------------------------------------------------------------------------


def _reference(run: PlanRun) -> VariantWindow | None:
    return VariantWindow(**run.baseline_reference) if run.baseline_reference else None


def _bake(proposal: ShiftProposal, run: PlanRun, now: datetime) -> str:
    """Judge the gates when an evaluation is due; act on the verdict."""
    bake_until = run.bake_until or now
    due = run.last_evaluated_at is None or (now - run.last_evaluated_at).total_seconds() >= (
        settings.OPSPORTAL_PLAN_EVALUATE_SECONDS
    )
    started = run.bake_started_at or now
    if now < bake_until and (not due or (now - started).total_seconds() < FIRST_MINUTE):
        # Nothing to judge before the bake's first CloudWatch minute (or between
        # evaluations): no AWS call.
        return "baking"
    phase = _phase(run)
    spec = _spec(proposal)
    live = _read(proposal)
    if isinstance(live, AwsError):
        return _note_error(proposal.pk, phase, f"Could not read the endpoint: {live}")
    step = spec.steps[run.step]
    evaluation: Evaluation | AwsError | None = None
    if step.bake_seconds and run.bake_started_at is not None:
        monitor = (
            monitor_runs(endpoint=proposal.endpoint, start=run.bake_started_at, end=now)
            if spec.thresholds.model_monitor
            else None
        )
        try:
            evaluation = evaluate(
                target=target_of(proposal),
                region=proposal.endpoint.region,
                endpoint_name=proposal.endpoint.name,
                spec=spec,
                start=run.bake_started_at,
                end=now,
                baseline_reference=_reference(run),
                monitor_runs=monitor,
            )
        except AwsError as exc:
            evaluation = exc
    with transaction.atomic():
        held = _locked_in(proposal.pk, phase)
        if held is None:
            return "raced"
        proposal, run = held
        current, pending = live_weights(live)
        if not (
            same_weights(current, run.step_weights) and same_weights(pending, run.step_weights)
        ):
            pause(
                proposal=proposal,
                run=run,
                cause=PauseCause.MOVED,
                why=f"Weights moved outside the portal: plan paused. Live "
                f"{split_words(pending)}; step {run.step + 1} set "
                f"{split_words(run.step_weights)}.",
                now=now,
            )
            return "paused: moved"
        if isinstance(evaluation, AwsError):
            run.last_error = f"Could not read the gates' metrics: {evaluation}"
            run.last_evaluated_at = now
            run.save()
            return f"waiting: {evaluation}"
        if evaluation is not None:
            run.last_evaluated_at = now
            run.last_verdict = evaluation.to_json()
            run.last_error = ""
            if evaluation.outcome == "fail":
                return _failed_gate(proposal, run, spec, evaluation, now)
        incident = selectors.plan_incident(endpoint=proposal.endpoint, gated=spec.alarms or ())
        if incident:
            pause(
                proposal=proposal,
                run=run,
                cause=PauseCause.INCIDENT,
                why=f"The endpoint has an open incident ({incident}): plan paused.",
                now=now,
            )
            return "paused: incident"
        if now < bake_until:
            run.save()
            return f"baking: {evaluation.outcome if evaluation else 'no gates'}"
        if evaluation is None or evaluation.outcome == "pass":
            return _step_passed(proposal, run, spec, evaluation, now)
        return _too_little_traffic(proposal, run, spec, evaluation, now)


def _failed_gate(
    proposal: ShiftProposal, run: PlanRun, spec: PlanSpec, evaluation: Evaluation, now: datetime
) -> str:
    detail = {"verdict": evaluation.to_json()}
    if spec.on_failure == "pause":
        pause(
            proposal=proposal,
            run=run,
            cause=PauseCause.GATE,
            why=f"Step {run.step + 1} failed its gates: {evaluation.summary}. "
            f"{evaluation.failure_words}. Plan paused (it pauses rather than rolls back).",
            now=now,
            detail=detail,
        )
        return "paused: gate"
    before = split_words(proposal.before_weights)
    begin_rollback(
        proposal=proposal,
        run=run,
        why=f"{evaluation.summary} ({evaluation.failure_words}): rolling back to {before}.",
        now=now,
        detail=detail,
    )
    return "rolling back: gate"


def _step_passed(
    proposal: ShiftProposal,
    run: PlanRun,
    spec: PlanSpec,
    evaluation: Evaluation | None,
    now: datetime,
) -> str:
    number = run.step + 1
    detail = {"verdict": evaluation.to_json()} if evaluation else {}
    if evaluation is not None:
        baseline = evaluation.windows.get(spec.baseline)
        if baseline is not None and baseline.invocations:
            run.baseline_reference = asdict(baseline)
    if run.step >= spec.last_step:
        run.status = PlanStatus.PROMOTED
        run.finished_at = now
        words = f" ({evaluation.summary})" if evaluation else ""
        run.outcome = (
            f"Promoted: every step passed its gates{words}; {step_words(spec, run.step_weights)}."
        )
        run.save()
        proposal.observed_weights = run.step_weights
        transition(
            proposal=proposal,
            to=ShiftState.APPLIED,
            actor=None,
            action="plan.promoted",
            now=now,
            comment=run.outcome,
            detail={"step": run.step + 1, "status": run.status, **detail},
        )
        endpoint_refresh_later(endpoint_id=proposal.endpoint_id)
        return "promoted"
    passed = f"Step {number} passed its gates" + (f": {evaluation.summary}" if evaluation else "")
    if spec.steps[run.step].manual:
        pause(
            proposal=proposal,
            run=run,
            cause=PauseCause.MANUAL_STEP,
            why=f"{passed}. Step {number} is a manual step: an Approver other than the "
            "proposer resumes the plan to go on.",
            now=now,
            detail=detail,
        )
        return "paused: manual step"
    record(
        proposal=proposal,
        run=run,
        action="plan.passed",
        comment=f"{passed}.",
        now=now,
        detail=detail,
    )
    next_step(run)
    run.save()
    enqueue_on_commit(tasks.plan_tick, proposal.pk)
    return f"passed step {number}"


def next_step(run: PlanRun, *, to: int | None = None, rebind: bool = False) -> None:
    """Move the run to the next step (or step `to`), not sent yet. The step will be sent
    only if the endpoint still has the weights the plan left it with (`step_from_weights`)
    — or, with `rebind` (a person's decision after a change outside the portal), whatever
    weights it has when the step is sent."""
    if rebind:
        run.step_from_weights = {}
    elif run.bake_started_at is not None:
        run.step_from_weights = run.step_weights
    run.step = run.step + 1 if to is None else to
    run.step_sent_at = None
    run.step_resent_at = None
    run.step_request_id = ""
    run.bake_started_at = None
    run.bake_until = None
    run.extensions = 0
    run.last_evaluated_at = None


def stop_plan(
    *, proposal: ShiftProposal, actor: Any, why: str, now: datetime, request: Any = None
) -> None:
    """End a running plan where it is, without a rollback (an emergency change takes over
    the endpoint); in the caller's transaction, with the proposal locked."""
    run = PlanRun.objects.select_for_update().filter(proposal=proposal).first()
    if run is not None and not run.is_finished:
        run.status = PlanStatus.STOPPED
        run.pause_cause = PauseCause.NONE
        run.pause_reason = ""
        run.finished_at = now
        run.outcome = why
        run.save()
    transition(
        proposal=proposal,
        to=ShiftState.FAILED,
        actor=actor,
        action="plan.stop",
        now=now,
        error=why,
        request=request,
    )


def _too_little_traffic(
    proposal: ShiftProposal, run: PlanRun, spec: PlanSpec, evaluation: Evaluation, now: datetime
) -> str:
    waiting = "; ".join(
        f"{r.value} ({r.threshold})" for r in evaluation.results if r.verdict == "wait"
    )
    detail = {"verdict": evaluation.to_json()}
    step = spec.steps[run.step]
    if run.extensions < spec.max_extensions:
        run.extensions += 1
        run.bake_until = (run.bake_until or now) + timedelta(seconds=step.bake_seconds)
        record(
            proposal=proposal,
            run=run,
            action="plan.extend",
            comment=f"Step {run.step + 1}'s bake is extended by {duration(step.bake_seconds)} "
            f"({run.extensions} of {spec.max_extensions}): not enough evidence yet — {waiting}.",
            now=now,
            detail=detail,
        )
        return "extended"
    pause(
        proposal=proposal,
        run=run,
        cause=PauseCause.TRAFFIC,
        why=f"Too little traffic to judge step {run.step + 1} after {spec.max_extensions} "
        f"extensions: {waiting}. Plan paused: resume to bake again, promote, or abort.",
        now=now,
        detail=detail,
    )
    return "paused: traffic"


# --- rolling back ------------------------------------------------------------------------


def rollback_weights(proposal: ShiftProposal, live: dict[str, float]) -> dict[str, float]:
    """The weights from before the plan for the variants the endpoint still has."""
    return {name: float(proposal.before_weights.get(name, weight)) for name, weight in live.items()}


def _roll_back(proposal: ShiftProposal, run: PlanRun, now: datetime) -> str:
    """One UpdateEndpointWeightsAndCapacities back to the weights before the plan."""
    phase = _phase(run)
    live = _read(proposal)
    if isinstance(live, AwsError):
        return _note_error(proposal.pk, phase, f"Could not read the endpoint to roll back: {live}")
    current, pending = live_weights(live)
    target = rollback_weights(proposal, current)
    already = same_weights(current, target) and same_weights(pending, target)
    request_id = ""
    if not already:
        with transaction.atomic():
            held = _locked_in(proposal.pk, phase)
            if held is None:
                return "raced"
            proposal, run = held
            run.rollback_sent_at = now
            run.save(update_fields=["rollback_sent_at"])
            phase = _phase(run)
        try:
            request_id = aws_traffic.update_weights(
                target=target_of(proposal),
                region=proposal.endpoint.region,
                endpoint_name=proposal.endpoint.name,
                weights=target,
                instance_counts=instance_counts(live),
            )
        except AwsError as exc:
            # A rollback sent twice is harmless: try again on the next tick.
            with transaction.atomic():
                held = _locked_in(proposal.pk, phase)
                if held is not None:
                    proposal, run = held
                    run.rollback_sent_at = None
                    run.last_error = f"The rollback call failed ({exc}); trying again."
                    run.save(update_fields=["rollback_sent_at", "last_error"])
                    enqueue_on_commit(
                        tasks.plan_tick,
                        proposal.pk,
                        countdown=settings.OPSPORTAL_SHIFT_POLL_SECONDS,
                    )
            return f"rollback retry: {exc}"
    with transaction.atomic():
        proposal, fresh = _locked_run(proposal.pk)
        if fresh is None or fresh.status != PlanStatus.ROLLING_BACK:
            return "raced"
        run = fresh
        run.status = PlanStatus.ROLLED_BACK
        run.finished_at = now
        run.last_error = ""
        run.outcome = run.rollback_reason
        run.save()
        proposal.observed_weights = target
        sent = f" (request {request_id})." if request_id else " (it already had them)."
        transition(
            proposal=proposal,
            to=ShiftState.FAILED,
            actor=None,
            action="plan.rolled_back",
            now=now,
            comment=f"Rolled back to {split_words(target)}{sent} Why: {run.rollback_reason}",
            error=f"Rolled back: {run.rollback_reason}",
            detail={"step": run.step + 1, "status": run.status, "weights": target},
        )
    endpoint_refresh_later(endpoint_id=proposal.endpoint_id)
    return "rolled back"


def plan_tick_all(*, now: datetime | None = None) -> int:
    """Beat: a tick for every plan that may have something to do (the runner decides)."""
    count = 0
    for pk in selectors.plans_to_tick():
        with transaction.atomic():
            enqueue_on_commit(tasks.plan_tick, pk)
        count += 1
    return count
