"""An alarm going into ALARM on the timeline links to the containers' logs of its minutes."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from monitoring.models import Alarm
from tests.shifts.helpers import make_endpoint
from triage.timeline import alarm_markers

pytestmark = pytest.mark.django_db


def test_an_alarm_into_alarm_links_to_the_logs_of_its_minute(role_client):
    endpoint = make_endpoint("tumor-logs")
    fired = datetime(2026, 1, 10, 12, 7, 42, tzinfo=UTC)
    Alarm.objects.create(
        target="sandbox",
        account_id="123456789012",
        region="us-east-1",
        name="tumor-logs-5xx",
        state="OK",
        endpoint_name="tumor-logs",
        synced_at=timezone.now(),
        history=[
            {"time": fired.isoformat(), "summary": "Alarm updated from OK to ALARM"},
            {
                "time": fired.replace(minute=20).isoformat(),
                "summary": "Alarm updated from ALARM to OK",
            },
        ],
    )
    markers = alarm_markers(endpoint, fired.replace(hour=11), fired.replace(hour=13))
    into_alarm = next(m for m in markers if "to ALARM" in m.title)
    back_to_ok = next(m for m in markers if "to OK" in m.title)
    assert back_to_ok.logs_url == ""
    link = urlsplit(into_alarm.logs_url)
    assert link.path == reverse("monitoring:endpoint_logs", args=[endpoint.pk])
    assert parse_qs(link.query) == {
        "range": ["custom"],
        "start": ["2026-01-10T12:02"],
        "end": ["2026-01-10T12:08"],
    }

    viewer = role_client("Viewer")
    page = viewer.get(
        reverse("triage:endpoint_timeline", args=[endpoint.pk]),
        {"range": "custom", "start": "2026-01-10T11:00", "end": "2026-01-10T13:00"},
    )
    assert page.status_code == 200
    assert page.content.decode().count('data-testid="logs-link"') == 1
    logs = viewer.get(into_alarm.logs_url)
    assert logs.status_code == 200  # the window is one the Logs tab accepts
