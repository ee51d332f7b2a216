"""Applied changes that did not stay: the inventory no longer shows what a change request
applied, and no later change request explains it (a CI role's UpdateEndpoint restored the
old weights, someone rolled back in the console).

Pages then say "reverted outside the portal by <principal> at <time>" (or "changed") and
stop claiming the applied state. The principal and time come from the first CloudTrail
write on the endpoint after the change that the portal did not make; until CloudTrail
delivers it (minutes), the page says the change was undone and that who did it is not
known yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from apihistory.selectors import endpoint_change_events
from endpoints.selectors import production_capacities, production_weights
from shifts.changes.autoscaling import inventory_entry, normalised, shows_change
from shifts.changes.capacity import BOUND_KEYS
from shifts.changes.deploy import DeployChange, RollbackChange
from shifts.models import ChangeType, ShiftProposal, ShiftState
from shifts.weights import same_weights

# The SageMaker writes that can undo an applied change.
UNDOING_CALLS = frozenset(
    {"UpdateEndpoint", "UpdateEndpointWeightsAndCapacities", "CreateEndpoint", "DeleteEndpoint"}
)


@dataclass(frozen=True)
class Reversion:
    """An applied change the endpoint no longer shows: `reverted` when it is back to the
    state the change replaced, otherwise changed to something else."""

    proposal: ShiftProposal
    reverted: bool
    principal: str
    at: datetime | None

    @property
    def verb(self) -> str:
        return "reverted" if self.reverted else "changed"


def _capacity_now(endpoint_id: int) -> dict[str, dict[str, Any]]:
    return {
        name: {k: v for k, v in values.items() if k in BOUND_KEYS and v is not None}
        for name, values in production_capacities(endpoint_id=endpoint_id).items()
    }


def _still_holds(proposal: ShiftProposal) -> tuple[bool, bool]:
    """(the change still shows, the state is back to what the change replaced)."""
    endpoint = proposal.endpoint
    change = proposal.change
    if change == ChangeType.TRAFFIC:
        weights = production_weights(endpoint_id=endpoint.pk)
        return (
            same_weights(weights, proposal.desired_weights),
            same_weights(weights, proposal.before_weights),
        )
    if change == ChangeType.CAPACITY:
        now = _capacity_now(endpoint.pk)
        wanted = proposal.spec.get("capacity", {})
        before = proposal.before_state.get("capacity", {})
        holds = all(now.get(name) == values for name, values in wanted.items())
        back = all(
            now.get(name) == {k: v for k, v in before.get(name, {}).items() if k in BOUND_KEYS}
            for name in wanted
        )
        return holds, back
    if change == ChangeType.AUTOSCALING:
        entry = normalised(
            inventory_entry(endpoint.autoscaling or [], proposal.spec.get("variant", ""))
        )
        return shows_change(proposal.spec, entry), entry == proposal.before_state.get("scaling")
    wanted_config = (
        DeployChange.target_config(proposal)
        if change == ChangeType.DEPLOY
        else RollbackChange.target_config(proposal)
    )
    return (
        endpoint.config_name == wanted_config,
        endpoint.config_name == proposal.before_state.get("config_name"),
    )


def reverted_outside(*, proposal: ShiftProposal) -> Reversion | None:
    """The reversion of an applied change, or None while it holds (or a later change
    request on the endpoint took over, which is the portal's own record)."""
    if proposal.state != ShiftState.APPLIED or proposal.finished_at is None:
        return None
    later = ShiftProposal.objects.filter(
        endpoint_id=proposal.endpoint_id,
        state__in=(ShiftState.APPLYING, ShiftState.APPLIED),
        update_sent_at__gt=proposal.update_sent_at or proposal.finished_at,
    ).exclude(pk=proposal.pk)
    if later.exists():
        return None
    holds, back = _still_holds(proposal)
    if holds:
        return None
    sent = proposal.update_sent_at or proposal.finished_at
    # CloudTrail's times are whole seconds: a call in the same second as ours counts.
    events = endpoint_change_events(endpoint=proposal.endpoint, start=sent - timedelta(seconds=1))
    writes = [e for e in events if e.event_name in UNDOING_CALLS and not e.error_code]
    ours = set(
        ShiftProposal.objects.filter(
            aws_request_id__in=[e.request_id for e in writes if e.request_id]
        ).values_list("aws_request_id", flat=True)
    )
    outside = [e for e in reversed(writes) if e.request_id not in ours]  # oldest first
    first = outside[0] if outside else None
    return Reversion(
        proposal=proposal,
        reverted=back,
        principal=(first.principal_name or first.principal_arn) if first else "",
        at=first.event_time if first else None,
    )


def latest_reversion(*, endpoint_id: int) -> Reversion | None:
    """For the endpoint's most recently applied change request: its reversion, if any."""
    last = (
        ShiftProposal.objects.select_related("endpoint")
        .filter(endpoint_id=endpoint_id, state=ShiftState.APPLIED)
        .order_by("-finished_at", "-id")
        .first()
    )
    return reverted_outside(proposal=last) if last is not None else None
