"""The per target-region, per service circuit breaker pages read AWS through."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.cache import cache

from core.aws.breaker import BreakerOpen, breaker_admit, breaker_record, breaker_state

WHERE = {"target": "sandbox", "region": "us-east-1", "service": "cloudwatch"}


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _fail(times: int) -> None:
    for _ in range(times):
        breaker_record(**WHERE, ok=False)


def _admitted() -> bool:
    try:
        breaker_admit(**WHERE, operation="GetMetricData")
    except BreakerOpen:
        return False
    return True


def test_opens_after_failures_in_a_row_and_only_for_that_service(settings):
    _fail(settings.OPSPORTAL_AWS_BREAKER_FAILURES - 1)
    assert _admitted()
    _fail(1)
    assert not _admitted()
    assert breaker_state(**WHERE).is_open
    breaker_admit(**{**WHERE, "service": "sagemaker"}, operation="DescribeEndpoint")
    breaker_admit(**{**WHERE, "region": "eu-west-1"}, operation="GetMetricData")


def test_a_success_between_failures_starts_the_count_again(settings):
    _fail(settings.OPSPORTAL_AWS_BREAKER_FAILURES - 1)
    breaker_record(**WHERE, ok=True)
    _fail(settings.OPSPORTAL_AWS_BREAKER_FAILURES - 1)
    assert _admitted()


def test_after_the_open_period_one_probe_goes_through(settings):
    _fail(settings.OPSPORTAL_AWS_BREAKER_FAILURES)
    later = breaker_state(**WHERE).open_until + 1
    with mock.patch("core.aws.breaker.time.time", return_value=later):
        assert _admitted()  # the probe
        assert not _admitted()  # everyone else waits for its answer
        breaker_record(**WHERE, ok=False)  # the probe failed: open again at once
        assert not _admitted()
        assert breaker_state(**WHERE).open_until > later


def test_a_successful_probe_closes_it(settings):
    _fail(settings.OPSPORTAL_AWS_BREAKER_FAILURES)
    later = breaker_state(**WHERE).open_until + 1
    with mock.patch("core.aws.breaker.time.time", return_value=later):
        assert _admitted()
        breaker_record(**WHERE, ok=True)
        assert _admitted() and _admitted()
    assert breaker_state(**WHERE).failures == 0


def test_a_failing_cache_never_stops_a_page():
    with mock.patch.object(cache, "get", side_effect=ConnectionError("cache down")):
        _fail(10)
        assert _admitted()


def test_the_refusal_says_what_is_failing_and_since_when(settings):
    _fail(settings.OPSPORTAL_AWS_BREAKER_FAILURES)
    with pytest.raises(BreakerOpen) as refused:
        breaker_admit(**WHERE, operation="GetMetricData")
    assert refused.value.code == "CircuitOpen"
    assert "cloudwatch in sandbox/us-east-1 has been failing since" in str(refused.value)
