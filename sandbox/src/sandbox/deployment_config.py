"""UpdateEndpoint's DeploymentConfig, read and refused as SageMaker reads and refuses it.

Refusals come in SageMaker's two voices: the model's constraints (a wait over 3600 s, a
timeout under 600 s, an unknown Type, an empty alarm list) in the "N validation errors
detected: Value … at 'deploymentConfig…' failed to satisfy constraint" wording, all of them
at once; then the service's own rules, one sentence each: a canary of at most half the new
fleet, linear steps of 10-50 % of it, rolling batches of 5-50 %, one update policy, the size
its Type needs, rolling only for single-variant instance-based endpoints, and guardrails only
between configs with the same variant names (sagemaker/latest/dg/deployment-guardrails-*).

Some endpoints cannot use guardrails: SageMaker does not refuse the request but falls back to
a blue/green deployment with all-at-once traffic shifting and no final baking period, and so
does the sandbox. Those are endpoints on Inf1 (Inferentia) instances (the exclusions page)
and serverless ones (guardrails apply only to real-time and asynchronous inference; a rolling
deployment on one is refused). A policy without BlueGreenUpdatePolicy or RollingUpdatePolicy
is that same default deployment.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sandbox.aws_protocol import AwsError
from sandbox.variants import VariantState

MEMBER = "deploymentConfig"
WAIT_RANGE = (0, 3600)
TIMEOUT_RANGE = (600, 28800)
MAX_ALARMS = 10
ALARM_NAME_LENGTH = (1, 255)
CAPACITY_TYPES = ("INSTANCE_COUNT", "CAPACITY_PERCENT")
TRAFFIC_ROUTING_TYPES = ("ALL_AT_ONCE", "CANARY", "LINEAR")
# What share of the new fleet one step may turn on, in percent (low, high).
CANARY_LIMITS = (0, 50)
LINEAR_LIMITS = (10, 50)
ROLLING_LIMITS = (5, 50)
# Instance families SageMaker cannot deploy with guardrails (the exclusions page).
UNGUARDED_FAMILIES = ("ml.inf1.",)


class DeploymentConfigError(Exception):
    """A DeploymentConfig SageMaker refuses; the message is its ValidationException's."""


class Strategy(StrEnum):
    ALL_AT_ONCE = "ALL_AT_ONCE"
    CANARY = "CANARY"
    LINEAR = "LINEAR"
    ROLLING = "ROLLING"


@dataclass(frozen=True)
class CapacitySize:
    """A CapacitySize: so many instances, or so much of a fleet's capacity."""

    kind: str
    value: int

    def units(self, fleet: int) -> int:
        """How many of a fleet's ``fleet`` units (instances) the size turns on: at least one,
        never more than the fleet."""
        if self.kind == "INSTANCE_COUNT":
            return max(1, min(self.value, fleet))
        return max(1, min(fleet, math.floor(fleet * self.value / 100)))

    def percent_of(self, fleet: int) -> float:
        return self.value * 100 / fleet if self.kind == "INSTANCE_COUNT" else float(self.value)

    def describe(self) -> str:
        return f"{self.value} instance(s)" if self.kind == "INSTANCE_COUNT" else f"{self.value}%"


@dataclass(frozen=True)
class DeploymentPolicy:
    """How to move an endpoint to a new config; ``strategy`` None is SageMaker's default:
    launch the new fleet, move all traffic at once, no baking."""

    strategy: Strategy | None
    step: CapacitySize | None = None
    wait_seconds: int = 0
    termination_wait_seconds: int = 0
    timeout_seconds: int | None = None
    rollback_batch: CapacitySize | None = None
    alarms: tuple[str, ...] = ()

    @property
    def rolling(self) -> bool:
        return self.strategy == Strategy.ROLLING


DEFAULT_POLICY = DeploymentPolicy(strategy=None)


@dataclass(frozen=True)
class RoutingSizes:
    """The two sizes a TrafficRoutingConfiguration may carry, before its Type picks one."""

    canary: CapacitySize | None
    linear: CapacitySize | None


def fleet_units(variant: VariantState) -> int:
    """The instances a variant's fleet has (one for a serverless variant, which has none and
    never deploys in steps)."""
    return max(1, variant.desired_instance_count or 1)


def parse_deployment_config(document: Any) -> DeploymentPolicy:
    """The policy a DeploymentConfig asks for, or the ValidationException SageMaker answers
    to a config that breaks its model's constraints or its cross-field rules."""
    if document is None:
        return DEFAULT_POLICY
    reader = _Reader()
    config = reader.structure(document, MEMBER)
    has_blue_green = config.get("BlueGreenUpdatePolicy") is not None
    has_rolling = config.get("RollingUpdatePolicy") is not None
    alarms = reader.alarms(config.get("AutoRollbackConfiguration"))
    policy, sizes = DEFAULT_POLICY, RoutingSizes(None, None)
    if has_blue_green:
        policy, sizes = reader.blue_green(config["BlueGreenUpdatePolicy"])
    if has_rolling:
        policy = reader.rolling(config["RollingUpdatePolicy"])
    reader.raise_errors()
    if has_blue_green and has_rolling:
        raise DeploymentConfigError(
            "DeploymentConfig can specify only one update policy: BlueGreenUpdatePolicy or "
            "RollingUpdatePolicy."
        )
    if policy.strategy is not None and not policy.rolling:
        _check_routing_sizes(policy.strategy, sizes)
    _check_sizes(policy)
    return dataclasses.replace(policy, alarms=alarms)


def fit_to_fleets(
    policy: DeploymentPolicy,
    live: Sequence[VariantState],
    new: Sequence[VariantState],
    new_config_name: str,
) -> DeploymentPolicy:
    """The policy as SageMaker runs it between these two fleets: refused where a rule needs
    the fleets (sizes in instances, variant names, rolling's limits), or the default
    all-at-once deployment where guardrails do not apply (Inf1 instances, serverless)."""
    if policy.strategy is None:
        return policy
    if policy.rolling:
        _check_rolling_fleets(live, new)
    if any(_unguarded(variant) for variant in (*live, *new)):
        return dataclasses.replace(policy, strategy=None)
    if policy.strategy != Strategy.ALL_AT_ONCE:
        live_names = sorted(v.name for v in live)
        new_names = sorted(v.name for v in new)
        if live_names != new_names:
            raise DeploymentConfigError(
                f'Endpoint configuration "{new_config_name}" must have the same variant names '
                f"as the endpoint's current configuration ({', '.join(live_names)}) to deploy "
                f"with {policy.strategy.value} guardrails; it has {', '.join(new_names)}."
            )
    for variant in new:
        _check_step_against(policy, variant)
    return policy


def _check_rolling_fleets(live: Sequence[VariantState], new: Sequence[VariantState]) -> None:
    """The exclusions only a rolling deployment has: more than one variant, serverless."""
    if len(new) > 1 or len(live) > 1:
        raise DeploymentConfigError(
            "RollingUpdatePolicy is not supported for endpoints with multiple production "
            "variants; use BlueGreenUpdatePolicy."
        )
    if any(v.is_serverless for v in (*live, *new)):
        raise DeploymentConfigError(
            "RollingUpdatePolicy is not supported for serverless endpoints; use "
            "BlueGreenUpdatePolicy."
        )


def _unguarded(variant: VariantState) -> bool:
    """A variant SageMaker cannot deploy with guardrails, so it deploys all at once."""
    instance_type = variant.instance_type or ""
    return variant.is_serverless or instance_type.startswith(UNGUARDED_FAMILIES)


def _step_rule(strategy: Strategy) -> tuple[str, tuple[int, int]]:
    if strategy == Strategy.CANARY:
        return "CanarySize", CANARY_LIMITS
    if strategy == Strategy.LINEAR:
        return "LinearStepSize", LINEAR_LIMITS
    return "MaximumBatchSize", ROLLING_LIMITS


def _limits_phrase(limits: tuple[int, int]) -> str:
    low, high = limits
    return f"at most {high}%" if low == 0 else f"between {low}% and {high}%"


def _check_sizes(policy: DeploymentPolicy) -> None:
    """The rules a size in percent breaks whatever the fleet."""
    if policy.strategy is None or policy.strategy == Strategy.ALL_AT_ONCE or policy.step is None:
        return
    name, limits = _step_rule(policy.strategy)
    low, high = limits
    if policy.step.kind == "CAPACITY_PERCENT" and not low <= policy.step.value <= high:
        raise DeploymentConfigError(
            f"{name} must be {_limits_phrase(limits)} of the new fleet's capacity; "
            f"got {policy.step.value}%."
        )
    batch = policy.rollback_batch
    if batch is not None and batch.kind == "CAPACITY_PERCENT" and batch.value > 100:
        raise DeploymentConfigError(
            f"RollbackMaximumBatchSize must be at most 100% of the fleet's capacity; "
            f"got {batch.value}%."
        )


def _check_step_against(policy: DeploymentPolicy, variant: VariantState) -> None:
    """A size in instances must be the same share of each variant's new fleet."""
    step = policy.step
    if policy.strategy is None or policy.strategy == Strategy.ALL_AT_ONCE or step is None:
        return
    name, limits = _step_rule(policy.strategy)
    if step.kind != "INSTANCE_COUNT":
        return
    fleet = fleet_units(variant)
    low, high = limits
    share = step.percent_of(fleet)
    if not low <= share <= high:
        raise DeploymentConfigError(
            f"{name} must be {_limits_phrase(limits)} of the new fleet's capacity; "
            f'{step.value} instance(s) is {share:g}% of variant "{variant.name}"\'s '
            f"{fleet} instance(s)."
        )


class _Reader:
    """Reads the document member by member, collecting constraint failures as SageMaker
    reports them (all of them, in one message)."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def raise_errors(self) -> None:
        if self.errors:
            count = len(self.errors)
            noun = "error" if count == 1 else "errors"
            raise DeploymentConfigError(
                f"{count} validation {noun} detected: " + "; ".join(self.errors)
            )

    def structure(self, value: Any, path: str) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise AwsError("SerializationException", f"Expected an object at '{path}'.")
        return value

    def required(self, value: Any, path: str) -> bool:
        if value is None:
            self.errors.append(
                f"Value null at '{path}' failed to satisfy constraint: Member must not be null"
            )
            return False
        return True

    def integer(self, value: Any, path: str, low: int, high: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            raise AwsError("SerializationException", f"Expected an integer at '{path}'.")
        number = int(value)
        if number < low:
            self.errors.append(
                f"Value '{number}' at '{path}' failed to satisfy constraint: Member must have "
                f"value greater than or equal to {low}"
            )
        elif high is not None and number > high:
            self.errors.append(
                f"Value '{number}' at '{path}' failed to satisfy constraint: Member must have "
                f"value less than or equal to {high}"
            )
        return number

    def optional_integer(self, value: Any, path: str, low: int, high: int) -> int | None:
        return None if value is None else self.integer(value, path, low, high)

    def enum(self, value: Any, path: str, allowed: Sequence[str]) -> str | None:
        if not self.required(value, path):
            return None
        if value not in allowed:
            self.errors.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: Member must satisfy "
                f"enum value set: [{', '.join(allowed)}]"
            )
            return None
        return str(value)

    def capacity(self, value: Any, path: str) -> CapacitySize | None:
        if value is None:
            return None
        size = self.structure(value, path)
        kind = self.enum(size.get("Type"), f"{path}.type", CAPACITY_TYPES)
        amount = size.get("Value")
        number = (
            self.integer(amount, f"{path}.value", 1)
            if self.required(amount, f"{path}.value")
            else None
        )
        if kind is None or number is None:
            return None
        return CapacitySize(kind, number)

    def blue_green(self, value: Any) -> tuple[DeploymentPolicy, RoutingSizes]:
        path = f"{MEMBER}.blueGreenUpdatePolicy"
        policy = self.structure(value, path)
        routing_path = f"{path}.trafficRoutingConfiguration"
        routing_value = policy.get("TrafficRoutingConfiguration")
        routing = self.structure(routing_value, routing_path)
        present = self.required(routing_value, routing_path)
        kind = None
        if present:
            kind = self.enum(routing.get("Type"), f"{routing_path}.type", TRAFFIC_ROUTING_TYPES)
        wait = routing.get("WaitIntervalInSeconds")
        wait_seconds = 0
        if present and self.required(wait, f"{routing_path}.waitIntervalInSeconds"):
            wait_seconds = self.integer(wait, f"{routing_path}.waitIntervalInSeconds", *WAIT_RANGE)
        canary = self.capacity(routing.get("CanarySize"), f"{routing_path}.canarySize")
        linear = self.capacity(routing.get("LinearStepSize"), f"{routing_path}.linearStepSize")
        termination = self.optional_integer(
            policy.get("TerminationWaitInSeconds"),
            f"{path}.terminationWaitInSeconds",
            *WAIT_RANGE,
        )
        timeout = self.optional_integer(
            policy.get("MaximumExecutionTimeoutInSeconds"),
            f"{path}.maximumExecutionTimeoutInSeconds",
            *TIMEOUT_RANGE,
        )
        sizes = RoutingSizes(canary, linear)
        if kind is None:
            return DEFAULT_POLICY, sizes
        strategy = Strategy(kind)
        parsed = DeploymentPolicy(
            strategy=strategy,
            step=canary if strategy == Strategy.CANARY else linear,
            wait_seconds=wait_seconds,
            termination_wait_seconds=termination or 0,
            timeout_seconds=timeout,
        )
        return parsed, sizes

    def rolling(self, value: Any) -> DeploymentPolicy:
        path = f"{MEMBER}.rollingUpdatePolicy"
        policy = self.structure(value, path)
        batch_value = policy.get("MaximumBatchSize")
        batch = None
        if self.required(batch_value, f"{path}.maximumBatchSize"):
            batch = self.capacity(batch_value, f"{path}.maximumBatchSize")
        wait = policy.get("WaitIntervalInSeconds")
        wait_seconds = 0
        if self.required(wait, f"{path}.waitIntervalInSeconds"):
            wait_seconds = self.integer(wait, f"{path}.waitIntervalInSeconds", *WAIT_RANGE)
        timeout = self.optional_integer(
            policy.get("MaximumExecutionTimeoutInSeconds"),
            f"{path}.maximumExecutionTimeoutInSeconds",
            *TIMEOUT_RANGE,
        )
        rollback = self.capacity(
            policy.get("RollbackMaximumBatchSize"), f"{path}.rollbackMaximumBatchSize"
        )
        return DeploymentPolicy(
            strategy=Strategy.ROLLING,
            step=batch,
            wait_seconds=wait_seconds,
            timeout_seconds=timeout,
            rollback_batch=rollback,
        )

    def alarms(self, value: Any) -> tuple[str, ...]:
        path = f"{MEMBER}.autoRollbackConfiguration"
        configuration = self.structure(value, path)
        alarms = configuration.get("Alarms")
        if alarms is None:
            return ()
        if not isinstance(alarms, list):
            raise AwsError("SerializationException", f"Expected a list at '{path}.alarms'.")
        if not 1 <= len(alarms) <= MAX_ALARMS:
            bound = (
                "greater than or equal to 1"
                if not alarms
                else f"less than or equal to {MAX_ALARMS}"
            )
            self.errors.append(
                f"Value '{_list_text(alarms)}' at '{path}.alarms' failed to satisfy constraint: "
                f"Member must have length {bound}"
            )
        names = []
        for index, alarm in enumerate(alarms, start=1):
            member = f"{path}.alarms.{index}.member.alarmName"
            name = self.structure(alarm, member).get("AlarmName")
            if name is None:
                continue  # AlarmName is optional in the model; such an item watches nothing
            if not isinstance(name, str):
                raise AwsError("SerializationException", f"Expected a string at '{member}'.")
            problem = _alarm_name_problem(name)
            if problem is not None:
                self.errors.append(
                    f"Value '{name}' at '{member}' failed to satisfy constraint: {problem}"
                )
                continue
            names.append(name)
        return tuple(names)


def _check_routing_sizes(strategy: Strategy, sizes: RoutingSizes) -> None:
    """Each traffic routing Type takes its own size and no other."""
    canary, linear = sizes.canary, sizes.linear
    if strategy == Strategy.CANARY and canary is None:
        raise DeploymentConfigError(
            "CanarySize must be specified when TrafficRoutingConfiguration Type is CANARY."
        )
    if strategy == Strategy.LINEAR and linear is None:
        raise DeploymentConfigError(
            "LinearStepSize must be specified when TrafficRoutingConfiguration Type is LINEAR."
        )
    if canary is not None and strategy != Strategy.CANARY:
        raise DeploymentConfigError(
            f"CanarySize is only allowed when TrafficRoutingConfiguration Type is CANARY, "
            f"not {strategy.value}."
        )
    if linear is not None and strategy != Strategy.LINEAR:
        raise DeploymentConfigError(
            f"LinearStepSize is only allowed when TrafficRoutingConfiguration Type is LINEAR, "
            f"not {strategy.value}."
        )


def _alarm_name_problem(name: str) -> str | None:
    low, high = ALARM_NAME_LENGTH
    if len(name) < low:
        return f"Member must have length greater than or equal to {low}"
    if len(name) > high:
        return f"Member must have length less than or equal to {high}"
    if not name.strip():
        return "Member must satisfy regular expression pattern: (?!\\s*$).+"
    return None


def _list_text(items: list[Any]) -> str:
    """A list the way SageMaker's Java validator prints it in a constraint message."""
    return "[" + ", ".join(str(item) for item in items) + "]"
