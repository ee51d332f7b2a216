"""Inventory sync of 1,000 sandbox endpoints: AWS calls on first and steady-state syncs."""

from __future__ import annotations

import math
import os
import time

from django.conf import settings

from core.aws import clients
from endpoints.services import inventory_sync
from sandbox.testing import SandboxServer, allow_endpoint_instances, seed_bulk

COUNT = 1000


def _total(counts: dict) -> int:
    return sum(counts.values())


def run() -> None:
    with SandboxServer(port=0, seed=None, creating_seconds=0.0) as server:
        os.environ["AWS_ENDPOINT_URL"] = server.url
        clients.forget_clients()
        # Three ml.m5.large instances an endpoint: far past a new account's quota of 20.
        allow_endpoint_instances(server.url, "ml.m5.large", COUNT * 3, region="us-east-1")
        started = time.perf_counter()
        seed_bulk(endpoint_url=server.url, count=COUNT, region="us-east-1")
        seeded = time.perf_counter() - started
        target = settings.OPSPORTAL_TARGETS[0]
        # Let every endpoint leave Creating so the first sync sees the settled state.
        time.sleep(0.5)

        clients.reset_call_counts()
        started = time.perf_counter()
        first = inventory_sync(target=target, region="us-east-1")
        first_s = time.perf_counter() - started
        first_calls = clients.call_counts()

        clients.reset_call_counts()
        started = time.perf_counter()
        steady = inventory_sync(target=target, region="us-east-1")
        steady_s = time.perf_counter() - started
        steady_calls = clients.call_counts()

    list_pages = math.ceil(COUNT / 100)
    per_endpoint = (_total(first_calls) - first_calls[("sagemaker", "ListEndpoints")]) / COUNT
    describe_all = list_pages + COUNT * per_endpoint
    describes = _total(steady_calls) - steady_calls[("sagemaker", "ListEndpoints")]
    print(f"== Inventory sync: {COUNT} sandbox endpoints (seeded in {seeded:.1f} s) ==")
    print(
        f"first sync: {_total(first_calls)} AWS calls in {first_s:.1f} s "
        f"({dict(sorted((f'{s}.{o}', n) for (s, o), n in first_calls.items()))}); "
        f"{len(first.created)} endpoints stored"
    )
    print(
        f"no-change sync: {_total(steady_calls)} AWS calls in {steady_s:.2f} s: "
        f"{steady_calls[('sagemaker', 'ListEndpoints')]} ListEndpoints "
        f"(target ceil(N/100) = {list_pages}), {describes} Describe calls (target 0); "
        f"{steady.described} endpoints described"
    )
    print(
        f"describe-everything would cost {describe_all:.0f} calls per sync: "
        f"incremental uses {_total(steady_calls) / describe_all:.3f} of that "
        f"({describe_all / max(1, _total(steady_calls)):.0f}× fewer)"
    )
