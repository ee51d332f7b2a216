"""The endpoint timeline merges alarms, CloudTrail changes and the portal's shifts in time
order, keeps to the chosen range, and renders with at most one metrics call."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from core.aws.clients import call_counts, reset_call_counts
from monitoring.models import Alarm
from shifts.models import ShiftEvent, ShiftProposal
from tests.apihistory.test_pages import event
from tests.shifts.helpers import make_endpoint
from triage.timeline import endpoint_timeline

pytestmark = pytest.mark.django_db

NOW = timezone.now().replace(microsecond=0)


def ago(minutes: float):
    return NOW - timedelta(minutes=minutes)


@pytest.fixture
def incident(user_factory):
    """A deploy by CI, the 5XX alarm firing 12 minutes later, an emergency shift, recovery."""
    endpoint = make_endpoint("tumor-classifier")
    event(
        "UpdateEndpoint",
        at=ago(40),
        endpoint="tumor-classifier",
        config="tumor-config-v3",
        principal="ci-deployer",
        identity="AssumedRole",
        params={"endpointName": "tumor-classifier", "endpointConfigName": "tumor-config-v3"},
    )
    event("DescribeEndpoint", at=ago(39), endpoint="tumor-classifier")  # a read: not shown
    event("UpdateEndpoint", at=ago(38), endpoint="fraud-detection")  # another endpoint
    event("CreateEndpointConfig", at=ago(60 * 30), config="tumor-config-v3")  # out of range
    Alarm.objects.create(
        target="sandbox",
        account_id="123456789012",
        region="us-east-1",
        name="tumor-classifier-B-5xx",
        state="OK",
        endpoint_name="tumor-classifier",
        synced_at=NOW,
        history=[
            {
                "time": ago(5).isoformat(),
                "type": "StateUpdate",
                "summary": "Alarm updated from ALARM to OK",
            },
            {
                "time": ago(28).isoformat(),
                "type": "StateUpdate",
                "summary": "Alarm updated from OK to ALARM",
            },
        ],
    )
    admin = user_factory("oncall", "Admin")
    proposal = ShiftProposal.objects.create(
        endpoint=endpoint,
        proposer=admin,
        kind="emergency",
        state="applied",
        reason="B fails 30% after the deploy",
        before_weights={"A": 50.0, "B": 50.0},
        desired_weights={"A": 100.0, "B": 0.0},
        created_at=ago(20),
        expires_at=ago(-60),
        updated_at=ago(18),
    )
    ShiftEvent.objects.create(
        proposal=proposal,
        at=ago(18),
        username="oncall",
        action="applied",
        from_state="applying",
        to_state="applied",
    )
    return endpoint


def test_timeline_merges_every_source_newest_first(incident):
    markers = endpoint_timeline(endpoint=incident, start=ago(120), end=NOW)
    assert [(m.kind, m.severity) for m in markers] == [
        ("alarm", "ok"),
        ("shift", "ok"),
        ("alarm", "bad"),
        ("change", "info"),
    ]
    deploy = markers[-1]
    assert deploy.title == "UpdateEndpoint" and deploy.who.startswith("ci-deployer")
    assert "config tumor-config-v3" in deploy.detail
    assert "Emergency shift" in markers[1].title and "A 100" in markers[1].detail


def test_timeline_keeps_to_the_range(incident):
    markers = endpoint_timeline(endpoint=incident, start=ago(30), end=ago(10))
    assert [m.kind for m in markers] == ["shift", "alarm"]
    older = endpoint_timeline(endpoint=incident, start=ago(60 * 31), end=ago(60 * 29))
    assert [m.title for m in older] == ["CreateEndpointConfig"]


def test_timeline_page_shows_the_events_and_degrades_without_metrics(
    incident, role_client, monkeypatch
):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    cache.clear()  # no metrics panel cached by an earlier test for the same endpoint id
    reset_call_counts()
    response = role_client("Viewer").get(
        reverse("triage:endpoint_timeline", args=[incident.pk]), {"range": "3h"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count('data-kind="') == 4
    assert "ci-deployer" in body and "Emergency shift" in body
    assert 'data-testid="metrics-stale"' in body
    assert call_counts()[("cloudwatch", "GetMetricData")] <= 1


def test_timeline_refuses_a_bad_range(incident, role_client):
    response = role_client("Viewer").get(
        reverse("triage:endpoint_timeline", args=[incident.pk]),
        {"range": "custom", "start": "2026-11-27T10:00", "end": "2026-11-27T09:00"},
    )
    assert response.status_code == 400
    assert "The start must be before the end." in response.content.decode()


def test_model_monitor_runs_with_violations_or_failures_are_marked(incident):
    from monitoring.models import MonitoringExecution, MonitoringSchedule, MonitoringViolation

    schedule = MonitoringSchedule.objects.create(
        target="sandbox",
        account_id="123456789012",
        region="us-east-1",
        endpoint_name="tumor-classifier",
        name="tumor-dq",
        status="Scheduled",
        synced_at=NOW,
    )
    MonitoringExecution.objects.create(  # a clean run: not news, not marked
        schedule=schedule, scheduled_time=ago(70), status="Completed", violation_count=0
    )
    drifted = MonitoringExecution.objects.create(
        schedule=schedule,
        scheduled_time=ago(10),
        status="CompletedWithViolations",
        violation_count=1,
    )
    MonitoringViolation.objects.create(
        execution=drifted, feature_name="mean_radius", check_type="baseline_drift_check"
    )
    MonitoringExecution.objects.create(
        schedule=schedule,
        scheduled_time=ago(130),
        status="Failed",
        failure_reason="Job inputs had no data",
    )
    monitor = [
        m
        for m in endpoint_timeline(endpoint=incident, start=ago(180), end=NOW)
        if m.kind == "monitor"
    ]
    assert [(m.title, m.detail) for m in monitor] == [
        ("tumor-dq: 1 monitoring violation(s)", "mean_radius"),
        ("tumor-dq: monitoring run failed", "Job inputs had no data"),
    ]
    assert f"execution={drifted.pk}" in monitor[0].url


def test_instance_count_changes_are_marked_scale_out_and_scale_in(db):
    from endpoints.models import Variant
    from endpoints.services.snapshots import snapshot_record

    endpoint = make_endpoint("autoscaled")
    for minutes, count in ((30, 1), (20, 3), (10, 2)):
        Variant.objects.filter(endpoint=endpoint, name="A").update(
            current_instance_count=count, desired_instance_count=count
        )
        endpoint.synced_at = ago(minutes)
        snapshot_record(endpoint=endpoint)
    scaling = [m for m in endpoint_timeline(endpoint=endpoint, start=ago(60), end=NOW)]
    assert [(m.kind, m.title) for m in scaling if m.kind == "scaling"] == [
        ("scaling", "scale in"),
        ("scaling", "scale out"),
    ]
    assert "1 → 3" in [m for m in scaling if m.title == "scale out"][0].detail


def test_change_requests_other_than_traffic_show_what_they_changed(incident):
    proposal = ShiftProposal.objects.create(
        endpoint=incident,
        proposer=ShiftProposal.objects.first().proposer,
        kind="normal",
        change="capacity",
        state="applied",
        reason="holiday traffic",
        before_weights={"A": 100.0, "B": 0.0},
        desired_weights={"A": 100.0, "B": 0.0},
        before_state={"capacity": {"A": {"instances": 1}, "B": {"instances": 1}}},
        spec={"capacity": {"A": {"instances": 4}}},
        created_at=ago(4),
        expires_at=ago(-60),
        updated_at=ago(3),
    )
    ShiftEvent.objects.create(
        proposal=proposal, at=ago(3), username="x", action="applied", to_state="applied"
    )
    (marker,) = [
        m for m in endpoint_timeline(endpoint=incident, start=ago(10), end=NOW) if m.kind == "shift"
    ]
    assert marker.title == f"Change #{proposal.pk} applied"
    assert marker.detail == "Capacity: A 1 instance → 4 instances; reason: holiday traffic"
