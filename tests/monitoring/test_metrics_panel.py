"""The metrics panel against the sandbox: one GetMetricData call cold, none warm, last
good data when CloudWatch fails, and the variant comparison from real invocations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from core.aws import clients
from core.aws.cloudwatch import get_metric_data
from core.aws.types import MetricQuery
from endpoints.models import Endpoint
from endpoints.services import inventory_sync
from monitoring.live.metrics import TimeRange, metrics_panel
from tests.aws_actor import create_endpoint, flush_metrics, invoke

pytestmark = pytest.mark.django_db
TARGET = settings.OPSPORTAL_TARGETS[0]


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def three_variant_endpoint(sandbox) -> Endpoint:
    name = create_endpoint(sandbox.url, weights=(1.0, 1.0, 2.0))
    inventory_sync(target=TARGET, region="us-east-1")
    return Endpoint.objects.get(name=name)


def _get_metric_data_calls() -> int:
    return clients.call_counts()[("cloudwatch", "GetMetricData")]


def test_one_call_cold_and_none_warm(three_variant_endpoint):
    clients.reset_call_counts()
    cold = metrics_panel(endpoint=three_variant_endpoint, time_range=TimeRange.preset("1h"))
    assert _get_metric_data_calls() == 1
    assert not cold.error
    assert [t["variant"] for t in cold.charts[0]["traces"]] == ["v0", "v1", "v2"]

    warm = metrics_panel(endpoint=three_variant_endpoint, time_range=TimeRange.preset("1h"))
    assert _get_metric_data_calls() == 1
    assert warm.from_cache and warm.fetched_at == cold.fetched_at


def test_more_than_500_queries_are_split(sandbox):
    queries = [
        MetricQuery(
            id=f"q{i}",
            namespace="AWS/SageMaker",
            metric="Invocations",
            dimensions=(("EndpointName", "tumor-classifier"), ("VariantName", "A")),
            stat="Sum",
            period=300,
        )
        for i in range(1100)
    ]
    clients.reset_call_counts()
    # A range that ended before the sandbox's current minute: the three calls must see the
    # same data, and live traffic flushed between them would change the last bucket.
    end = TimeRange.preset("3h").end - timedelta(minutes=15)
    end = end.replace(minute=end.minute - end.minute % 5)
    series = get_metric_data(
        target=TARGET,
        region="us-east-1",
        queries=queries,
        start=end - timedelta(hours=3),
        end=end,
    )
    assert _get_metric_data_calls() == 3
    assert [s.id for s in series] == [q.id for q in queries]
    assert series[0].values and series[0].values == series[-1].values  # backfilled history


def test_aws_failure_shows_last_good_data_marked_stale(three_variant_endpoint, monkeypatch):
    good = metrics_panel(endpoint=three_variant_endpoint, time_range=TimeRange.preset("1h"))
    cache.delete_many([k for k in [f"metrics:{three_variant_endpoint.pk}:1h:60"]])
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    clients.forget_clients()

    stale = metrics_panel(endpoint=three_variant_endpoint, time_range=TimeRange.preset("1h"))

    assert stale.error and stale.stale_since == good.fetched_at
    assert stale.charts == good.charts


def test_aws_failure_without_any_data_is_explained(role_client, monkeypatch):
    from tests.endpoints.test_views import make_endpoint

    endpoint = make_endpoint("lonely", weights=(1, 1))
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    clients.forget_clients()
    response = role_client("Viewer").get(
        reverse("monitoring:endpoint_metrics_panel", args=[endpoint.pk]), {"range": "1h"}
    )
    assert response.status_code == 200
    assert "CloudWatch did not answer" in response.content.decode()


def test_comparison_reflects_real_invocations(sandbox, role_client):
    name = create_endpoint(sandbox.url, weights=(3.0, 1.0))
    for _ in range(40):
        invoke(sandbox.url, name)
    for _ in range(10):
        invoke(sandbox.url, name, variant="v1")
    flush_metrics(sandbox.url)
    inventory_sync(target=TARGET, region="us-east-1")
    endpoint = Endpoint.objects.get(name=name)

    response = role_client("Viewer").get(
        reverse("monitoring:endpoint_metrics_panel", args=[endpoint.pk]), {"range": "1h"}
    )

    panel = response.context["panel"]
    rows = {r["variant"]: r for r in panel.comparison}
    assert rows["v0"]["invocations"] + rows["v1"]["invocations"] == 50
    assert rows["v0"]["configured_share"] == 75.0
    assert rows["v1"]["invocations"] >= 10
    assert rows["v0"]["p50_ms"] is not None and 0 < rows["v0"]["p50_ms"] < 5000
    assert rows["v0"]["rate_5xx"] == 0
    body = response.content.decode()
    assert 'id="metrics-data" class="hidden" data-charts="[{' in body
    assert "Variant comparison" in body


def test_bad_custom_range_is_refused_with_a_message(role_client):
    from tests.endpoints.test_views import make_endpoint

    endpoint = make_endpoint("alpha")
    response = role_client("Viewer").get(
        reverse("monitoring:endpoint_metrics_panel", args=[endpoint.pk]),
        {"range": "custom", "start": "2026-11-27T10:00", "end": "2026-11-27T09:00"},
    )
    assert response.status_code == 400
    assert "The start must be before the end." in response.content.decode()


def test_panel_refreshes_itself_every_minute_and_accepts_custom_ranges(
    role_client, three_variant_endpoint
):
    from django.utils import timezone

    end = timezone.now().replace(second=0, microsecond=0)
    start = end - timedelta(hours=2)
    response = role_client("Viewer").get(
        reverse("monitoring:endpoint_metrics_panel", args=[three_variant_endpoint.pk]),
        {"range": "custom", "start": f"{start:%Y-%m-%dT%H:%M}", "end": f"{end:%Y-%m-%dT%H:%M}"},
    )
    assert response.status_code == 200
    panel = response.context["panel"]
    assert panel.range.start == start and panel.period == 60
    assert 'hx-trigger="every 60s"' in response.content.decode()
