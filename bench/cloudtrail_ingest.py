"""CloudTrail ingest of a 20,000-event SageMaker backlog at LookupEvents' real 2 calls/s.

The sandbox answers LookupEvents with CloudTrail's limits (50 events a page, 2 requests a
second per account-region, ThrottlingException above), so the physical ceiling is 100
events a second. The ingest runs as beat would run it (each run stops after its budget and
the next drains the rest) and is measured against that ceiling. Every call is timed twice:
when it leaves the portal (what the shared limiter paces) and when it reaches the point
where the sandbox applies CloudTrail's limit (what AWS would count); in neither may a
1-second window hold more than 2.

The sandbox runs in this process, so its 20,000 recorded events are frozen out of the
garbage collector once recorded: a full collection of them would pause the portal's
threads too, a delay that a separate AWS never causes.
"""

from __future__ import annotations

import gc
import os
import time
from typing import Any

from django.conf import settings

from apihistory.models import TrailEvent
from apihistory.services import IngestResult, trail_ingest
from core.aws import clients
from core.aws import cloudtrail as aws_cloudtrail
from core.aws.cloudtrail import PAGE_SIZE
from sandbox.testing import (
    CI_DEPLOYER_KEY,
    EVENT_SOURCES,
    MARIA_KEY,
    PORTAL_KEY,
    ROOT_KEY,
    Call,
    CallKind,
    SandboxServer,
    identity_for,
    resources_named,
)

COUNT = 20_000
REGION = "us-east-1"
HOURS = 20  # inside the first run's one-day window
_CALLS = (
    ("DescribeEndpoint", {"EndpointName": "fraud-detection"}),
    ("ListEndpoints", {"NameContains": "fraud"}),
    ("DescribeEndpointConfig", {"EndpointConfigName": "fraud-detection-v7"}),
    (
        "UpdateEndpointWeightsAndCapacities",
        {
            "EndpointName": "fraud-detection",
            "DesiredWeightsAndCapacities": [{"VariantName": "A", "DesiredWeight": 90.0}],
        },
    ),
    ("DescribeModel", {"ModelName": "fraud-xgb-2025-01"}),
    ("CreateTransformJob", {"TransformJobName": "nightly-scoring", "ModelName": "fraud-xgb"}),
)
_KEYS = (MARIA_KEY, CI_DEPLOYER_KEY, PORTAL_KEY, ROOT_KEY)


def _record_backlog(server: SandboxServer, account_id: str, now: float) -> None:
    """COUNT SageMaker calls spread over the last HOURS, recorded as delivered."""
    step = HOURS * 3600 / COUNT
    for number in range(COUNT):
        operation, params = _CALLS[number % len(_CALLS)]
        key = _KEYS[number % len(_KEYS)]
        call = Call(
            kind=CallKind(
                "sagemaker",
                EVENT_SOURCES["sagemaker"],
                operation,
                operation.startswith(("Describe", "List")),
            ),
            time=now - HOURS * 3600 + number * step,
            region=REGION,
            account_id=account_id,
            access_key=key,
            identity=identity_for(key, account_id),
            source_ip=f"10.0.{number % 200}.{number % 250}",
            user_agent="aws-cli/2.22.4 md/awscrt#0.22.0 command/sagemaker",
            request_parameters=params,
        )
        server.state.cloudtrail.record(
            call, resources_named("sagemaker", params, REGION, account_id), backfill=True
        )


def _most_in_one_second(times: list[float]) -> int:
    best = first = 0
    for last, moment in enumerate(times):
        while moment - times[first] >= 1.0:
            first += 1
        best = max(best, last - first + 1)
    return best


def run() -> None:
    target = settings.OPSPORTAL_TARGETS[0]
    rate = settings.OPSPORTAL_CLOUDTRAIL_LOOKUP_RATE
    with SandboxServer(port=0, seed=None, creating_seconds=0.0, lookup_rate=2.0) as server:
        os.environ["AWS_ENDPOINT_URL"] = server.url
        clients.forget_clients()
        _record_backlog(server, target.account_id, time.time() - 60)
        gc.collect()
        gc.freeze()
        sent: list[float] = []
        gateway = aws_cloudtrail._cloudtrail(target, REGION)
        gateway.meta.events.register(
            "before-send.cloudtrail.LookupEvents", lambda **_: sent.append(time.monotonic())
        )

        arrivals: list[tuple[float, bool]] = []
        limiter: Any = server.state.lookup_limiter
        original = limiter.allow

        def timed_allow(key: tuple[str, str]) -> bool:
            allowed = bool(original(key))
            arrivals.append((time.monotonic(), allowed))
            return allowed

        limiter.allow = timed_allow
        runs: list[IngestResult] = []
        clients.reset_call_counts()
        started = time.perf_counter()
        while not runs or not runs[-1].complete:
            runs.append(trail_ingest(target=target, region=REGION))
            if not runs[-1].ok:
                raise SystemExit(f"ingest failed: {runs[-1].summary()}")
        elapsed = time.perf_counter() - started
        calls = clients.call_counts()[("cloudtrail", "LookupEvents")]

        clients.reset_call_counts()
        steady = trail_ingest(target=target, region=REGION)
        steady_calls = clients.call_counts()[("cloudtrail", "LookupEvents")]
        del limiter.allow
        gc.unfreeze()

    stored = TrailEvent.objects.filter(region=REGION).count()
    stored_first = sum(r.stored for r in runs)
    times = sorted(t for t, _ in arrivals)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    sent_gaps = [b - a for a, b in zip(sent, sent[1:], strict=False)]
    refused = sum(1 for _, allowed in arrivals if not allowed)
    ceiling = rate * PAGE_SIZE
    per_second = stored_first / elapsed
    print(f"== CloudTrail ingest: {COUNT} SageMaker events backlog, LookupEvents at {rate}/s ==")
    print(
        f"from empty: {stored_first} events stored in {elapsed:.1f} s over {len(runs)} run(s), "
        f"{calls} LookupEvents calls (minimum ceil(N/{PAGE_SIZE}) = {-(-COUNT // PAGE_SIZE)}); "
        f"{stored} rows, {COUNT - stored} missing"
    )
    print(
        f"throughput: {per_second:.1f} events/s = {per_second / ceiling:.1%} of the "
        f"{ceiling} events/s physical limit (target >= 90%)"
    )
    print(
        f"rate: max {_most_in_one_second(sent)} LookupEvents calls sent in any 1 s window, "
        f"max {_most_in_one_second(times)} arriving at the sandbox (both must be <= {rate}); "
        f"smallest gap {min(sent_gaps):.3f} s sent, {min(gaps):.3f} s arriving; "
        f"{refused} throttled"
    )
    print(
        f"next run (nothing new): {steady_calls} LookupEvents calls for the "
        f"{settings.OPSPORTAL_CLOUDTRAIL_OVERLAP_SECONDS} s overlap, {steady.stored} new"
    )
