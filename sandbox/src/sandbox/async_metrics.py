"""The CloudWatch metrics of asynchronous endpoints (``sandbox.async_inference``).

AWS publishes a different set for an endpoint with an AsyncInferenceConfig than for a
real-time one: no Invocations, InvocationsPerInstance or OverheadLatency. In AWS/SageMaker:

dimensions EndpointName, VariantName
    InvocationsProcessed (Sum: requests the model answered or failed), Invocation4XXErrors
    and Invocation5XXErrors (1 or 0 per request), ModelLatency (Microseconds) and
    RequestDownloadFailures (inputs that could not be read from S3).
dimension EndpointName only
    ApproximateBacklogSize (requests queued or being served), ApproximateBacklogSizePerInstance,
    ApproximateAgeOfOldestRequest (Seconds) and HasBacklogWithoutCapacity (1 while requests
    wait on an endpoint of 0 instances).

Request outcomes are counted per variant-minute as they happen; the backlog is a gauge,
sampled every SAMPLE_SECONDS (and on every forced flush) into the minute of the sample, so a
minute's Average, Minimum and Maximum describe the queue during it. Both are published once
their minute is over, as ``sandbox.endpoint_metrics`` does for real-time endpoints.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sandbox.endpoint_metrics import (
    MICROSECONDS,
    SAGEMAKER_NAMESPACE,
    Status,
    variant_dimensions,
)
from sandbox.endpoints import EndpointRecord, EndpointStore
from sandbox.metric_store import MINUTE, MetricDatum, MetricStore

SAMPLE_SECONDS = 10.0
SECONDS = "Seconds"

EndpointKey = tuple[str, str, str]
# Arrival times of the requests queued or being served for an endpoint.
Waiting = Callable[[EndpointKey], list[float]]


def instances(record: EndpointRecord) -> int:
    """Instances running the endpoint's production variants now."""
    return sum(v.current_instance_count or 0 for v in record.variants)


@dataclass
class _Minute:
    """One variant-minute of served requests, waiting to be published."""

    processed: int = 0
    errors_4xx: int = 0
    errors_5xx: int = 0
    download_failures: int = 0
    model_latency: dict[int, int] = field(default_factory=dict)


class AsyncMetrics:
    """Counts asynchronous requests and samples the queues; publishes finished minutes."""

    def __init__(
        self, store: MetricStore, endpoints: EndpointStore, clock: Callable[[], float]
    ) -> None:
        self.store = store
        self.endpoints = endpoints
        self.clock = clock
        self._lock = threading.Lock()
        self._minutes: dict[tuple[EndpointKey, str, int], _Minute] = {}
        # (endpoint, minute) -> metric -> sampled value -> times seen
        self._backlog: dict[tuple[EndpointKey, int], dict[str, dict[float, int]]] = {}
        self._sampled_at = 0.0

    def count(
        self,
        endpoint: EndpointKey,
        variant: str,
        *,
        status: Status = "ok",
        seconds: float | None = None,
        download_failure: bool = False,
    ) -> None:
        """One request the variant took: its status and model time, or an unreadable input."""
        minute = int(self.clock() // MINUTE) * MINUTE
        with self._lock:
            load = self._minutes.setdefault((endpoint, variant, minute), _Minute())
            if download_failure:
                load.download_failures += 1
                return
            load.processed += 1
            load.errors_4xx += status == "4xx"
            load.errors_5xx += status == "5xx"
            if seconds is not None:
                latency = round(seconds * 1e6)
                load.model_latency[latency] = load.model_latency.get(latency, 0) + 1

    def sample(self, waiting: Waiting) -> None:
        """Record the backlog of every asynchronous endpoint in the current minute."""
        now = self.clock()
        minute = int(now // MINUTE) * MINUTE
        for record in self.endpoints.all_records():
            if not record.async_config:
                continue
            key = (record.account_id, record.region, record.name)
            arrivals = waiting(key)
            size, count = len(arrivals), instances(record)
            values = {
                "ApproximateBacklogSize": float(size),
                "ApproximateBacklogSizePerInstance": size / count if count else float(size),
                "ApproximateAgeOfOldestRequest": round(now - min(arrivals, default=now), 3),
                "HasBacklogWithoutCapacity": 1.0 if size and not count else 0.0,
            }
            with self._lock:
                samples = self._backlog.setdefault((key, minute), {})
                for metric, value in values.items():
                    seen = samples.setdefault(metric, {})
                    seen[value] = seen.get(value, 0) + 1
        with self._lock:
            self._sampled_at = now

    def flush(self, waiting: Waiting, *, include_current: bool = False) -> int:
        """Sample the backlog when due, then publish completed minutes (and the current one
        if asked, after a fresh sample); returns puts made."""
        now = self.clock()
        if include_current or now - self._sampled_at >= SAMPLE_SECONDS:
            self.sample(waiting)
        current = int(now // MINUTE) * MINUTE
        with self._lock:
            minutes = {
                k: self._minutes.pop(k)
                for k in list(self._minutes)
                if include_current or k[2] < current
            }
            backlogs = {
                k: self._backlog.pop(k)
                for k in list(self._backlog)
                if include_current or k[1] < current
            }
        batches: dict[tuple[str, str, int], list[MetricDatum]] = {}
        for ((account, region, endpoint), variant, minute), load in minutes.items():
            batches.setdefault((account, region, minute), []).extend(
                variant_data(load, variant_dimensions(endpoint, variant))
            )
        for ((account, region, endpoint), minute), samples in backlogs.items():
            dimensions = (("EndpointName", endpoint),)
            for metric, seen in samples.items():
                values = sorted(seen)
                unit = SECONDS if metric == "ApproximateAgeOfOldestRequest" else None
                batches.setdefault((account, region, minute), []).append(
                    MetricDatum(metric, dimensions, values, [float(seen[v]) for v in values], unit)
                )
        for (account, region, minute), data in batches.items():
            self.store.put_batch(account, region, SAGEMAKER_NAMESPACE, minute, data)
        return len(batches)

    def clear(self) -> None:
        with self._lock:
            self._minutes.clear()
            self._backlog.clear()
            self._sampled_at = 0.0


def rate(
    metric: str, dimensions: tuple[tuple[str, str], ...], hits: int, total: int
) -> MetricDatum:
    """1 per hit and 0 per other request: Sum counts the hits, Average is their rate."""
    values = [v for v, n in ((0.0, total - hits), (1.0, hits)) if n]
    counts = [float(n) for n in (total - hits, hits) if n]
    return MetricDatum(metric, dimensions, values, counts)


def variant_data(load: _Minute, dimensions: tuple[tuple[str, str], ...]) -> list[MetricDatum]:
    """The AWS/SageMaker datums of one variant-minute of asynchronous requests."""
    total = load.processed
    data = [MetricDatum("RequestDownloadFailures", dimensions, [float(load.download_failures)])]
    if total:
        data += [
            MetricDatum("InvocationsProcessed", dimensions, [float(total)]),
            rate("Invocation4XXErrors", dimensions, load.errors_4xx, total),
            rate("Invocation5XXErrors", dimensions, load.errors_5xx, total),
        ]
    if load.model_latency:
        latencies = sorted(load.model_latency)
        data.append(
            MetricDatum(
                "ModelLatency",
                dimensions,
                [float(v) for v in latencies],
                [float(load.model_latency[v]) for v in latencies],
                MICROSECONDS,
            )
        )
    return data
