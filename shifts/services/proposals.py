"""Opening proposals: propose, edit (a new version), and the emergency shift that applies
at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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
from shifts.services.plan_runner import stop_plan
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


@dataclass(frozen=True)
class Draft:
    """What a new proposal records: the live weights it binds to and the desired ones
    (equal for changes other than traffic), and for those changes their type, the change
    and the rest of the state the approval binds to."""

    before: dict[str, float]
    desired: dict[str, float]
    change: str = ChangeType.TRAFFIC
    spec: dict[str, Any] = field(default_factory=dict)
    before_state: dict[str, Any] = field(default_factory=dict)


Drafter = Callable[["Endpoint"], Draft]


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
    draft: Draft,
    reason: str,
    now: datetime,
    action: str,
    request: HttpRequest | None,
    replaces: ShiftProposal | None = None,
) -> ShiftProposal:
    """Open a proposal and record its first step (timeline row and audit entry)."""
    proposal = ShiftProposal(
        endpoint=endpoint,
        kind=kind,
        change=draft.change,
        spec=draft.spec,
        before_state=draft.before_state,
        state=state,
        proposer=actor,
        reason=reason,
        before_weights=draft.before,
        desired_weights=draft.desired,
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


def open_proposal(
    *,
    endpoint_id: int,
    actor: Any,
    reason: str,
    draft: Drafter,
    audit_action: str,
    in_service: bool = True,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> ShiftProposal:
    """Record a pending proposal made by `draft` from the locked endpoint and tell the
    Approvers. Refused below Operator; Invalid (nothing saved) for an endpoint that is not
    InService (when `in_service`), already has an open proposal, or a draft refused."""
    now = now or timezone.now()
    enforce(
        policy.refusal_for("propose", actor),
        actor=actor,
        action=audit_action,
        target=endpoint_arn(pk=endpoint_id),
        request=request,
    )
    reason = required_text(reason, "A reason")
    with transaction.atomic():
        endpoint = endpoint_for_update(pk=endpoint_id)
        _check_proposable(endpoint, in_service=in_service)
        drafted = draft(endpoint)
        proposal = _create(
            endpoint=endpoint,
            actor=actor,
            kind=ShiftKind.NORMAL,
            state=ShiftState.PENDING,
            draft=drafted,
            reason=reason,
            now=now,
            action="propose",
            request=request,
        )
        notify(proposal, "proposed")
    return proposal


def open_emergency(
    *,
    endpoint_id: int,
    actor: Any,
    reason: str,
    draft: Drafter,
    audit_action: str,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> ShiftProposal:
    """Apply a change at once, without approval (3 a.m.: move traffic off a failing
    variant, roll back a bad deploy). Open proposals on the endpoint become `superseded`;
    everyone is notified and the endpoint shows a banner until an Approver acknowledges it."""
    now = now or timezone.now()
    enforce(
        policy.refusal_for("emergency", actor),
        actor=actor,
        action=audit_action,
        target=endpoint_arn(pk=endpoint_id),
        request=request,
    )
    reason = required_text(reason, "A reason")
    with transaction.atomic():
        endpoint = endpoint_for_update(pk=endpoint_id)
        if endpoint.deleted_at is not None:
            raise Invalid("The endpoint no longer exists.")
        open_ones = _open_on(endpoint)
        drafted = draft(endpoint)
        noun = "shift" if drafted.change == ChangeType.TRAFFIC else "change"
        for plan in [p for p in open_ones if p.is_plan and p.state == ShiftState.APPLYING]:
            # A staged shift takes an hour; an emergency cannot wait for it. It stops where
            # it is (no rollback: the emergency decides the weights now).
            stop_plan(
                proposal=plan,
                actor=actor,
                why=f"Stopped by an emergency {noun} by {actor.get_username()}; the plan sends "
                "nothing more.",
                now=now,
                request=request,
            )
        open_ones = [p for p in open_ones if p.is_open]
        busy = [p for p in open_ones if p.state == ShiftState.APPLYING]
        if busy:
            noun = "Shift" if busy[0].is_traffic else "Change"
            raise Invalid(
                f"{noun} #{busy[0].pk} is being applied right now; wait until it finishes."
            )
        for other in open_ones:
            transition(
                proposal=other,
                to=ShiftState.SUPERSEDED,
                actor=actor,
                action="supersede",
                now=now,
                comment=f"An emergency {noun} by {actor.get_username()} replaced it.",
                request=request,
            )
        proposal = _create(
            endpoint=endpoint,
            actor=actor,
            kind=ShiftKind.EMERGENCY,
            state=ShiftState.APPROVED,
            draft=drafted,
            reason=reason,
            now=now,
            action="emergency",
            request=request,
        )
        enqueue_on_commit(tasks.shift_apply, proposal.pk)
        notify(proposal, "emergency")
    return proposal


def _traffic_draft(desired: dict[str, float]) -> Drafter:
    def draft(endpoint: Endpoint) -> Draft:
        live = selectors.live_weights(endpoint=endpoint)
        cleaned = validate_weights(variants=list(live), current=live, desired=desired)
        return Draft(before=live, desired=cleaned)

    return draft


def shift_propose(
    *,
    endpoint_id: int,
    actor: Any,
    desired: dict[str, float],
    reason: str,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> ShiftProposal:
    """Record a traffic shift against the endpoint's live weights and tell the Approvers
    (`validate_weights` refuses what cannot be routed or changes nothing)."""
    return open_proposal(
        endpoint_id=endpoint_id,
        actor=actor,
        reason=reason,
        draft=_traffic_draft(desired),
        audit_action="shift.propose",
        request=request,
        now=now,
    )


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
        drafted = _traffic_draft(desired)(endpoint)
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
            draft=drafted,
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
    """Shift traffic at once, without approval (see `open_emergency`)."""
    return open_emergency(
        endpoint_id=endpoint_id,
        actor=actor,
        reason=reason,
        draft=_traffic_draft(desired),
        audit_action="shift.emergency",
        request=request,
        now=now,
    )
