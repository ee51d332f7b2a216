"""Capacity: DesiredInstanceCount per variant, or a serverless variant's MaxConcurrency and
ProvisionedConcurrency, through UpdateEndpointWeightsAndCapacities with the weights as
they are. Bound to every variant's capacity and weight when proposed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from core.aws import traffic as aws_traffic
from core.aws.types import DesiredVariant, EndpointDescription, EndpointStatus, VariantState
from endpoints.selectors import production_capacities, production_weights
from shifts.changes.base import APPLIED, FAILED, PENDING, SETTLE_POLLS, LiveRead, Moved, Verdict
from shifts.changes.common import (
    broken,
    default_verify_deadline,
    live_weights,
    read_endpoint,
    target_of,
)
from shifts.weights import same_weights

if TYPE_CHECKING:
    from shifts.models import ShiftProposal

# The values a capacity binds to and changes (instance_type and memory are context only).
BOUND_KEYS = ("instances", "max_concurrency", "provisioned_concurrency")


def _bound(capacity: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        name: {key: values.get(key) for key in BOUND_KEYS if values.get(key) is not None}
        for name, values in capacity.items()
    }


def variant_live_capacity(variant: VariantState, *, current: bool = False) -> dict[str, Any]:
    """A variant's capacity from DescribeEndpoint: what it is asked to run (Desired*), or
    with `current` what it runs now."""
    serverless = (
        (variant.current_serverless or variant.desired_serverless)
        if current
        else (variant.desired_serverless or variant.current_serverless)
    )
    if serverless is not None:
        return {
            "max_concurrency": serverless.max_concurrency,
            "provisioned_concurrency": serverless.provisioned_concurrency,
        }
    first, second = (
        (variant.current_instance_count, variant.desired_instance_count)
        if current
        else (variant.desired_instance_count, variant.current_instance_count)
    )
    return {"instances": first if first is not None else second}


def live_capacities(described: EndpointDescription, *, current: bool = False) -> dict[str, Any]:
    return _bound(
        {
            v.name: variant_live_capacity(v, current=current)
            for v in described.variants
            if not v.is_shadow
        }
    )


def describe_capacity(values: dict[str, Any]) -> str:
    if "instances" in values:
        count = values["instances"]
        return f"{count} instance{'s' if count != 1 else ''}"
    parts = [f"max concurrency {values.get('max_concurrency')}"]
    if values.get("provisioned_concurrency") is not None:
        parts.append(f"provisioned {values['provisioned_concurrency']}")
    return ", ".join(parts)


class CapacityChange:
    read = staticmethod(read_endpoint)
    read_outcome = staticmethod(read_endpoint)

    @staticmethod
    def moved_in_inventory(*, proposal: ShiftProposal) -> Moved | None:
        capacity = _bound(production_capacities(endpoint_id=proposal.endpoint_id))
        weights = production_weights(endpoint_id=proposal.endpoint_id)
        if capacity == _bound(proposal.before_state.get("capacity", {})) and same_weights(
            weights, proposal.before_weights
        ):
            return None
        return Moved(
            "The inventory shows another capacity or other weights than the proposal was "
            "made against; nothing was applied.",
            {"live_capacity": capacity, "live_weights": weights},
        )

    @staticmethod
    def moved_live(*, proposal: ShiftProposal, live: LiveRead) -> Moved | None:
        capacity = live_capacities(live.described)
        current, pending = live_weights(live.described)
        if (
            capacity == _bound(proposal.before_state.get("capacity", {}))
            and same_weights(current, proposal.before_weights)
            and same_weights(pending, proposal.before_weights)
        ):
            return None
        return Moved(
            "The capacity or weights in AWS changed after this was proposed (auto scaling, "
            "or another change); nothing was applied.",
            {"live_capacity": capacity, "live_weights": current},
        )

    @staticmethod
    def rebind(*, proposal: ShiftProposal, live: LiveRead) -> None:
        proposal.before_weights = live_weights(live.described)[0]
        proposal.before_state = {"capacity": live_capacities(live.described)}

    @staticmethod
    def unappliable(*, proposal: ShiftProposal, live: LiveRead) -> str | None:
        capacity = live_capacities(live.described)
        for name, wanted in proposal.spec["capacity"].items():
            if name not in capacity:
                return f"The endpoint no longer has the variant {name}."
            if ("instances" in wanted) != ("instances" in capacity[name]):
                return f"The variant {name} changed between instances and serverless."
        return None

    @staticmethod
    def send(*, proposal: ShiftProposal, live: LiveRead) -> str:
        wanted = proposal.spec["capacity"]
        current, _ = live_weights(live.described)
        capacity = live_capacities(live.described)
        variants = []
        for name, weight in current.items():
            values = {**capacity[name], **wanted.get(name, {})}
            variants.append(
                DesiredVariant(
                    name=name,
                    weight=weight,
                    instance_count=values.get("instances"),
                    max_concurrency=values.get("max_concurrency") if name in wanted else None,
                    provisioned_concurrency=(
                        values.get("provisioned_concurrency") if name in wanted else None
                    ),
                )
            )
        return aws_traffic.update_weights_and_capacities(
            target=target_of(proposal),
            region=proposal.endpoint.region,
            endpoint_name=proposal.endpoint.name,
            variants=variants,
        )

    @staticmethod
    def verify(*, proposal: ShiftProposal, live: LiveRead) -> Verdict:
        running = live_capacities(live.described, current=True)
        proposal.observed_state = {"capacity": running}
        wanted = _bound(proposal.spec["capacity"])
        status = live.described.status
        reached = all(running.get(name) == values for name, values in wanted.items())
        if status == EndpointStatus.IN_SERVICE and reached:
            return Verdict(
                APPLIED, f"InService with the new capacity (request {proposal.aws_request_id})."
            )
        if failure := broken(live.described):
            return failure
        if status == EndpointStatus.IN_SERVICE and proposal.poll_attempts >= SETTLE_POLLS:
            return Verdict(
                FAILED,
                f"The endpoint is InService running {running}, not {wanted}: the update did "
                "not take effect (auto scaling may have changed it).",
            )
        return Verdict(PENDING, f"The endpoint is {status}, running {running}.")

    @staticmethod
    def verify_deadline_seconds(*, proposal: ShiftProposal) -> int:
        return default_verify_deadline()

    @staticmethod
    def summary(*, proposal: ShiftProposal) -> str:
        before = proposal.before_state.get("capacity", {})
        parts = [
            f"{name} {describe_capacity(before.get(name, {}))} → {describe_capacity(values)}"
            for name, values in proposal.spec["capacity"].items()
        ]
        return "Capacity: " + "; ".join(parts)
