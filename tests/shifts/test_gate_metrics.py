"""A bake window's numbers for every variant come from one GetMetricData call, and match
what the variants actually served."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.aws import clients
from core.targets import target_by_name
from shifts.gate_metrics import read_windows, window_period
from shifts.gates import GateThresholds, judge
from tests.aws_actor import flush_metrics, invoke

pytestmark = pytest.mark.django_db


def test_window_numbers_per_variant_in_one_call(live, aws_sandbox):
    start = timezone.now().replace(second=0, microsecond=0) - timedelta(minutes=1)
    for _ in range(7):
        invoke(aws_sandbox.url, live.name, variant="v0")
    for _ in range(3):
        invoke(aws_sandbox.url, live.name, variant="v1")
    flush_metrics(aws_sandbox.url)
    calls = clients.call_counts()[("cloudwatch", "GetMetricData")]
    windows = read_windows(
        target=target_by_name(live.target),
        region=live.region,
        endpoint_name=live.name,
        variants=["v0", "v1"],
        start=start,
        end=start + timedelta(minutes=3),
    )
    assert clients.call_counts()[("cloudwatch", "GetMetricData")] == calls + 1
    assert (windows["v0"].invocations, windows["v1"].invocations) == (7, 3)
    assert windows["v0"].errors_5xx == windows["v1"].errors_5xx == 0
    assert windows["v0"].latency_p99_us is not None and windows["v0"].latency_p99_us > 0
    # The verdict takes them as they come: three requests are too few to judge.
    verdict = judge(
        candidate=windows["v1"],
        baseline=windows["v0"],
        thresholds=GateThresholds(min_invocations=100),
        candidate_name="v1",
        baseline_name="v0",
        window_seconds=180,
    )
    assert verdict.outcome == "wait"


def test_a_window_is_asked_for_in_whole_minutes():
    now = timezone.now()
    assert window_period(start=now, end=now + timedelta(seconds=30)) == 60
    assert window_period(start=now, end=now + timedelta(seconds=601)) == 660
    assert window_period(start=now, end=now + timedelta(minutes=10)) == 600
