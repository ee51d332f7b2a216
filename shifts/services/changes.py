"""Opening change requests of the types beyond traffic weights (capacity, auto scaling,
deploy, rollback): checked by `changes/checks.py`, bound to the state the inventory shows,
then approved and applied exactly as traffic shifts are."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from audit.services import enforce
from core.errors import Invalid
from core.queue import enqueue_on_commit
from endpoints.selectors import endpoint_arn, endpoint_for_update, production_weights
from shifts import policy, tasks
from shifts.changes import needs_in_service_type
from shifts.changes.checks import prepare
from shifts.models import ChangeType, ShiftKind, ShiftProposal, ShiftState
from shifts.services.proposals import _check_proposable, _create, _open_on
from shifts.services.transitions import notify, required_text, transition


def change_propose(
    *,
    endpoint_id: int,
    actor: Any,
    change: str,
    spec: dict[str, Any],
    reason: str,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> ShiftProposal:
    """Record a change request against the endpoint's live state and tell the Approvers.

    Raises Refused below Operator; Invalid (nothing saved) for a change its checks refuse,
    an endpoint that is not InService (auto scaling changes excepted) or that already has
    an open change request. Warnings (a quota that could not be checked, a count outside
    auto scaling's range, SageMaker falling back to all at once) are kept in the spec.
    """
    now = now or timezone.now()
    if change == ChangeType.TRAFFIC or change not in ChangeType.values:
        raise Invalid(f"Unknown change type {change!r}.")
    enforce(
        policy.refusal_for("propose", actor),
        actor=actor,
        action=f"change.{change}.propose",
        target=endpoint_arn(pk=endpoint_id),
        request=request,
    )
    reason = required_text(reason, "A reason")
    with transaction.atomic():
        endpoint = endpoint_for_update(pk=endpoint_id)
        _check_proposable(endpoint, in_service=needs_in_service_type(change))
        prepared = prepare(endpoint=endpoint, change=change, spec=spec)
        weights = production_weights(endpoint_id=endpoint.pk)
        proposal = _create(
            endpoint=endpoint,
            actor=actor,
            kind=ShiftKind.NORMAL,
            state=ShiftState.PENDING,
            before=weights,
            desired=weights,
            reason=reason,
            now=now,
            action="propose",
            request=request,
            change=change,
            spec={**prepared.spec, "warnings": list(prepared.warnings)},
            before_state=prepared.before_state,
        )
        notify(proposal, "proposed")
    return proposal


def change_emergency(
    *,
    endpoint_id: int,
    actor: Any,
    change: str,
    spec: dict[str, Any],
    reason: str,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> ShiftProposal:
    """Make a change at once, without approval (roll back a bad deploy, suspend scaling
    of a misbehaving variant at 3 a.m.). Open requests on the endpoint become `superseded`;
    everyone is notified and the endpoint shows a banner until an Approver acknowledges it."""
    now = now or timezone.now()
    if change == ChangeType.TRAFFIC or change not in ChangeType.values:
        raise Invalid(f"Unknown change type {change!r}.")
    enforce(
        policy.refusal_for("emergency", actor),
        actor=actor,
        action=f"change.{change}.emergency",
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
                f"Change #{busy[0].pk} is being applied right now; wait until it finishes."
            )
        prepared = prepare(endpoint=endpoint, change=change, spec=spec)
        for other in open_ones:
            transition(
                proposal=other,
                to=ShiftState.SUPERSEDED,
                actor=actor,
                action="supersede",
                now=now,
                comment=f"An emergency change by {actor.get_username()} replaced it.",
                request=request,
            )
        weights = production_weights(endpoint_id=endpoint.pk)
        proposal = _create(
            endpoint=endpoint,
            actor=actor,
            kind=ShiftKind.EMERGENCY,
            state=ShiftState.APPROVED,
            before=weights,
            desired=weights,
            reason=reason,
            now=now,
            action="emergency",
            request=request,
            change=change,
            spec={**prepared.spec, "warnings": list(prepared.warnings)},
            before_state=prepared.before_state,
        )
        enqueue_on_commit(tasks.shift_apply, proposal.pk)
        notify(proposal, "emergency")
    return proposal
