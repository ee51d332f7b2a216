"""What people do to a running staged shift: pause and abort (any Operator: safety needs no
second person), resume and promote (an Approver other than the proposer: they move traffic
on). Each is refused, audited and applied under the proposal's row lock like every other
step of a change request; the runner's next tick does the AWS side."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from core.errors import Conflict
from core.queue import enqueue_on_commit
from shifts import tasks
from shifts.models import PauseCause, PlanRun, PlanStatus, ShiftProposal, ShiftState
from shifts.plan_spec import plan_from
from shifts.services.plan_runner import begin_rollback, next_step, pause, record
from shifts.services.transitions import guarded, required_text, transition


def _run(proposal: ShiftProposal) -> PlanRun | None:
    return PlanRun.objects.select_for_update().filter(proposal=proposal).first()


def _moving(proposal: ShiftProposal, run: PlanRun | None, verb: str) -> Conflict | None:
    if not proposal.is_plan:
        return Conflict(f"Change #{proposal.pk} is not a staged shift.")
    if proposal.state not in (ShiftState.APPROVED, ShiftState.APPLYING) or (
        run is not None and run.is_finished
    ):
        return Conflict(f"The plan of #{proposal.pk} has finished; there is nothing to {verb}.")
    return None


def plan_pause(
    *,
    proposal_id: int,
    actor: Any,
    reason: str,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> ShiftProposal:
    """Hold the plan at its current step (traffic stays as it is) until someone resumes."""
    now = now or timezone.now()
    reason = required_text(reason, "A reason")

    def step(proposal: ShiftProposal) -> Conflict | None:
        run = _run(proposal)
        if problem := _moving(proposal, run, "pause"):
            return problem
        if run is None or run.status != PlanStatus.RUNNING:
            state = run.status if run else "waiting to start"
            return Conflict(f"The plan is {state}; only a running plan can be paused.")
        pause(
            proposal=proposal,
            run=run,
            cause=PauseCause.PERSON,
            why=f"Paused by {actor.get_username()}: {reason}",
            now=now,
            actor=actor,
            request=request,
        )
        return None

    return guarded(
        proposal_id=proposal_id, actor=actor, action="plan_pause", step=step, request=request
    )


def plan_abort(
    *,
    proposal_id: int,
    actor: Any,
    reason: str,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> ShiftProposal:
    """Roll back now to the weights before the plan (one call, made by the runner's next
    tick, enqueued at once). A plan approved but not started yet is simply cancelled."""
    now = now or timezone.now()
    reason = required_text(reason, "A reason")

    def step(proposal: ShiftProposal) -> Conflict | None:
        run = _run(proposal)
        if problem := _moving(proposal, run, "abort"):
            return problem
        why = f"Aborted by {actor.get_username()}: {reason}"
        if proposal.state == ShiftState.APPROVED:
            if run is None:
                run = PlanRun(proposal=proposal)
            run.status = PlanStatus.STOPPED
            run.finished_at = now
            run.outcome = why
            run.save()
            transition(
                proposal=proposal,
                to=ShiftState.FAILED,
                actor=actor,
                action="plan.abort",
                now=now,
                error=f"{why}. Nothing had been sent.",
                request=request,
            )
            return None
        if run is None or run.status == PlanStatus.ROLLING_BACK:
            return Conflict("The plan is already rolling back.")
        begin_rollback(proposal=proposal, run=run, why=why, now=now, actor=actor, request=request)
        return None

    return guarded(
        proposal_id=proposal_id, actor=actor, action="plan_abort", step=step, request=request
    )


def plan_resume(
    *,
    proposal_id: int,
    actor: Any,
    comment: str = "",
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> ShiftProposal:
    """Go on from a pause: past a manual step to the next one; otherwise bake the current
    step again from now (sending it again only if its weights are not live: the runner
    sends a step whose marker is clear, after checking the live weights are the ones before
    it, so a step that did take is re-baked, not resent)."""
    now = now or timezone.now()

    def step(proposal: ShiftProposal) -> Conflict | None:
        run = _run(proposal)
        if problem := _moving(proposal, run, "resume"):
            return problem
        if run is None or run.status != PlanStatus.PAUSED:
            return Conflict("Only a paused plan can be resumed.")
        spec = plan_from(proposal.spec)
        cause = run.pause_cause
        run.status = PlanStatus.RUNNING
        run.pause_cause = PauseCause.NONE
        run.pause_reason = ""
        if cause == PauseCause.MANUAL_STEP and run.step < spec.last_step:
            next_step(run)
            what = f"on to step {run.step + 1}"
        elif cause in (PauseCause.NOT_TAKEN, PauseCause.ENDPOINT, PauseCause.MOVED):
            # The step is sent again; after a change outside the portal, from the weights
            # the endpoint has then (the person resuming has seen them).
            run.bake_started_at = None
            next_step(run, to=run.step, rebind=cause == PauseCause.MOVED)
            what = f"step {run.step + 1} is sent again"
        elif run.bake_started_at is not None:
            run.bake_started_at = now
            run.bake_until = now + timedelta(seconds=spec.steps[run.step].bake_seconds)
            run.extensions = 0
            run.last_evaluated_at = None
            what = f"step {run.step + 1} bakes again from now"
        else:
            what = f"step {run.step + 1} goes on"
        words = f"Resumed by {actor.get_username()}: {what}." + (f" {comment}" if comment else "")
        record(
            proposal=proposal,
            run=run,
            action="plan.resume",
            comment=words,
            now=now,
            actor=actor,
            request=request,
        )
        enqueue_on_commit(tasks.plan_tick, proposal.pk)
        return None

    return guarded(
        proposal_id=proposal_id, actor=actor, action="plan_resume", step=step, request=request
    )


def plan_promote(
    *,
    proposal_id: int,
    actor: Any,
    comment: str = "",
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> ShiftProposal:
    """Skip to the last step (the target weights) now; it is sent by the next tick."""
    now = now or timezone.now()

    def step(proposal: ShiftProposal) -> Conflict | None:
        run = _run(proposal)
        if problem := _moving(proposal, run, "promote"):
            return problem
        if run is None or run.status not in (PlanStatus.RUNNING, PlanStatus.PAUSED):
            return Conflict("Only a running or paused plan can be promoted.")
        spec = plan_from(proposal.spec)
        if run.step == spec.last_step and run.step_sent_at is not None:
            return Conflict("The plan is already at its last step.")
        run.status = PlanStatus.RUNNING
        run.pause_cause = PauseCause.NONE
        run.pause_reason = ""
        next_step(run, to=spec.last_step, rebind=run.bake_started_at is None)
        words = f"Promoted by {actor.get_username()}: skipping to the last step." + (
            f" {comment}" if comment else ""
        )
        record(
            proposal=proposal,
            run=run,
            action="plan.promote",
            comment=words,
            now=now,
            actor=actor,
            request=request,
        )
        enqueue_on_commit(tasks.plan_tick, proposal.pk)
        return None

    return guarded(
        proposal_id=proposal_id, actor=actor, action="plan_promote", step=step, request=request
    )
