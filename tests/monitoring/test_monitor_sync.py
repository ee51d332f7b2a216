"""Model Monitor sync against the sandbox: schedules, executions and violations are stored,
each report is read once, failures keep the data and lose nothing, and a drift injected on
one feature of tumor-classifier shows up as a baseline_drift_check for that feature only."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from core.aws.clients import call_counts, reset_call_counts
from core.aws.errors import Throttled
from core.models import SyncStatus
from endpoints.models import Endpoint
from endpoints.services import inventory_sync
from monitoring.models import (
    MonitoringExecution,
    MonitoringSchedule,
    MonitoringViolation,
)
from monitoring.services import model_monitor as sync_module
from monitoring.services.model_monitor import monitor_sync
from sandbox.testing import MONITORED_ENDPOINT, MONITORING_SCHEDULE
from tests.monitoring.monitor_world import (
    DRIFTED_FEATURE,
    drift,
    run_monitoring,
    send_traffic,
)

pytestmark = pytest.mark.django_db
TARGET = settings.OPSPORTAL_TARGETS[0]
REGION = "us-east-1"


def _gets() -> int:
    return call_counts()[("s3", "GetObject")]


def test_sync_stores_the_demo_schedule_and_reads_each_report_once(sandbox):
    reset_call_counts()
    report = monitor_sync(target=TARGET, region=REGION)
    assert not report.error, report.error

    schedule = MonitoringSchedule.objects.get(name=MONITORING_SCHEDULE)
    assert schedule.endpoint_name == MONITORED_ENDPOINT
    assert schedule.status == "Scheduled" and schedule.monitoring_type == "DataQuality"
    assert schedule.schedule_expression == "cron(0 * ? * * *)"
    assert schedule.statistics_uri.endswith("/baseline/statistics.json")
    assert schedule.constraints_uri.endswith("/baseline/constraints.json")
    executions = MonitoringExecution.objects.filter(schedule=schedule)
    assert executions.count() >= 24
    assert not executions.filter(report_read_at__isnull=True).exists()
    violating = executions.filter(status="CompletedWithViolations")
    assert violating.count() >= 2
    # Only executions with violations need their report file, one GetObject each.
    assert _gets() == violating.count()
    assert call_counts()[("sagemaker", "DescribeMonitoringSchedule")] == report.described
    seeded = MonitoringViolation.objects.filter(execution__in=violating)
    assert {v.feature_name for v in seeded} >= {DRIFTED_FEATURE}
    assert all(e.violation_count == e.violations.count() for e in violating)
    failed = executions.filter(status="Failed").first()
    assert failed is not None and "no data" in failed.failure_reason
    assert all(e.report_uri.startswith("s3://") for e in executions.filter(status="Completed"))
    assert SyncStatus.objects.get(
        kind="model_monitor", target=TARGET.name, region=REGION
    ).last_success_at

    # A second run finds nothing new: no report is read again, no schedule described again.
    reset_call_counts()
    again = monitor_sync(target=TARGET, region=REGION)
    assert not again.error and again.new_executions == 0 and again.reports_read == 0
    assert _gets() == 0 and again.described == 0
    assert MonitoringExecution.objects.filter(schedule=schedule).count() == executions.count()


def test_throttled_reports_are_kept_unread_and_read_on_the_next_run(sandbox, monkeypatch):
    real = sync_module.aws_s3.read_object

    def throttled(**kwargs):
        raise Throttled("Rate exceeded", code="SlowDown", operation="GetObject")

    monkeypatch.setattr(sync_module.aws_s3, "read_object", throttled)
    report = monitor_sync(target=TARGET, region=REGION)
    assert "Rate exceeded" in report.error
    status = SyncStatus.objects.get(kind="model_monitor", target=TARGET.name, region=REGION)
    assert status.failing_since and "Rate exceeded" in status.last_error
    unread = MonitoringExecution.objects.filter(
        status="CompletedWithViolations", report_read_at__isnull=True
    )
    assert unread.exists()

    monkeypatch.setattr(sync_module.aws_s3, "read_object", real)
    report = monitor_sync(target=TARGET, region=REGION)
    assert not report.error
    assert (
        not MonitoringExecution.objects.filter(report_read_at__isnull=True)
        .exclude(status__in=("InProgress", "Pending"))
        .exists()
    )
    assert MonitoringViolation.objects.filter(feature_name=DRIFTED_FEATURE).exists()
    assert (
        SyncStatus.objects.get(
            kind="model_monitor", target=TARGET.name, region=REGION
        ).failing_since
        is None
    )


def test_aws_down_keeps_the_last_synced_data(sandbox, monkeypatch):
    monitor_sync(target=TARGET, region=REGION)
    stored = MonitoringExecution.objects.count()
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    from core.aws import clients

    clients.forget_clients()
    report = monitor_sync(target=TARGET, region=REGION)
    assert report.error
    assert MonitoringExecution.objects.count() == stored
    assert MonitoringSchedule.objects.filter(name=MONITORING_SCHEDULE, deleted_at=None).exists()


def test_drift_on_one_feature_is_stored_and_shown_for_that_feature_only(sandbox, role_client):
    monitor_sync(target=TARGET, region=REGION)
    with drift(sandbox):
        send_traffic(sandbox)
    execution = run_monitoring(sandbox)
    assert execution["MonitoringExecutionStatus"] == "CompletedWithViolations", execution

    reset_call_counts()
    started = timezone.now()
    report = monitor_sync(target=TARGET, region=REGION)
    # The sandbox's own scheduler may add an hourly run meanwhile: one read per new report.
    assert not report.error and report.new_executions >= 1
    assert _gets() == (
        MonitoringExecution.objects.filter(
            status="CompletedWithViolations", report_read_at__gte=started
        ).count()
    )
    newest = MonitoringExecution.objects.filter(schedule__name=MONITORING_SCHEDULE).first()
    assert newest.status == "CompletedWithViolations"
    assert newest.report_uri == execution["ReportUri"]
    assert {(v.feature_name, v.check_type) for v in newest.violations.all()} == {
        (DRIFTED_FEATURE, "baseline_drift_check")
    }

    inventory_sync(target=TARGET, region=REGION)
    endpoint = Endpoint.objects.get(name=MONITORED_ENDPOINT, region=REGION)
    client = role_client("Viewer")
    page = client.get(
        reverse("monitoring:endpoint_monitoring", args=[endpoint.pk]),
        {"execution": newest.pk},
    ).content.decode()
    assert 'data-testid="violations"' in page
    assert f'data-feature="{DRIFTED_FEATURE}"' in page and "baseline_drift_check" in page
    overview = client.get(reverse("overview")).content.decode()
    assert 'data-testid="violations-24h"' in overview and MONITORED_ENDPOINT in overview
