"""`manage.py sync_model_monitor` brings in the demo world's schedule and its runs."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from monitoring.models import MonitoringExecution, MonitoringSchedule
from sandbox.testing import MONITORED_ENDPOINT, MONITORING_SCHEDULE

pytestmark = pytest.mark.django_db


def test_sync_command_stores_the_demo_schedule_and_its_runs(sandbox, capsys):
    call_command("sync_model_monitor")
    schedule = MonitoringSchedule.objects.get(name=MONITORING_SCHEDULE)
    assert schedule.endpoint_name == MONITORED_ENDPOINT and schedule.status == "Scheduled"
    runs = MonitoringExecution.objects.filter(schedule=schedule)
    assert runs.filter(status="CompletedWithViolations").exists()
    assert "us-east-1" in capsys.readouterr().out


def test_sync_command_fails_loudly_when_aws_is_unreachable(monkeypatch):
    from django.core.management.base import CommandError

    from core.aws.clients import forget_clients

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    forget_clients()
    with pytest.raises(CommandError, match="target-regions failed to sync"):
        call_command("sync_model_monitor")
    forget_clients()
