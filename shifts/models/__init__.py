"""Change requests, their approvals and timeline (`proposals`), and staged shifts' runs and
templates (`plans`)."""

from shifts.models.plans import (
    ACTIVE_PLAN_STATUSES,
    FINISHED_PLAN_STATUSES,
    OnFailure,
    PauseCause,
    PlanRun,
    PlanStatus,
    PlanTemplate,
)
from shifts.models.proposals import (
    OPEN_STATES,
    TERMINAL_STATES,
    TRANSITIONS,
    ChangeType,
    ShiftApproval,
    ShiftEvent,
    ShiftKind,
    ShiftProposal,
    ShiftState,
    can_transition,
)

__all__ = [
    "ACTIVE_PLAN_STATUSES",
    "FINISHED_PLAN_STATUSES",
    "OPEN_STATES",
    "TERMINAL_STATES",
    "TRANSITIONS",
    "ChangeType",
    "OnFailure",
    "PauseCause",
    "PlanRun",
    "PlanStatus",
    "PlanTemplate",
    "ShiftApproval",
    "ShiftEvent",
    "ShiftKind",
    "ShiftProposal",
    "ShiftState",
    "can_transition",
]
