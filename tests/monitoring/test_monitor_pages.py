"""The Monitoring tab and the overview's Model Monitor sections, for a Viewer."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from core.aws.clients import call_counts, reset_call_counts
from core.models import SyncStatus
from endpoints.models import Endpoint
from endpoints.services import inventory_sync
from monitoring.models import MonitoringExecution, MonitoringSchedule
from monitoring.services.model_monitor import monitor_sync
from sandbox.testing import (
    MONITORED_ENDPOINT,
    MONITORING_SCHEDULE,
    api_fault,
    clear_api_faults,
)
from tests.monitoring.monitor_world import DRIFTED_FEATURE

pytestmark = pytest.mark.django_db
TARGET = settings.OPSPORTAL_TARGETS[0]
REGION = "us-east-1"


@pytest.fixture
def synced(sandbox) -> Endpoint:
    cache.clear()
    inventory_sync(target=TARGET, region=REGION)
    assert not monitor_sync(target=TARGET, region=REGION).error
    return Endpoint.objects.get(name=MONITORED_ENDPOINT, region=REGION)


def _violating() -> MonitoringExecution:
    return (
        MonitoringExecution.objects.filter(
            schedule__name=MONITORING_SCHEDULE,
            violations__feature_name=DRIFTED_FEATURE,
        )
        .distinct()
        .first()
    )


def _charts(page: str) -> list[dict]:
    found = re.findall(r'class="mm-data hidden" data-charts="([^"]*)"', page)
    return [c for raw in found for c in json.loads(raw.replace("&quot;", '"'))]


def test_tab_shows_schedules_timeline_violations_and_feature_history(synced, role_client):
    client = role_client("Viewer")
    url = reverse("monitoring:endpoint_monitoring", args=[synced.pk])
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert f'data-schedule="{MONITORING_SCHEDULE}"' in page and "cron(0 * ? * * *)" in page
    assert 'data-testid="timeline"' in page and 'data-testid="timeline-chart"' in page
    (timeline,) = [c for c in _charts(page) if c["id"] == "timeline"]
    statuses = {t["name"] for t in timeline["traces"]}
    assert {"Completed", "CompletedWithViolations", "Failed"} <= statuses
    assert f'data-feature="{DRIFTED_FEATURE}"' in page  # feature history
    assert 'aria-current="page">Monitoring<' in page

    execution = _violating()
    page = client.get(url, {"execution": execution.pk}).content.decode()
    assert 'data-testid="violations"' in page
    assert f'<tr data-feature="{DRIFTED_FEATURE}" data-check="baseline_drift_check">' in page


def test_an_execution_of_another_endpoint_is_not_shown(synced, role_client):
    other = Endpoint.objects.exclude(pk=synced.pk).filter(region=REGION).first()
    execution = _violating()
    page = (
        role_client("Viewer")
        .get(
            reverse("monitoring:endpoint_monitoring", args=[other.pk]), {"execution": execution.pk}
        )
        .content.decode()
    )
    assert 'data-testid="violations"' not in page and 'data-testid="executions"' not in page


def test_charts_fragment_draws_drift_and_distribution_from_cache_after_one_read(
    synced, role_client
):
    client = role_client("Viewer")
    execution = _violating()
    url = reverse("monitoring:endpoint_monitoring_charts", args=[synced.pk])
    query = {"execution": execution.pk, "feature": DRIFTED_FEATURE}
    reset_call_counts()
    page = client.get(url, query).content.decode()
    charts = {c["id"]: c for c in _charts(page)}
    assert charts["drift"]["traces"], page
    bars = charts["distribution"]
    assert DRIFTED_FEATURE in bars["title"] and len(bars["x"]) >= 10
    assert abs(sum(bars["baseline"]) - 1) < 0.01 and abs(sum(bars["current"]) - 1) < 0.01
    assert call_counts()[("cloudwatch", "GetMetricData")] == 1
    assert call_counts()[("s3", "GetObject")] == 2  # baseline and the run's statistics

    reset_call_counts()
    assert client.get(url, query).status_code == 200
    assert sum(call_counts().values()) == 0


def test_failing_cloudwatch_leaves_the_last_drift_lines_marked_stale(synced, sandbox, role_client):
    client = role_client("Viewer")
    url = reverse("monitoring:endpoint_monitoring_charts", args=[synced.pk])
    query = {"execution": _violating().pk, "feature": DRIFTED_FEATURE}
    good = client.get(url, query).content.decode()
    lines = {c["id"]: c for c in _charts(good)}["drift"]["traces"]
    assert lines and 'data-testid="drift-stale"' not in good

    cache.delete(f"mm-drift:{synced.pk}:{MONITORING_SCHEDULE}")  # the fresh copy expired
    api_fault(sandbox.url, "monitoring:GetMetricData", throttle_rate=1.0)
    try:
        stale = client.get(url, query)
    finally:
        clear_api_faults(sandbox.url)
    assert stale.status_code == 200
    page = stale.content.decode()
    assert 'data-testid="drift-stale"' in page and "Rate exceeded" in page
    assert {c["id"]: c for c in _charts(page)}["drift"]["traces"] == lines


def test_stale_banner_when_the_sync_fails(synced, role_client):
    SyncStatus.objects.filter(kind="model_monitor", target=TARGET.name, region=REGION).update(
        failing_since=timezone.now(), last_error="ThrottlingException: Rate exceeded"
    )
    page = (
        role_client("Viewer")
        .get(reverse("monitoring:endpoint_monitoring", args=[synced.pk]))
        .content.decode()
    )
    assert 'data-testid="monitor-stale"' in page and "Rate exceeded" in page
    assert 'data-testid="timeline"' in page  # the stored data is still shown


def test_overview_lists_violations_and_failing_schedules(db, role_client):
    now = timezone.now()
    schedule = MonitoringSchedule.objects.create(
        target="sandbox",
        account_id="123456789012",
        region=REGION,
        endpoint_name="fraud-detector",
        name="fraud-dq",
        status="Scheduled",
        last_execution_status="Failed",
        last_execution_failure="Job inputs had no data",
        synced_at=now,
    )
    execution = MonitoringExecution.objects.create(
        schedule=schedule,
        scheduled_time=now - timedelta(hours=2),
        status="CompletedWithViolations",
        violation_count=1,
        report_read_at=now,
    )
    execution.violations.create(feature_name="amount", check_type="baseline_drift_check")
    MonitoringExecution.objects.create(
        schedule=schedule,
        scheduled_time=now - timedelta(hours=30),
        status="CompletedWithViolations",
        violation_count=4,
        report_read_at=now,
    )
    page = role_client("Viewer").get(reverse("overview")).content.decode()
    section = page.split('data-testid="violations-24h"')[1]
    assert 'data-endpoint="fraud-detector"' in section and "amount" in section
    assert '<td class="num">1</td><td class="num">1</td>' in section  # the 30 h old run is out
    assert 'data-schedule="fraud-dq"' in section and "Job inputs had no data" in section
