"""What every change type provides to the one apply/poll driver (`services/apply.py`).

A change request is applied the same way whatever it changes: re-read the live state,
refuse if it moved since the proposal (superseded) or cannot take the change (failed),
wait while the endpoint is not InService, send once, then poll until the outcome is
verified. Only the reads, the comparison, the calls and the verdict differ per type; each
type's module implements them with the functions of `ChangeType` below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from core.aws.types import EndpointConfigDescription, EndpointDescription, VariantScaling

if TYPE_CHECKING:
    from shifts.models import ShiftProposal

APPLIED = "applied"
FAILED = "failed"
PENDING = "pending"
# InService but not the requested state, this many polls in a row after the update: the
# update did not take (or someone overrode it).
SETTLE_POLLS = 3


@dataclass(frozen=True)
class LiveRead:
    """What the apply and the poll read from AWS before deciding: always the endpoint, and
    per type its config (deploys) or its auto scaling (auto scaling changes)."""

    described: EndpointDescription
    config: EndpointConfigDescription | None = None
    config_tags: dict[str, str] = field(default_factory=dict)
    scaling: list[VariantScaling] | None = None


@dataclass(frozen=True)
class Moved:
    """The live state differs from what the proposal was made against: why, and what the
    audit entry should record of the state found."""

    comment: str
    extra: dict[str, Any]


@dataclass(frozen=True)
class Verdict:
    """The poll's reading: applied, failed (with why) or still pending (with why)."""

    outcome: str
    message: str


class Change(Protocol):
    """One change type. Every function is keyword-only and pure apart from its AWS calls."""

    def read(self, *, proposal: ShiftProposal) -> LiveRead:
        """The AWS reads the decision needs (raises core.aws.errors.AwsError)."""
        ...

    def read_outcome(self, *, proposal: ShiftProposal) -> LiveRead:
        """The AWS reads the poll needs to verify the outcome (often fewer than `read`)."""
        ...

    def moved_in_inventory(self, *, proposal: ShiftProposal) -> Moved | None:
        """Whether the inventory shows another state than the proposal's baseline."""
        ...

    def moved_live(self, *, proposal: ShiftProposal, live: LiveRead) -> Moved | None:
        """Whether AWS shows another state than the proposal's baseline."""
        ...

    def rebind(self, *, proposal: ShiftProposal, live: LiveRead) -> None:
        """For an emergency (bound to nothing): record what it really replaces."""
        ...

    def unappliable(self, *, proposal: ShiftProposal, live: LiveRead) -> str | None:
        """Why the change cannot be applied to the endpoint as it now is, or None."""
        ...

    def send(self, *, proposal: ShiftProposal, live: LiveRead) -> str:
        """Make the change's AWS calls (each once); return the request id to record."""
        ...

    def verify(self, *, proposal: ShiftProposal, live: LiveRead) -> Verdict:
        """Read the outcome after sending."""
        ...

    def verify_deadline_seconds(self, *, proposal: ShiftProposal) -> int:
        """How long after sending the outcome may take before the change counts as failed."""
        ...

    def summary(self, *, proposal: ShiftProposal) -> str:
        """One line saying what the change does, for lists, notifications and the audit."""
        ...
