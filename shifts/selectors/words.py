"""Change requests in words: labels, one-line summaries, the CloudTrail call each sends."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shifts.changes import CHANGES
from shifts.models import (
    ChangeType,
    ShiftProposal,
)

if TYPE_CHECKING:
    pass


CONFIG_LIMIT = 30
TRAIL_EVENTS = 500
SUSPENSION_WORDS = {
    "DynamicScalingInSuspended": "scale-in",
    "DynamicScalingOutSuspended": "scale-out",
    "ScheduledScalingSuspended": "scheduled",
}
TRAIL_EVENT_NAMES: dict[str, str] = {
    ChangeType.TRAFFIC: "UpdateEndpointWeightsAndCapacities",
    ChangeType.CAPACITY: "UpdateEndpointWeightsAndCapacities",
    ChangeType.DEPLOY: "UpdateEndpoint",
    ChangeType.ROLLBACK: "UpdateEndpoint",
}


def change_label(proposal: ShiftProposal) -> str:
    return str(ChangeType(proposal.change).label) if proposal.change in ChangeType.values else ""


def summary_of(proposal: ShiftProposal) -> str:
    """The change type's one-line description; its label if the row cannot be described
    (a spec written by an older version)."""
    change = CHANGES.get(proposal.change)
    if change is None:
        return proposal.change
    try:
        return change.summary(proposal=proposal)
    except (KeyError, TypeError, ValueError, AttributeError):
        return change_label(proposal)


def trail_event_name(proposal: ShiftProposal) -> str:
    """The SageMaker call whose CloudTrail record shows the change sent ("" when CloudTrail
    as ingested does not record it: auto scaling is not a SageMaker call)."""
    return TRAIL_EVENT_NAMES.get(proposal.change, "")


def suspension_words(suspended: list[str] | tuple[str, ...] | None) -> list[str]:
    return [SUSPENSION_WORDS.get(name, name) for name in suspended or []]
