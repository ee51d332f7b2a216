"""An asynchronous endpoint's growing queue on the incident board: the symptom with its
numbers in words, an incident opened at the queue's low, and one cached GetMetricData per
board refresh for every asynchronous endpoint of an account-region."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from core.aws import clients
from endpoints.live_async import Backlog, Point
from endpoints.models import Endpoint
from endpoints.services import inventory_sync
from tests.apihistory.test_pages import event
from tests.support.async_inference import (
    feed_backlog,
    make_async_endpoint,
    queue_without_instances,
)
from triage.board import backlog_symptom_since, incident_board
from triage.incidents import incidents_sync
from triage.models import Incident

pytestmark = pytest.mark.django_db
TARGET = settings.OPSPORTAL_TARGETS[0]
# A region the demo world and the other tests leave alone.
OWN_REGION = "ap-northeast-2"
PILING_UP = "backlog 240 requests (up from 12), oldest 9 min, no instances running"


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def _async(sandbox, **queue) -> Endpoint:
    name = make_async_endpoint(sandbox.url, OWN_REGION)
    feed_backlog(sandbox, OWN_REGION, name, **queue)
    assert inventory_sync(target=TARGET, region=OWN_REGION).ok
    return Endpoint.objects.get(region=OWN_REGION, name=name)


def _signals(endpoint: Endpoint) -> list[str]:
    entry = next((e for e in incident_board() if e.endpoint.pk == endpoint.pk), None)
    return [] if entry is None else [f"{s.kind}: {s.text}" for s in entry.signals]


def test_the_board_shows_a_growing_queue_with_its_numbers(sandbox, role_client) -> None:
    claims = _async(
        sandbox, sizes=[12, 40, 90, 160, 240], oldest_seconds=560, without_capacity=True
    )
    assert _signals(claims) == [f"backlog: {PILING_UP}"]
    page = role_client("Viewer").get(reverse("triage:board"))
    html = page.content.decode()
    assert claims.name in html
    assert PILING_UP in html


def test_a_queue_growing_with_instances_is_a_symptom_once_its_oldest_request_is_old(
    sandbox, settings
) -> None:
    old = _async(sandbox, sizes=[5, 30, 80], oldest_seconds=7 * 60, without_capacity=False)
    young = _async(sandbox, sizes=[5, 30, 80], oldest_seconds=40, without_capacity=False)
    assert _signals(old) == ["backlog: backlog 80 requests (up from 5), oldest 7 min"]
    assert _signals(young) == []
    settings.OPSPORTAL_BACKLOG_OLDEST_MINUTES = 10
    assert _signals(old) == []


def test_a_draining_queue_is_not_a_symptom(sandbox) -> None:
    draining = _async(sandbox, sizes=[240, 160, 90], oldest_seconds=20 * 60, without_capacity=False)
    assert _signals(draining) == []


def test_an_incident_opens_at_the_queues_low_and_keeps_one_row_as_the_numbers_move(
    sandbox,
) -> None:
    claims = _async(
        sandbox, sizes=[12, 40, 90, 160, 240], oldest_seconds=560, without_capacity=True
    )
    report = incidents_sync()
    assert report.opened >= 1
    incident = Incident.objects.get(endpoint=claims)
    assert incident.first_signal == PILING_UP
    low = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=4)
    assert abs((incident.opened_at - low).total_seconds()) <= 60
    # A minute later the queue is longer: the incident's signal says so, in one row.
    feed_backlog(
        sandbox, OWN_REGION, claims.name, sizes=[300], oldest_seconds=620, without_capacity=True
    )
    cache.clear()
    incidents_sync()
    incident.refresh_from_db()
    backlog_rows = [row for row in incident.signals if row["kind"] == "backlog"]
    assert len(backlog_rows) == 1
    assert backlog_rows[0]["text"].startswith("backlog 300 requests")


def test_one_get_metric_data_per_board_refresh_for_all_async_endpoints(
    sandbox, role_client
) -> None:
    first = _async(sandbox, sizes=[12, 240], oldest_seconds=560, without_capacity=True)
    second = _async(sandbox, sizes=[3, 50], oldest_seconds=900, without_capacity=False)
    client = role_client("Viewer")
    clients.reset_call_counts()
    html = client.get(reverse("triage:board")).content.decode()
    assert first.name in html and second.name in html
    assert clients.call_counts()[("cloudwatch", "GetMetricData")] == 1
    for _ in range(3):
        client.get(reverse("triage:board"), headers={"HX-Request": "true"})
    assert clients.call_counts()[("cloudwatch", "GetMetricData")] == 1


def _minutes(values: list[float], *, now: datetime) -> tuple[Point, ...]:
    start = now - timedelta(minutes=len(values) - 1)
    return tuple(Point(start + timedelta(minutes=i), v) for i, v in enumerate(values))


def test_when_a_queue_became_a_symptom() -> None:
    now = datetime(2026, 12, 4, 22, 0, tzinfo=UTC)
    backlog = Backlog(
        1,
        sizes=_minutes([10, 4, 20, 60], now=now),
        ages=_minutes([360], now=now),
        without_capacity=_minutes([0, 0, 0, 0], now=now),
    )
    # The queue's low (4 requests, 2 minutes before the latest) is where it started growing.
    assert backlog_symptom_since(backlog, oldest_seconds=5 * 60) == now - timedelta(minutes=2)
    assert backlog_symptom_since(backlog, oldest_seconds=10 * 60) is None
    # Draining, with an uptick from one minute to the next: not growing.
    draining = Backlog(
        1,
        sizes=_minutes([100, 60, 40, 45], now=now),
        ages=_minutes([900], now=now),
        without_capacity=_minutes([0, 0, 0, 0], now=now),
    )
    assert backlog_symptom_since(draining, oldest_seconds=5 * 60) is None
    idle = Backlog(
        1,
        sizes=_minutes([60, 60, 60], now=now),
        ages=_minutes([30], now=now),
        without_capacity=_minutes([0, 1, 1], now=now),
    )
    # Flat and young, but nothing runs to serve it: a symptom since capacity ran out.
    assert backlog_symptom_since(idle, oldest_seconds=10 * 60) == now - timedelta(minutes=1)
    assert idle.words == "backlog 60 requests, oldest 30 s, no instances running"


def test_real_requests_waiting_with_no_instance_open_an_incident(sandbox, role_client) -> None:
    name = make_async_endpoint(sandbox.url, OWN_REGION, prefix="scaled-to-zero")
    queue_without_instances(sandbox.url, OWN_REGION, name, requests=5)
    assert inventory_sync(target=TARGET, region=OWN_REGION).ok
    endpoint = Endpoint.objects.get(region=OWN_REGION, name=name)
    [signal] = _signals(endpoint)
    assert re.fullmatch(r"backlog: backlog 5 requests, oldest \d+ s, no instances running", signal)
    assert name in role_client("Viewer").get(reverse("triage:board")).content.decode()
    incidents_sync()
    incident = Incident.objects.get(endpoint=endpoint)
    assert incident.first_signal.startswith("backlog 5 requests")
    assert incident.first_signal.endswith("no instances running")


def test_scaling_to_zero_in_the_queues_first_minute_is_its_likely_cause(sandbox) -> None:
    """The queue is known to the minute, so the change made seconds into that minute (here
    the scale to zero that left requests waiting) is still before it, and named."""
    name = make_async_endpoint(sandbox.url, OWN_REGION, prefix="scaled-in-minute")
    queue_without_instances(sandbox.url, OWN_REGION, name, requests=3)
    assert inventory_sync(target=TARGET, region=OWN_REGION).ok
    endpoint = Endpoint.objects.get(region=OWN_REGION, name=name)
    entry = next(e for e in incident_board() if e.endpoint.pk == endpoint.pk)
    since = entry.first_symptom.since
    assert since.second == 0  # the metric's minute
    event(
        "UpdateEndpointWeightsAndCapacities",
        at=since + timedelta(seconds=40),
        endpoint=name,
        region=OWN_REGION,
        principal="ci-deployer",
        identity="AssumedRole",
    )
    entry = next(e for e in incident_board() if e.endpoint.pk == endpoint.pk)
    assert entry.cause is not None
    assert entry.cause.event.event_name == "UpdateEndpointWeightsAndCapacities"
    assert "less than a minute before its queue began to grow" in entry.cause.text
