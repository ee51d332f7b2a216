"""Application Auto Scaling's API for SageMaker variant and inference-component targets
(sandbox/autoscaling.py).

Requests for another namespace or dimension go on to moto. Answers carry no JSON nulls
(botocore would hand ``None`` to the caller where AWS sends nothing). A variant can be
registered only if its endpoint has it and it runs on instances (a serverless variant
scales its provisioned concurrency instead). A target-tracking policy on
SageMakerVariantInvocationsPerInstance gets the two CloudWatch alarms AWS makes for it:
``TargetTracking-<resource>-AlarmHigh-<uuid>`` (above the target for 3 minutes) and
``-AlarmLow-<uuid>`` (below 90 % of it for 15 minutes); sandbox/scaling_loop.py acts on
them and records the activities DescribeScalingActivities lists.

An inference component (``inference-component/<name>``, dimension
``sagemaker:inference-component:DesiredCopyCount``) can be registered once it exists, with a
MinCapacity of 0 if wanted; its target-tracking policy follows
SageMakerInferenceComponentInvocationsPerCopy, whose alarms watch InvocationsPerCopy (Sum)
under its InferenceComponentName.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from sandbox import moto_bridge
from sandbox.autoscaling import (
    COMPONENT_DIMENSION,
    COMPONENT_PREFIX,
    NAMESPACE,
    SUSPENSIONS,
    VARIANT_DIMENSION,
    Alarm,
    ScalableTarget,
    ScalingActivity,
    ScalingPolicy,
    ScalingStore,
    dimension_of,
)
from sandbox.aws_protocol import AwsError, AwsRequest, WsgiResponse, json_response
from sandbox.endpoints import EndpointStore
from sandbox.inference_components import ComponentStore

Handler = Callable[[AwsRequest], WsgiResponse | None]

# Application Auto Scaling's signing name.
APPLICATION_AUTOSCALING = "application-autoscaling"
VARIANT_RESOURCE = re.compile(r"^endpoint/[^/]+/variant/[^/]+$")
COMPONENT_RESOURCE = re.compile(r"^inference-component/[^/]+$")
INVOCATIONS_PER_INSTANCE = "SageMakerVariantInvocationsPerInstance"
INVOCATIONS_PER_COPY = "SageMakerInferenceComponentInvocationsPerCopy"
# The predefined metric each dimension's target tracking follows in the sandbox.
PREDEFINED_METRICS = {
    VARIANT_DIMENSION: INVOCATIONS_PER_INSTANCE,
    COMPONENT_DIMENSION: INVOCATIONS_PER_COPY,
}
MAX_RESULTS = 50


def _invalid(message: str) -> AwsError:
    return AwsError("ValidationException", message)


def _ours(params: dict[str, Any], *, describing: bool = False) -> bool:
    """A request about SageMaker variant or component targets (else moto answers it). A
    describe call may leave the dimension out."""
    if params.get("ServiceNamespace") != NAMESPACE:
        return False
    dimension = params.get("ScalableDimension")
    return dimension in PREDEFINED_METRICS or (describing and dimension is None)


def _resource(params: dict[str, Any]) -> str:
    """The ResourceId, which must be the kind of resource the ScalableDimension scales."""
    resource = str(params.get("ResourceId") or "")
    if params.get("ScalableDimension") == COMPONENT_DIMENSION:
        if not COMPONENT_RESOURCE.match(resource):
            raise _invalid(
                f"Unsupported resource ID {resource!r} for {COMPONENT_DIMENSION}: an inference "
                "component's is inference-component/<inference component name>."
            )
    elif not VARIANT_RESOURCE.match(resource):
        raise _invalid(
            f"Unsupported resource ID {resource!r} for {VARIANT_DIMENSION}: a SageMaker "
            "variant's is endpoint/<endpoint name>/variant/<variant name>."
        )
    return resource


def _dimension_matches(params: dict[str, Any], resource_id: str) -> bool:
    """Whether a described item is of the ScalableDimension asked for (any when none is)."""
    dimension = params.get("ScalableDimension")
    return dimension is None or dimension_of(resource_id) == dimension


def _capacity(params: dict[str, Any], name: str) -> int | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _invalid(f"{name} must be a whole number of instances, 0 or more.")
    return value


def render_target(target: ScalableTarget) -> dict[str, Any]:
    return {
        "ServiceNamespace": NAMESPACE,
        "ResourceId": target.resource_id,
        "ScalableDimension": dimension_of(target.resource_id),
        "MinCapacity": target.min_capacity,
        "MaxCapacity": target.max_capacity,
        "RoleARN": target.role_arn,
        "CreationTime": target.creation_time,
        "SuspendedState": dict(target.suspended),
        "ScalableTargetARN": target.arn,
    }


def render_policy(policy: ScalingPolicy) -> dict[str, Any]:
    rendered: dict[str, Any] = {
        "PolicyARN": policy.arn,
        "PolicyName": policy.name,
        "ServiceNamespace": NAMESPACE,
        "ResourceId": policy.resource_id,
        "ScalableDimension": dimension_of(policy.resource_id),
        "PolicyType": policy.policy_type,
        "Alarms": [{"AlarmName": a.name, "AlarmARN": a.arn} for a in policy.alarms],
        "CreationTime": policy.creation_time,
    }
    key = (
        "TargetTrackingScalingPolicyConfiguration"
        if policy.policy_type == "TargetTrackingScaling"
        else "StepScalingPolicyConfiguration"
    )
    rendered[key] = policy.configuration
    return rendered


def render_activity(activity: ScalingActivity) -> dict[str, Any]:
    rendered: dict[str, Any] = {
        "ActivityId": activity.activity_id,
        "ServiceNamespace": NAMESPACE,
        "ResourceId": activity.resource_id,
        "ScalableDimension": dimension_of(activity.resource_id),
        "Description": activity.description,
        "Cause": activity.cause,
        "StartTime": activity.start_time,
        "StatusCode": activity.status_code,
        "StatusMessage": activity.status_message,
    }
    if activity.end_time is not None:
        rendered["EndTime"] = activity.end_time
    return rendered


def _page(request: AwsRequest, items: list[dict[str, Any]], key: str) -> WsgiResponse:
    params = request.json_body()
    size = params.get("MaxResults", MAX_RESULTS)
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_RESULTS:
        raise _invalid(f"MaxResults must be between 1 and {MAX_RESULTS}.")
    token = params.get("NextToken")
    start = 0
    if token is not None:
        if not isinstance(token, str) or not token.startswith("page-") or not token[5:].isdigit():
            raise AwsError("InvalidNextTokenException", "Invalid token")
        start = int(token[5:])
    answer: dict[str, Any] = {key: items[start : start + size]}
    if start + size < len(items):
        answer["NextToken"] = f"page-{start + size}"
    return json_response(request, answer)


def target_tracking_alarms(policy: ScalingPolicy) -> list[Alarm]:
    """The CloudWatch alarms AWS creates for a target-tracking policy, stored in moto."""
    if policy.policy_type != "TargetTrackingScaling":
        return []
    config = policy.configuration
    target = float(config["TargetValue"])
    customized = config.get("CustomizedMetricSpecification")
    if customized:
        namespace = str(customized.get("Namespace", ""))
        metric = str(customized.get("MetricName", ""))
        dimensions = [(str(d["Name"]), str(d["Value"])) for d in customized.get("Dimensions", [])]
        statistic = str(customized.get("Statistic", "Average"))
    elif policy.resource_id.startswith(COMPONENT_PREFIX):
        component = policy.resource_id.removeprefix(COMPONENT_PREFIX)
        namespace, metric, statistic = "AWS/SageMaker", "InvocationsPerCopy", "Sum"
        dimensions = [("InferenceComponentName", component)]
    else:
        _, endpoint, _, variant = policy.resource_id.split("/")
        namespace, metric, statistic = "AWS/SageMaker", "InvocationsPerInstance", "Sum"
        dimensions = [("EndpointName", endpoint), ("VariantName", variant)]
    alarms = []
    for side, comparison, periods, threshold in (
        ("AlarmHigh", "GreaterThanThreshold", 3, target),
        ("AlarmLow", "LessThanThreshold", 15, round(target * 0.9, 6)),
    ):
        name = f"TargetTracking-{policy.resource_id}-{side}-{uuid.uuid4()}"
        arn = moto_bridge.put_alarm(
            policy.account_id,
            policy.region,
            name=name,
            namespace=namespace,
            metric_name=metric,
            dimensions=dimensions,
            statistic=statistic,
            period=60,
            evaluation_periods=periods,
            threshold=threshold,
            comparison_operator=comparison,
            description=f"DO NOT EDIT OR DELETE. For TargetTrackingScaling policy {policy.arn}.",
            actions=[policy.arn],
        )
        alarms.append(Alarm(name=name, arn=arn))
    return alarms


def _target_tracking(params: dict[str, Any], dimension: str) -> dict[str, Any]:
    config = params.get("TargetTrackingScalingPolicyConfiguration")
    if not isinstance(config, dict):
        raise _invalid(
            "TargetTrackingScalingPolicyConfiguration is required for a TargetTrackingScaling "
            "policy."
        )
    value = config.get("TargetValue")
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise _invalid("TargetValue must be a number greater than 0.")
    predefined = config.get("PredefinedMetricSpecification")
    customized = config.get("CustomizedMetricSpecification")
    if bool(predefined) == bool(customized):
        raise _invalid(
            "Give exactly one of PredefinedMetricSpecification and CustomizedMetricSpecification."
        )
    expected = PREDEFINED_METRICS[dimension]
    if predefined and predefined.get("PredefinedMetricType") != expected:
        raise _invalid(
            f"The sandbox tracks {expected} or a customized metric for {dimension}; got "
            f"{predefined.get('PredefinedMetricType')!r}."
        )
    for cooldown in ("ScaleOutCooldown", "ScaleInCooldown"):
        seconds = config.get(cooldown)
        if seconds is not None and (
            isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0
        ):
            raise _invalid(f"{cooldown} must be a whole number of seconds, 0 or more.")
    return dict(config)


class AutoScalingApi:
    """Answers Application Auto Scaling for SageMaker variants and inference components from
    a ScalingStore."""

    def __init__(
        self, store: ScalingStore, endpoints: EndpointStore, components: ComponentStore
    ) -> None:
        self.store = store
        self.endpoints = endpoints
        self.components = components

    def _check_resource(
        self, request: AwsRequest, resource_id: str, min_capacity: int | None = None
    ) -> None:
        if resource_id.startswith(COMPONENT_PREFIX):
            self._check_component(request, resource_id)
        else:
            self._check_variant(request, resource_id, min_capacity)

    def _check_component(self, request: AwsRequest, resource_id: str) -> None:
        """A component can be registered once it exists; it may scale down to no copies."""
        name = resource_id.removeprefix(COMPONENT_PREFIX)
        if self.components.get(request.account_id, request.region, name) is None:
            raise _invalid(f"The inference component '{name}' does not exist.")

    def _check_variant(
        self, request: AwsRequest, resource_id: str, min_capacity: int | None = None
    ) -> None:
        """Only a variant its endpoint has, running on instances, can be registered; a
        MinCapacity of 0 only for an asynchronous endpoint, the one kind that can wait."""
        _, endpoint, _, variant_name = resource_id.split("/")
        record = self.endpoints.get(request.account_id, request.region, endpoint)
        if record is None:
            raise _invalid(f"The endpoint '{endpoint}' does not exist.")
        variant = record.variant(variant_name)
        if variant is None:
            raise _invalid(f"The variant '{variant_name}' does not exist in endpoint '{endpoint}'.")
        if variant.is_serverless:
            raise _invalid(
                f"The variant '{variant_name}' of endpoint '{endpoint}' is serverless: it has "
                f"no instance count to scale ({VARIANT_DIMENSION}); register "
                "sagemaker:variant:DesiredProvisionedConcurrency instead."
            )
        if min_capacity == 0 and not record.async_config:
            raise _invalid(
                f"The minimum capacity 0 is invalid for the variant '{variant_name}' of endpoint "
                f"'{endpoint}': only an asynchronous inference endpoint can scale to zero "
                "instances; use 1 or more."
            )

    def operations(self) -> dict[str, Handler]:
        return {
            "RegisterScalableTarget": self.register_scalable_target,
            "DeregisterScalableTarget": self.deregister_scalable_target,
            "DescribeScalableTargets": self.describe_scalable_targets,
            "PutScalingPolicy": self.put_scaling_policy,
            "DeleteScalingPolicy": self.delete_scaling_policy,
            "DescribeScalingPolicies": self.describe_scaling_policies,
            "DescribeScalingActivities": self.describe_scaling_activities,
        }

    def register_scalable_target(self, request: AwsRequest) -> WsgiResponse | None:
        params = request.json_body()
        if not _ours(params):
            return None
        suspended = params.get("SuspendedState")
        if suspended is not None and (
            not isinstance(suspended, dict)
            or set(suspended) - set(SUSPENSIONS)
            or not all(isinstance(v, bool) for v in suspended.values())
        ):
            raise _invalid(f"SuspendedState takes true or false for {', '.join(SUSPENSIONS)}.")
        resource_id = _resource(params)
        min_capacity = _capacity(params, "MinCapacity")
        self._check_resource(request, resource_id, min_capacity)
        target = self.store.register(
            account_id=request.account_id,
            region=request.region,
            resource_id=resource_id,
            min_capacity=min_capacity,
            max_capacity=_capacity(params, "MaxCapacity"),
            role_arn=params.get("RoleARN"),
            suspended=suspended,
        )
        return json_response(request, {"ScalableTargetARN": target.arn})

    def deregister_scalable_target(self, request: AwsRequest) -> WsgiResponse | None:
        params = request.json_body()
        if not _ours(params):
            return None
        self.store.deregister(
            account_id=request.account_id,
            region=request.region,
            resource_id=_resource(params),
        )
        return json_response(request, {})

    def describe_scalable_targets(self, request: AwsRequest) -> WsgiResponse | None:
        params = request.json_body()
        if not _ours(params, describing=True):
            return None
        targets = self.store.targets(
            account_id=request.account_id,
            region=request.region,
            resource_ids=list(params.get("ResourceIds") or []),
        )
        found = [render_target(t) for t in targets if _dimension_matches(params, t.resource_id)]
        return _page(request, found, "ScalableTargets")

    def put_scaling_policy(self, request: AwsRequest) -> WsgiResponse | None:
        params = request.json_body()
        if not _ours(params):
            return None
        name = params.get("PolicyName")
        if not isinstance(name, str) or not 1 <= len(name) <= 256:
            raise _invalid("PolicyName must be 1 to 256 characters.")
        policy_type = params.get("PolicyType", "StepScaling")
        resource_id = _resource(params)
        if policy_type == "TargetTrackingScaling":
            configuration = _target_tracking(params, dimension_of(resource_id))
        elif policy_type == "StepScaling":
            configuration = dict(params.get("StepScalingPolicyConfiguration") or {})
        else:
            raise _invalid(
                f"1 validation error detected: Value '{policy_type}' at 'policyType' failed to "
                "satisfy constraint: Member must satisfy enum value set: [PredictiveScaling, "
                "StepScaling, TargetTrackingScaling]"
            )
        policy = self.store.put_policy(
            account_id=request.account_id,
            region=request.region,
            resource_id=resource_id,
            name=name,
            policy_type=policy_type,
            configuration=configuration,
        )
        return json_response(
            request,
            {
                "PolicyARN": policy.arn,
                "Alarms": [{"AlarmName": a.name, "AlarmARN": a.arn} for a in policy.alarms],
            },
        )

    def delete_scaling_policy(self, request: AwsRequest) -> WsgiResponse | None:
        params = request.json_body()
        if not _ours(params):
            return None
        self.store.delete_policy(
            account_id=request.account_id,
            region=request.region,
            resource_id=_resource(params),
            name=str(params.get("PolicyName") or ""),
        )
        return json_response(request, {})

    def describe_scaling_policies(self, request: AwsRequest) -> WsgiResponse | None:
        params = request.json_body()
        if not _ours(params, describing=True):
            return None
        resource = params.get("ResourceId")
        policies = self.store.policies(
            account_id=request.account_id,
            region=request.region,
            resource_id=str(resource) if resource is not None else None,
            names=list(params.get("PolicyNames") or []),
        )
        found = [render_policy(p) for p in policies if _dimension_matches(params, p.resource_id)]
        return _page(request, found, "ScalingPolicies")

    def describe_scaling_activities(self, request: AwsRequest) -> WsgiResponse | None:
        """What the scaling of the variants and components did, newest first (moto answers
        nothing)."""
        params = request.json_body()
        if not _ours(params, describing=True):
            return None
        resource = params.get("ResourceId")
        activities = self.store.activities(
            account_id=request.account_id,
            region=request.region,
            resource_id=str(resource) if resource is not None else None,
        )
        found = [
            render_activity(a) for a in activities if _dimension_matches(params, a.resource_id)
        ]
        return _page(request, found, "ScalingActivities")


def alarm_remover(account_id: str, region: str, names: list[str]) -> None:
    moto_bridge.delete_alarms(account_id, region, names)
