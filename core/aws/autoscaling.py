"""Application Auto Scaling for SageMaker variants: targets and policies per endpoint."""

from __future__ import annotations

from core.aws.clients import client
from core.aws.errors import translated
from core.aws.types import ScalingPolicy, VariantScaling
from core.targets import Target

_DIMENSION = "sagemaker:variant:DesiredInstanceCount"


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
                    )
                )
    return [
        VariantScaling(
            variant_name=_variant_of(t["ResourceId"]),
            min_capacity=int(t["MinCapacity"]),
            max_capacity=int(t["MaxCapacity"]),
            policies=tuple(policies_by_resource.get(t["ResourceId"], [])),
        )
        for t in targets
    ]
