"""UpdateEndpoint as SageMaker runs it: a new fleet, traffic moved to it step by step, baking
periods watched by alarms, and a rollback when one of them goes into ALARM.

A deployment is planned when it starts, as a timeline of steps; what DescribeEndpoint and
InvokeEndpoint see at any moment is read off that timeline, lazily, like every other endpoint
transition in the sandbox (``sandbox.endpoints``). The plans (sagemaker/latest/dg/
deployment-guardrails-*):

- no update policy (or one SageMaker cannot honour): the new fleet launches, then takes all
  traffic at once, with no baking; the old fleet goes at once;
- ALL_AT_ONCE: launch, all traffic, bake WaitIntervalInSeconds, then the final bake of
  TerminationWaitInSeconds before the old fleet is terminated;
- CANARY: launch, the canary (CanarySize of the new fleet) takes its share of traffic, bake
  WaitIntervalInSeconds, all traffic, final bake;
- LINEAR: launch, then LinearStepSize more of the new fleet per step, each step baked
  WaitIntervalInSeconds and the last one TerminationWaitInSeconds;
- ROLLING: per batch of MaximumBatchSize, launch it, give it traffic, bake
  WaitIntervalInSeconds, terminate as many old instances.

Traffic is shared by instance, as SageMaker balances it: a canary of one instance beside three
old ones serves a quarter of the variant's requests; a linear step deactivates as much of the
old fleet as it activates of the new. Old and new fleets serve under the same VariantName, so
their invocations and errors land in the same CloudWatch series, as on AWS.

Times: launching a fleet takes the sandbox's ``creating_seconds`` and turning traffic on or
back its ``updating_seconds``, the same stand-ins for AWS's minutes that CreateEndpoint and
UpdateEndpointWeightsAndCapacities use. The waits a DeploymentConfig names are AWS seconds,
run ``clock_speed`` times faster (a 600 s bake takes 10 s at 60). MaximumExecutionTimeout
counts those waits only, since launches and switches already take the sandbox's own time.

Rollback: from the first traffic switch to the end of the final bake, any of the
AutoRollbackConfiguration alarms in ALARM (read from CloudWatch, moto's alarms, which the
sandbox evaluates) rolls the deployment back from the moment it went there: the endpoint is
RollingBack while traffic returns to the old fleet and the new one is terminated, then
InService on the old config with the reason in FailureReason. A rolling deployment first
relaunches the old instances it already terminated, RollbackMaximumBatchSize at a time. So
does running past MaximumExecutionTimeoutInSeconds. A new fleet whose model cannot start
never gets traffic: the endpoint returns to InService on its old config with the reason.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sandbox import moto_bridge
from sandbox.deployment_config import (
    DEFAULT_POLICY,
    DeploymentPolicy,
    Strategy,
    fleet_units,
)
from sandbox.variants import VariantState, VariantStatusEntry, copy_variant

WAIT_INTERVAL = "WaitIntervalInSeconds"
TERMINATION_WAIT = "TerminationWaitInSeconds"


class Stage(StrEnum):
    """What the new fleet is doing during a step, as its VariantStatus says."""

    LAUNCHING = "Creating"
    ACTIVATING = "ActivatingTraffic"
    BAKING = "Baking"


class Outcome(StrEnum):
    UPDATING = "Updating"
    ROLLING_BACK = "RollingBack"
    SUCCEEDED = "Succeeded"
    ROLLED_BACK = "RolledBack"
    LAUNCH_FAILED = "LaunchFailed"


@dataclass(frozen=True)
class Pace:
    """How long the sandbox takes: its own stand-ins for launching a fleet and switching
    traffic, and how much faster than AWS the waits a DeploymentConfig names run."""

    launch_seconds: float
    switch_seconds: float
    speed: float = 1.0

    def waited(self, aws_seconds: float) -> float:
        return aws_seconds / self.speed


@dataclass(frozen=True)
class Step:
    """A stretch of the deployment during which nothing changes. Per variant name:
    ``launching`` new-fleet units being launched, ``active`` units serving traffic, the
    ``share`` of the variant's requests they serve, ``retired`` old units terminated."""

    stage: Stage
    start: float
    end: float
    capacity: str
    active: Mapping[str, int]
    shares: Mapping[str, float]
    launching: Mapping[str, int] = field(default_factory=dict)
    retired: Mapping[str, int] = field(default_factory=dict)
    wait: tuple[int, str] | None = None
    full: bool = False

    def message(self, variant: VariantState) -> str:
        """The StatusMessage SageMaker shows for this step (EventBridge's examples)."""
        if self.stage == Stage.LAUNCHING:
            if variant.is_serverless:
                return "Provisioning serverless capacity."
            return f"Launching {_units(variant, self.launching.get(variant.name, 0))}."
        capacity = f"{self.capacity} of {_units(variant, self.active.get(variant.name, 0))}"
        if self.stage == Stage.ACTIVATING:
            return f"Activating traffic on {capacity}."
        seconds, parameter = self.wait or (0, WAIT_INTERVAL)
        return f"Baking for {seconds} seconds ({parameter}) with traffic enabled on {capacity}."


@dataclass(frozen=True)
class Rollback:
    """Traffic back on the old fleet from ``start``; InService on the old config at ``end``."""

    start: float
    end: float
    reason: str
    terminating: Mapping[str, int]
    relaunching: Mapping[str, int]


@dataclass(frozen=True)
class Progress:
    """Where the deployment stands: ``at`` is when the endpoint entered that state."""

    outcome: Outcome
    at: float
    reason: str | None = None

    @property
    def finished(self) -> bool:
        return self.outcome not in (Outcome.UPDATING, Outcome.ROLLING_BACK)


@dataclass
class PendingDeployment:
    """An UpdateEndpoint in progress: the new fleet, its plan and where it stands."""

    config_name: str
    variants: list[VariantState]
    data_capture: dict[str, object] | None
    start_time: float
    # Why the new fleet cannot start (a model that does not load), known when it is launched.
    failure_reason: str | None = None
    policy: DeploymentPolicy = DEFAULT_POLICY
    steps: tuple[Step, ...] = ()
    timeout_at: float | None = None
    rollback: Rollback | None = None
    shares: dict[str, float] = field(default_factory=dict)
    full: bool = False
    pace: Pace = Pace(0.0, 0.0)
    live_units: dict[str, int] = field(default_factory=dict)
    # The new config's shadow variants and AsyncInferenceConfig, live once it has won.
    shadow_variants: list[VariantState] = field(default_factory=list)
    async_config: dict[str, Any] | None = None

    def schedule(self, live: Sequence[VariantState], pace: Pace) -> None:
        """Plan the deployment from its start: called once, when the store accepts it."""
        self.pace = pace
        self.live_units = {variant.name: fleet_units(variant) for variant in live}
        self.steps = tuple(_plan(self, live, pace))
        self.timeout_at = _timeout_at(self.policy, self.steps, pace)
        self._show(self.steps[0])

    def variant(self, name: str) -> VariantState | None:
        return next((v for v in self.variants if v.name == name), None)

    def instances_held(self) -> Counter[str]:
        """What the new fleet holds against the quotas beside the old one: all of it for a
        blue/green deployment, one batch at a time for a rolling one."""
        held: Counter[str] = Counter()
        for variant in self.variants:
            if not variant.instance_type or variant.is_serverless:
                continue
            count = variant.desired_instance_count or 0
            if self.policy.rolling and self.policy.step is not None:
                count = self.policy.step.units(count)
            held[variant.instance_type] += count
        return held

    def advance(
        self, now: float, account_id: str, region: str, live: list[VariantState]
    ) -> Progress:
        """Bring the deployment up to ``now``: roll it back if an alarm or the timeout says
        so, and show each variant's step. ``live`` is the endpoint's current fleet."""
        if self.rollback is None:
            self._watch(now, account_id, region)
        rollback = self.rollback
        if rollback is not None:
            if now >= rollback.end:
                return Progress(Outcome.ROLLED_BACK, rollback.end, rollback.reason)
            self._show_rollback(rollback, live)
            return Progress(Outcome.ROLLING_BACK, rollback.start, rollback.reason)
        end = self.steps[-1].end
        if now >= end:
            if self.failure_reason is not None:
                return Progress(Outcome.LAUNCH_FAILED, end, self.failure_reason)
            return Progress(Outcome.SUCCEEDED, end)
        self._show(next(step for step in self.steps if now < step.end))
        return Progress(Outcome.UPDATING, self.start_time)

    def snapshot(self) -> PendingDeployment:
        return dataclasses.replace(
            self,
            variants=[copy_variant(v) for v in self.variants],
            shadow_variants=[copy_variant(v) for v in self.shadow_variants],
            shares=dict(self.shares),
        )

    def _watch(self, now: float, account_id: str, region: str) -> None:
        """Start the rollback if the timeout has passed or an alarm has tripped since the
        first traffic switch, from the moment that happened."""
        triggers: list[tuple[float, str]] = []
        if self.timeout_at is not None and self.timeout_at <= now:
            triggers.append((self.timeout_at, _timeout_reason(self.policy)))
        switches = [step.start for step in self.steps if step.stage == Stage.ACTIVATING]
        if self.policy.alarms and switches and switches[0] <= now:
            watched_from, watched_until = switches[0], self.steps[-1].end
            tripped = moto_bridge.alarms_in_alarm(
                account_id, region, self.policy.alarms, since=watched_from
            )
            hits = [alarm for alarm in tripped if alarm.since < watched_until]
            if hits:
                at = max(watched_from, min(alarm.since for alarm in hits))
                names = [a.name for a in sorted(hits, key=lambda a: a.since) if a.since <= at]
                triggers.append((at, _alarm_reason(names)))
        if triggers:
            at, reason = min(triggers)
            self._roll_back(at, reason)

    def _roll_back(self, at: float, reason: str) -> None:
        step = next((s for s in self.steps if at < s.end), self.steps[-1])
        # Blue/green launched the whole new fleet; rolling only the batches so far.
        terminating = {
            variant.name: (
                step.active.get(variant.name, 0) + step.launching.get(variant.name, 0)
                if self.policy.rolling
                else fleet_units(variant)
            )
            for variant in self.variants
        }
        relaunching = {name: count for name, count in step.retired.items() if count > 0}
        duration = self.pace.switch_seconds
        if relaunching:
            batches = max(
                math.ceil(count / self._rollback_batch(name)) for name, count in relaunching.items()
            )
            duration += batches * self.pace.launch_seconds
        self.rollback = Rollback(at, at + duration, reason, terminating, relaunching)
        self.shares, self.full = {}, False

    def _rollback_batch(self, name: str) -> int:
        """Old units relaunched at once: RollbackMaximumBatchSize, by default all of them."""
        fleet = self.live_units.get(name, 1)
        batch = self.policy.rollback_batch
        return batch.units(fleet) if batch is not None else fleet

    def _show(self, step: Step) -> None:
        self.shares, self.full = dict(step.shares), step.full
        for variant in self.variants:
            active = step.active.get(variant.name, 0)
            stage = step.stage.value
            if step.stage == Stage.LAUNCHING and active > 0:
                stage = "Updating"  # more capacity for a variant that already serves
            variant.current_weight = variant.desired_weight if active > 0 else None
            variant.current_instance_count = (
                active if active > 0 and not variant.is_serverless else None
            )
            if variant.is_serverless and active > 0:
                variant.current_serverless = dict(variant.desired_serverless or {})
            variant.status = [VariantStatusEntry(stage, step.message(variant), step.start)]

    def _show_rollback(self, rollback: Rollback, live: list[VariantState]) -> None:
        for variant in self.variants:
            count = rollback.terminating.get(variant.name, 0)
            message = f"Terminating {_units(variant, count)}."
            variant.status = [VariantStatusEntry("Deleting", message, rollback.start)]
            variant.current_weight = variant.current_instance_count = None  # serves nothing
        for variant in live:
            count = rollback.relaunching.get(variant.name, 0)
            if count:
                message = f"Launching {_units(variant, count)}."
                variant.status = [VariantStatusEntry("Creating", message, rollback.start)]


def _units(variant: VariantState, count: int) -> str:
    return "serverless capacity" if variant.is_serverless else f"{count} instance(s)"


def _alarm_reason(names: Sequence[str]) -> str:
    return f"Deployment was rolled back because alarm(s) {', '.join(names)} went into ALARM state."


def _timeout_reason(policy: DeploymentPolicy) -> str:
    return (
        "Deployment was rolled back because it did not complete within "
        f"MaximumExecutionTimeoutInSeconds ({policy.timeout_seconds} seconds)."
    )


class _Timeline:
    """Lays steps end to end from the deployment's start."""

    def __init__(self, start: float, pace: Pace) -> None:
        self.now = start
        self.pace = pace
        self.steps: list[Step] = []

    def add(self, duration: float, step: Step) -> None:
        """Append ``step`` (its times are ignored) to start when the previous one ends."""
        placed = dataclasses.replace(step, start=self.now, end=self.now + duration)
        self.steps.append(placed)
        self.now = placed.end

    def launch(
        self,
        launching: Mapping[str, int],
        active: Mapping[str, int] | None = None,
        shares: Mapping[str, float] | None = None,
        retired: Mapping[str, int] | None = None,
    ) -> None:
        step = Step(
            stage=Stage.LAUNCHING,
            start=0.0,
            end=0.0,
            capacity="",
            launching=dict(launching),
            active=dict(active or {}),
            shares=dict(shares or {}),
            retired=dict(retired or {}),
        )
        self.add(self.pace.launch_seconds, step)

    def shift(
        self,
        capacity: str,
        active: Mapping[str, int],
        shares: Mapping[str, float],
        waits: Sequence[tuple[int, str]],
        retired: Mapping[str, int] | None = None,
    ) -> None:
        """Turn traffic on for ``active`` units, then bake each of ``waits`` in turn."""
        switch = Step(
            stage=Stage.ACTIVATING,
            start=0.0,
            end=0.0,
            capacity=capacity,
            active=dict(active),
            shares=dict(shares),
            retired=dict(retired or {}),
            full=bool(shares) and all(share >= 1.0 for share in shares.values()),
        )
        self.add(self.pace.switch_seconds, switch)
        for seconds, parameter in waits:
            if seconds > 0:
                bake = dataclasses.replace(switch, stage=Stage.BAKING, wait=(seconds, parameter))
                self.add(self.pace.waited(seconds), bake)


def _plan(deployment: PendingDeployment, live: Sequence[VariantState], pace: Pace) -> list[Step]:
    policy = deployment.policy
    new_units = {variant.name: fleet_units(variant) for variant in deployment.variants}
    live_units = {variant.name: fleet_units(variant) for variant in live}
    timeline = _Timeline(deployment.start_time, pace)
    if policy.rolling:
        _plan_rolling(timeline, policy, new_units, live_units, deployment.failure_reason)
        return timeline.steps
    timeline.launch(new_units)
    if deployment.failure_reason is not None or policy.strategy is None:
        return timeline.steps
    everything = dict.fromkeys(new_units, 1.0)
    final = (policy.termination_wait_seconds, TERMINATION_WAIT)
    if policy.strategy == Strategy.ALL_AT_ONCE:
        waits = [(policy.wait_seconds, WAIT_INTERVAL), final]
        timeline.shift("full capacity", new_units, everything, waits)
    elif policy.strategy == Strategy.CANARY:
        assert policy.step is not None
        canary = {name: policy.step.units(units) for name, units in new_units.items()}
        shares = {name: n / (n + live_units.get(name, 0)) for name, n in canary.items()}
        timeline.shift("canary capacity", canary, shares, [(policy.wait_seconds, WAIT_INTERVAL)])
        timeline.shift("full capacity", new_units, everything, [final])
    else:
        assert policy.step is not None
        step_units = {name: policy.step.units(units) for name, units in new_units.items()}
        count = max(math.ceil(new_units[name] / size) for name, size in step_units.items())
        for number in range(1, count + 1):
            active = {name: min(number * step_units[name], n) for name, n in new_units.items()}
            shares = {name: active[name] / new_units[name] for name in new_units}
            last = number == count
            timeline.shift(
                "full capacity" if last else "capacity",
                active,
                shares,
                [final if last else (policy.wait_seconds, WAIT_INTERVAL)],
            )
    return timeline.steps


def _plan_rolling(
    timeline: _Timeline,
    policy: DeploymentPolicy,
    new_units: Mapping[str, int],
    live_units: Mapping[str, int],
    failure_reason: str | None,
) -> None:
    """Batch by batch on the one variant rolling allows: launch, traffic, bake, retire."""
    assert policy.step is not None
    ((name, fleet),) = new_units.items()
    old = live_units.get(name, 0)
    batch = policy.step.units(fleet)
    active = retired = 0
    while active < fleet:
        launching = min(batch, fleet - active)
        shares = {name: active / (active + old - retired)} if active else {}
        timeline.launch({name: launching}, {name: active}, shares, {name: retired})
        if failure_reason is not None:
            return
        active += launching
        remaining_old = old - retired
        last = active >= fleet
        timeline.shift(
            "full capacity" if last else "batch capacity",
            {name: active},
            {name: active / (active + remaining_old) if remaining_old else 1.0},
            [(policy.wait_seconds, WAIT_INTERVAL)],
            {name: retired},
        )
        retired = min(old, retired + batch)


def _timeout_at(policy: DeploymentPolicy, steps: Sequence[Step], pace: Pace) -> float | None:
    """When the waits run past MaximumExecutionTimeoutInSeconds, or None if they fit."""
    if policy.timeout_seconds is None:
        return None
    budget = float(policy.timeout_seconds)
    for step in steps:
        if step.stage != Stage.BAKING or step.wait is None:
            continue
        seconds = step.wait[0]
        if seconds > budget:
            return step.start + pace.waited(budget)
        budget -= seconds
    return None
