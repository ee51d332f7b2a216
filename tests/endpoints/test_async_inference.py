"""Asynchronous endpoints in the portal: the endpoint page shows where answers and failures
go and the live queue from CloudWatch; the Metrics tab charts the queue; and no real-time
test invoke is offered, nor sent when asked for."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse

from audit.models import AuditEntry
from core.aws import clients
from core.errors import Conflict
from endpoints.models import Endpoint
from endpoints.services import endpoint_test_invoke, inventory_sync
from monitoring.live.metrics import TimeRange, metrics_panel
from sandbox.models import holdout_rows, rows_to_csv
from sandbox.testing import api_fault, aws_client, clear_api_faults, control
from tests.support.async_inference import (
    FAILURE_PATH,
    OUTPUT_PATH,
    feed_backlog,
    make_async_endpoint,
    queue_without_instances,
)

pytestmark = pytest.mark.django_db
TARGET = settings.OPSPORTAL_TARGETS[0]
# A region the demo world leaves empty, for this file's endpoints alone.
OWN_REGION = "ap-southeast-2"


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def claims(sandbox) -> Endpoint:
    """A new asynchronous endpoint, synced, with 240 requests queued for 9 minutes and no
    instance to serve them."""
    name = make_async_endpoint(sandbox.url, OWN_REGION)
    feed_backlog(
        sandbox,
        OWN_REGION,
        name,
        sizes=[12, 40, 90, 160, 240],
        oldest_seconds=9 * 60 + 20,
        without_capacity=True,
    )
    assert inventory_sync(target=TARGET, region=OWN_REGION).ok
    return Endpoint.objects.get(region=OWN_REGION, name=name)


@pytest.fixture
def tumor(sandbox) -> Endpoint:
    assert inventory_sync(target=TARGET, region="us-east-1").ok
    return Endpoint.objects.get(region="us-east-1", name="tumor-classifier")


def test_the_page_shows_the_async_settings_and_the_queue(claims, role_client) -> None:
    page = role_client("Viewer").get(reverse("endpoints:detail", args=[claims.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="async-inference"' in html
    assert OUTPUT_PATH in html and FAILURE_PATH in html
    assert f"arn:aws:sns:{OWN_REGION}:123456789012:claims-async-ok" in html
    assert f"arn:aws:sns:{OWN_REGION}:123456789012:claims-async-failed" in html
    assert "at most 4 requests at once per instance" in html
    backlog = page.context["backlog"]
    assert backlog.size == 240 and backlog.oldest_seconds == 560
    assert "<strong>240</strong> requests" in html
    assert "(up from 12 at" in html
    assert "waiting 9 min" in html
    assert "Waiting with no instances" in html
    assert backlog.words == "backlog 240 requests (up from 12), oldest 9 min, no instances running"


def test_the_queue_is_read_once_then_from_the_cache(claims, role_client) -> None:
    client = role_client("Viewer")
    clients.reset_call_counts()
    for _ in range(3):
        assert client.get(reverse("endpoints:detail", args=[claims.pk])).status_code == 200
    assert clients.call_counts()[("cloudwatch", "GetMetricData")] == 1


def test_an_endpoint_with_an_empty_queue_says_nothing_is_queued(sandbox, role_client) -> None:
    name = make_async_endpoint(sandbox.url, OWN_REGION, prefix="quiet-async")
    assert inventory_sync(target=TARGET, region=OWN_REGION).ok
    quiet = Endpoint.objects.get(region=OWN_REGION, name=name)
    html = role_client("Viewer").get(reverse("endpoints:detail", args=[quiet.pk])).content.decode()
    assert 'data-testid="async-inference"' in html
    assert "Waiting with no instances" not in html


def test_a_real_time_endpoint_has_no_async_card_and_keeps_its_test_invoke(
    tumor, role_client
) -> None:
    html = role_client("Operator").get(reverse("endpoints:detail", args=[tumor.pk])).content
    assert b'data-testid="async-inference"' not in html
    assert b'data-tab="invoke"' in html


def test_no_test_invoke_tab_on_an_async_endpoint(claims, role_client) -> None:
    html = role_client("Admin").get(reverse("endpoints:detail", args=[claims.pk])).content
    assert b'data-tab="detail"' in html
    assert b'data-tab="invoke"' not in html


def test_the_invoke_page_says_why_there_is_no_form(claims, role_client) -> None:
    page = role_client("Operator").get(reverse("endpoints:invoke", args=[claims.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="invoke-form"' not in html
    assert "is an asynchronous endpoint" in html
    assert "InvokeEndpointAsync only" in html


@pytest.mark.parametrize("htmx", [True, False])
def test_a_posted_invoke_is_refused_clearly_and_sends_nothing(
    claims, role_client, htmx: bool
) -> None:
    clients.reset_call_counts()
    headers = {"HX-Request": "true"} if htmx else {}
    answer = role_client("Operator").post(
        reverse("endpoints:invoke", args=[claims.pk]),
        {"content_type": "text/csv", "payload": "1,2,3"},
        headers=headers,
    )
    assert answer.status_code == 409
    assert "InvokeEndpointAsync only" in answer.content.decode()
    assert clients.call_counts()[("sagemaker-runtime", "InvokeEndpoint")] == 0
    assert not AuditEntry.objects.filter(action="endpoint.test_invoke").exists()


def test_the_service_refuses_a_real_time_request_to_an_async_endpoint(claims, user_factory) -> None:
    operator = user_factory("op", "Operator")
    clients.reset_call_counts()
    with pytest.raises(Conflict, match="asynchronous endpoint"):
        endpoint_test_invoke(
            endpoint=claims, actor=operator, payload="1,2,3", content_type="text/csv"
        )
    assert clients.call_counts()[("sagemaker-runtime", "InvokeEndpoint")] == 0


def test_the_metrics_tab_charts_the_queue(claims, tumor) -> None:
    panel = metrics_panel(endpoint=claims, time_range=TimeRange.preset("1h"))
    assert not panel.error
    charts = {c["id"]: c for c in panel.charts}
    backlog = charts["asyncbacklog"]
    assert not backlog["empty"]
    queued = next(t for t in backlog["traces"] if t["name"] == "queued")
    assert max(v for v in queued["y"] if v is not None) == 240
    ages = [v for t in charts["asyncage"]["traces"] for v in t["y"] if v is not None]
    assert max(ages) == pytest.approx(560 / 60, abs=0.01)  # charted in minutes
    idle = [v for t in charts["asyncnocapacity"]["traces"] for v in t["y"] if v is not None]
    assert max(idle) == 1
    real_time = metrics_panel(endpoint=tumor, time_range=TimeRange.preset("1h"))
    assert not {"asyncbacklog", "asyncage", "asyncnocapacity"} & {c["id"] for c in real_time.charts}


def test_when_cloudwatch_fails_the_page_shows_the_last_good_queue_marked_stale(
    sandbox, claims, role_client
) -> None:
    client = role_client("Viewer")
    url = reverse("endpoints:detail", args=[claims.pk])
    assert client.get(url).context["backlog"].size == 240
    cache.delete(f"async-backlog:{claims.pk}:{claims.name}")  # the fresh copy expired
    api_fault(sandbox.url, "monitoring:GetMetricData", region=OWN_REGION, throttle_rate=1.0)
    try:
        stale = client.get(url)
    finally:
        clear_api_faults(sandbox.url)
    assert stale.status_code == 200
    html = stale.content.decode()
    assert 'data-testid="async-backlog-stale"' in html and "Rate exceeded" in html
    assert "<strong>240</strong> requests" in html  # the last good answer, still shown


def test_with_no_answer_ever_the_page_says_the_queue_could_not_be_read(
    sandbox, claims, role_client
) -> None:
    api_fault(sandbox.url, "monitoring:GetMetricData", region=OWN_REGION, throttle_rate=1.0)
    try:
        page = role_client("Viewer").get(reverse("endpoints:detail", args=[claims.pk]))
    finally:
        clear_api_faults(sandbox.url)
    assert page.status_code == 200
    assert "The queue could not be read from CloudWatch" in page.content.decode()


def test_real_requests_queued_with_no_instance_show_on_the_page(sandbox, role_client) -> None:
    name = make_async_endpoint(sandbox.url, OWN_REGION, prefix="queued-async")
    queue_without_instances(sandbox.url, OWN_REGION, name, requests=7)
    assert inventory_sync(target=TARGET, region=OWN_REGION).ok
    queued = Endpoint.objects.get(region=OWN_REGION, name=name)
    page = role_client("Viewer").get(reverse("endpoints:detail", args=[queued.pk]))
    backlog = page.context["backlog"]
    assert backlog.size == 7 and backlog.waiting_without_capacity
    html = page.content.decode()
    assert "<strong>7</strong> requests" in html
    assert "Waiting with no instances" in html


def test_served_requests_are_charted_as_invocations_processed(sandbox) -> None:
    """An asynchronous endpoint publishes InvocationsProcessed, not Invocations: the
    Invocations chart and the error rates count what it served."""
    name = make_async_endpoint(sandbox.url, OWN_REGION, prefix="served-async")
    s3 = aws_client(sandbox.url, "s3", OWN_REGION)
    bucket = f"{name}-input"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": OWN_REGION})
    s3.put_object(Bucket=bucket, Key="rows.csv", Body=rows_to_csv(holdout_rows("tumor")[:1]))
    runtime = aws_client(sandbox.url, "sagemaker-runtime", OWN_REGION)
    for _ in range(3):
        runtime.invoke_endpoint_async(
            EndpointName=name, InputLocation=f"s3://{bucket}/rows.csv", ContentType="text/csv"
        )
    assert inventory_sync(target=TARGET, region=OWN_REGION).ok
    endpoint = Endpoint.objects.get(region=OWN_REGION, name=name)
    deadline = time.monotonic() + 15
    while True:
        control(sandbox.url, "flush-metrics")
        cache.clear()
        panel = metrics_panel(endpoint=endpoint, time_range=TimeRange.preset("1h"))
        (row,) = panel.comparison
        if row["invocations"] >= 3 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert row["invocations"] == 3 and row["rate_5xx"] == 0
    charts = {c["id"]: c for c in panel.charts}
    served = [v for t in charts["invocations"]["traces"] for v in t["y"] if v is not None]
    assert sum(served) == 3
