"""Applying an approved change request and verifying it took: its AWS calls made at most
once, after the marker is committed, then polls (with a countdown, never sleeping) until
the change is verified, or the deadline passes. What is read, compared, sent and verified
is the change type's (`shifts/changes/`); the order and the guarantees are here, once."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.aws.errors import (
    AccessDenied,
    AwsError,
    Conflict,
    NotFound,
    QuotaExceeded,
    ValidationFailed,
)
from core.aws.types import EndpointStatus
from core.queue import enqueue_on_commit
from endpoints.services import endpoint_refresh_later
from shifts import selectors, tasks
from shifts.changes import APPLIED, FAILED, LiveRead, change_of, needs_in_service
from shifts.models import ShiftProposal, ShiftState
from shifts.services.transitions import locked, transition

# AWS answers that prove the update was refused (nothing changed); any other error leaves
# the outcome unknown and the poll settles it by reading the endpoint.
REFUSED = (ValidationFailed, NotFound, AccessDenied, QuotaExceeded, Conflict)
# What the timeline says is being sent, per change type.
SENT_CALLS = {
    "traffic": "UpdateEndpointWeightsAndCapacities",
    "capacity": "UpdateEndpointWeightsAndCapacities",
    "autoscaling": "the Application Auto Scaling change",
    "deploy": "CreateEndpointConfig and UpdateEndpoint",
    "rollback": "UpdateEndpoint",
}


def _unreadable(
    *,
    proposal: ShiftProposal,
    error: AwsError,
    now: datetime,
    deadline: datetime,
    task: str,
    gone: str,
) -> str:
    """The outcome when DescribeEndpoint did not answer with the endpoint: gone fails the
    shift, any other AWS error is retried until the deadline."""
    described = error
    if isinstance(described, NotFound):
        transition(
            proposal=proposal,
            to=ShiftState.FAILED,
            actor=None,
            action=task,
            now=now,
            error=f"{gone}: {described}",
        )
        return "failed: gone"
    return _retry_or_fail(
        proposal=proposal,
        now=now,
        deadline=deadline,
        task=task,
        why=f"Could not read the endpoint: {described}",
    )


def _retry_or_fail(
    *, proposal: ShiftProposal, now: datetime, deadline: datetime, task: str, why: str
) -> str:
    """Try again after the poll interval, or fail once the deadline has passed. The attempt
    cap (the deadline counted in poll intervals) ends the chain even if the clock does not
    move as expected (a stuck clock, or a chain run faster than its countdowns)."""
    interval = settings.OPSPORTAL_SHIFT_POLL_SECONDS
    if task == "apply":
        attempts = proposal.apply_attempts
        allowed = settings.OPSPORTAL_SHIFT_APPLY_DEADLINE_SECONDS // interval + 2
    else:
        attempts = proposal.poll_attempts
        allowed = change_of(proposal).verify_deadline_seconds(proposal=proposal) // interval + 2
    if now >= deadline or attempts >= allowed:
        transition(
            proposal=proposal, to=ShiftState.FAILED, actor=None, action=task, now=now, error=why
        )
        return f"failed: {why}"
    proposal.updated_at = now
    proposal.save()
    again = tasks.shift_apply if task == "apply" else tasks.shift_poll
    enqueue_on_commit(again, proposal.pk, countdown=interval)
    return f"retry: {why}"


def _read(proposal: ShiftProposal, *, outcome: bool = False) -> LiveRead | AwsError:
    """What the apply (or, with `outcome`, the poll) reads from AWS, or the error it met."""
    change = change_of(proposal)
    try:
        if outcome:
            return change.read_outcome(proposal=proposal)
        return change.read(proposal=proposal)
    except AwsError as exc:
        return exc


def shift_apply(*, proposal_id: int, now: datetime | None = None) -> str:
    """Re-read the live state and make the change once, or refuse: `superseded` when the
    state it was proposed against moved, `expired` when the approvals are too old, a retry
    (then `failed`) while the endpoint is not InService. Returns what happened, for logs
    and tests."""
    now = now or timezone.now()
    proposal = ShiftProposal.objects.select_related("endpoint").filter(pk=proposal_id).first()
    if proposal is None:
        return "gone"
    if proposal.state != ShiftState.APPROVED or proposal.update_sent_at is not None:
        return f"nothing to do: {proposal.state}"
    live = _read(proposal)
    with transaction.atomic():
        proposal = locked(proposal_id)
        if proposal.state != ShiftState.APPROVED or proposal.update_sent_at is not None:
            return f"nothing to do: {proposal.state}"
        change = change_of(proposal)
        proposal.apply_attempts += 1
        deadline = (proposal.approved_at or now) + timedelta(
            seconds=settings.OPSPORTAL_SHIFT_APPLY_DEADLINE_SECONDS
        )
        normal = not proposal.is_emergency
        if normal:
            count = len(selectors.valid_approvals(proposal=proposal, now=now))
            if count < selectors.approvals_required():
                hours = settings.OPSPORTAL_SHIFT_APPROVAL_TTL_HOURS
                transition(
                    proposal=proposal,
                    to=ShiftState.EXPIRED,
                    actor=None,
                    action="expire",
                    now=now,
                    comment=f"The approvals were older than {hours} h when the apply ran; "
                    "nothing was applied.",
                )
                return "expired"
            if (moved := change.moved_in_inventory(proposal=proposal)) is not None:
                transition(
                    proposal=proposal,
                    to=ShiftState.SUPERSEDED,
                    actor=None,
                    action="supersede",
                    now=now,
                    comment=moved.comment,
                    extra=moved.extra,
                )
                return "superseded"
        if isinstance(live, AwsError):
            return _unreadable(
                proposal=proposal,
                error=live,
                now=now,
                deadline=deadline,
                task="apply",
                gone="The endpoint no longer exists",
            )
        if normal and (moved := change.moved_live(proposal=proposal, live=live)) is not None:
            transition(
                proposal=proposal,
                to=ShiftState.SUPERSEDED,
                actor=None,
                action="supersede",
                now=now,
                comment=moved.comment,
                extra=moved.extra,
            )
            return "superseded"
        if (problem := change.unappliable(proposal=proposal, live=live)) is not None:
            transition(
                proposal=proposal,
                to=ShiftState.FAILED,
                actor=None,
                action="apply",
                now=now,
                error=problem,
            )
            return f"failed: {problem}"
        status = live.described.status
        if needs_in_service(proposal) and status != EndpointStatus.IN_SERVICE:
            return _retry_or_fail(
                proposal=proposal,
                now=now,
                deadline=deadline,
                task="apply",
                why=f"The endpoint is {status}, not InService.",
            )
        if not normal:
            # An emergency binds to nothing: record what it really replaced.
            change.rebind(proposal=proposal, live=live)
        proposal.update_sent_at = now
        transition(
            proposal=proposal,
            to=ShiftState.APPLYING,
            actor=None,
            action="apply",
            now=now,
            comment=f"Sending {SENT_CALLS[proposal.change]}.",
        )
    # The marker is committed: from here on nothing sends a second update.
    try:
        request_id = change.send(proposal=proposal, live=live)
    except REFUSED as exc:
        with transaction.atomic():
            proposal = locked(proposal_id)
            if proposal.state == ShiftState.APPLYING:
                transition(
                    proposal=proposal,
                    to=ShiftState.FAILED,
                    actor=None,
                    action="apply",
                    now=timezone.now(),
                    error=f"AWS refused the update: {exc}",
                )
        return f"failed: {exc}"
    except AwsError as exc:
        # Sent or not? Only reading the state again can tell: the poll decides.
        with transaction.atomic():
            proposal = locked(proposal_id)
            proposal.error = f"The update call ended with {exc}; checking whether it took."
            proposal.save(update_fields=["error"])
            enqueue_on_commit(
                tasks.shift_poll, proposal.pk, countdown=settings.OPSPORTAL_SHIFT_POLL_SECONDS
            )
        return f"unknown: {exc}"
    with transaction.atomic():
        proposal = locked(proposal_id)
        proposal.aws_request_id = request_id[:64]
        proposal.save(update_fields=["aws_request_id"])
        enqueue_on_commit(
            tasks.shift_poll, proposal.pk, countdown=settings.OPSPORTAL_SHIFT_POLL_SECONDS
        )
    return f"sent: {request_id}"


def shift_poll(*, proposal_id: int, now: datetime | None = None) -> str:
    """Read the outcome after the update: `applied` once the change type verifies it;
    `failed` if it fails, settles elsewhere, or the verify deadline passes; otherwise poll
    again later (countdown, never sleeping)."""
    now = now or timezone.now()
    proposal = ShiftProposal.objects.select_related("endpoint").filter(pk=proposal_id).first()
    if proposal is None or proposal.state != ShiftState.APPLYING:
        return f"nothing to do: {proposal.state if proposal else 'gone'}"
    live = _read(proposal, outcome=True)
    with transaction.atomic():
        proposal = locked(proposal_id)
        if proposal.state != ShiftState.APPLYING:
            return f"nothing to do: {proposal.state}"
        change = change_of(proposal)
        proposal.poll_attempts += 1
        sent = proposal.update_sent_at or now
        deadline = sent + timedelta(seconds=change.verify_deadline_seconds(proposal=proposal))
        if isinstance(live, AwsError):
            return _unreadable(
                proposal=proposal,
                error=live,
                now=now,
                deadline=deadline,
                task="poll",
                gone="The endpoint disappeared",
            )
        verdict = change.verify(proposal=proposal, live=live)
        if verdict.outcome == APPLIED:
            proposal.error = ""
            transition(
                proposal=proposal,
                to=ShiftState.APPLIED,
                actor=None,
                action="applied",
                now=now,
                comment=verdict.message,
            )
            endpoint_refresh_later(endpoint_id=proposal.endpoint_id)
            return "applied"
        if verdict.outcome == FAILED:
            transition(
                proposal=proposal,
                to=ShiftState.FAILED,
                actor=None,
                action="poll",
                now=now,
                error=verdict.message,
            )
            endpoint_refresh_later(endpoint_id=proposal.endpoint_id)
            return f"failed: {verdict.message}"
        return _retry_or_fail(
            proposal=proposal, now=now, deadline=deadline, task="poll", why=verdict.message
        )
