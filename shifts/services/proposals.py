"""Opening proposals: propose, edit (a new version), and the emergency shift that applies
at once."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.services import enforce
from core.aws.types import EndpointStatus
from core.errors import Conflict, Invalid
from core.queue import enqueue_on_commit
from endpoints.selectors import endpoint_arn, endpoint_for_update
from shifts import policy, selectors, tasks
from shifts.models import OPEN_STATES, ChangeType, ShiftKind, ShiftProposal, ShiftState
from shifts.services.transitions import (
    audit_step,
    guarded,
    notify,
    required_text,
    timeline_step,
    transition,
)
from shifts.weights import validate_weights

if TYPE_CHECKING:
    from endpoints.models import Endpoint


def _open_on(endpoint: Endpoint) -> list[ShiftProposal]:
    return list(
        ShiftProposal.objects.select_for_update().filter(endpoint=endpoint, state__in=OPEN_STATES)
    )


def _create(
    *,
    endpoint: Endpoint,
    actor: Any,
    kind: str,
    state: str,
    before: dict[str, float],
    desired: dict[str, float],
    reason: str,
    now: datetime,
    action: str,
    request: HttpRequest | None,
    replaces: ShiftProposal | None = None,
    change: str = ChangeType.TRAFFIC,
    spec: dict[str, Any] | None = None,
    before_state: dict[str, Any] | None = None,
) -> ShiftProposal:
    """Open a proposal and record its first step (timeline row and audit entry)."""
    proposal = ShiftProposal(
        endpoint=endpoint,
        kind=kind,
        change=change,
        spec=spec or {},
        before_state=before_state or {},
        state=state,
        proposer=actor,
        reason=reason,
        before_weights=before,
        desired_weights=desired,
        created_at=now,
        expires_at=now + selectors.approval_ttl(),
        updated_at=now,
        approved_at=now if state == ShiftState.APPROVED else None,
        replaces=replaces,
    )
    try:
        with transaction.atomic():
            proposal.save(force_insert=True)
    except IntegrityError:
        # Two proposals for one endpoint at the same instant: the partial unique
        # constraint lets one through.
        raise Invalid(
            "Another change was opened for this endpoint at the same moment; reload the page."
        ) from None
    timeline_step(
        proposal=proposal,
        actor=actor,
        action=action,
        source="",
        now=now,
        comment=f"Edited version of #{replaces.pk}." if replaces else "",
    )
    audit_step(
        proposal=proposal,
        actor=actor,
        action=action,
        source="",
        destination=state,
        request=request,
        extra={"replaces": replaces.pk} if replaces else None,
    )
    return proposal


def _check_proposable(
    endpoint: Endpoint, *, replacing: ShiftProposal | None = None, in_service: bool = True
) -> None:
    if endpoint.deleted_at is not None:
        raise Invalid("The endpoint no longer exists.")
    if in_service and endpoint.status != EndpointStatus.IN_SERVICE:
        raise Invalid(
            f"The endpoint is {endpoint.status}; a change can be proposed only while it is "
            "InService."
        )
    others = [p for p in _open_on(endpoint) if replacing is None or p.pk != replacing.pk]
    if others:
        raise Invalid(
            f"Shift #{others[0].pk} is already {others[0].state} for this endpoint; "
            "it must finish (or be cancelled) before another is proposed."
        )


def shift_propose(
    *,
    endpoint_id: int,
    actor: Any,
    desired: dict[str, float],
    reason: str,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> ShiftProposal:
    """Record a proposal against the endpoint's live weights and tell the Approvers.

    Raises Refused below Operator, Invalid (nothing saved) for an endpoint that is not
    InService, already has an open proposal, or weights `validate_weights` refuses.
    """
    now = now or timezone.now()
    enforce(
        policy.refusal_for("propose", actor),
        actor=actor,
        action="shift.propose",
        target=endpoint_arn(pk=endpoint_id),
        request=request,
    )
    reason = required_text(reason, "A reason")
    with transaction.atomic():
        endpoint = endpoint_for_update(pk=endpoint_id)
        _check_proposable(endpoint)
        live = selectors.live_weights(endpoint=endpoint)
        cleaned = validate_weights(variants=list(live), current=live, desired=desired)
        proposal = _create(
            endpoint=endpoint,
            actor=actor,
            kind=ShiftKind.NORMAL,
            state=ShiftState.PENDING,
            before=live,
            desired=cleaned,
            reason=reason,
            now=now,
            action="propose",
            request=request,
        )
        notify(proposal, "proposed")
    return proposal


def shift_revise(
    *,
    proposal_id: int,
    actor: Any,
    desired: dict[str, float],
    reason: str,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> ShiftProposal:
    """Edit a pending proposal: the old one becomes `superseded` (its approvals die with it)
    and a new pending one, which needs fresh approvals, takes its place."""
    now = now or timezone.now()
    reason = required_text(reason, "A reason")
    created: list[ShiftProposal] = []

    def step(old: ShiftProposal) -> None:
        if old.state != ShiftState.PENDING:
            raise Conflict(f"Shift #{old.pk} is {old.state}; only pending ones can be edited.")
        endpoint = endpoint_for_update(pk=old.endpoint_id)
        _check_proposable(endpoint, replacing=old)
        live = selectors.live_weights(endpoint=endpoint)
        cleaned = validate_weights(variants=list(live), current=live, desired=desired)
        transition(
            proposal=old,
            to=ShiftState.SUPERSEDED,
            actor=actor,
            action="edit",
            now=now,
            comment="Edited by the proposer; the new version needs fresh approvals.",
            request=request,
        )
        proposal = _create(
            endpoint=endpoint,
            actor=actor,
            kind=ShiftKind.NORMAL,
            state=ShiftState.PENDING,
            before=live,
            desired=cleaned,
            reason=reason,
            now=now,
            action="propose",
            request=request,
            replaces=old,
        )
        notify(proposal, "proposed")
        created.append(proposal)

    guarded(proposal_id=proposal_id, actor=actor, action="edit", step=step, request=request)
    return created[0]


def shift_emergency(
    *,
    endpoint_id: int,
    actor: Any,
    desired: dict[str, float],
    reason: str,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> ShiftProposal:
    """Apply a shift at once, without approval (moving traffic off a failing variant at
    3 a.m.). Open proposals on the endpoint become `superseded`; everyone is notified and
    the endpoint shows a banner until an Approver acknowledges it."""
    now = now or timezone.now()
    enforce(
        policy.refusal_for("emergency", actor),
        actor=actor,
        action="shift.emergency",
        target=endpoint_arn(pk=endpoint_id),
        request=request,
    )
    reason = required_text(reason, "A reason")
    with transaction.atomic():
        endpoint = endpoint_for_update(pk=endpoint_id)
        if endpoint.deleted_at is not None:
            raise Invalid("The endpoint no longer exists.")
        open_ones = _open_on(endpoint)
        busy = [p for p in open_ones if p.state == ShiftState.APPLYING]
        if busy:
            raise Invalid(
                f"Shift #{busy[0].pk} is being applied right now; wait until it finishes."
            )
        live = selectors.live_weights(endpoint=endpoint)
        cleaned = validate_weights(variants=list(live), current=live, desired=desired)
        for other in open_ones:
            transition(
                proposal=other,
                to=ShiftState.SUPERSEDED,
                actor=actor,
                action="supersede",
                now=now,
                comment=f"An emergency shift by {actor.get_username()} replaced it.",
                request=request,
            )
        proposal = _create(
            endpoint=endpoint,
            actor=actor,
            kind=ShiftKind.EMERGENCY,
            state=ShiftState.APPROVED,
            before=live,
            desired=cleaned,
            reason=reason,
            now=now,
            action="emergency",
            request=request,
        )
        enqueue_on_commit(tasks.shift_apply, proposal.pk)
        notify(proposal, "emergency")
    return proposal
