"""Traffic weights: one UpdateEndpointWeightsAndCapacities with every variant's weight and
its unchanged capacity; verified when CurrentWeight equals the desired weights."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.aws import traffic as aws_traffic
from core.aws.types import EndpointDescription, EndpointStatus
from endpoints.selectors import production_weights
from shifts.changes.base import APPLIED, FAILED, PENDING, SETTLE_POLLS, LiveRead, Moved, Verdict
from shifts.changes.common import (
    broken,
    default_verify_deadline,
    live_weights,
    read_endpoint,
    target_of,
)
from shifts.weights import same_weights, shares

if TYPE_CHECKING:
    from shifts.models import ShiftProposal


def instance_counts(described: EndpointDescription) -> dict[str, int | None]:
    """The count each variant runs now (None for serverless), sent unchanged with the
    weights: a weight shift must not resize the fleet."""
    counts: dict[str, int | None] = {}
    for variant in described.variants:
        if variant.is_shadow:
            continue
        if variant.current_serverless or variant.desired_serverless:
            counts[variant.name] = None
        elif variant.desired_instance_count is not None:
            counts[variant.name] = variant.desired_instance_count
        else:
            counts[variant.name] = variant.current_instance_count
    return counts


class TrafficChange:
    read = staticmethod(read_endpoint)
    read_outcome = staticmethod(read_endpoint)

    @staticmethod
    def moved_in_inventory(*, proposal: ShiftProposal) -> Moved | None:
        live = production_weights(endpoint_id=proposal.endpoint_id)
        if same_weights(live, proposal.before_weights):
            return None
        return Moved(
            "The inventory shows other weights than the proposal was made against; nothing "
            "was applied.",
            {"live_weights": live},
        )

    @staticmethod
    def moved_live(*, proposal: ShiftProposal, live: LiveRead) -> Moved | None:
        current, pending = live_weights(live.described)
        if same_weights(current, proposal.before_weights) and same_weights(
            pending, proposal.before_weights
        ):
            return None
        return Moved(
            "The live weights in AWS changed after this was proposed; nothing was applied.",
            {"live_weights": current, "desired_in_aws": pending},
        )

    @staticmethod
    def rebind(*, proposal: ShiftProposal, live: LiveRead) -> None:
        proposal.before_weights = live_weights(live.described)[0]

    @staticmethod
    def unappliable(*, proposal: ShiftProposal, live: LiveRead) -> str | None:
        current, _ = live_weights(live.described)
        if set(current) != set(proposal.desired_weights):
            return f"The endpoint's variants are now {', '.join(current)}."
        return None

    @staticmethod
    def send(*, proposal: ShiftProposal, live: LiveRead) -> str:
        current, _ = live_weights(live.described)
        return aws_traffic.update_weights(
            target=target_of(proposal),
            region=proposal.endpoint.region,
            endpoint_name=proposal.endpoint.name,
            weights={name: proposal.desired_weights[name] for name in current},
            instance_counts=instance_counts(live.described),
        )

    @staticmethod
    def verify(*, proposal: ShiftProposal, live: LiveRead) -> Verdict:
        current, _ = live_weights(live.described)
        proposal.observed_weights = current
        status = live.described.status
        if status == EndpointStatus.IN_SERVICE and same_weights(current, proposal.desired_weights):
            return Verdict(
                APPLIED, f"InService with the new weights (request {proposal.aws_request_id})."
            )
        if failure := broken(live.described):
            return failure
        if status == EndpointStatus.IN_SERVICE and proposal.poll_attempts >= SETTLE_POLLS:
            note = f" {proposal.error}" if proposal.error else ""
            return Verdict(
                FAILED,
                f"The endpoint is InService with weights {current}, not the desired "
                f"{proposal.desired_weights}: the update did not take effect.{note}",
            )
        return Verdict(PENDING, f"The endpoint is still {status} with weights {current}.")

    @staticmethod
    def verify_deadline_seconds(*, proposal: ShiftProposal) -> int:
        return default_verify_deadline()

    @staticmethod
    def summary(*, proposal: ShiftProposal) -> str:
        split = shares(proposal.desired_weights)
        return "Traffic " + ", ".join(f"{name} {share:.0f} %" for name, share in split.items())
