"""Metrics panel and the endpoint list's health column: AWS calls and wall time cold vs
warm, against the naive approach (one call per metric, or per row)."""

from __future__ import annotations

import os
import statistics
import time

from django.conf import settings
from django.core.cache import cache

from core.aws import clients
from endpoints.models import Endpoint
from endpoints.selectors import endpoints_with_variants
from endpoints.services import inventory_sync
from monitoring.live.health import endpoints_health
from monitoring.live.metrics import TimeRange, metrics_panel, panel_queries
from sandbox.testing import SandboxServer

ROUNDS = 20


def run() -> None:
    with SandboxServer(port=0, seed="demo", creating_seconds=0.0) as server:
        os.environ["AWS_ENDPOINT_URL"] = server.url
        clients.forget_clients()
        time.sleep(0.5)
        for region in ("us-east-1", "eu-west-1"):
            inventory_sync(target=settings.OPSPORTAL_TARGETS[0], region=region)
        endpoint = Endpoint.objects.get(name="tumor-classifier")
        variants = [v.name for v in endpoint.variants.all() if not v.is_shadow]
        print(f"== Metrics panel: {endpoint.name}, {len(variants)} variants ==")
        for key in ("3h", "24h", "7d"):
            time_range = TimeRange.preset(key)
            cold_ms, warm_ms, cold_calls, warm_calls = [], [], 0, 0
            for _ in range(ROUNDS):
                cache.clear()
                clients.reset_call_counts()
                started = time.perf_counter()
                panel = metrics_panel(endpoint=endpoint, time_range=time_range)
                cold_ms.append((time.perf_counter() - started) * 1000)
                cold_calls = sum(clients.call_counts().values())
                clients.reset_call_counts()
                started = time.perf_counter()
                metrics_panel(endpoint=endpoint, time_range=time_range)
                warm_ms.append((time.perf_counter() - started) * 1000)
                warm_calls = sum(clients.call_counts().values())
            queries = panel_queries(
                endpoint_name=endpoint.name,
                variant_names=variants,
                period=panel.period,
                range_seconds=time_range.seconds,
            )
            ratio = len(queries) // max(1, cold_calls)
            points = sum(len(t["x"]) for c in panel.charts for t in c["traces"])
            print(
                f"{key}: {len(queries)} queries, {points} points; cold {cold_calls} AWS call(s), "
                f"p50 {statistics.median(cold_ms):.1f} ms; warm {warm_calls} calls, "
                f"p50 {statistics.median(warm_ms):.2f} ms; naive (one GetMetricStatistics "
                f"per metric per variant) {len(queries)} calls: {ratio}× more"
            )
        _list_health()


def _list_health() -> None:
    """The health column for one page of the list: every live endpoint of the demo world,
    in two regions."""
    pks = list(Endpoint.objects.filter(deleted_at__isnull=True).values_list("pk", flat=True))
    endpoints = endpoints_with_variants(pks=pks)
    regions = {(e.target, e.region) for e in endpoints}
    cold_ms, warm_ms, cold_calls, warm_calls = [], [], 0, 0
    for _ in range(ROUNDS):
        cache.clear()
        clients.reset_call_counts()
        started = time.perf_counter()
        endpoints_health(endpoints=endpoints)
        cold_ms.append((time.perf_counter() - started) * 1000)
        cold_calls = sum(clients.call_counts().values())
        clients.reset_call_counts()
        started = time.perf_counter()
        endpoints_health(endpoints=endpoints)
        warm_ms.append((time.perf_counter() - started) * 1000)
        warm_calls = sum(clients.call_counts().values())
    print(f"== Endpoint list health column: {len(endpoints)} endpoints, {len(regions)} regions ==")
    print(
        f"cold {cold_calls} AWS call(s) (one GetMetricData per region), "
        f"p50 {statistics.median(cold_ms):.1f} ms; warm {warm_calls} calls, "
        f"p50 {statistics.median(warm_ms):.2f} ms; one call per row would be {len(endpoints)}"
    )
