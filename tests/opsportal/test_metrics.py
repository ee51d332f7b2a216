"""/metrics as Prometheus and on-call read it, and JSON log lines: what a scrape shows after
requests, AWS calls (ok and throttled), task runs and waiting work; who may scrape; the
shape of a log line."""

from __future__ import annotations

import io
import json
import logging
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from ipaddress import ip_network
from pathlib import Path

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse
from prometheus_client.parser import text_string_to_metric_families

from core.log_context import JsonLogFormatter, RequestIdFilter
from core.middleware import RequestIdMiddleware
from core.tasks import worker_heartbeat
from endpoints.services import inventory_sync_configured
from sandbox.testing import SandboxServer, api_fault, clear_api_faults
from tests.support.world import incident, shift

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "scrape_token-0123456789abcdef"


@pytest.fixture
def scraping(settings) -> None:
    settings.OPSPORTAL_METRICS_TOKEN = TOKEN
    settings.OPSPORTAL_METRICS_ALLOWED_NETWORKS = ()


def scrape(client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape, keyed by (name, labels)."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_request_latency_is_by_route_name_and_status_never_the_raw_path(
    scraping, client, role_client
):
    before = scrape(client)
    viewer = role_client("Viewer")
    assert viewer.get(reverse("endpoints:list")).status_code == 200
    assert viewer.get("/no-such-page/12345").status_code == 404
    after = scrape(client)

    name = "opsportal_http_request_duration_seconds_count"
    listed = {"view": "endpoints:list", "method": "GET", "status": "200"}
    assert value(after, name, **listed) - value(before, name, **listed) >= 1
    unmatched = {"view": "unmatched", "method": "GET", "status": "404"}
    assert value(after, name, **unmatched) - value(before, name, **unmatched) >= 1
    views = {dict(labels)["view"] for (metric, labels) in after if metric == name}
    assert not any("/" in view or "12345" in view for view in views)
    bucket = "opsportal_http_request_duration_seconds_bucket"
    assert value(after, bucket, le="+Inf", **listed) == value(after, name, **listed)


@pytest.fixture
def sandbox_faults(sandbox: SandboxServer) -> Iterator[SandboxServer]:
    yield sandbox
    clear_api_faults(sandbox.url)


def test_aws_calls_are_counted_by_service_operation_and_outcome(scraping, client, sandbox_faults):
    name = "opsportal_aws_calls_total"
    ok = {"service": "sagemaker", "operation": "ListEndpoints", "outcome": "ok"}
    throttled = {**ok, "outcome": "throttled"}
    before = scrape(client)

    inventory_sync_configured()
    middle = scrape(client)
    assert value(middle, name, **ok) - value(before, name, **ok) >= 2  # both regions
    assert value(middle, name, **throttled) == value(before, name, **throttled)

    api_fault(sandbox_faults.url, "sagemaker:ListEndpoints", throttle_rate=1.0)
    inventory_sync_configured()
    after = scrape(client)
    assert value(after, name, **throttled) - value(middle, name, **throttled) >= 2
    # Every attempt is counted, botocore's retries included.
    attempts = "opsportal_aws_throttled_attempts_total"
    labels = {"service": "sagemaker", "operation": "ListEndpoints"}
    made = value(after, attempts, **labels) - value(middle, attempts, **labels)
    assert made >= 2 * settings.AWS_MAX_ATTEMPTS


def test_task_outcomes_show_in_the_scrape(scraping, client):
    name = "opsportal_celery_tasks_total"
    labels = {"task": "core.tasks.worker_heartbeat", "outcome": "success"}
    before = scrape(client)
    worker_heartbeat.delay()
    after = scrape(client)
    assert value(after, name, **labels) - value(before, name, **labels) == 1
    # The heartbeat it wrote is the queue-age proxy: just now.
    assert 0 <= value(after, "opsportal_worker_heartbeat_age_seconds") < 60


def test_levels_are_read_at_scrape_time(scraping, client, endpoint, user_factory, sandbox):
    samples = scrape(client)
    assert value(samples, "opsportal_pending_approvals") == 0
    assert value(samples, "opsportal_open_incidents") == 0
    never = {"kind": "inventory", "target": "sandbox", "region": "eu-west-1"}
    assert value(samples, "opsportal_sync_lag_seconds", **never) == float("inf")

    shift(endpoint, user_factory("proposer", "Operator"))
    incident(endpoint)
    inventory_sync_configured()
    samples = scrape(client)
    assert value(samples, "opsportal_pending_approvals") == 1
    assert value(samples, "opsportal_open_incidents") == 1
    assert 0 <= value(samples, "opsportal_sync_lag_seconds", **never) < 60
    assert value(samples, "opsportal_sync_failing", **never) == 0


def test_worker_counts_made_in_another_process_are_in_the_web_scrape(scraping, client):
    """A Celery worker is another process: its counts reach the web's scrape through the
    shared metrics directory."""
    labels = {"task": "tests.elsewhere", "outcome": "failure"}
    before = value(scrape(client), "opsportal_celery_tasks_total", **labels)
    code = (
        "import django; django.setup()\n"
        "from core.metrics import TASKS\n"
        "TASKS.labels('tests.elsewhere', 'failure').inc(3)\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=os.environ, check=True)
    after = value(scrape(client), "opsportal_celery_tasks_total", **labels)
    assert after - before == 3


def test_metrics_are_off_until_a_token_or_network_is_configured(client, settings):
    settings.OPSPORTAL_METRICS_TOKEN = ""
    settings.OPSPORTAL_METRICS_ALLOWED_NETWORKS = ()
    response = client.get("/metrics")
    assert response.status_code == 404
    assert "set OPSPORTAL_METRICS_TOKEN or OPSPORTAL_METRICS_ALLOWED_NETWORKS" in (
        response.content.decode()
    )


def test_a_wrong_or_missing_token_is_refused(client, settings):
    settings.OPSPORTAL_METRICS_TOKEN = TOKEN
    settings.OPSPORTAL_METRICS_ALLOWED_NETWORKS = ()
    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong"}, {"HTTP_AUTHORIZATION": TOKEN}):
        response = client.get("/metrics", **headers)
        assert response.status_code == 403
        assert "valid bearer token" in response.content.decode()
        assert "opsportal_" not in response.content.decode()


def test_allowed_networks_admit_by_the_client_address(client, settings):
    settings.OPSPORTAL_METRICS_TOKEN = ""
    settings.OPSPORTAL_METRICS_ALLOWED_NETWORKS = (ip_network("10.1.0.0/16"),)
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    refused = client.get("/metrics", REMOTE_ADDR="10.2.0.1")
    assert refused.status_code == 403 and "OPSPORTAL_METRICS_ALLOWED_NETWORKS" in (
        refused.content.decode()
    )
    # Behind the portal's proxy, the address is the one the proxy saw, not the client's claim.
    settings.OPSPORTAL_BEHIND_PROXY = True
    settings.OPSPORTAL_PROXY_HOPS = 1
    spoofed = client.get(
        "/metrics", REMOTE_ADDR="10.1.0.9", HTTP_X_FORWARDED_FOR="10.1.2.3, 192.0.2.7"
    )
    assert spoofed.status_code == 403


def test_a_signed_in_admin_without_the_token_is_refused(client, settings, role_client):
    settings.OPSPORTAL_METRICS_TOKEN = TOKEN
    settings.OPSPORTAL_METRICS_ALLOWED_NETWORKS = ()
    assert role_client("Admin").get("/metrics").status_code == 403


def _start(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "opsportal.settings", **env}
    environment.setdefault("OPSPORTAL_SECURE", "false")
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OPSPORTAL_LOG_FORMAT": "xml"}, "OPSPORTAL_LOG_FORMAT='xml' is not a log format"),
        ({"OPSPORTAL_METRICS_TOKEN": "short"}, "OPSPORTAL_METRICS_TOKEN must be 24 to 256"),
        (
            {"OPSPORTAL_METRICS_ALLOWED_NETWORKS": "10.0.0.0/8,10.0.0.300/32"},
            "OPSPORTAL_METRICS_ALLOWED_NETWORKS: '10.0.0.300/32' is not a network",
        ),
        ({"PROMETHEUS_MULTIPROC_DIR": "relative/dir"}, "must be an absolute path"),
    ],
)
def test_bad_settings_stop_start_up(env, message):
    result = _start(**env)
    assert result.returncode != 0
    assert message in result.stderr


def test_good_settings_start():
    result = _start(
        OPSPORTAL_METRICS_TOKEN=secrets.token_urlsafe(32),
        OPSPORTAL_METRICS_ALLOWED_NETWORKS="10.0.0.0/8, 2001:db8::/32",
        OPSPORTAL_LOG_FORMAT="JSON",
    )
    assert result.returncode == 0, result.stderr


def test_json_log_lines_carry_time_level_logger_message_and_the_request_id(tmp_path):
    code = (
        "import django; django.setup()\n"
        "from django.test import Client\n"
        "response = Client(HTTP_HOST='127.0.0.1').get("
        "'/no-such-page', HTTP_X_REQUEST_ID='trace-0123456789')\n"
        "print(response['X-Request-ID'])\n"
    )
    environment = {
        **os.environ,
        "OPSPORTAL_LOG_FORMAT": "json",
        "DJANGO_SETTINGS_MODULE": "tests.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "trace-0123456789"
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    not_found = [line for line in lines if line["logger"] == "django.request"]
    assert not_found, result.stderr
    line = not_found[0]
    assert line["level"] == "WARNING"
    assert line["message"] == "Not Found: /no-such-page"
    assert line["request_id"] == "trace-0123456789"
    assert line["time"].endswith("+00:00") and "T" in line["time"]


def test_a_line_logged_while_serving_a_request_names_it_and_one_after_does_not(rf):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("tests.request_lines")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    def view(request):
        logger.info("applying the shift")
        return HttpResponse("ok")

    try:
        response = RequestIdMiddleware(view)(rf.get("/", HTTP_X_REQUEST_ID="bad id!"))
        logger.info("between requests")
    finally:
        logger.removeHandler(handler)
    during, after = (json.loads(line) for line in stream.getvalue().splitlines())
    assert during["message"] == "applying the shift"
    assert during["request_id"] == response["X-Request-ID"] != "bad id!"
    assert len(during["request_id"]) == 32  # generated: the incoming one was not sane
    assert after["request_id"] == "-"
