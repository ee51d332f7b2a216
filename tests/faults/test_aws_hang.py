"""AWS accepting connections and never answering: pages stay within their budget, the
circuit breaker stops asking, liveness stays up, and background work keeps its patience."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.core.cache import cache
from django.urls import reverse

from core.aws import clients
from core.aws import sagemaker as aws_sagemaker
from core.aws.breaker import breaker_state
from core.aws.errors import Unavailable
from core.targets import target_by_name
from tests.support.pages import GET_PAGES, page_objects, page_url
from tests.support.world import matrix_endpoint

pytestmark = pytest.mark.django_db

# The production page budget (the suite's own is roomier), plus rendering and the test
# client's own work.
BUDGET_SECONDS = 3
PAGE_SECONDS = BUDGET_SECONDS + 1.5


@pytest.fixture
def hung(monkeypatch, hanging_aws, client, user_factory, settings):
    settings.OPSPORTAL_AWS_PAGE_BUDGET_SECONDS = BUDGET_SECONDS
    monkeypatch.setenv("AWS_ENDPOINT_URL", hanging_aws)
    clients.forget_clients()
    cache.clear()
    client.force_login(user_factory("oncall", "Admin"))
    client.objects = page_objects(
        matrix_endpoint(variants=2), user_factory("colleague", "Operator")
    )
    yield client
    cache.clear()


def _timed_get(client, url: str) -> tuple[float, int, str]:
    started = time.monotonic()
    response = client.get(url)
    return time.monotonic() - started, response.status_code, response.content.decode()


@pytest.mark.parametrize("breaker_failures", [3, 10_000], ids=["breaker", "no-breaker"])
def test_every_page_answers_within_its_budget(hung, settings, breaker_failures):
    """Each page on its own budget, whether or not the breaker has stopped the calls."""
    settings.OPSPORTAL_AWS_BREAKER_FAILURES = breaker_failures
    slow = {}
    for name in GET_PAGES:
        seconds, status, _ = _timed_get(hung, page_url(hung.objects, name))
        assert status < 500, name
        if seconds > PAGE_SECONDS:
            slow[name] = round(seconds, 1)
    assert slow == {}
    seconds, status, _ = _timed_get(hung, reverse("healthz"))
    assert status == 200 and seconds < 1


def test_the_metrics_panel_says_aws_is_not_answering_and_backs_off(hung):
    url = page_url(hung.objects, "monitoring:endpoint_metrics_panel")
    seconds, status, body = _timed_get(hung, url)
    assert status == 200 and seconds < PAGE_SECONDS
    assert "No metric data: CloudWatch did not answer." in body
    assert 'data-refresh-seconds="120"' in body and "failed=1" in body
    # Each failed refresh waits twice as long as the one before.
    _, _, again = _timed_get(hung, url + "?failed=1")
    assert 'data-refresh-seconds="240"' in again and "failed=2" in again


def test_after_repeated_failures_pages_stop_asking_until_a_probe_finds_aws_back(
    hung, settings, monkeypatch, sandbox_server
):
    settings.OPSPORTAL_METRICS_CACHE_SECONDS = 0
    url = page_url(hung.objects, "monitoring:endpoint_metrics_panel")
    for _ in range(settings.OPSPORTAL_AWS_BREAKER_FAILURES):
        _timed_get(hung, url)
    before = clients.call_counts()
    seconds, status, body = _timed_get(hung, url)
    assert status == 200 and seconds < 0.5
    assert "cloudwatch in sandbox/us-east-1 has been failing since" in body
    assert clients.call_counts() == before  # not asked at all

    monkeypatch.setenv("AWS_ENDPOINT_URL", sandbox_server.url)  # AWS answers again
    clients.forget_clients()
    reopen = breaker_state(target="sandbox", region="us-east-1", service="cloudwatch").open_until
    with mock.patch("core.aws.breaker.time.time", return_value=reopen + 1):
        _, _, body = _timed_get(hung, url)
    assert 'data-testid="metrics-stale"' not in body and "refreshes every minute" in body


def test_background_work_keeps_its_longer_timeouts(hung, settings):
    """Outside a request a call waits for the full read timeout (and retries), as syncs
    and applies should: patience there costs no user a page."""
    settings.AWS_READ_TIMEOUT = settings.OPSPORTAL_AWS_PAGE_READ_TIMEOUT + 2
    clients.forget_clients()
    started = time.monotonic()
    with pytest.raises(Unavailable):
        list(aws_sagemaker.list_endpoints(target=target_by_name("sandbox"), region="us-east-1"))
    assert time.monotonic() - started >= settings.AWS_READ_TIMEOUT
