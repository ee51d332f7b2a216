"""In a real browser: minutes without data are drawn as gaps, never bridged, on the Metrics
tab and on the timeline; a chart without any data says so instead of drawing empty axes.

The traffic is replayed into the sandbox's CloudWatch at chosen past minutes, so the gap
comes from GetMetricData leaving those minutes out, as AWS does."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from endpoints.models import Endpoint
from endpoints.services import inventory_sync
from sandbox.testing import replay_traffic
from tests.aws_actor import create_endpoint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BEFORE, GAP, AFTER = 40, 35, 30  # minutes ago: traffic, silence, traffic


def _figure(page, element: str) -> dict:
    page.wait_for_function(f"() => (document.getElementById('{element}') || {{}}).data")
    return page.evaluate(
        f"""() => {{
          const el = document.getElementById('{element}');
          return el.data.map(t => ({{name: t.name, x: t.x, y: t.y, connectgaps: t.connectgaps}}));
        }}"""
    )


def _at(trace: dict, minutes_ago: int, now: datetime) -> float | None:
    minute = (now - timedelta(minutes=minutes_ago)).replace(second=0, microsecond=0)
    return trace["y"][[x[:16] for x in trace["x"]].index(minute.strftime("%Y-%m-%dT%H:%M"))]


@pytest.fixture
def gappy(sandbox) -> tuple[Endpoint, datetime]:
    """An endpoint with traffic 40 and 30 minutes ago (two minutes each), and that now."""
    cache.clear()
    name = create_endpoint(sandbox.url, weights=(1.0,))
    now = timezone.now()
    for minutes_ago in (BEFORE, BEFORE - 1, AFTER, AFTER - 1):
        at = (now - timedelta(minutes=minutes_ago)).timestamp()
        replay_traffic(sandbox.url, endpoint=name, requests=20, at=at)
    inventory_sync(target=settings.OPSPORTAL_TARGETS[0], region="us-east-1")
    return Endpoint.objects.get(name=name), now


def test_a_silence_is_a_gap_on_the_metrics_tab_and_the_timeline(login, live_server, gappy):
    endpoint, now = gappy
    page = login("Viewer")
    page.goto(f"{live_server.url}/endpoints/{endpoint.pk}/metrics?range=1h")

    invocations = _figure(page, "chart-invocations")[0]
    assert invocations["connectgaps"] is False
    assert _at(invocations, BEFORE, now) == 20 and _at(invocations, AFTER, now) == 20
    assert _at(invocations, GAP, now) is None
    errors = _figure(page, "chart-errors5xx")[0]
    assert errors["connectgaps"] is False
    assert _at(errors, BEFORE, now) == 0  # requests, none failed: 0 %
    assert _at(errors, GAP, now) is None  # no requests: no rate, not 0 %
    # ModelSetupTime is a serverless metric: an instance-based variant has no such chart.
    assert page.locator("[data-chart=setup]").count() == 0

    page.goto(f"{live_server.url}/endpoints/{endpoint.pk}/timeline?range=1h")
    lines = {t["name"]: t for t in _figure(page, "timeline-chart") if t["name"] != "events"}
    rate = next(t for name, t in lines.items() if name.endswith("5XX"))
    assert rate["connectgaps"] is False
    assert _at(rate, BEFORE, now) == 0 and _at(rate, GAP, now) is None


def test_a_chart_without_data_says_so_instead_of_drawing_axes(login, live_server, sandbox):
    cache.clear()
    name = create_endpoint(sandbox.url, weights=(1.0,))
    inventory_sync(target=settings.OPSPORTAL_TARGETS[0], region="us-east-1")
    endpoint = Endpoint.objects.get(name=name)
    page = login("Viewer")
    page.goto(f"{live_server.url}/endpoints/{endpoint.pk}/metrics?range=1h")

    empty = page.locator("[data-chart=invocations]")
    empty.wait_for()
    assert "No data in this window" in empty.inner_text()
    assert empty.locator(".main-svg").count() == 0
