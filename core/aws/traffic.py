"""Traffic shifts: the one SageMaker write the portal makes on an endpoint's routing.

Re-reading an endpoint before and after the change goes through
`core.aws.sagemaker.describe_endpoint`; this module only sends the update.
"""

from __future__ import annotations

from typing import Any

from core.aws.clients import client
from core.aws.errors import translated
from core.targets import Target


def _sm_once(target: Target, region: str) -> Any:
    """A client that sends the update exactly once.

    botocore would retry a timed-out or 5xx call; if the first attempt did reach SageMaker,
    the retry is refused ("Cannot update in-progress endpoint") and the portal would record
    a failure for a change that is in fact happening. With one attempt a transport error
    means "outcome unknown", which the caller settles by polling DescribeEndpoint.
    """
    return client(target=target, region=region, service="sagemaker", attempts=1)


def update_weights(
    *,
    target: Target,
    region: str,
    endpoint_name: str,
    weights: dict[str, float],
    instance_counts: dict[str, int | None],
) -> str:
    """Send UpdateEndpointWeightsAndCapacities for every variant in `weights`; return the AWS
    request id.

    Each item carries DesiredWeight and DesiredInstanceCount: an omitted value is erased by
    some implementations (moto) and kept by others (AWS), so the portal never omits one. A
    count of None marks a serverless variant, which has no instance count to send.
    """
    if set(weights) != set(instance_counts):
        raise ValueError("weights and instance_counts must name the same variants")
    if not weights:
        raise ValueError("at least one variant is required")
    items: list[dict[str, Any]] = []
    for name, weight in weights.items():
        item: dict[str, Any] = {"VariantName": name, "DesiredWeight": float(weight)}
        count = instance_counts[name]
        if count is not None:
            item["DesiredInstanceCount"] = int(count)
        items.append(item)
    with translated("UpdateEndpointWeightsAndCapacities"):
        data = _sm_once(target, region).update_endpoint_weights_and_capacities(
            EndpointName=endpoint_name, DesiredWeightsAndCapacities=items
        )
    return str(data.get("ResponseMetadata", {}).get("RequestId", ""))
