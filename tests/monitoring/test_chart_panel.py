"""Which charts the Metrics tab shows: none drawn around no data ("No data in this window"
instead of an empty January-to-November-2000 axis), and for a serverless variant its own
metrics (ModelSetupTime, memory) without the instance-only ones (CPU, per instance)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse

from monitoring.live import metrics
from monitoring.live.metrics import metrics_panel, panel_queries
from tests.monitoring.chart_world import FakeCloudWatch, chart_endpoint, hour_range

pytestmark = pytest.mark.django_db

INSTANCE_ONLY = {"CPUUtilization", "InvocationsPerInstance", "DiskUtilization"}


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_a_panel_without_data_marks_every_chart_empty_and_the_page_says_so(
    role_client, monkeypatch
):
    endpoint = chart_endpoint("broken", variants={"A": False}, status="Failed")
    monkeypatch.setattr(metrics.aws_cloudwatch, "get_metric_data", FakeCloudWatch(hour_range()))

    response = role_client("Viewer").get(
        reverse("monitoring:endpoint_metrics_panel", args=[endpoint.pk]), {"range": "1h"}
    )

    panel = response.context["panel"]
    assert panel.charts and all(c["empty"] for c in panel.charts)
    body = response.content.decode()
    assert body.count("No data in this window") == len(panel.charts)
    assert 'data-testid="chart"' not in body and ' id="chart-' not in body


def test_only_charts_with_data_are_drawn(role_client, monkeypatch):
    endpoint = chart_endpoint("quiet", variants={"A": False})
    time_range = hour_range()
    cloudwatch = FakeCloudWatch(time_range)
    cloudwatch.put("A", "CPUUtilization", "Average", {0: 12.0, 1: 13.0})
    monkeypatch.setattr(metrics.aws_cloudwatch, "get_metric_data", cloudwatch)

    panel = metrics_panel(endpoint=endpoint, time_range=time_range)

    assert [c["id"] for c in panel.charts if not c["empty"]] == ["cpu"]


def test_serverless_variants_get_setup_time_and_no_instance_metrics(monkeypatch):
    endpoint = chart_endpoint("lambda-like", variants={"S": True})
    time_range = hour_range()
    cloudwatch = FakeCloudWatch(time_range)
    cloudwatch.put("S", "ModelSetupTime", "Maximum", {3: 2_500_000.0})
    monkeypatch.setattr(metrics.aws_cloudwatch, "get_metric_data", cloudwatch)

    panel = metrics_panel(endpoint=endpoint, time_range=time_range)

    ids = [c["id"] for c in panel.charts]
    assert "setup" in ids and "memory" in ids and "latency" in ids
    assert "cpu" not in ids and "perinstance" not in ids
    asked = {q.metric for q in cloudwatch.queries}
    assert "ModelSetupTime" in asked and not asked & INSTANCE_ONLY
    setup = next(c for c in panel.charts if c["id"] == "setup")
    assert setup["unit"] == "ms"
    peak = next(t for t in setup["traces"] if t["name"] == "S max")["y"]
    assert peak[3] == 2500 and peak[2] is None


def test_instance_variants_keep_their_metrics_and_never_ask_for_setup_time():
    queries = panel_queries(endpoint_name="e", variant_names=["A"], period=60, range_seconds=3600)
    asked = {q.metric for q in queries}
    assert {"CPUUtilization", "InvocationsPerInstance"} <= asked
    assert "ModelSetupTime" not in asked


def test_a_mixed_endpoint_charts_each_metric_for_the_variants_that_publish_it(monkeypatch):
    endpoint = chart_endpoint("mixed", variants={"A": False, "S": True})
    cloudwatch = FakeCloudWatch(hour_range())
    monkeypatch.setattr(metrics.aws_cloudwatch, "get_metric_data", cloudwatch)

    panel = metrics_panel(endpoint=endpoint, time_range=hour_range())

    variants = {c["id"]: {t["variant"] for t in c["traces"]} for c in panel.charts}
    assert variants["cpu"] == {"A"} and variants["setup"] == {"S"}
    assert variants["invocations"] == {"A", "S"}
