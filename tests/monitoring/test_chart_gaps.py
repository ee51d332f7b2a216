"""Minutes without data are gaps: every series lies on its range's period grid with a null
where CloudWatch had no datapoint, and a rate has no value in a minute without requests
(0 errors of 0 requests is not 0 %)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache

from monitoring.live import metrics
from monitoring.live.grid import on_grid, period_grid
from monitoring.live.metrics import error_latency_series, metrics_panel
from tests.monitoring.chart_world import FakeCloudWatch, chart_endpoint, hour_range

NOW = datetime(2026, 11, 27, 6, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_missing_minutes_become_nulls_at_exactly_those_minutes():
    start = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
    grid = period_grid(start=start, end=start + timedelta(minutes=12), period=60, now=NOW)
    assert len(grid) == 12 and grid[0] == start and grid[-1] == start + timedelta(minutes=11)
    have = [0, 1, 2, 3, 4, 5, 6, 11]
    x, y = on_grid(
        grid=grid,
        timestamps=[start + timedelta(minutes=m) for m in have],
        values=[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.179],
        scale=100,
    )
    assert x == [(start + timedelta(minutes=m)).isoformat() for m in range(12)]
    assert [i for i, v in enumerate(y) if v is None] == [7, 8, 9, 10]
    assert y[6] == 0 and y[11] == 17.9


def test_a_rate_has_no_value_where_there_were_no_requests():
    start = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
    grid = period_grid(start=start, end=start + timedelta(minutes=4), period=60, now=NOW)
    minutes = [start + timedelta(minutes=m) for m in range(4)]
    _, y = on_grid(
        grid=grid,
        timestamps=minutes,
        values=[0.0, 0.0, 0.5, 0.0],
        scale=100,
        shown={minutes[0], minutes[2]},
    )
    assert y == [0, None, 50, None]


def test_the_grid_starts_where_cloudwatch_rounds_the_start_time():
    ragged = NOW - timedelta(days=20, minutes=3)  # 20 days old: five-minute rounding
    grid = period_grid(start=ragged, end=ragged + timedelta(hours=1), period=300, now=NOW)
    assert grid[0] == ragged.replace(minute=ragged.minute - ragged.minute % 5)
    assert all((b - a) == timedelta(minutes=5) for a, b in zip(grid, grid[1:], strict=False))


def test_a_datapoint_off_the_grid_is_kept_not_dropped():
    start = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
    grid = period_grid(start=start, end=start + timedelta(minutes=10), period=300, now=NOW)
    odd = start + timedelta(minutes=2)
    x, y = on_grid(grid=grid, timestamps=[odd], values=[3.0])
    assert odd.isoformat() in x and y[x.index(odd.isoformat())] == 3.0


@pytest.mark.django_db
def test_the_panel_draws_gaps_and_null_rates_and_the_timeline_gets_the_same(monkeypatch):
    endpoint = chart_endpoint("gappy", variants={"A": False})
    time_range = hour_range()
    cloudwatch = FakeCloudWatch(time_range)
    # Requests in minutes 0-6 and 11-12; CloudWatch leaves out 7-10. Minute 12 reports
    # zero requests (as some publishers do) and so has no error rate either.
    requests = {m: 100.0 for m in (0, 1, 2, 3, 4, 5, 6, 11)} | {12: 0.0}
    cloudwatch.put("A", "Invocations", "Sum", requests)
    cloudwatch.put("A", "Invocation5XXErrors", "Average", {m: 0.0 for m in requests} | {11: 0.179})
    cloudwatch.put("A", "ModelLatency", "p99", {m: 4000.0 for m in (0, 1, 2, 3, 4, 5, 6, 11)})
    monkeypatch.setattr(metrics.aws_cloudwatch, "get_metric_data", cloudwatch)

    panel = metrics_panel(endpoint=endpoint, time_range=time_range)

    charts = {c["id"]: c for c in panel.charts}
    invocations = charts["invocations"]["traces"][0]
    assert len(invocations["x"]) == 60
    assert invocations["x"][7] == cloudwatch.minute(7).isoformat()
    assert [i for i, v in enumerate(invocations["y"][:13]) if v is None] == [7, 8, 9, 10]
    assert invocations["y"][12] == 0  # a count of zero is a value
    errors = charts["errors5xx"]["traces"][0]["y"]
    assert errors[6] == 0 and errors[11] == 17.9
    assert errors[7:11] == [None] * 4 and errors[12] is None  # no requests: no rate
    assert all(v is None for v in errors[13:])
    p99 = next(t for t in charts["latency"]["traces"] if t["name"] == "A p99")["y"]
    assert p99[6] == 4.0 and p99[7:11] == [None] * 4
    assert not charts["invocations"]["empty"]

    lines = {s["name"]: s for s in error_latency_series(panel)}
    assert lines["A 5XX"]["y"] == errors and lines["A p99"]["y"] == p99
