"""The SageMaker writes of change requests: weights and capacities, new endpoint configs
and UpdateEndpoint deployments.

Re-reading an endpoint before and after the change goes through
`core.aws.sagemaker.describe_endpoint`; this module only sends. Every call here is made
once (see `_sm_once`).
"""

from __future__ import annotations

from typing import Any

from core.aws.clients import client
from core.aws.errors import translated
from core.aws.types import DesiredVariant
from core.targets import Target


def _sm_once(target: Target, region: str) -> Any:
    """A client that sends the update exactly once.

    botocore would retry a timed-out or 5xx call; if the first attempt did reach SageMaker,
    the retry is refused ("Cannot update in-progress endpoint") and the portal would record
    a failure for a change that is in fact happening. With one attempt a transport error
    means "outcome unknown", which the caller settles by polling DescribeEndpoint.
    """
    return client(target=target, region=region, service="sagemaker", attempts=1)


def _request_id(data: dict[str, Any]) -> str:
    return str(data.get("ResponseMetadata", {}).get("RequestId", ""))


def update_weights(
    *,
    target: Target,
    region: str,
    endpoint_name: str,
    weights: dict[str, float],
    instance_counts: dict[str, int | None],
) -> str:
    """Send UpdateEndpointWeightsAndCapacities for every variant in `weights`; return the AWS
    request id. A count of None marks a serverless variant."""
    if set(weights) != set(instance_counts):
        raise ValueError("weights and instance_counts must name the same variants")
    return update_weights_and_capacities(
        target=target,
        region=region,
        endpoint_name=endpoint_name,
        variants=[
            DesiredVariant(name=name, weight=weight, instance_count=instance_counts[name])
            for name, weight in weights.items()
        ],
    )


def update_weights_and_capacities(
    *, target: Target, region: str, endpoint_name: str, variants: list[DesiredVariant]
) -> str:
    """Send UpdateEndpointWeightsAndCapacities; return the AWS request id.

    Each item carries DesiredWeight and DesiredInstanceCount: an omitted value is erased by
    some implementations (moto) and kept by others (AWS), so the portal never omits one.
    Serverless variants have no instance count; they get a ServerlessUpdateConfig when a
    concurrency is to change.
    """
    if not variants:
        raise ValueError("at least one variant is required")
    items: list[dict[str, Any]] = []
    for variant in variants:
        item: dict[str, Any] = {"VariantName": variant.name, "DesiredWeight": float(variant.weight)}
        if variant.instance_count is not None:
            item["DesiredInstanceCount"] = int(variant.instance_count)
        serverless: dict[str, int] = {}
        if variant.max_concurrency is not None:
            serverless["MaxConcurrency"] = int(variant.max_concurrency)
        if variant.provisioned_concurrency is not None:
            serverless["ProvisionedConcurrency"] = int(variant.provisioned_concurrency)
        if serverless:
            item["ServerlessUpdateConfig"] = serverless
        items.append(item)
    with translated("UpdateEndpointWeightsAndCapacities"):
        data = _sm_once(target, region).update_endpoint_weights_and_capacities(
            EndpointName=endpoint_name, DesiredWeightsAndCapacities=items
        )
    return _request_id(data)


def create_endpoint_config(*, target: Target, region: str, params: dict[str, Any]) -> str:
    """CreateEndpointConfig with `params` as they are (a clone of a described config with
    one variant changed); returns the request id."""
    with translated("CreateEndpointConfig"):
        data = _sm_once(target, region).create_endpoint_config(**params)
    return _request_id(data)


def update_endpoint(
    *,
    target: Target,
    region: str,
    endpoint_name: str,
    config_name: str,
    deployment_config: dict[str, Any] | None,
) -> str:
    """UpdateEndpoint to another config, with SageMaker's deployment guardrails when
    `deployment_config` is given; returns the request id. The new config's weights and
    counts apply (RetainAllVariantProperties false): the config was cloned from the live
    state, so they are the live ones unless the change meant otherwise."""
    params: dict[str, Any] = {"EndpointName": endpoint_name, "EndpointConfigName": config_name}
    if deployment_config:
        params["DeploymentConfig"] = deployment_config
    with translated("UpdateEndpoint"):
        data = _sm_once(target, region).update_endpoint(**params)
    return _request_id(data)
