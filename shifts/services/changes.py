"""Opening change requests of the types beyond traffic weights (capacity, auto scaling,
deploy, rollback): checked by `changes/checks.py`, bound to the state the inventory shows,
then approved and applied exactly as traffic shifts are."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest

from core.errors import Invalid
from endpoints.selectors import production_weights
from shifts.changes import needs_in_service_type
from shifts.changes.checks import prepare
from shifts.models import ChangeType, ShiftProposal
from shifts.services.proposals import Draft, Drafter, open_emergency, open_proposal

if TYPE_CHECKING:
    from endpoints.models import Endpoint


def _checked(change: str, spec: dict[str, Any]) -> Drafter:
    """The change checked against the locked endpoint. Warnings (a quota that could not be
    checked, a count outside auto scaling's range, SageMaker deploying all at once) are kept
    in the spec for the proposer and the Approvers."""
    if change == ChangeType.TRAFFIC or change not in ChangeType.values:
        raise Invalid(f"Unknown change type {change!r}.")

    def draft(endpoint: Endpoint) -> Draft:
        prepared = prepare(endpoint=endpoint, change=change, spec=spec)
        weights = production_weights(endpoint_id=endpoint.pk)
        return Draft(
            before=weights,
            desired=weights,
            change=change,
            spec={**prepared.spec, "warnings": list(prepared.warnings)},
            before_state=prepared.before_state,
        )

    return draft


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
    """Record a change request against the endpoint's live state and tell the Approvers
    (auto scaling changes may be proposed whatever the endpoint's status)."""
    return open_proposal(
        endpoint_id=endpoint_id,
        actor=actor,
        reason=reason,
        draft=_checked(change, spec),
        audit_action=f"change.{change}.propose",
        in_service=needs_in_service_type(change),
        request=request,
        now=now,
    )


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
    """Make a change at once, without approval (see `open_emergency`)."""
    return open_emergency(
        endpoint_id=endpoint_id,
        actor=actor,
        reason=reason,
        draft=_checked(change, spec),
        audit_action=f"change.{change}.emergency",
        request=request,
        now=now,
    )
