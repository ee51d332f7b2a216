"""How a target-tracking policy picks a variant's next instance count, as AWS does.

Nothing here reads a store or a clock: the scaling loop (sandbox/scaling_loop.py) gathers
what a decision needs (the target, which of its policies' alarms invoke them now and the
metric values those alarms saw, the target's past activities, the time) and applies the
answer.

The rules, from the Application Auto Scaling guide on target tracking:

- Capacity follows the metric proportionally: ``ceil(current × metric / target)``, bounded
  by MinCapacity and MaxCapacity. When the value is unknown (an alarm set by hand without
  data) the step is one instance. A computed count that does not move the capacity the
  alarm's way means no scaling at all (AWS's "AlreadyAtDesiredCapacity"): scaling in by
  one anyway would push the metric over the target and scale straight out again.
- Any policy whose AlarmHigh is in ALARM may scale out, and the largest count wins; the
  capacity scales in only if every policy that may scale in (DisableScaleIn false) has
  its AlarmLow in ALARM, to the largest count among them.
- ScaleOutCooldown: no scale-out until that long after the last scale-out started.
  ScaleInCooldown: no scale-in until that long after the last scale-in started, nor while
  a scale-out cooldown runs. Both default to 300 seconds for SageMaker variants.
- SuspendedState's DynamicScalingOutSuspended and DynamicScalingInSuspended stop each
  direction.
- Cooldowns count from activities that went ahead (InProgress or Successful): a refused
  one (an instance quota) is tried again when the alarm next invokes the policy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sandbox.autoscaling import ScalableTarget, ScalingActivity

DEFAULT_COOLDOWN = 300  # seconds, for SageMaker variants
SCALE_OUT = "out"
SCALE_IN = "in"


@dataclass(frozen=True)
class AlarmReading:
    """One of a policy's alarms as the loop found it: whether it invokes the policy now (it is
    in ALARM) and the newest value of the metric it evaluated (None when not known)."""

    name: str
    invokes: bool
    metric: float | None


@dataclass(frozen=True)
class TrackingPolicy:
    """A target-tracking policy's settings with the readings of its two alarms."""

    name: str
    target_value: float
    scale_out_cooldown: float
    scale_in_cooldown: float
    disable_scale_in: bool
    high: AlarmReading | None
    low: AlarmReading | None

    @classmethod
    def of(
        cls,
        name: str,
        configuration: dict[str, Any],
        *,
        high: AlarmReading | None,
        low: AlarmReading | None,
        clock_speed: float = 1.0,
    ) -> TrackingPolicy:
        """From a TargetTrackingScalingPolicyConfiguration as PutScalingPolicy took it; the
        cooldowns pass ``clock_speed`` times faster than the AWS seconds it gives."""
        out_cooldown = configuration.get("ScaleOutCooldown", DEFAULT_COOLDOWN)
        in_cooldown = configuration.get("ScaleInCooldown", DEFAULT_COOLDOWN)
        return cls(
            name=name,
            target_value=float(configuration["TargetValue"]),
            scale_out_cooldown=float(out_cooldown) / clock_speed,
            scale_in_cooldown=float(in_cooldown) / clock_speed,
            disable_scale_in=bool(configuration.get("DisableScaleIn", False)),
            high=high,
            low=low,
        )


@dataclass(frozen=True)
class Move:
    """A decision to set the desired instance count, and why (the activity's Cause)."""

    capacity: int
    direction: str
    cause: str


def proportional_capacity(*, current: int, metric: float | None, target: float, step: int) -> int:
    """The count that brings the metric to the target; one ``step`` when it is unknown."""
    if metric is None or current == 0:
        return current + step
    return math.ceil(current * metric / target)


def _alarm_cause(alarm: AlarmReading, policy: TrackingPolicy) -> str:
    return f"monitor alarm {alarm.name} in state ALARM triggered policy {policy.name}"


def _last_start(activities: Sequence[ScalingActivity], direction: str) -> float:
    """When the newest activity of a direction that went ahead (did not fail) started."""
    return max(
        (
            a.start_time
            for a in activities
            if a.direction == direction and a.status_code != "Failed"
        ),
        default=-math.inf,
    )


def plan_move(
    *,
    target: ScalableTarget,
    current: int,
    policies: Sequence[TrackingPolicy],
    activities: Sequence[ScalingActivity],
    now: float,
) -> Move | None:
    """What the target's target-tracking policies do now: scale out, scale in, or nothing."""
    last_out = _last_start(activities, SCALE_OUT)
    last_in = _last_start(activities, SCALE_IN)
    return _scale_out(target, current, policies, last_out, now) or _scale_in(
        target, current, policies, last_out, last_in, now
    )


def _scale_out(
    target: ScalableTarget,
    current: int,
    policies: Sequence[TrackingPolicy],
    last_out: float,
    now: float,
) -> Move | None:
    if target.suspended.get("DynamicScalingOutSuspended"):
        return None
    best: Move | None = None
    for policy in policies:
        alarm = policy.high
        if alarm is None or not alarm.invokes or now < last_out + policy.scale_out_cooldown:
            continue
        wanted = proportional_capacity(
            current=current, metric=alarm.metric, target=policy.target_value, step=1
        )
        capacity = min(wanted, target.max_capacity)
        if capacity > current and (best is None or capacity > best.capacity):
            best = Move(capacity, SCALE_OUT, _alarm_cause(alarm, policy))
    return best


def _scale_in(
    target: ScalableTarget,
    current: int,
    policies: Sequence[TrackingPolicy],
    last_out: float,
    last_in: float,
    now: float,
) -> Move | None:
    if target.suspended.get("DynamicScalingInSuspended"):
        return None
    voters = [p for p in policies if not p.disable_scale_in]
    best: Move | None = None
    for policy in voters:
        alarm = policy.low
        if (
            alarm is None
            or not alarm.invokes
            or now < last_in + policy.scale_in_cooldown
            or now < last_out + policy.scale_out_cooldown
        ):
            return None
        wanted = proportional_capacity(
            current=current, metric=alarm.metric, target=policy.target_value, step=-1
        )
        capacity = max(wanted, target.min_capacity)
        if best is None or capacity > best.capacity:
            best = Move(capacity, SCALE_IN, _alarm_cause(alarm, policy))
    if best is None or best.capacity >= current:
        return None
    return best
