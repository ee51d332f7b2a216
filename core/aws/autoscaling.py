"""Application Auto Scaling for SageMaker variants: targets, policies and activities per
endpoint, and the writes of auto scaling change requests; and the reads of inference
components' copy-count scaling."""

from __future__ import annotations

from typing import Any

from core.aws.clients import client
from core.aws.errors import translated
from core.aws.types import ComponentScaling, ScalingActivity, ScalingPolicy, VariantScaling
from core.targets import Target

_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
COMPONENT_DIMENSION = "sagemaker:inference-component:DesiredCopyCount"
PREDEFINED_METRIC = "SageMakerVariantInvocationsPerInstance"
SUSPENSIONS = (
    "DynamicScalingInSuspended",
    "DynamicScalingOutSuspended",
    "ScheduledScalingSuspended",
)


def resource_id(endpoint_name: str, variant_name: str) -> str:
    return f"endpoint/{endpoint_name}/variant/{variant_name}"


def _aas(target: Target, region: str) -> Any:
    return client(target=target, region=region, service="application-autoscaling")


def _variant_of(resource_id: str) -> str:
    # endpoint/<endpoint>/variant/<variant>
    return resource_id.rsplit("/variant/", 1)[-1]


def describe_variant_scaling(
    *, target: Target, region: str, endpoint_name: str, variant_names: list[str]
) -> list[VariantScaling]:
    """Scalable targets and their policies for the named variants of one endpoint."""
    if not variant_names:
        return []
    resource_ids = [f"endpoint/{endpoint_name}/variant/{v}" for v in variant_names]
    targets, policies_by_resource = _targets_and_policies(
        target=target, region=region, resource_ids=resource_ids, dimension=_DIMENSION
    )
    return [
        VariantScaling(
            variant_name=_variant_of(t["ResourceId"]),
            min_capacity=int(t["MinCapacity"]),
            max_capacity=int(t["MaxCapacity"]),
            policies=tuple(policies_by_resource.get(t["ResourceId"], [])),
            suspended=_suspended(t),
        )
        for t in targets
    ]


def describe_component_scaling(
    *, target: Target, region: str, component_names: list[str]
) -> list[ComponentScaling]:
    """Copy-count scalable targets and their policies for the named inference components
    (those not registered are left out): the same two reads as a variant's, on ResourceId
    inference-component/<name> and the DesiredCopyCount dimension."""
    if not component_names:
        return []
    resource_ids = [f"inference-component/{name}" for name in component_names]
    targets, policies_by_resource = _targets_and_policies(
        target=target, region=region, resource_ids=resource_ids, dimension=COMPONENT_DIMENSION
    )
    return [
        ComponentScaling(
            component_name=str(t["ResourceId"]).split("/", 1)[-1],
            min_capacity=int(t["MinCapacity"]),
            max_capacity=int(t["MaxCapacity"]),
            policies=tuple(policies_by_resource.get(t["ResourceId"], [])),
            suspended=_suspended(t),
        )
        for t in targets
    ]


def _suspended(scalable_target: dict[str, Any]) -> tuple[str, ...]:
    state = scalable_target.get("SuspendedState") or {}
    return tuple(name for name in SUSPENSIONS if state.get(name))


def _targets_and_policies(
    *, target: Target, region: str, resource_ids: list[str], dimension: str
) -> tuple[list[dict[str, Any]], dict[str, list[ScalingPolicy]]]:
    """DescribeScalableTargets for the resources (every page), then DescribeScalingPolicies
    for each one registered: the raw targets and each one's policies by ResourceId."""
    aas = _aas(target, region)
    targets: list[dict[str, Any]] = []
    with translated("DescribeScalableTargets"):
        request: dict[str, Any] = {
            "ServiceNamespace": "sagemaker",
            "ResourceIds": resource_ids,
            "ScalableDimension": dimension,
        }
        while True:
            page = aas.describe_scalable_targets(**request)
            targets += page.get("ScalableTargets", [])
            if not page.get("NextToken"):
                break
            request["NextToken"] = page["NextToken"]
    policies_by_resource: dict[str, list[ScalingPolicy]] = {}
    if not targets:
        return targets, policies_by_resource
    with translated("DescribeScalingPolicies"):
        for resource_id in [t["ResourceId"] for t in targets]:
            response = aas.describe_scaling_policies(
                ServiceNamespace="sagemaker",
                ResourceId=resource_id,
                ScalableDimension=dimension,
            )
            for policy in response.get("ScalingPolicies", []):
                tracking = policy.get("TargetTrackingScalingPolicyConfiguration") or {}
                metric = (tracking.get("PredefinedMetricSpecification") or {}).get(
                    "PredefinedMetricType"
                ) or ("custom" if tracking.get("CustomizedMetricSpecification") else "")
                policies_by_resource.setdefault(resource_id, []).append(
                    ScalingPolicy(
                        name=policy["PolicyName"],
                        policy_type=policy.get("PolicyType", ""),
                        metric=metric,
                        target_value=tracking.get("TargetValue"),
                        scale_in_cooldown=tracking.get("ScaleInCooldown"),
                        scale_out_cooldown=tracking.get("ScaleOutCooldown"),
                        disable_scale_in=bool(tracking.get("DisableScaleIn", False)),
                        alarms=tuple(a.get("AlarmName", "") for a in policy.get("Alarms", [])),
                        customized_metric=tracking.get("CustomizedMetricSpecification"),
                    )
                )
    return targets, policies_by_resource


def scaling_state(scaling: list[VariantScaling]) -> list[dict[str, Any]]:
    """Targets and policies as plain JSON: what the inventory stores and what an auto scaling
    change request binds its approval to."""
    return [
        {
            "variant": s.variant_name,
            "min_capacity": s.min_capacity,
            "max_capacity": s.max_capacity,
            "suspended": list(s.suspended),
            "policies": _policies_state(s.policies),
        }
        for s in scaling
    ]


def component_scaling_state(scaling: ComponentScaling) -> dict[str, Any]:
    """One component's copy-count target and policies as plain JSON, as the inventory
    stores it beside the component."""
    return {
        "min_capacity": scaling.min_capacity,
        "max_capacity": scaling.max_capacity,
        "suspended": list(scaling.suspended),
        "policies": _policies_state(scaling.policies),
    }


def _policies_state(policies: tuple[ScalingPolicy, ...]) -> list[dict[str, Any]]:
    return [
        {
            "name": p.name,
            "type": p.policy_type,
            "metric": p.metric,
            "target_value": p.target_value,
            "scale_in_cooldown": p.scale_in_cooldown,
            "scale_out_cooldown": p.scale_out_cooldown,
            "disable_scale_in": p.disable_scale_in,
            "alarms": list(p.alarms),
        }
        for p in policies
    ]


def register_scalable_target(
    *,
    target: Target,
    region: str,
    endpoint_name: str,
    variant_name: str,
    min_capacity: int,
    max_capacity: int,
    suspended: tuple[str, ...],
) -> str:
    """RegisterScalableTarget (create or change): bounds and SuspendedState in one call,
    every suspension flag sent so that resuming is explicit. Returns the request id."""
    with translated("RegisterScalableTarget"):
        data = _aas(target, region).register_scalable_target(
            ServiceNamespace="sagemaker",
            ResourceId=resource_id(endpoint_name, variant_name),
            ScalableDimension=_DIMENSION,
            MinCapacity=int(min_capacity),
            MaxCapacity=int(max_capacity),
            SuspendedState={name: name in suspended for name in SUSPENSIONS},
        )
    return str(data.get("ResponseMetadata", {}).get("RequestId", ""))


def put_target_tracking_policy(
    *,
    target: Target,
    region: str,
    endpoint_name: str,
    variant_name: str,
    policy_name: str,
    target_value: float,
    scale_in_cooldown: int,
    scale_out_cooldown: int,
    disable_scale_in: bool,
    customized_metric: dict[str, Any] | None = None,
) -> str:
    """PutScalingPolicy (create or replace) of a target-tracking policy on
    SageMakerVariantInvocationsPerInstance, or on `customized_metric` when given."""
    tracking: dict[str, Any] = {
        "TargetValue": float(target_value),
        "ScaleInCooldown": int(scale_in_cooldown),
        "ScaleOutCooldown": int(scale_out_cooldown),
        "DisableScaleIn": bool(disable_scale_in),
    }
    if customized_metric:
        tracking["CustomizedMetricSpecification"] = customized_metric
    else:
        tracking["PredefinedMetricSpecification"] = {"PredefinedMetricType": PREDEFINED_METRIC}
    with translated("PutScalingPolicy"):
        data = _aas(target, region).put_scaling_policy(
            PolicyName=policy_name,
            ServiceNamespace="sagemaker",
            ResourceId=resource_id(endpoint_name, variant_name),
            ScalableDimension=_DIMENSION,
            PolicyType="TargetTrackingScaling",
            TargetTrackingScalingPolicyConfiguration=tracking,
        )
    return str(data.get("ResponseMetadata", {}).get("RequestId", ""))


def delete_scaling_policy(
    *, target: Target, region: str, endpoint_name: str, variant_name: str, policy_name: str
) -> str:
    with translated("DeleteScalingPolicy"):
        data = _aas(target, region).delete_scaling_policy(
            PolicyName=policy_name,
            ServiceNamespace="sagemaker",
            ResourceId=resource_id(endpoint_name, variant_name),
            ScalableDimension=_DIMENSION,
        )
    return str(data.get("ResponseMetadata", {}).get("RequestId", ""))


def deregister_scalable_target(
    *, target: Target, region: str, endpoint_name: str, variant_name: str
) -> str:
    with translated("DeregisterScalableTarget"):
        data = _aas(target, region).deregister_scalable_target(
            ServiceNamespace="sagemaker",
            ResourceId=resource_id(endpoint_name, variant_name),
            ScalableDimension=_DIMENSION,
        )
    return str(data.get("ResponseMetadata", {}).get("RequestId", ""))


def describe_scaling_activities(
    *, target: Target, region: str, endpoint_name: str, variant_name: str, limit: int = 20
) -> list[ScalingActivity]:
    """The variant's most recent scaling activities, newest first (one call)."""
    with translated("DescribeScalingActivities"):
        items = (
            _aas(target, region)
            .describe_scaling_activities(
                ServiceNamespace="sagemaker",
                ResourceId=resource_id(endpoint_name, variant_name),
                ScalableDimension=_DIMENSION,
                MaxResults=max(1, min(limit, 50)),
            )
            .get("ScalingActivities", [])
        )
    return [
        ScalingActivity(
            activity_id=item.get("ActivityId", ""),
            variant_name=_variant_of(item.get("ResourceId", "")),
            description=item.get("Description", ""),
            cause=item.get("Cause", ""),
            status=item.get("StatusCode", ""),
            status_message=item.get("StatusMessage", ""),
            start_time=item["StartTime"],
            end_time=item.get("EndTime"),
        )
        for item in items
    ]
