"""Application Auto Scaling for SageMaker variants: targets, policies and activities per
endpoint, and the writes of auto scaling change requests."""

from __future__ import annotations

from typing import Any

from core.aws.clients import client
from core.aws.errors import translated
from core.aws.types import ScalingActivity, ScalingPolicy, VariantScaling
from core.targets import Target

_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
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
    aas = client(target=target, region=region, service="application-autoscaling")
    resource_ids = [f"endpoint/{endpoint_name}/variant/{v}" for v in variant_names]
    with translated("DescribeScalableTargets"):
        targets = aas.describe_scalable_targets(
            ServiceNamespace="sagemaker",
            ResourceIds=resource_ids,
            ScalableDimension=_DIMENSION,
        ).get("ScalableTargets", [])
    if not targets:
        return []
    policies_by_resource: dict[str, list[ScalingPolicy]] = {}
    with translated("DescribeScalingPolicies"):
        for resource_id in [t["ResourceId"] for t in targets]:
            response = aas.describe_scaling_policies(
                ServiceNamespace="sagemaker",
                ResourceId=resource_id,
                ScalableDimension=_DIMENSION,
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
    return [
        VariantScaling(
            variant_name=_variant_of(t["ResourceId"]),
            min_capacity=int(t["MinCapacity"]),
            max_capacity=int(t["MaxCapacity"]),
            policies=tuple(policies_by_resource.get(t["ResourceId"], [])),
            suspended=tuple(
                name for name in SUSPENSIONS if (t.get("SuspendedState") or {}).get(name)
            ),
        )
        for t in targets
    ]


def scaling_state(scaling: list[VariantScaling]) -> list[dict[str, Any]]:
    """Targets and policies as plain JSON: what the inventory stores and what an auto scaling
    change request binds its approval to."""
    return [
        {
            "variant": s.variant_name,
            "min_capacity": s.min_capacity,
            "max_capacity": s.max_capacity,
            "suspended": list(s.suspended),
            "policies": [
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
                for p in s.policies
            ],
        }
        for s in scaling
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
