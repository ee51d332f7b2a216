"""The one way a proposal changes: lock, ask the policy, move along the state machine,
record the step (timeline row, audit entry), tell people, and enqueue what follows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest

from audit.services import audit_record
from core.errors import Conflict, Invalid, Refused
from core.queue import enqueue_on_commit
from shifts import policy, tasks
from shifts.models import TERMINAL_STATES, ShiftEvent, ShiftProposal, ShiftState, can_transition

# Who is told about what (notifications.py turns the event into recipients and text).
NOTIFY_ON: dict[str, str] = {
    ShiftState.APPROVED: "approved",
    ShiftState.REJECTED: "rejected",
    ShiftState.APPLIED: "applied",
    ShiftState.FAILED: "failed",
    ShiftState.SUPERSEDED: "superseded",
    ShiftState.EXPIRED: "expired",
}


def locked(proposal_id: int) -> ShiftProposal:
    """The proposal, its row locked until the caller's transaction ends."""
    proposal = ShiftProposal.objects.select_for_update().filter(pk=proposal_id).first()
    if proposal is None:
        raise ShiftProposal.DoesNotExist(f"No shift proposal #{proposal_id}.")
    return proposal


def required_text(value: str, what: str) -> str:
    text = (value or "").strip()
    if not text:
        raise Invalid(f"{what} is required.")
    return text


def audit_step(
    *,
    proposal: ShiftProposal,
    actor: Any,
    action: str,
    source: str,
    destination: str,
    comment: str = "",
    outcome: str = "ok",
    error: str = "",
    request: HttpRequest | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """One audit entry for one step of one proposal (in the caller's transaction)."""
    after: dict[str, Any] = {
        "proposal": proposal.pk,
        "kind": proposal.kind,
        "state": destination,
        "weights": proposal.desired_weights,
        "reason": proposal.reason,
    }
    if comment:
        after["comment"] = comment
    if proposal.aws_request_id:
        after["aws_request_id"] = proposal.aws_request_id
    after.update(extra or {})
    audit_record(
        actor=actor,
        action=f"shift.{action}",
        target=proposal.endpoint.arn,
        before={"state": source, "weights": proposal.before_weights},
        after=after,
        outcome=outcome,
        error=error,
        request=request,
    )


def timeline_step(
    *,
    proposal: ShiftProposal,
    actor: Any,
    action: str,
    source: str,
    now: datetime,
    comment: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """One row of the proposal's timeline (what its page shows)."""
    ShiftEvent.objects.create(
        detail=detail or {},
        proposal=proposal,
        at=now,
        actor=actor if getattr(actor, "pk", None) else None,
        username=actor.get_username() if actor is not None else "system",
        action=action,
        from_state=source,
        to_state=proposal.state,
        comment=comment,
    )


def notify(proposal: ShiftProposal, event: str) -> None:
    enqueue_on_commit(tasks.shift_notify, proposal.pk, event)


def transition(
    *,
    proposal: ShiftProposal,
    to: str,
    actor: Any,
    action: str,
    now: datetime,
    comment: str = "",
    error: str = "",
    request: HttpRequest | None = None,
    extra: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Move the (locked) proposal along the state machine: save, timeline, audit, notify.
    A move the state machine does not allow is a Conflict."""
    source = proposal.state
    if not can_transition(source, to):
        raise Conflict(f"Shift #{proposal.pk} is {source}; it cannot become {to}.")
    proposal.state = to
    proposal.updated_at = now
    if to in TERMINAL_STATES:
        proposal.finished_at = now
    if error:
        proposal.error = error
    proposal.save()
    timeline_step(
        proposal=proposal,
        actor=actor,
        action=action,
        source=source,
        now=now,
        comment=comment or error,
        detail=detail,
    )
    audit_step(
        proposal=proposal,
        actor=actor,
        action=action,
        source=source,
        destination=to,
        comment=comment,
        outcome="failed" if to == ShiftState.FAILED else "ok",
        error=error,
        request=request,
        extra=extra,
    )
    if to in NOTIFY_ON:
        notify(proposal, NOTIFY_ON[to])


def expire_if_due(proposal: ShiftProposal, now: datetime) -> bool:
    """Expire a pending proposal whose approval window has closed; whether it did."""
    if proposal.state == ShiftState.PENDING and proposal.expires_at <= now:
        hours = settings.OPSPORTAL_SHIFT_APPROVAL_TTL_HOURS
        transition(
            proposal=proposal,
            to=ShiftState.EXPIRED,
            actor=None,
            action="expire",
            now=now,
            comment=f"No quorum within {hours} h of being proposed.",
        )
        return True
    return False


Step = Callable[[ShiftProposal], Conflict | None]


def guarded(
    *,
    proposal_id: int,
    actor: Any,
    action: str,
    step: Step,
    request: HttpRequest | None = None,
) -> ShiftProposal:
    """Run one person's step on a proposal under its row lock and the shift policy.

    A refusal by the policy is audited and raised (Refused) once that record is committed.
    `step` does the work in the same transaction; it returns None, or a Conflict to raise
    once what it did is committed (an approval that found the proposal expired records the
    expiry, then says so). A Conflict or Invalid it raises rolls everything back.
    """
    refusal: Refused | None = None
    conflict: Conflict | None = None
    with transaction.atomic():
        proposal = locked(proposal_id)
        why = policy.refusal_for(action, actor, proposal)
        if why:
            audit_step(
                proposal=proposal,
                actor=actor,
                action=action,
                source=proposal.state,
                destination=proposal.state,
                outcome="denied",
                error=why,
                request=request,
            )
            refusal = Refused(why)
        else:
            conflict = step(proposal)
    if refusal is not None:
        raise refusal
    if conflict is not None:
        raise conflict
    return proposal
