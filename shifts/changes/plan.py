"""A staged traffic shift as a change request: bound to the live weights like a traffic
shift (so approval and superseding work the same), but walked by the plan runner
(`services/plan_runner.py`) step by step instead of sent at once by the apply driver."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shifts.changes.traffic import TrafficChange
from shifts.plan_spec import plan_from
from shifts.plan_words import steps_words

if TYPE_CHECKING:
    from shifts.models import ShiftProposal


class PlanChange(TrafficChange):
    @staticmethod
    def summary(*, proposal: ShiftProposal) -> str:
        spec = plan_from(proposal.spec)
        action = "rolls back" if spec.on_failure == "rollback" else "pauses"
        return f"Staged shift {steps_words(spec)} against {spec.baseline}; a failed gate {action}"
