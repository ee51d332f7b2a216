"""Alarm thresholds read in the chart's unit (ModelLatency alarms are in microseconds, the
chart in ms; an Average of an error metric is a fraction, the chart in percent) and are
drawn only beside the quantity they watch."""

from __future__ import annotations

import json
from html import unescape

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from monitoring.live import metrics
from monitoring.live.chart_specs import CHARTS, condition_text, threshold_on_chart
from monitoring.models import Alarm
from monitoring.selectors import chart_thresholds
from tests.monitoring.chart_world import FakeCloudWatch, chart_endpoint, hour_range

SPECS = {c.id: c for c in CHARTS}


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def _on(chart: str, metric: str, statistic: str, threshold: float, **kw) -> float | None:
    namespace = "/aws/sagemaker/Endpoints" if "Utilization" in metric else "AWS/SageMaker"
    return threshold_on_chart(
        chart=SPECS[chart],
        namespace=namespace,
        metric=metric,
        statistic=statistic,
        threshold=threshold,
        alarm_period=kw.get("alarm_period", 60),
        chart_period=kw.get("chart_period", 60),
    )


def test_latency_thresholds_in_microseconds_read_in_ms():
    assert _on("latency", "ModelLatency", "p99", 500_000.0) == 500
    assert _on("latency", "ModelLatency", "Average", 250_000.0) == 250
    assert _on("overhead", "OverheadLatency", "Maximum", 20_000.0) == 20
    assert _on("latency", "ModelLatency", "SampleCount", 10.0) is None  # a count, not a time
    assert _on("overhead", "ModelLatency", "p99", 500_000.0) is None  # another metric's chart


def test_error_rate_thresholds_are_fractions_shown_in_percent_and_sums_are_not_rates():
    assert _on("errors5xx", "Invocation5XXErrors", "Average", 0.05) == pytest.approx(5)
    assert _on("errors4xx", "Invocation4XXErrors", "Average", 0.2) == pytest.approx(20)
    assert _on("errors5xx", "Invocation5XXErrors", "Sum", 5.0) is None
    assert _on("errors4xx", "Invocation5XXErrors", "Average", 0.05) is None


def test_a_sum_is_drawn_only_on_a_chart_of_the_same_period():
    assert _on("invocations", "Invocations", "Sum", 1000.0) == 1000
    assert _on("invocations", "Invocations", "Sum", 1000.0, alarm_period=300) is None
    assert _on("cpu", "CPUUtilization", "Average", 80.0) == 80


def test_conditions_read_in_the_charts_units():
    def condition(metric, statistic, threshold, comparison="GreaterThanThreshold"):
        return condition_text(
            namespace="AWS/SageMaker",
            metric=metric,
            statistic=statistic,
            comparison=comparison,
            threshold=threshold,
        )

    assert condition("ModelLatency", "p99", 500_000.0) == "ModelLatency p99 > 500 ms"
    assert condition("Invocation5XXErrors", "Average", 0.05) == "Invocation5XXErrors Average > 5 %"
    assert condition("Invocation5XXErrors", "Sum", 5.0) == "Invocation5XXErrors Sum > 5"
    assert (
        condition("Invocations", "Sum", 10.0, "LessThanOrEqualToThreshold")
        == "Invocations Sum ≤ 10 requests"
    )
    assert condition("ModelLatency", "p99", None) == "ModelLatency p99 >"


def _alarm(endpoint, name, metric, statistic, threshold, *, variant="", state="OK", period=60):
    return Alarm.objects.create(
        target="sandbox",
        account_id=endpoint.account_id,
        region=endpoint.region,
        name=name,
        state=state,
        namespace="AWS/SageMaker",
        metric=metric,
        endpoint_name=endpoint.name,
        variant_name=variant,
        statistic=statistic,
        threshold=threshold,
        comparison="GreaterThanThreshold",
        period=period,
        evaluation_periods=1,
        synced_at=timezone.now(),
    )


@pytest.mark.django_db
def test_each_alarm_goes_on_the_chart_of_its_quantity_for_a_charted_variant():
    endpoint = chart_endpoint("alarmed", variants={"A": False, "B": False})
    _alarm(endpoint, "slow", "ModelLatency", "p99", 500_000.0, state="ALARM")
    _alarm(endpoint, "errors", "Invocation5XXErrors", "Average", 0.05, variant="B")
    _alarm(endpoint, "error-count", "Invocation5XXErrors", "Sum", 5.0)
    _alarm(endpoint, "gone", "ModelLatency", "p99", 1_000.0, variant="Z")
    charts = [
        {"id": "latency", "traces": [{"variant": "A"}, {"variant": "B"}]},
        {"id": "errors5xx", "traces": [{"variant": "A"}, {"variant": "B"}]},
    ]

    lines = chart_thresholds(endpoint=endpoint, charts=charts, period=60)

    assert [(t["name"], t["value"], t["state"]) for t in lines["latency"]] == [
        ("slow", 500.0, "ALARM")
    ]
    assert lines["latency"][0]["label"] == "slow: p99 500 ms"
    assert [t["name"] for t in lines["errors5xx"]] == ["errors"]
    assert lines["errors5xx"][0]["value"] == pytest.approx(5)
    assert lines["errors5xx"][0]["label"] == "errors (B): Average 5 %"


@pytest.mark.django_db
def test_the_page_shows_thresholds_in_the_charts_units(role_client, monkeypatch):
    endpoint = chart_endpoint("alarmed", variants={"A": False})
    _alarm(endpoint, "slow", "ModelLatency", "p99", 500_000.0, variant="A")
    time_range = hour_range()
    cloudwatch = FakeCloudWatch(time_range)
    cloudwatch.put("A", "ModelLatency", "p99", {0: 4000.0, 1: 5000.0})
    monkeypatch.setattr(metrics.aws_cloudwatch, "get_metric_data", cloudwatch)
    client = role_client("Viewer")

    page = client.get(reverse("monitoring:endpoint_metrics", args=[endpoint.pk])).content.decode()
    assert "ModelLatency p99 &gt; 500 ms" in page and "500000" not in page

    panel = client.get(
        reverse("monitoring:endpoint_metrics_panel", args=[endpoint.pk]), {"range": "1h"}
    ).content.decode()
    charts = json.loads(unescape(panel.split('data-charts="')[1].split('"')[0]))
    latency = next(c for c in charts if c["id"] == "latency")
    assert [(t["name"], t["value"]) for t in latency["thresholds"]] == [("slow", 500.0)]
    assert all(not c["thresholds"] for c in charts if c["id"] != "latency")
