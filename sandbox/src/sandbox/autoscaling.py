"""Application Auto Scaling for SageMaker variants: scalable targets and scaling policies.

moto keeps targets and policies for every namespace but treats SageMaker's loosely: a
policy can be put on a target nobody registered, deregistering a target leaves its
policies behind, a target-tracking policy creates no CloudWatch alarms, and
DescribeScalingActivities does not exist. The sandbox owns the ``sagemaker`` namespace's
variant targets here (sandbox/autoscaling_api.py answers the API); other namespaces stay
with moto.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.aws_protocol import AwsError

NAMESPACE = "sagemaker"
VARIANT_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
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


Key = tuple[str, str, str]  # account, region, resource id

# Creates a policy's CloudWatch alarms and returns them; removes alarms by name.
AlarmMaker = Callable[[ScalingPolicy], list[Alarm]]
AlarmRemover = Callable[[str, str, list[str]], None]


def not_registered(resource_id: str) -> ScalingError:
    return ScalingError(
        "ObjectNotFoundException",
        f"No scalable target registered for service namespace: {NAMESPACE}, resource ID: "
        f"{resource_id}, scalable dimension: {VARIANT_DIMENSION}",
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
            for name, value in (suspended or {}).items():
                current.suspended[name] = value
            return current

    def deregister(self, *, account_id: str, region: str, resource_id: str) -> None:
        """Remove a target with its policies and their alarms."""
        key = (account_id, region, resource_id)
        with self._lock:
            if self._targets.pop(key, None) is None:
                raise ScalingError(
                    "ObjectNotFoundException",
                    f"No scalable target found for service namespace: {NAMESPACE}, resource "
                    f"ID: {resource_id}, scalable dimension: {VARIANT_DIMENSION}",
                )
            for policy in self._policies.pop(key, {}).values():
                self._remove_alarms(account_id, region, [a.name for a in policy.alarms])

    def targets(
        self, *, account_id: str, region: str, resource_ids: list[str] | None = None
    ) -> list[ScalableTarget]:
        with self._lock:
            return [
                t
                for (account, place, resource), t in sorted(self._targets.items())
                if account == account_id
                and place == region
                and (not resource_ids or resource in resource_ids)
            ]

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
                    f"ID: {resource_id}, scalable dimension: {VARIANT_DIMENSION}, policy name: "
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

    def clear(self) -> None:
        with self._lock:
            self._targets.clear()
            self._policies.clear()


def _service_linked_role(account_id: str) -> str:
    """The role Application Auto Scaling uses for SageMaker when none is given."""
    return (
        f"arn:aws:iam::{account_id}:role/aws-service-role/sagemaker.application-autoscaling."
        "amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
    )
