"""Application Auto Scaling at work: SageMaker variants scaled by their policies' alarms.

On AWS a target-tracking policy's CloudWatch alarms invoke the policy, and Application
Auto Scaling calls UpdateEndpointWeightsAndCapacities with the new DesiredInstanceCount.
The sandbox evaluates the alarms on its own schedule (sandbox/alarms.py); this loop runs
beside it, every ``SCALING_INTERVAL`` seconds, and for each registered variant target:

- finishes the activities of earlier passes: Successful once the endpoint is InService
  again (EndTime is when its update completed), Failed if the endpoint went away;
- after a RegisterScalableTarget, brings a DesiredInstanceCount outside the new bounds
  within them ("minimum capacity was set to 2");
- otherwise reads each target-tracking policy's AlarmHigh and AlarmLow: an alarm invokes
  its policy when it goes into ALARM and then once a minute while it stays there (as
  CloudWatch does for scaling actions), with the newest datapoint it evaluated (from its
  StateReasonData: the value the alarm saw); sandbox/target_tracking.py decides.

It acts only on an InService endpoint: while one is Updating (its own change, or someone
else's) it tries again on a later pass, as AWS does. The change goes through the endpoint
store with the caller's endpoint-usage quotas, so a scale-out over a quota becomes a Failed
activity with SageMaker's ResourceLimitExceeded message instead of instances. Each call,
granted or refused, is a CloudTrail event by Application Auto Scaling's service-linked role,
as on AWS, where that is how an audit tells a policy's changes from a person's.

Time: cooldowns are AWS seconds that pass ``clock_speed`` times faster, like Model
Monitor's schedules and DeploymentConfig's waits (a 300 s ScaleInCooldown takes 5 s at 60).
Metrics and alarms keep real minutes, though, and so does an alarm's once-a-minute
invocation: however short a cooldown, a policy acts at most once a minute on one alarm, so
it never scales again on the same minutes of data that caused its last change.
Scheduled scaling, step scaling policies and scaling to or from zero are not simulated.

An inference component's target (``inference-component/<name>``) is scaled the same way,
its copy count in place of an instance count: the loop acts while the component is
InService, changes its copies through the path UpdateInferenceComponentRuntimeConfig takes
(CloudTrail records that call by the service-linked role), and the activity succeeds once
the component is InService again with its copies placed.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
import uuid
from typing import Any

from sandbox import moto_bridge
from sandbox.autoscaling import (
    COMPONENT_PREFIX,
    NAMESPACE,
    ScalableTarget,
    ScalingActivity,
    ScalingStore,
)
from sandbox.cloudtrail import EventStore
from sandbox.cloudtrail_records import EVENT_SOURCES, Call, CallKind, resources_named
from sandbox.endpoints import (
    EndpointError,
    EndpointRecord,
    EndpointStatus,
    EndpointStore,
    InstanceLimit,
    InstanceLimitExceeded,
    VariantChange,
)
from sandbox.identities import AUTOSCALING_SERVICE, sagemaker_autoscaling_identity
from sandbox.inference_components import Component, ComponentStore
from sandbox.quotas import QuotaStore, endpoint_quota, quota_message
from sandbox.target_tracking import AlarmReading, Move, TrackingPolicy, plan_move

logger = logging.getLogger(__name__)

SCALING_INTERVAL = 1.0
# An alarm in ALARM invokes a scaling policy again every period it stays there.
ALARM_PERIOD_SECONDS = 60.0
BOUNDS = "bounds"
AlarmKey = tuple[str, str, str]  # account, region, alarm name
UPDATE_CALL = CallKind(
    "sagemaker", EVENT_SOURCES["sagemaker"], "UpdateEndpointWeightsAndCapacities", read_only=False
)
COPY_CALL = CallKind(
    "sagemaker",
    EVENT_SOURCES["sagemaker"],
    "UpdateInferenceComponentRuntimeConfig",
    read_only=False,
)


def endpoint_usage_limit(quotas: QuotaStore, account_id: str, region: str) -> InstanceLimit:
    """The account's endpoint-usage quotas in a region, as SageMaker checks a request."""

    def limit(instance_type: str) -> tuple[str, float] | None:
        definition = endpoint_quota(instance_type)
        if definition is None:
            return None
        return definition.name, quotas.value(account_id, region, definition)

    return limit


def newest_datapoint(reason_data: str | None) -> float | None:
    """The newest value an alarm evaluated, from its StateReasonData (None if absent)."""
    try:
        data = json.loads(reason_data or "")
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    evaluated = [
        point
        for point in data.get("evaluatedDatapoints") or []
        if isinstance(point, dict) and isinstance(point.get("value"), int | float)
    ]
    if evaluated:
        return float(max(evaluated, key=lambda p: str(p.get("timestamp", "")))["value"])
    recent = [v for v in data.get("recentDatapoints") or [] if isinstance(v, int | float)]
    return float(recent[-1]) if recent else None


def _sagemaker_failure(capacity: int, code: str, message: str, request_id: str) -> str:
    return (
        f"Failed to set desired instance count to {capacity}. Reason: {message} (Service: "
        f"AmazonSageMaker; Status Code: 400; Error Code: {code}; Request ID: {request_id})."
    )


class ScalingLoop:
    """Scales the variants of registered targets; ``run_once`` is one pass over them all."""

    def __init__(
        self,
        scaling: ScalingStore,
        endpoints: EndpointStore,
        quotas: QuotaStore,
        *,
        clock_speed: float = 1.0,
        trail: EventStore | None = None,
        components: ComponentStore,
    ) -> None:
        self.scaling = scaling
        self.endpoints = endpoints
        self.components = components
        self.quotas = quotas
        self.clock_speed = clock_speed
        # Where the loop's SageMaker calls are recorded; they never pass the HTTP recorder.
        self.trail = trail
        # When each alarm in ALARM last invoked its policy; only the loop's thread uses it.
        self._invoked: dict[AlarmKey, float] = {}

    def run_once(self) -> None:
        now = time.time()
        self._finish_activities(now)
        for target in self.scaling.all_targets():
            try:
                self._scale(target, now)
            except Exception:
                logger.exception("Scaling %s failed", target.resource_id)
        # After a period an alarm would invoke again anyway: forgetting its time changes
        # nothing, and alarms that are gone are not kept.
        self._invoked = {
            key: at for key, at in self._invoked.items() if now < at + ALARM_PERIOD_SECONDS
        }

    def _reading(self, account_id: str, region: str, name: str, now: float) -> AlarmReading | None:
        """An alarm as its policy sees it: it invokes the policy on going into ALARM, then
        once a minute while it stays there."""
        definition = moto_bridge.alarm_definition(account_id, region, name)
        if definition is None:
            return None
        key = (account_id, region, name)
        if definition.state_value != "ALARM":
            self._invoked.pop(key, None)
            return AlarmReading(name=name, invokes=False, metric=None)
        last = self._invoked.get(key)
        invokes = (
            last is None or last < definition.state_updated or now >= last + ALARM_PERIOD_SECONDS
        )
        if invokes:
            self._invoked[key] = now
        metric = newest_datapoint(definition.state_reason_data)
        return AlarmReading(name=name, invokes=invokes, metric=metric)

    def _finish_activities(self, now: float) -> None:
        for activity in self.scaling.activities(status_code="InProgress"):
            if activity.resource_id.startswith(COMPONENT_PREFIX):
                self._finish_component_activity(activity, now)
                continue
            endpoint = activity.resource_id.split("/")[1]
            record = self.endpoints.get(activity.account_id, activity.region, endpoint)
            if record is None or record.status == EndpointStatus.FAILED:
                self.scaling.finish_activity(
                    activity.activity_id,
                    status_code="Failed",
                    status_message=f"Failed to set desired instance count to "
                    f"{activity.capacity}. Reason: the endpoint {endpoint} "
                    f"{'no longer exists' if record is None else 'failed'}.",
                    end_time=now,
                )
            elif record.status == EndpointStatus.IN_SERVICE:
                self.scaling.finish_activity(
                    activity.activity_id,
                    status_code="Successful",
                    status_message=f"Successfully set desired instance count to "
                    f"{activity.capacity}. Change successfully fulfilled by {NAMESPACE}.",
                    end_time=max(activity.start_time, record.last_modified_time),
                )

    def _finish_component_activity(self, activity: ScalingActivity, now: float) -> None:
        """Successful once the component is InService with its new copies, Failed if it went
        away or failed."""
        name = activity.resource_id.removeprefix(COMPONENT_PREFIX)
        component = self.components.get(activity.account_id, activity.region, name)
        status = component.status(now) if component is not None else None
        if component is None or status == "Failed":
            self.scaling.finish_activity(
                activity.activity_id,
                status_code="Failed",
                status_message=f"Failed to set desired copy count to {activity.capacity}. "
                f"Reason: the inference component {name} "
                f"{'no longer exists' if component is None else 'failed'}.",
                end_time=now,
            )
        elif status == "InService":
            self.scaling.finish_activity(
                activity.activity_id,
                status_code="Successful",
                status_message=f"Successfully set desired copy count to {activity.capacity}. "
                f"Change successfully fulfilled by {NAMESPACE}.",
                end_time=max(activity.start_time, component.ready_at),
            )

    def _plan(self, target: ScalableTarget, current: int, now: float) -> Move | None:
        """New bounds first (once per registration), else what the policies want."""
        key = {
            "account_id": target.account_id,
            "region": target.region,
            "resource_id": target.resource_id,
        }
        move = _bounds_move(target, current) if self.scaling.take_bounds_check(**key) else None
        return move or plan_move(
            target=target,
            current=current,
            policies=self._tracking_policies(target, now),
            activities=self.scaling.activities(**key),
            now=now,
        )

    def _scale_component(self, target: ScalableTarget, now: float) -> None:
        name = target.resource_id.removeprefix(COMPONENT_PREFIX)
        component = self.components.get(target.account_id, target.region, name)
        if component is None or component.status(now) != "InService":
            return
        move = self._plan(target, component.desired_copies, now)
        if move is None:
            return
        self.components.rescale(component, move.capacity, now)
        self.scaling.record_activity(_started(target, move, "copy count", now))
        self._record_copy_call(target, component, move.capacity, now)

    def _record_copy_call(
        self, target: ScalableTarget, component: Component, copies: int, now: float
    ) -> None:
        """CloudTrail's record of the UpdateInferenceComponentRuntimeConfig call Application
        Auto Scaling made, by its service-linked role."""
        if self.trail is None:
            return
        params: dict[str, Any] = {
            "InferenceComponentName": component.name,
            "DesiredRuntimeConfig": {"CopyCount": copies},
        }
        call = Call(
            kind=COPY_CALL,
            time=now,
            region=target.region,
            account_id=target.account_id,
            access_key=None,
            identity=sagemaker_autoscaling_identity(target.account_id),
            source_ip=AUTOSCALING_SERVICE,
            user_agent=AUTOSCALING_SERVICE,
            request_parameters=params,
            response_elements={"InferenceComponentArn": component.arn},
            error_code=None,
            error_message=None,
            request_id=str(uuid.uuid4()),
        )
        resources = resources_named("sagemaker", params, target.region, target.account_id)
        self.trail.record(call, resources)

    def _scale(self, target: ScalableTarget, now: float) -> None:
        if target.resource_id.startswith(COMPONENT_PREFIX):
            self._scale_component(target, now)
            return
        _, endpoint, _, variant_name = target.resource_id.split("/")
        record = self.endpoints.get(target.account_id, target.region, endpoint)
        if record is None or record.status != EndpointStatus.IN_SERVICE:
            return
        variant = record.variant(variant_name)
        if variant is None or variant.is_serverless or variant.desired_instance_count is None:
            return
        move = self._plan(target, variant.desired_instance_count, now)
        if move is not None:
            self._apply(target, record, variant_name, move, now)

    def _tracking_policies(self, target: ScalableTarget, now: float) -> list[TrackingPolicy]:
        policies = []
        for policy in self.scaling.policies(
            account_id=target.account_id, region=target.region, resource_id=target.resource_id
        ):
            if policy.policy_type != "TargetTrackingScaling":
                continue
            readings: dict[str, AlarmReading | None] = {"high": None, "low": None}
            for alarm in policy.alarms:
                side = "high" if "-AlarmHigh-" in alarm.name else "low"
                readings[side] = self._reading(target.account_id, target.region, alarm.name, now)
            policies.append(
                TrackingPolicy.of(
                    policy.name,
                    policy.configuration,
                    high=readings["high"],
                    low=readings["low"],
                    clock_speed=self.clock_speed,
                )
            )
        return policies

    def _apply(
        self, target: ScalableTarget, record: EndpointRecord, variant: str, move: Move, now: float
    ) -> None:
        """Ask SageMaker for the new count and record the activity, unless the endpoint
        changed meanwhile (then a later pass looks again); CloudTrail records the call
        either way."""
        started = _started(target, move, "instance count", now)
        request_id = str(uuid.uuid4())
        error: tuple[str, str] | None = None
        activity: ScalingActivity | None
        try:
            self.endpoints.update_weights_and_capacities(
                target.account_id,
                target.region,
                record.name,
                record.arn,
                [VariantChange(variant, desired_instance_count=move.capacity)],
                limit=endpoint_usage_limit(self.quotas, target.account_id, target.region),
            )
        except EndpointError as refused:
            error = ("ValidationException", str(refused))
            activity = None
        except InstanceLimitExceeded as exceeded:
            reason = quota_message(
                exceeded.quota_name, exceeded.limit, exceeded.in_use, exceeded.delta
            )
            error = ("ResourceLimitExceeded", reason)
            activity = dataclasses.replace(
                started,
                status_code="Failed",
                status_message=_sagemaker_failure(
                    move.capacity, "ResourceLimitExceeded", reason, request_id
                ),
                end_time=now,
            )
        else:
            activity = started
        self._record_call(target, record, variant, move.capacity, now, request_id, error)
        if activity is not None:
            self.scaling.record_activity(activity)

    def _record_call(
        self,
        target: ScalableTarget,
        record: EndpointRecord,
        variant: str,
        capacity: int,
        now: float,
        request_id: str,
        error: tuple[str, str] | None,
    ) -> None:
        """The CloudTrail event AWS writes for Application Auto Scaling's call: made by its
        service-linked role, from and by autoscaling.amazonaws.com, with SageMaker's refusal
        as errorCode and errorMessage when there was one."""
        if self.trail is None:
            return
        params: dict[str, Any] = {
            "EndpointName": record.name,
            "DesiredWeightsAndCapacities": [
                {"VariantName": variant, "DesiredInstanceCount": capacity}
            ],
        }
        call = Call(
            kind=UPDATE_CALL,
            time=now,
            region=target.region,
            account_id=target.account_id,
            access_key=None,
            identity=sagemaker_autoscaling_identity(target.account_id),
            source_ip=AUTOSCALING_SERVICE,
            user_agent=AUTOSCALING_SERVICE,
            request_parameters=params,
            response_elements=None if error else {"EndpointArn": record.arn},
            error_code=error[0] if error else None,
            error_message=error[1] if error else None,
            request_id=request_id,
        )
        resources = resources_named("sagemaker", params, target.region, target.account_id)
        self.trail.record(call, resources)


def _bounds_move(target: ScalableTarget, current: int) -> Move | None:
    """The count a new MinCapacity or MaxCapacity asks for, if the current one is outside."""
    if current < target.min_capacity:
        lowest = target.min_capacity
        return Move(lowest, BOUNDS, f"minimum capacity was set to {lowest}")
    if current > target.max_capacity:
        highest = target.max_capacity
        return Move(highest, BOUNDS, f"maximum capacity was set to {highest}")
    return None


def _started(target: ScalableTarget, move: Move, dimension: str, now: float) -> ScalingActivity:
    """The activity Application Auto Scaling records when it asks SageMaker for a new
    `dimension` ("instance count" of a variant, "copy count" of a component)."""
    return ScalingActivity(
        account_id=target.account_id,
        region=target.region,
        resource_id=target.resource_id,
        activity_id=str(uuid.uuid4()),
        direction=move.direction,
        capacity=move.capacity,
        description=f"Setting desired {dimension} to {move.capacity}.",
        cause=move.cause,
        start_time=now,
        status_code="InProgress",
        status_message=f"Successfully set desired {dimension} to {move.capacity}. "
        f"Waiting for change to be fulfilled by {NAMESPACE}.",
    )
