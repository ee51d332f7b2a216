"""What people decide about a proposal: approve, reject, cancel, and acknowledge an
emergency shift after the fact."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from core.errors import Conflict
from core.queue import enqueue_on_commit
from shifts import selectors, tasks
from shifts.changes import change_of
from shifts.models import ShiftApproval, ShiftProposal, ShiftState
from shifts.services.transitions import (
    audit_step,
    expire_if_due,
    guarded,
    required_text,
    timeline_step,
    transition,
)

APPROVAL_MOVED = {
    "traffic": "The live weights changed after this was proposed; nothing was approved or "
    "applied. Propose again from the current weights.",
}
APPROVAL_MOVED_OTHER = (
    "The endpoint's live state changed after this was proposed; nothing was approved or "
    "applied. Propose again from the current state."
)


def shift_approve(
    *,
    proposal_id: int,
    actor: Any,
    comment: str = "",
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> ShiftProposal:
    """One Approver's yes. On quorum the proposal becomes `approved` and the apply task is
    enqueued (on commit). The proposer can never approve, nobody approves twice, and an
    approval is refused (the proposal superseded) when the live weights have moved."""
    now = now or timezone.now()
    comment = comment.strip()

    def step(proposal: ShiftProposal) -> Conflict | None:
        if proposal.is_emergency or proposal.state != ShiftState.PENDING:
            return Conflict(
                f"Shift #{proposal.pk} is {proposal.state}; only pending ones are approved."
            )
        if expire_if_due(proposal, now):
            return Conflict(f"Shift #{proposal.pk} expired before reaching its approvals.")
        moved = change_of(proposal).moved_in_inventory(proposal=proposal)
        if moved is not None:
            transition(
                proposal=proposal,
                to=ShiftState.SUPERSEDED,
                actor=actor,
                action="supersede",
                now=now,
                comment=APPROVAL_MOVED.get(proposal.change, APPROVAL_MOVED_OTHER),
                request=request,
                extra=moved.extra,
            )
            return None
        ShiftApproval.objects.create(
            proposal=proposal, approver=actor, comment=comment, created_at=now
        )
        count = len(selectors.valid_approvals(proposal=proposal, now=now))
        needed = selectors.approvals_required()
        if count >= needed:
            proposal.approved_at = now
            transition(
                proposal=proposal,
                to=ShiftState.APPROVED,
                actor=actor,
                action="approve",
                now=now,
                comment=comment,
                request=request,
                extra={"approvals": count},
            )
            start = tasks.plan_tick if proposal.is_plan else tasks.shift_apply
            enqueue_on_commit(start, proposal.pk)
            return None
        proposal.updated_at = now
        proposal.save(update_fields=["updated_at"])
        timeline_step(
            proposal=proposal,
            actor=actor,
            action="approve",
            source=proposal.state,
            now=now,
            comment=comment or f"{count} of {needed} approvals.",
        )
        audit_step(
            proposal=proposal,
            actor=actor,
            action="approve",
            source=proposal.state,
            destination=proposal.state,
            comment=comment,
            request=request,
            extra={"approvals": count, "needed": needed},
        )
        return None

    return guarded(
        proposal_id=proposal_id, actor=actor, action="approve", step=step, request=request
    )


def shift_reject(
    *,
    proposal_id: int,
    actor: Any,
    comment: str,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> ShiftProposal:
    """An Approver other than the proposer says no, with a comment the proposer will read."""
    now = now or timezone.now()
    comment = required_text(comment, "A comment saying why")

    def step(proposal: ShiftProposal) -> Conflict | None:
        if proposal.state != ShiftState.PENDING:
            return Conflict(
                f"Shift #{proposal.pk} is {proposal.state}; only pending ones are rejected."
            )
        if expire_if_due(proposal, now):
            return Conflict(f"Shift #{proposal.pk} had already expired.")
        transition(
            proposal=proposal,
            to=ShiftState.REJECTED,
            actor=actor,
            action="reject",
            now=now,
            comment=comment,
            request=request,
        )
        return None

    return guarded(
        proposal_id=proposal_id, actor=actor, action="reject", step=step, request=request
    )


def shift_cancel(
    *,
    proposal_id: int,
    actor: Any,
    comment: str = "",
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> ShiftProposal:
    """The proposer withdraws a pending proposal, with why if they say (on its timeline)."""
    now = now or timezone.now()

    def step(proposal: ShiftProposal) -> Conflict | None:
        if proposal.state != ShiftState.PENDING:
            return Conflict(
                f"Shift #{proposal.pk} is {proposal.state}; only pending ones are cancelled."
            )
        transition(
            proposal=proposal,
            to=ShiftState.CANCELLED,
            actor=actor,
            action="cancel",
            now=now,
            comment=comment.strip(),
            request=request,
        )
        return None

    return guarded(
        proposal_id=proposal_id, actor=actor, action="cancel", step=step, request=request
    )


def shift_acknowledge(
    *,
    proposal_id: int,
    actor: Any,
    comment: str = "",
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> ShiftProposal:
    """An Approver other than its author reviews an emergency shift after the fact, which
    takes the red banner off the endpoint."""
    now = now or timezone.now()
    comment = comment.strip()

    def step(proposal: ShiftProposal) -> Conflict | None:
        if not proposal.needs_acknowledgement:
            return Conflict(f"Shift #{proposal.pk} needs no acknowledgement.")
        proposal.acknowledged_by = actor
        proposal.acknowledged_at = now
        proposal.save(update_fields=["acknowledged_by", "acknowledged_at"])
        timeline_step(
            proposal=proposal,
            actor=actor,
            action="acknowledge",
            source=proposal.state,
            now=now,
            comment=comment,
        )
        audit_step(
            proposal=proposal,
            actor=actor,
            action="acknowledge",
            source=proposal.state,
            destination=proposal.state,
            comment=comment,
            request=request,
        )
        return None

    return guarded(
        proposal_id=proposal_id, actor=actor, action="acknowledge", step=step, request=request
    )
