"""Deployment options for UpdateEndpoint: a person's choices turned into SageMaker's
`DeploymentConfig`, checked against SageMaker's own rules before anything is sent.

SageMaker only checks these values once the update call is made, and on some endpoints it
quietly deploys all at once whatever was asked: no canary, no bake, no rollback on alarms.
Checking the same rules here lets the form say which field to change and to what, and lets
the preview say what SageMaker will really do. Pure (no Django, no database, no AWS), so the
rules are checked exhaustively by the property tests in tests/shifts/test_deployment_options.py.

The rules are SageMaker's: the ranges of UpdateEndpoint's DeploymentConfig (TrafficRoutingConfig,
RollingUpdatePolicy, CapacitySize, AutoRollbackConfig, Alarm), and what its deployment
guardrails guide says about exclusions: guardrails apply only to real-time and asynchronous
endpoints; endpoints with Marketplace containers or Inf1 instances fall back to blue/green all
at once with no bake; rolling deployments also exclude serverless endpoints and endpoints with
more than one production variant; and the new endpoint config must keep the variant names.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any, TypeGuard

from core.errors import NON_FIELD, Invalid
from shifts.deployment_notes import (
    count,
    fallback_note,
    number,
    plan_notes,
)

STRATEGIES = ("ALL_AT_ONCE", "CANARY", "LINEAR", "ROLLING")
SIZE_TYPES = ("CAPACITY_PERCENT", "INSTANCE_COUNT")

MAX_WAIT_SECONDS = 3600  # WaitIntervalInSeconds and TerminationWaitInSeconds, from 0
MIN_TIMEOUT_SECONDS = 600  # MaximumExecutionTimeoutInSeconds
MAX_TIMEOUT_SECONDS = 28800
MIN_ROLLBACK_PERCENT = 5  # RollbackMaximumBatchSize (absent: 100 %, all at once)
MAX_ROLLBACK_PERCENT = 100
MAX_ALARMS = 10
MAX_ALARM_NAME = 255
# Ours, not SageMaker's: no endpoint is larger, and every number stays printable.
MAX_FLEET_INSTANCES = 100_000
INF1_PREFIX = "ml.inf1."


@dataclass(frozen=True)
class DeploymentOptions:
    """What a person chose on the form (or sent to the API), before any checking."""

    strategy: str  # one of STRATEGIES
    size_type: str = "CAPACITY_PERCENT"  # or "INSTANCE_COUNT": canary / linear step / batch
    size_value: int = 0  # ignored for ALL_AT_ONCE
    wait_seconds: int = 0  # WaitIntervalInSeconds: the bake after each step
    termination_wait_seconds: int = 0  # blue/green: wait before the old fleet is terminated
    max_execution_timeout_seconds: int | None = None
    rollback_alarms: tuple[str, ...] = ()
    rollback_batch_percent: int | None = None  # rolling only: RollbackMaximumBatchSize


@dataclass(frozen=True)
class EndpointShape:
    """What SageMaker's rules need to know about the endpoint and its new config."""

    new_fleet_instances: int  # instances of the variant(s) being deployed in the new config
    production_variants: int
    serverless: bool
    instance_types: tuple[str, ...] = ()  # the new config's, e.g. ("ml.inf1.xlarge",)
    marketplace_containers: bool = False  # any model from an AWS Marketplace package
    same_variant_names: bool = True  # the new config keeps the live config's variant names


@dataclass(frozen=True)
class DeploymentPlan:
    """What to send and what will happen. `config` None means send no DeploymentConfig,
    which SageMaker takes as blue/green, all at once, no bake and no alarm rollback."""

    config: dict[str, Any] | None
    notes: tuple[str, ...]
    effective_strategy: str


@dataclass(frozen=True)
class _SizeRule:
    """How big one step may be: a percentage in SageMaker's range, or a whole number of
    instances between a share of the new fleet (at least one instance) and half of it."""

    label: str
    api_key: str
    min_percent: int
    min_fleet_percent: int
    max_percent: int = 50

    @property
    def name(self) -> str:
        return f"{self.label} ({self.api_key})"


_SIZE_RULES = {
    "CANARY": _SizeRule("Canary size", "CanarySize", min_percent=1, min_fleet_percent=0),
    "LINEAR": _SizeRule("Linear step size", "LinearStepSize", min_percent=10, min_fleet_percent=10),
    "ROLLING": _SizeRule(
        "Rolling batch size", "MaximumBatchSize", min_percent=5, min_fleet_percent=5
    ),
}

_ALL_AT_ONCE_DEFAULT = (
    "All at once (SageMaker's default): the new fleet takes all traffic as soon as it is "
    "ready, then the old fleet is terminated; no bake, no rollback on alarms."
)


class _Errors:
    """Messages per DeploymentOptions field ("" for the endpoint as a whole), so everything
    wrong is said at once and a form can show each message next to its field."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.by_field.setdefault(field, []).append(message)

    def raise_any(self) -> None:
        if self.by_field:
            raise Invalid(errors=self.by_field)


def plan_deployment(*, options: DeploymentOptions, shape: EndpointShape) -> DeploymentPlan:
    """The DeploymentConfig for these choices on this endpoint, with plain notes; or Invalid
    naming every field SageMaker would refuse and the range it accepts.

    Where SageMaker would deploy all at once whatever is sent, nothing is sent and the notes
    say why, so nobody believes a canary or an alarm is guarding the update.
    """
    errors = _Errors()
    _check_shape(shape, errors)
    errors.raise_any()  # the rules below read the shape, so it must be sound first
    _check_values(options, errors)
    fallback = _fallback_reasons(shape)
    if _one_of(options.strategy, STRATEGIES):
        _check_strategy(options, shape, errors, guarded=not fallback)
    errors.raise_any()
    if not _wants_config(options):
        return DeploymentPlan(None, (_ALL_AT_ONCE_DEFAULT,), "ALL_AT_ONCE")
    if fallback:
        return DeploymentPlan(None, (fallback_note(options.strategy, fallback),), "ALL_AT_ONCE")
    if not shape.same_variant_names:
        raise Invalid(
            "Deployment options need the new endpoint config to keep the live variant names; "
            "keep the names, or deploy all at once without options."
        )
    return DeploymentPlan(
        config=_config(options),
        notes=tuple(plan_notes(options, shape.new_fleet_instances)),
        effective_strategy=options.strategy,
    )


# Checking -----------------------------------------------------------------------------------


def _check_shape(shape: EndpointShape, errors: _Errors) -> None:
    """The shape comes from the inventory, not a person; still, never crash on it."""
    if not _whole_in(shape.new_fleet_instances, 0, MAX_FLEET_INSTANCES):
        errors.add(NON_FIELD, f"The new fleet must have 0–{MAX_FLEET_INSTANCES} instances.")
    if not _whole_in(shape.production_variants, 1, MAX_FLEET_INSTANCES):
        errors.add(NON_FIELD, "The endpoint must have at least one production variant.")
    flags = (shape.serverless, shape.marketplace_containers, shape.same_variant_names)
    if not all(isinstance(flag, bool) for flag in flags):
        errors.add(NON_FIELD, "The endpoint's flags (serverless, Marketplace...) must be booleans.")
    types = shape.instance_types
    if not isinstance(types, tuple | list) or not all(isinstance(t, str) for t in types):
        errors.add(NON_FIELD, "The endpoint's instance types must be a list of names.")


def _check_values(options: DeploymentOptions, errors: _Errors) -> None:
    """Each value on its own: its type, and the range SageMaker's API accepts."""
    if not _one_of(options.strategy, STRATEGIES):
        allowed = ", ".join(STRATEGIES)
        errors.add("strategy", f"Strategy must be one of {allowed}; got {_show(options.strategy)}.")
    if not _one_of(options.size_type, SIZE_TYPES):
        errors.add(
            "size_type",
            "Size type must be CAPACITY_PERCENT or INSTANCE_COUNT; "
            f"got {_show(options.size_type)}.",
        )
    if not _whole(options.size_value):
        errors.add("size_value", f"Size must be a whole number; got {_show(options.size_value)}.")
    _check_number(
        "wait_seconds",
        "Bake time per step (WaitIntervalInSeconds)",
        options.wait_seconds,
        0,
        MAX_WAIT_SECONDS,
        " seconds",
        errors,
    )
    _check_number(
        "termination_wait_seconds",
        "Wait before terminating the old fleet (TerminationWaitInSeconds)",
        options.termination_wait_seconds,
        0,
        MAX_WAIT_SECONDS,
        " seconds",
        errors,
    )
    if options.max_execution_timeout_seconds is not None:
        _check_number(
            "max_execution_timeout_seconds",
            "Time limit (MaximumExecutionTimeoutInSeconds)",
            options.max_execution_timeout_seconds,
            MIN_TIMEOUT_SECONDS,
            MAX_TIMEOUT_SECONDS,
            " seconds",
            errors,
        )
    if options.rollback_batch_percent is not None:
        _check_number(
            "rollback_batch_percent",
            "Rollback batch size (RollbackMaximumBatchSize)",
            options.rollback_batch_percent,
            MIN_ROLLBACK_PERCENT,
            MAX_ROLLBACK_PERCENT,
            " %",
            errors,
        )
    _check_alarms(options.rollback_alarms, errors)


def _check_strategy(
    options: DeploymentOptions, shape: EndpointShape, errors: _Errors, *, guarded: bool
) -> None:
    """The rules that depend on the strategy and the endpoint, for the values that are
    sound on their own. `guarded` is False when SageMaker will ignore the options anyway:
    then the new fleet's size does not matter."""
    if options.strategy == "ROLLING":
        _check_rolling(options, shape, errors)
    elif options.rollback_batch_percent is not None:
        errors.add(
            "rollback_batch_percent",
            "Rollback batch size (RollbackMaximumBatchSize) is for rolling deployments only; "
            "leave it empty.",
        )
    if not (_whole(options.size_value) and _one_of(options.size_type, SIZE_TYPES)):
        return
    rule = _SIZE_RULES.get(options.strategy)
    if rule is not None:
        _check_size(rule, options, shape.new_fleet_instances if guarded else None, errors)
    elif options.size_value < 0:
        errors.add("size_value", f"Size cannot be negative; got {number(options.size_value)}.")


def _check_rolling(options: DeploymentOptions, shape: EndpointShape, errors: _Errors) -> None:
    others = "choose all at once, canary or linear"
    if shape.serverless:
        errors.add(
            "strategy", f"Rolling deployments are not available on serverless endpoints; {others}."
        )
    if shape.production_variants > 1:
        errors.add(
            "strategy",
            "Rolling deployments need an endpoint with one production variant; this one has "
            f"{shape.production_variants}, so {others}.",
        )
    if _whole_in(options.termination_wait_seconds, 1, MAX_WAIT_SECONDS):
        errors.add(
            "termination_wait_seconds",
            "Rolling deployments have no wait before terminating the old fleet "
            "(TerminationWaitInSeconds); set it to 0 and use the bake time per batch.",
        )


def _check_size(
    rule: _SizeRule, options: DeploymentOptions, fleet: int | None, errors: _Errors
) -> None:
    """A percentage is checked against SageMaker's range; an instance count against the new
    fleet (`fleet` None: SageMaker will not use the step, only its form is checked)."""
    value = options.size_value
    if fleet is not None and fleet < 1:
        errors.add(NON_FIELD, "The new endpoint config has no instances to deploy step by step.")
        return
    if options.size_type == "CAPACITY_PERCENT":
        if not rule.min_percent <= value <= rule.max_percent:
            errors.add(
                "size_value",
                f"{rule.name} must be {rule.min_percent}–{rule.max_percent} % of the new fleet; "
                f"got {number(value, ' %')}.",
            )
        return
    if fleet is None:
        if value < 1:
            errors.add(
                "size_value", f"{rule.name} must be at least 1 instance; got {number(value)}."
            )
        return
    low = max(1, -(-fleet * rule.min_fleet_percent // 100))
    high = fleet * rule.max_percent // 100
    if low > high:
        errors.add(
            "size_value",
            f"{rule.name}: no whole number of instances fits a new fleet of "
            f"{count(fleet, 'instance')} (at most half of it); "
            f"choose a percentage instead, {rule.min_percent}–{rule.max_percent} %.",
        )
    elif not low <= value <= high:
        span = f"{low}–{high} instances" if low < high else count(low, "instance")
        share = (
            f"{rule.min_fleet_percent}–{rule.max_percent} %"
            if rule.min_fleet_percent
            else "at most half"
        )
        errors.add(
            "size_value",
            f"{rule.name} must be {span}, {share} of the new fleet's {fleet}; got {number(value)}.",
        )


def _check_alarms(alarms: object, errors: _Errors) -> None:
    """No alarm, or 1–10 distinct CloudWatch alarm names that SageMaker's pattern accepts."""
    field = "rollback_alarms"
    if not isinstance(alarms, tuple | list):
        errors.add(field, "Rollback alarms must be a list of CloudWatch alarm names.")
        return
    if len(alarms) > MAX_ALARMS:
        errors.add(
            field,
            f"Rollback alarms (AutoRollbackConfiguration): 0–{MAX_ALARMS}; got {len(alarms)}.",
        )
    for position, name in enumerate(alarms, start=1):
        problem = _alarm_name_problem(name)
        if problem:
            errors.add(field, f"Rollback alarm {position}: {problem}")
    names = [name for name in alarms if isinstance(name, str)]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        listed = ", ".join(_show(name) for name in repeated)
        errors.add(field, f"Rollback alarms must be distinct; repeated: {listed}.")


def _alarm_name_problem(name: object) -> str:
    if not isinstance(name, str):
        return f"the name must be text; got {_show(name)}."
    if not name.strip():
        return "the name is empty."
    if len(name) > MAX_ALARM_NAME:
        return f"the name has {len(name)} characters; CloudWatch allows 1–{MAX_ALARM_NAME}."
    if any(_is_control(character) for character in name):
        return f"{_show(name)} contains a control character or a line break."
    return ""


def _is_control(character: str) -> bool:
    """Control characters and line breaks (SageMaker's name pattern stops at them), and lone
    surrogates (which cannot be sent as UTF-8)."""
    return unicodedata.category(character) in ("Cc", "Cs") or character in "\u2028\u2029"


def _check_number(
    field: str,
    label: str,
    value: object,
    low: int,
    high: int,
    unit: str,
    errors: _Errors,
) -> None:
    if not _whole(value):
        errors.add(field, f"{label} must be a whole number; got {_show(value)}.")
    elif not low <= value <= high:
        errors.add(field, f"{label} must be {low}–{high}{unit}; got {number(value, unit)}.")


def _whole(value: object) -> TypeGuard[int]:
    """Forms and the API may send anything: True is not 1 here, nor are 1.0 and NaN."""
    return isinstance(value, int) and not isinstance(value, bool)


def _whole_in(value: object, low: int, high: int) -> bool:
    return _whole(value) and low <= value <= high


def _one_of(value: object, allowed: tuple[str, ...]) -> bool:
    return isinstance(value, str) and value in allowed


def _fallback_reasons(shape: EndpointShape) -> list[str]:
    """Why SageMaker cannot use deployment guardrails on this endpoint (empty: it can)."""
    reasons = []
    if shape.serverless:
        reasons.append(
            "it is serverless (guardrails apply only to real-time and asynchronous endpoints)"
        )
    if shape.marketplace_containers:
        reasons.append("it uses an AWS Marketplace container")
    inf1 = sorted({kind for kind in shape.instance_types if kind.startswith(INF1_PREFIX)})
    if inf1:
        reasons.append(f"it runs on Inf1 (Inferentia) instances ({', '.join(inf1)})")
    return reasons


def _wants_config(options: DeploymentOptions) -> bool:
    """False when the choices are exactly SageMaker's default, so nothing need be sent."""
    return bool(
        options.strategy != "ALL_AT_ONCE"
        or options.rollback_alarms
        or options.wait_seconds
        or options.termination_wait_seconds
        or options.max_execution_timeout_seconds is not None
    )


# Building -----------------------------------------------------------------------------------


def _config(options: DeploymentOptions) -> dict[str, Any]:
    """The DeploymentConfig exactly as UpdateEndpoint takes it; optional keys that were not
    given are left out rather than sent as null."""
    timeout = options.max_execution_timeout_seconds
    policy: dict[str, Any]
    if options.strategy == "ROLLING":
        policy = {
            "MaximumBatchSize": _capacity(options.size_type, options.size_value),
            "WaitIntervalInSeconds": options.wait_seconds,
        }
        if timeout is not None:
            policy["MaximumExecutionTimeoutInSeconds"] = timeout
        if options.rollback_batch_percent is not None:
            rollback = _capacity("CAPACITY_PERCENT", options.rollback_batch_percent)
            policy["RollbackMaximumBatchSize"] = rollback
        config: dict[str, Any] = {"RollingUpdatePolicy": policy}
    else:
        routing: dict[str, Any] = {
            "Type": options.strategy,
            "WaitIntervalInSeconds": options.wait_seconds,
        }
        rule = _SIZE_RULES.get(options.strategy)
        if rule is not None:
            routing[rule.api_key] = _capacity(options.size_type, options.size_value)
        policy = {
            "TrafficRoutingConfiguration": routing,
            "TerminationWaitInSeconds": options.termination_wait_seconds,
        }
        if timeout is not None:
            policy["MaximumExecutionTimeoutInSeconds"] = timeout
        config = {"BlueGreenUpdatePolicy": policy}
    if options.rollback_alarms:
        alarms = [{"AlarmName": name} for name in options.rollback_alarms]
        config["AutoRollbackConfiguration"] = {"Alarms": alarms}
    return config


def _capacity(size_type: str, value: int) -> dict[str, Any]:
    return {"Type": size_type, "Value": value}


def _show(value: object) -> str:
    """A short, safe rendering of whatever was sent, for messages."""
    if isinstance(value, str | float | bool | None):
        text = repr(value)
        return text if len(text) <= 40 else text[:37] + "..."
    if _whole(value):
        return number(value)
    return f"a value of type {type(value).__name__}"
