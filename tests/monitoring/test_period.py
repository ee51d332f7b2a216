"""CloudWatch's period rules for chart ranges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitoring.live.metrics import RANGES, TimeRange, choose_period, panel_queries

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("key", "period"), [("1h", 60), ("3h", 60), ("12h", 300), ("24h", 300), ("7d", 1800)]
)
def test_presets_get_the_finest_period_that_keeps_charts_light(key, period):
    time_range = TimeRange.preset(key, now=NOW)
    assert choose_period(start=time_range.start, end=time_range.end, now=NOW) == period
    assert time_range.seconds == RANGES[key]
    assert time_range.seconds / period <= 360


@pytest.mark.parametrize(("days_ago", "minimum"), [(10, 60), (20, 300), (70, 3600), (400, 3600)])
def test_old_data_only_exists_at_coarser_periods(days_ago, minimum):
    start = NOW - timedelta(days=days_ago)
    period = choose_period(start=start, end=start + timedelta(hours=1), now=NOW)
    assert period >= minimum and period % 60 == 0 and period % minimum == 0


def test_one_query_set_covers_every_variant_with_lowercase_ids():
    queries = panel_queries(
        endpoint_name="e", variant_names=["A", "B", "C"], period=60, range_seconds=3600
    )
    assert len({q.id for q in queries}) == len(queries)
    assert all(q.id[0].islower() for q in queries)
    assert {dict(q.dimensions)["VariantName"] for q in queries} == {"A", "B", "C"}
    assert {q.stat for q in queries if q.metric == "ModelLatency"} >= {"p50", "p90", "p99"}
    summaries = [q for q in queries if q.period == 3600 and q.metric == "ModelLatency"]
    assert len(summaries) >= 6  # p50 and p99 over the whole range, per variant
