"""Application Auto Scaling for SageMaker variants and inference components: scalable targets,
scaling policies and the scaling activities they led to.

moto keeps targets and policies for every namespace but treats SageMaker's loosely: a
policy can be put on a target nobody registered, deregistering a target leaves its
policies behind, a target-tracking policy creates no CloudWatch alarms, nothing ever
scales and DescribeScalingActivities does not exist. The sandbox owns the ``sagemaker``
namespace's variant targets (``endpoint/<e>/variant/<v>``, their instance count) and
inference-component targets (``inference-component/<name>``, its copy count) here
(sandbox/autoscaling_api.py answers the API, sandbox/scaling_loop.py does the scaling);
other namespaces stay with moto.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.aws_protocol import AwsError

NAMESPACE = "sagemaker"
VARIANT_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
COMPONENT_DIMENSION = "sagemaker:inference-component:DesiredCopyCount"
COMPONENT_PREFIX = "inference-component/"
SUSPENSIONS = (
    "DynamicScalingInSuspended",
    "DynamicScalingOutSuspended",
    "ScheduledScalingSuspended",
)


class ScalingError(AwsError):
    """A refused request, answered as Application Auto Scaling answers it."""


@dataclass
class ScalableTarget:
    account_id: str
    region: str
    resource_id: str
    min_capacity: int
    max_capacity: int
    role_arn: str
    suspended: dict[str, bool]
    creation_time: float
    arn: str
    # Set by every RegisterScalableTarget: AWS then brings a desired count outside the new
    # bounds within them at once; the scaling loop does it once the endpoint is InService.
    bounds_check_due: bool = True


@dataclass
class Alarm:
    name: str
    arn: str


@dataclass
class ScalingPolicy:
    account_id: str
    region: str
    name: str
    resource_id: str
    policy_type: str
    configuration: dict[str, Any]
    arn: str
    creation_time: float
    alarms: list[Alarm] = field(default_factory=list)


@dataclass
class ScalingActivity:
    """One DescribeScalingActivities item, plus which way it moved the capacity: ``out``,
    ``in`` (a policy's doing, which cooldowns count from) or ``bounds`` (new min/max)."""

    account_id: str
    region: str
    resource_id: str
    activity_id: str
    direction: str
    capacity: int
    description: str
    cause: str
    start_time: float
    status_code: str
    status_message: str
    end_time: float | None = None


# DescribeScalingActivities covers the last six weeks.
ACTIVITY_RETENTION_SECONDS = 42 * 24 * 3600

Key = tuple[str, str, str]  # account, region, resource id

# Creates a policy's CloudWatch alarms and returns them; removes alarms by name.
AlarmMaker = Callable[[ScalingPolicy], list[Alarm]]
AlarmRemover = Callable[[str, str, list[str]], None]


def dimension_of(resource_id: str) -> str:
    """The one scalable dimension the sandbox serves for a resource: a component's copy count
    or a variant's instance count."""
    if resource_id.startswith(COMPONENT_PREFIX):
        return COMPONENT_DIMENSION
    return VARIANT_DIMENSION


def not_registered(resource_id: str) -> ScalingError:
    return ScalingError(
        "ObjectNotFoundException",
        f"No scalable target registered for service namespace: {NAMESPACE}, resource ID: "
        f"{resource_id}, scalable dimension: {dimension_of(resource_id)}",
    )


class ScalingStore:
    """Targets and policies per account and region, safe for a threaded server.

    A policy's alarms are made and removed through the callables given, under the
    store's lock, so a policy and its alarms appear and disappear together.
    """

    def __init__(self, make_alarms: AlarmMaker, remove_alarms: AlarmRemover) -> None:
        self._make_alarms = make_alarms
        self._remove_alarms = remove_alarms
        self._lock = threading.RLock()
        self._targets: dict[Key, ScalableTarget] = {}
        self._policies: dict[Key, dict[str, ScalingPolicy]] = {}
        self._activities: list[ScalingActivity] = []

    def register(
        self,
        *,
        account_id: str,
        region: str,
        resource_id: str,
        min_capacity: int | None,
        max_capacity: int | None,
        role_arn: str | None,
        suspended: dict[str, bool] | None,
    ) -> ScalableTarget:
        """Register a target, or change the values given of one already registered."""
        key = (account_id, region, resource_id)
        with self._lock:
            current = self._targets.get(key)
            if current is None:
                if min_capacity is None or max_capacity is None:
                    raise ScalingError(
                        "ValidationException",
                        "MinCapacity and MaxCapacity are required to register a new "
                        "scalable target.",
                    )
                lowest, highest = min_capacity, max_capacity
            else:
                lowest = current.min_capacity if min_capacity is None else min_capacity
                highest = current.max_capacity if max_capacity is None else max_capacity
            if lowest > highest:
                raise ScalingError(
                    "ValidationException",
                    "Minimum capacity cannot be greater than maximum capacity",
                )
            if current is None:
                current = self._targets[key] = ScalableTarget(
                    account_id=account_id,
                    region=region,
                    resource_id=resource_id,
                    min_capacity=lowest,
                    max_capacity=highest,
                    role_arn=role_arn or _service_linked_role(account_id),
                    suspended={name: False for name in SUSPENSIONS},
                    creation_time=time.time(),
                    arn=f"arn:aws:application-autoscaling:{region}:{account_id}:"
                    f"scalable-target/{uuid.uuid4().hex[:28]}",
                )
            current.min_capacity, current.max_capacity = lowest, highest
            current.bounds_check_due = True
            for name, value in (suspended or {}).items():
                current.suspended[name] = value
            return dataclasses.replace(current, suspended=dict(current.suspended))

    def deregister(self, *, account_id: str, region: str, resource_id: str) -> None:
        """Remove a target with its policies and their alarms."""
        key = (account_id, region, resource_id)
        with self._lock:
            if self._targets.pop(key, None) is None:
                raise ScalingError(
                    "ObjectNotFoundException",
                    f"No scalable target found for service namespace: {NAMESPACE}, resource "
                    f"ID: {resource_id}, scalable dimension: {dimension_of(resource_id)}",
                )
            for policy in self._policies.pop(key, {}).values():
                self._remove_alarms(account_id, region, [a.name for a in policy.alarms])

    def targets(
        self, *, account_id: str, region: str, resource_ids: list[str] | None = None
    ) -> list[ScalableTarget]:
        with self._lock:
            return [
                dataclasses.replace(t, suspended=dict(t.suspended))
                for (account, place, resource), t in sorted(self._targets.items())
                if account == account_id
                and place == region
                and (not resource_ids or resource in resource_ids)
            ]

    def all_targets(self) -> list[ScalableTarget]:
        """Copies of every target in every account and region, for the scaling loop."""
        with self._lock:
            return [
                dataclasses.replace(t, suspended=dict(t.suspended))
                for _, t in sorted(self._targets.items())
            ]

    def take_bounds_check(self, *, account_id: str, region: str, resource_id: str) -> bool:
        """Whether a registration since the last call asks for the bounds to be applied."""
        with self._lock:
            target = self._targets.get((account_id, region, resource_id))
            if target is None or not target.bounds_check_due:
                return False
            target.bounds_check_due = False
            return True

    def put_policy(
        self,
        *,
        account_id: str,
        region: str,
        resource_id: str,
        name: str,
        policy_type: str,
        configuration: dict[str, Any],
    ) -> ScalingPolicy:
        """Create or replace a policy; a target-tracking policy gets its alarms anew."""
        key = (account_id, region, resource_id)
        with self._lock:
            if key not in self._targets:
                raise not_registered(resource_id)
            policies = self._policies.setdefault(key, {})
            previous = policies.get(name)
            if previous is not None:
                self._remove_alarms(account_id, region, [a.name for a in previous.alarms])
            policy = ScalingPolicy(
                account_id=account_id,
                region=region,
                name=name,
                resource_id=resource_id,
                policy_type=policy_type,
                configuration=configuration,
                arn=previous.arn
                if previous is not None
                else f"arn:aws:autoscaling:{region}:{account_id}:scalingPolicy:{uuid.uuid4()}:"
                f"resource/{NAMESPACE}/{resource_id}:policyName/{name}",
                creation_time=previous.creation_time if previous is not None else time.time(),
            )
            policy.alarms = self._make_alarms(policy)
            policies[name] = policy
            return policy

    def delete_policy(self, *, account_id: str, region: str, resource_id: str, name: str) -> None:
        key = (account_id, region, resource_id)
        with self._lock:
            policy = self._policies.get(key, {}).pop(name, None)
            if policy is None:
                raise ScalingError(
                    "ObjectNotFoundException",
                    f"No scaling policy found for service namespace: {NAMESPACE}, resource "
                    f"ID: {resource_id}, scalable dimension: {dimension_of(resource_id)}, "
                    "policy name: "
                    f"{name}",
                )
            self._remove_alarms(account_id, region, [a.name for a in policy.alarms])

    def policies(
        self,
        *,
        account_id: str,
        region: str,
        resource_id: str | None = None,
        names: list[str] | None = None,
    ) -> list[ScalingPolicy]:
        with self._lock:
            return [
                policy
                for (account, place, resource), by_name in sorted(self._policies.items())
                if account == account_id
                and place == region
                and (resource_id is None or resource == resource_id)
                for policy_name, policy in sorted(by_name.items())
                if not names or policy_name in names
            ]

    def record_activity(self, activity: ScalingActivity) -> None:
        """Keep an activity; those older than six weeks are forgotten, as on AWS."""
        oldest = activity.start_time - ACTIVITY_RETENTION_SECONDS
        with self._lock:
            self._activities = [a for a in self._activities if a.start_time >= oldest]
            self._activities.append(dataclasses.replace(activity))

    def finish_activity(
        self, activity_id: str, *, status_code: str, status_message: str, end_time: float
    ) -> None:
        with self._lock:
            for activity in self._activities:
                if activity.activity_id == activity_id:
                    activity.status_code = status_code
                    activity.status_message = status_message
                    activity.end_time = end_time

    def activities(
        self,
        *,
        account_id: str | None = None,
        region: str | None = None,
        resource_id: str | None = None,
        status_code: str | None = None,
    ) -> list[ScalingActivity]:
        """Copies of the activities that match, newest first."""
        with self._lock:
            found = [
                dataclasses.replace(a)
                for a in self._activities
                if (account_id is None or a.account_id == account_id)
                and (region is None or a.region == region)
                and (resource_id is None or a.resource_id == resource_id)
                and (status_code is None or a.status_code == status_code)
            ]
        # Recorded in time order, so reversing keeps ties newest first too.
        return sorted(reversed(found), key=lambda a: a.start_time, reverse=True)

    def clear(self) -> None:
        with self._lock:
            self._targets.clear()
            self._policies.clear()
            self._activities.clear()


def _service_linked_role(account_id: str) -> str:
    """The role Application Auto Scaling uses for SageMaker when none is given."""
    return (
        f"arn:aws:iam::{account_id}:role/aws-service-role/sagemaker.application-autoscaling."
        "amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
    )
