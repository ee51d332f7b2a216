"""The change types a change request can carry, one module each, behind one interface
(`base.Change`) that the apply/poll driver uses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shifts.changes.autoscaling import AutoScalingChange
from shifts.changes.base import APPLIED, FAILED, PENDING, Change, LiveRead, Moved, Verdict
from shifts.changes.capacity import CapacityChange
from shifts.changes.deploy import DeployChange, RollbackChange
from shifts.changes.plan import PlanChange
from shifts.changes.traffic import TrafficChange
from shifts.models import ChangeType

if TYPE_CHECKING:
    from shifts.models import ShiftProposal

CHANGES: dict[str, Change] = {
    ChangeType.TRAFFIC: TrafficChange(),
    ChangeType.CAPACITY: CapacityChange(),
    ChangeType.AUTOSCALING: AutoScalingChange(),
    ChangeType.DEPLOY: DeployChange(),
    ChangeType.ROLLBACK: RollbackChange(),
    ChangeType.PLAN: PlanChange(),
}


def change_of(proposal: ShiftProposal) -> Change:
    return CHANGES[proposal.change]


def change_summary(*, proposal: ShiftProposal) -> str:
    """One line saying what the change request does (lists, timeline, notifications)."""
    return change_of(proposal).summary(proposal=proposal)


def needs_in_service_type(change: str) -> bool:
    """Whether the endpoint must be InService for this type of change to be made."""
    return bool(getattr(CHANGES[change], "needs_in_service", True))


def needs_in_service(proposal: ShiftProposal) -> bool:
    return needs_in_service_type(proposal.change)


__all__ = [
    "APPLIED",
    "CHANGES",
    "FAILED",
    "PENDING",
    "Change",
    "LiveRead",
    "Moved",
    "Verdict",
    "change_of",
    "change_summary",
    "needs_in_service",
    "needs_in_service_type",
]
