"""An alarm going into ALARM on the timeline links to the containers' logs of its minutes,
and so does a minute whose 5XX errors rise sharply (a spike), to its variant's logs."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from endpoints.models import Endpoint, Variant
from endpoints.services import inventory_sync
from monitoring.live.metrics import Panel, TimeRange
from monitoring.models import Alarm
from sandbox.testing import control, replay_traffic
from tests.aws_actor import create_endpoint
from tests.shifts.helpers import make_endpoint
from triage.timeline import SPIKE_MIN_ERRORS, SPIKE_MIN_RATE, alarm_markers, spike_markers

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


def test_a_5xx_spike_links_to_the_logs_of_its_minute_and_its_variant(sandbox, role_client):
    """v1 fails every request for two minutes, recovers, then fails again: two spikes,
    where each bad stretch began, none for v0 and none for the second bad minute."""
    cache.clear()
    name = create_endpoint(sandbox.url)
    now = time.time()
    minute = now - now % 60
    plan = [0.0, 1.0, 1.0, 0.0, 1.0, 0.0]  # v1's 5XX rate, minute by minute
    starts = [datetime.fromtimestamp(minute - 60 * back, tz=UTC) for back in range(7, 1, -1)]
    published = []
    for start, error_rate in zip(starts, plan, strict=True):
        if error_rate:
            control(
                sandbox.url, "faults", body={"endpoint": name, "variant": "v1", "error_rate": 1.0}
            )
        answer = replay_traffic(sandbox.url, endpoint=name, requests=200, at=start.timestamp() + 5)
        published.append(answer["variants"]["v1"])
        control(sandbox.url, f"faults?endpoint={name}", method="DELETE")
    inventory_sync(target=settings.OPSPORTAL_TARGETS[0], region="us-east-1")
    endpoint = Endpoint.objects.get(name=name)
    assert all(published[i]["errors_5xx"] >= SPIKE_MIN_ERRORS for i in (1, 2, 4))
    assert SPIKE_MIN_RATE < 100

    viewer = role_client("Viewer")
    page = viewer.get(
        reverse("triage:endpoint_timeline", args=[endpoint.pk]),
        {
            "range": "custom",
            "start": f"{starts[0] - timedelta(minutes=10):%Y-%m-%dT%H:%M}",
            "end": f"{starts[-1] + timedelta(minutes=3):%Y-%m-%dT%H:%M}",
        },
    )
    assert page.status_code == 200
    rows = [
        row for row in page.content.decode().split('<tr data-kind="')[1:] if row.startswith("spike")
    ]
    assert len(rows) == 2
    for row, index in zip(rows, (4, 1), strict=True):  # newest first
        v1 = published[index]
        assert f"5XX spike on v1: {v1['errors_5xx']} of {v1['invocations']} requests" in row
        link = re.search(r'<a href="([^"]+)" class="small" data-testid="logs-link">', row)
        assert link is not None
        url = link.group(1).replace("&amp;", "&")
        query = parse_qs(urlsplit(url).query)
        assert query == {
            "range": ["custom"],
            "start": [f"{starts[index]:%Y-%m-%dT%H:%M}"],
            "end": [f"{starts[index] + timedelta(minutes=1):%Y-%m-%dT%H:%M}"],
            "variant": ["v1"],
        }
        logs = viewer.get(url)
        assert logs.status_code == 200
    cache.clear()


def test_a_few_errors_on_little_traffic_are_no_spike():
    """Two failures of three requests are a high rate but not a spike worth a link; the
    same rate on real traffic is, and a shadow variant's errors never are."""
    endpoint = make_endpoint("tumor-spikes", weights=(100.0,))
    Variant.objects.create(endpoint=endpoint, name="S", position=1, is_shadow=True)
    start = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    x = [(start + timedelta(minutes=k)).isoformat() for k in range(4)]

    def panel(requests: list[float | None], rate: list[float | None]) -> Panel:
        charts = [
            {
                "id": "invocations",
                "traces": [{"variant": v, "x": x, "y": requests} for v in ("A", "S")],
            },
            {"id": "errors5xx", "traces": [{"variant": v, "x": x, "y": rate} for v in ("A", "S")]},
        ]
        when = TimeRange(key="custom", start=start, end=start + timedelta(minutes=4))
        return Panel(range=when, period=60, charts=charts, comparison=[], fetched_at=start)

    assert spike_markers(endpoint, panel([3, 3, 3, 3], [0.0, 66.667, 0.0, 0.0])) == []
    spikes = spike_markers(endpoint, panel([300, 300, None, 300], [0.0, 66.667, None, 50.0]))
    assert [(m.time.minute, m.title) for m in spikes] == [
        (1, "5XX spike on A: 200 of 300 requests (66.7 %)"),
        (3, "5XX spike on A: 150 of 300 requests (50.0 %)"),  # after a minute without data
    ]
    assert all(m.logs_url.endswith("variant=A") for m in spikes)
