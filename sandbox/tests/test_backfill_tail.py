"""The demo world starts healthy at any time of day: its backfilled history ends with
minutes free of server errors, so no 5XX alarm fires at the first evaluation by chance."""

from __future__ import annotations

import pytest

from sandbox.backfill import CLEAN_TAIL_MINUTES, MINUTE, VariantHistory, write_history
from sandbox.endpoint_metrics import variant_dimensions
from sandbox.metric_store import MetricStore, SeriesKey
from sandbox.seed import DEMO_ENDPOINTS, FIVE_XX_RATE_THRESHOLD

DAY_START = 1_764_201_600  # a midnight UTC


@pytest.mark.parametrize("hour", range(0, 24, 2))
def test_the_last_minutes_of_the_backfill_stay_under_the_5xx_threshold(hour):
    end = DAY_START + hour * 3600 + 1234
    for endpoint in DEMO_ENDPOINTS:
        total = sum(v.weight for v in endpoint.variants) or 1.0
        for variant in endpoint.variants:
            store = MetricStore()
            write_history(
                store,
                VariantHistory(
                    account_id="123456789012",
                    region=endpoint.region,
                    endpoint=endpoint.name,
                    variant=variant.name,
                    instance_type=variant.instance_type,
                    instance_count=1,
                    requests_per_minute=endpoint.history_rpm * variant.weight / total,
                    model_latency_us=200.0,
                    incident=None,
                ),
                end=end,
                minutes=120,
            )
            key = SeriesKey(
                "123456789012",
                endpoint.region,
                "AWS/SageMaker",
                "Invocation5XXErrors",
                variant_dimensions(endpoint.name, variant.name),
            )
            last = int(end // MINUTE) * MINUTE
            tail = store.aggregate(key, last - CLEAN_TAIL_MINUTES * MINUTE, last, MINUTE)
            assert tail, (endpoint.name, variant.name)
            rates = [p.bucket.statistic("Average") or 0.0 for p in tail]
            assert max(rates) <= FIVE_XX_RATE_THRESHOLD, (endpoint.name, variant.name, rates)
