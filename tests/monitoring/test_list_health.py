"""The endpoint list's health column: the list renders without AWS, then one request fills
every row's cell (alarms firing, an hour of requests and 5XX rate) from one GetMetricData
per account-region, none while cached, the last good answer when CloudWatch fails."""

from __future__ import annotations

import re
import time

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from core.aws import clients
from endpoints.models import Endpoint
from endpoints.services import inventory_sync
from monitoring.live.health import sparkline_path
from monitoring.models import Alarm
from sandbox.testing import control, replay_traffic
from tests.aws_actor import create_endpoint

pytestmark = pytest.mark.django_db
TARGET = settings.OPSPORTAL_TARGETS[0]


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def two_endpoints(sandbox):
    """A healthy endpoint and one whose v1 fails half its requests, each with a minute of
    traffic, and an alarm firing on the failing one."""
    healthy = create_endpoint(sandbox.url)
    failing = create_endpoint(sandbox.url)
    status, answer = control(
        sandbox.url, "faults", body={"endpoint": failing, "variant": "v1", "error_rate": 1.0}
    )
    assert status == 200, answer
    minute_ago = time.time() - 60
    replay_traffic(sandbox.url, endpoint=healthy, requests=200, at=minute_ago)
    replay_traffic(sandbox.url, endpoint=failing, requests=200, at=minute_ago)
    control(sandbox.url, f"faults?endpoint={failing}", method="DELETE")
    inventory_sync(target=TARGET, region="us-east-1")
    endpoints = {e.name: e for e in Endpoint.objects.filter(name__in=[healthy, failing])}
    Alarm.objects.create(
        target=TARGET.name,
        account_id=endpoints[failing].account_id,
        region="us-east-1",
        name=f"{failing}-5xx",
        state="ALARM",
        namespace="AWS/SageMaker",
        metric="Invocation5XXErrors",
        endpoint_name=failing,
        synced_at=timezone.now(),
    )
    return endpoints[healthy], endpoints[failing]


def _cells(body: str) -> dict[int, str]:
    """Each out-of-band cell of the health answer, by endpoint pk, as text."""
    cells = re.findall(
        r'<span id="health-(\d+)" hx-swap-oob="innerHTML">(.*?)</span></span>', body, re.S
    )
    return {int(pk): html for pk, html in cells}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def test_the_list_waits_on_nothing_and_names_its_rows_for_the_health_request(
    two_endpoints, role_client
):
    healthy, failing = two_endpoints
    clients.reset_call_counts()
    body = role_client("Viewer").get(reverse("endpoints:list")).content.decode()
    assert sum(clients.call_counts().values()) == 0
    assert "Health (last hour)" in body
    for endpoint in (healthy, failing):
        assert f'<span id="health-{endpoint.pk}" hx-preserve="true"></span>' in body
    loader = re.search(r'hx-get="(/endpoints/health\?ids=[0-9,]+)"', body)
    assert loader and {str(healthy.pk), str(failing.pk)} <= set(
        loader.group(1).split("=")[1].split(",")
    )


def test_one_call_fills_every_row_and_a_warm_cache_makes_none(two_endpoints, role_client):
    healthy, failing = two_endpoints
    client = role_client("Viewer")
    url = reverse("monitoring:endpoint_list_health")
    clients.reset_call_counts()
    cells = _cells(client.get(url, {"ids": f"{healthy.pk},{failing.pk}"}).content.decode())
    assert clients.call_counts()[("cloudwatch", "GetMetricData")] == 1

    assert "200 req · 5XX 0.0 %" in _text(cells[healthy.pk])
    assert "firing" not in _text(cells[healthy.pk])
    shown = _text(cells[failing.pk])
    rate = float(re.search(r"200 req · 5XX ([0-9.]+) %", shown).group(1))
    assert 35 <= rate <= 65  # half the traffic went to the failing variant
    assert "1 alarm firing" in shown
    assert reverse("monitoring:endpoint_metrics", args=[failing.pk]) in cells[failing.pk]
    assert re.search(r'class="spark-errors" d="M[0-9.]+,[0-9.]+h0', cells[failing.pk])

    client.get(url, {"ids": f"{healthy.pk},{failing.pk}"})
    assert clients.call_counts()[("cloudwatch", "GetMetricData")] == 1


def test_cloudwatch_down_shows_the_last_good_answer_marked_stale(
    two_endpoints, role_client, monkeypatch, settings
):
    healthy, _ = two_endpoints
    settings.OPSPORTAL_METRICS_CACHE_SECONDS = 0  # every request asks CloudWatch again
    client = role_client("Viewer")
    url = reverse("monitoring:endpoint_list_health")
    fresh = _text(_cells(client.get(url, {"ids": str(healthy.pk)}).content.decode())[healthy.pk])
    assert "stale" not in fresh
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    clients.forget_clients()
    response = client.get(url, {"ids": str(healthy.pk)})
    assert response.status_code == 200
    shown = _text(_cells(response.content.decode())[healthy.pk])
    assert "200 req" in shown and "stale since" in shown


def test_cloudwatch_down_without_history_says_so(role_client, monkeypatch):
    from tests.endpoints.test_views import make_endpoint

    endpoint = make_endpoint("lonely", weights=(1, 1))
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    clients.forget_clients()
    response = role_client("Viewer").get(
        reverse("monitoring:endpoint_list_health"), {"ids": str(endpoint.pk)}
    )
    assert response.status_code == 200
    assert "metrics unavailable" in _text(_cells(response.content.decode())[endpoint.pk])


@pytest.mark.parametrize("ids", ["", "1,,2", "abc", "-1", "1;2", ",".join(["1"] * 201), "9" * 40])
def test_bad_ids_are_refused_with_a_message(ids, role_client):
    response = role_client("Viewer").get(reverse("monitoring:endpoint_list_health"), {"ids": ids})
    assert response.status_code == 400
    assert "endpoint ids separated by commas" in response.content.decode()


def test_a_sparkline_breaks_at_minutes_without_data():
    path = sparkline_path([1.0, 2.0, None, 2.0, None, None, 0.0], top=2.0)
    assert path == "M0.0,12.0h0L20.0,1.0M60.0,1.0h0M120.0,23.0h0"
    assert sparkline_path([None, None], top=0.0) == ""
