"""How target tracking picks the next instance count (sandbox/target_tracking.py), without
a server: proportional steps within the bounds, cooldowns, suspensions, DisableScaleIn and
several policies on one target. test_scaling_loop.py sees the same rules at work."""

from __future__ import annotations

import json
from typing import Any

from sandbox.autoscaling import SUSPENSIONS, ScalableTarget, ScalingActivity
from sandbox.scaling_loop import newest_datapoint
from sandbox.target_tracking import (
    SCALE_IN,
    SCALE_OUT,
    AlarmReading,
    Move,
    TrackingPolicy,
    plan_move,
)

NOW = 1_000_000.0
HIGH = "TargetTracking-endpoint/e/variant/v-AlarmHigh-1"
LOW = "TargetTracking-endpoint/e/variant/v-AlarmLow-1"


def target(low: int = 1, high: int = 4, **suspended: bool) -> ScalableTarget:
    return ScalableTarget(
        account_id="123456789012",
        region="ap-south-1",
        resource_id="endpoint/e/variant/v",
        min_capacity=low,
        max_capacity=high,
        role_arn="role",
        suspended={name: suspended.get(name, False) for name in SUSPENSIONS},
        creation_time=0.0,
        arn="arn",
        bounds_check_due=False,
    )


def policy(
    *,
    high: float | None = None,
    low: float | None = None,
    name: str = "invocations",
    fired: str = "",
    **configuration: Any,
) -> TrackingPolicy:
    """A policy with target 5; ``fired`` names the alarms ("high", "low") invoking it now,
    with the metric value given for each (None: not known)."""
    return TrackingPolicy.of(
        name,
        {"TargetValue": 5.0, **configuration},
        high=AlarmReading(HIGH, "high" in fired, high),
        low=AlarmReading(LOW, "low" in fired, low),
    )


def activity(direction: str, seconds_ago: float, status: str = "Successful") -> ScalingActivity:
    return ScalingActivity(
        account_id="123456789012",
        region="ap-south-1",
        resource_id="endpoint/e/variant/v",
        activity_id="a",
        direction=direction,
        capacity=2,
        description="",
        cause="",
        start_time=NOW - seconds_ago,
        status_code=status,
        status_message="",
    )


def plan(
    current: int,
    *policies: TrackingPolicy,
    bounds: ScalableTarget | None = None,
    history: tuple[ScalingActivity, ...] = (),
) -> Move | None:
    return plan_move(
        target=bounds or target(),
        current=current,
        policies=policies,
        activities=history,
        now=NOW,
    )


def test_scale_out_is_proportional_and_stops_at_max_capacity() -> None:
    assert plan(1, policy(high=12.0, fired="high")) == Move(
        3, SCALE_OUT, f"monitor alarm {HIGH} in state ALARM triggered policy invocations"
    )
    assert plan(2, policy(high=40.0, fired="high")).capacity == 4  # 16 wanted
    assert plan(4, policy(high=40.0, fired="high")) is None  # already at max
    assert plan(2, policy(high=None, fired="high")).capacity == 3  # value unknown: one more


def test_scale_in_is_proportional_never_below_min_and_only_when_it_removes_instances() -> None:
    assert plan(4, policy(low=2.0, fired="low")).capacity == 2  # ceil(4 x 2 / 5)
    assert plan(4, policy(low=0.1, fired="low"), bounds=target(low=2)).capacity == 2
    # ceil(2 x 4.4 / 5) = 2: one fewer would put 8.8 on the last instance, over the target.
    assert plan(2, policy(low=4.4, fired="low")) is None
    assert plan(3, policy(low=None, fired="low")).capacity == 2  # value unknown: one fewer
    assert plan(1, policy(low=0.0, fired="low")) is None  # already at min


def test_an_alarm_that_does_not_invoke_changes_nothing() -> None:
    assert plan(1, policy(high=12.0, low=1.0)) is None


def test_scale_out_waits_for_its_cooldown_after_the_last_scale_out() -> None:
    busy = policy(high=12.0, fired="high", ScaleOutCooldown=60)
    assert plan(2, busy, history=(activity(SCALE_OUT, 30),)) is None
    assert plan(2, busy, history=(activity(SCALE_OUT, 61),)).capacity == 4
    # A scale-in does not hold a scale-out back, and the default cooldown is 300 s.
    assert plan(2, busy, history=(activity(SCALE_IN, 1),)).capacity == 4
    assert plan(2, policy(high=12.0, fired="high"), history=(activity(SCALE_OUT, 299),)) is None


def test_scale_in_waits_for_its_own_cooldown_and_for_the_scale_out_cooldown() -> None:
    quiet = policy(low=1.0, fired="low", ScaleOutCooldown=60, ScaleInCooldown=300)
    assert plan(3, quiet, history=(activity(SCALE_IN, 200),)) is None
    assert plan(3, quiet, history=(activity(SCALE_IN, 301),)).capacity == 1
    assert plan(3, quiet, history=(activity(SCALE_OUT, 59),)) is None
    assert plan(3, quiet, history=(activity(SCALE_OUT, 61),)).capacity == 1


def test_a_failed_activity_starts_no_cooldown() -> None:
    busy = policy(high=12.0, fired="high", ScaleOutCooldown=60)
    assert plan(1, busy, history=(activity(SCALE_OUT, 5, status="Failed"),)).capacity == 3


def test_suspensions_stop_their_direction_only() -> None:
    both = policy(high=12.0, low=1.0, fired="high,low")
    no_out = target(DynamicScalingOutSuspended=True)
    no_in = target(DynamicScalingInSuspended=True)
    assert plan(1, both, bounds=no_out) is None
    assert plan(3, policy(low=1.0, fired="low"), bounds=no_out).capacity == 1
    assert plan(1, both, bounds=no_in).capacity == 3
    assert plan(3, policy(low=1.0, fired="low"), bounds=no_in) is None


def test_disable_scale_in_keeps_scale_out() -> None:
    assert plan(3, policy(low=1.0, fired="low", DisableScaleIn=True)) is None
    assert plan(1, policy(high=12.0, fired="high", DisableScaleIn=True)).capacity == 3


def test_any_policy_scales_out_but_all_must_agree_to_scale_in() -> None:
    calls = policy(name="calls", high=12.0, fired="high")
    latency = policy(name="latency", high=30.0, fired="high")
    wanted = plan(1, calls, latency)
    assert wanted.capacity == 4 and wanted.cause.endswith("triggered policy latency")

    assert plan(4, policy(name="calls", low=1.0, fired="low"), policy(name="latency")) is None
    both = plan(
        4,
        policy(name="calls", low=1.0, fired="low"),
        policy(name="latency", low=3.0, fired="low"),
    )
    assert both.capacity == 3  # the larger of ceil(0.8) = 1 and ceil(2.4) = 3
    # A policy that never scales in has no say in it.
    assert (
        plan(
            4,
            policy(name="calls", low=1.0, fired="low"),
            policy(name="latency", DisableScaleIn=True),
        ).capacity
        == 1
    )


def test_cooldowns_pass_clock_speed_times_faster() -> None:
    fast = TrackingPolicy.of(
        "p",
        {"TargetValue": 5.0, "ScaleOutCooldown": 60, "ScaleInCooldown": 300},
        high=None,
        low=None,
        clock_speed=60.0,
    )
    assert (fast.scale_out_cooldown, fast.scale_in_cooldown) == (1.0, 5.0)


def test_the_metric_value_is_the_newest_datapoint_the_alarm_evaluated() -> None:
    evaluated = {
        "recentDatapoints": [7.0, 9.0, 30.0],
        "evaluatedDatapoints": [
            {"timestamp": "2026-01-01T10:02:00.000+0000", "value": 30.0},
            {"timestamp": "2026-01-01T10:01:00.000+0000", "value": 9.0},
            {"timestamp": "2026-01-01T10:00:00.000+0000", "value": 7.0},
        ],
    }
    assert newest_datapoint(json.dumps(evaluated)) == 30.0
    assert newest_datapoint(json.dumps({"recentDatapoints": [1.0, 2.5]})) == 2.5
    assert newest_datapoint(None) is None
    assert newest_datapoint("not json") is None
    assert newest_datapoint(json.dumps(["a list"])) is None
