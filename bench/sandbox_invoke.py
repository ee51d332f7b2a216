"""InvokeEndpoint through the sandbox: throughput, and the latency it adds over the bare model.

The demo's tumor-classifier (two variants, data capture on) is invoked with one held-out row
per request, as the traffic generator does. The bare model call is ``predict_csv`` on the
same row in-process; the difference to a boto3 round trip is what routing, HTTP, SigV4,
metrics and capture cost. CloudWatch's OverheadLatency is the sandbox's own share of it.
"""

from __future__ import annotations

import statistics
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.config import Config

from sandbox.testing import SandboxServer, holdout_rows, rows_to_csv, train_tumor

ENDPOINT = "tumor-classifier"
REGION = "us-east-1"
BARE_CALLS = 2000
SINGLE_THREAD_CALLS = 600
THREADS = 4
CALLS_PER_THREAD = 250


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _runtime(url: str) -> Any:
    return boto3.client(
        "sagemaker-runtime",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )


def _timed_calls(url: str, body: str, count: int) -> list[float]:
    runtime = _runtime(url)
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        runtime.invoke_endpoint(EndpointName=ENDPOINT, ContentType="text/csv", Body=body)
        timings.append(time.perf_counter() - started)
    return timings


def _overhead_us(url: str) -> tuple[float, float]:
    """p50 and p95 of the sandbox's OverheadLatency for variant A (80% of the traffic)."""
    request = urllib.request.Request(f"{url}/_sandbox/flush-metrics", method="POST")
    urllib.request.urlopen(request, timeout=10).read()
    cloudwatch = boto3.client(
        "cloudwatch",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    now = datetime.now(UTC)
    queries = [
        {
            "Id": f"{stat}_{variant.lower()}",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/SageMaker",
                    "MetricName": "OverheadLatency",
                    "Dimensions": [
                        {"Name": "EndpointName", "Value": ENDPOINT},
                        {"Name": "VariantName", "Value": variant},
                    ],
                },
                "Period": 600,
                "Stat": stat,
            },
        }
        for stat in ("p50", "p95")
        for variant in ("A",)
    ]
    answer = cloudwatch.get_metric_data(
        MetricDataQueries=queries,
        StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(minutes=1),
    )
    values = {r["Id"]: max(r["Values"], default=0.0) for r in answer["MetricDataResults"]}
    return values["p50_a"], values["p95_a"]


def run() -> None:
    body = rows_to_csv(holdout_rows("tumor")[:1])
    model = train_tumor()
    bare = []
    for _ in range(BARE_CALLS):
        started = time.perf_counter()
        model.predict_csv(body)
        bare.append(time.perf_counter() - started)

    with SandboxServer(port=0, seed="demo", creating_seconds=0) as server:
        _timed_calls(server.url, body, 50)  # warm connections and caches
        started = time.perf_counter()
        single = _timed_calls(server.url, body, SINGLE_THREAD_CALLS)
        single_rate = SINGLE_THREAD_CALLS / (time.perf_counter() - started)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            batches = list(
                pool.map(lambda _: _timed_calls(server.url, body, CALLS_PER_THREAD), range(THREADS))
            )
        threaded_rate = THREADS * CALLS_PER_THREAD / (time.perf_counter() - started)
        overhead_p50, overhead_p95 = _overhead_us(server.url)

    bare_p50, bare_p95 = _percentile(bare, 0.5) * 1e3, _percentile(bare, 0.95) * 1e3
    http_p50, http_p95 = _percentile(single, 0.5) * 1e3, _percentile(single, 0.95) * 1e3
    threaded = [t for batch in batches for t in batch]
    print(f"== InvokeEndpoint through the sandbox ({ENDPOINT}, one CSV row per request) ==")
    print(
        f"throughput: {single_rate:.0f} requests/s from 1 client thread, "
        f"{threaded_rate:.0f} requests/s from {THREADS} threads "
        f"({threaded_rate / single_rate:.2f}x; p50 {statistics.median(threaded) * 1e3:.2f} ms)"
    )
    print(
        f"bare predict_csv: p50 {bare_p50:.3f} ms, p95 {bare_p95:.3f} ms; "
        f"through HTTP (boto3): p50 {http_p50:.2f} ms, p95 {http_p95:.2f} ms"
    )
    print(
        f"added by the sandbox and the client: p50 {http_p50 - bare_p50:.2f} ms, "
        f"p95 {http_p95 - bare_p95:.2f} ms; of which server-side OverheadLatency "
        f"p50 {overhead_p50 / 1e3:.2f} ms, p95 {overhead_p95 / 1e3:.2f} ms"
    )


if __name__ == "__main__":
    run()
