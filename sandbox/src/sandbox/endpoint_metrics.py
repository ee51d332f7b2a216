"""SageMaker's per-variant CloudWatch metrics, aggregated per minute and published once a minute.

SageMaker does not put a datapoint per request: it aggregates each minute and publishes that
minute per endpoint and variant. The runtime records every request's outcome here; a flush
publishes each completed minute as one PutMetricData per namespace per endpoint, with raw
values and counts (Values/Counts) so that percentiles of the latencies stay exact:

``AWS/SageMaker`` (dimensions EndpointName, VariantName)
    Invocations (1 per request; Sum = requests), InvocationsPerInstance (1/instances per
    request), Invocation4XXErrors, Invocation5XXErrors, InvocationModelErrors (1 or 0 per
    request, so Average is the rate), ModelLatency and OverheadLatency (Microseconds); for a
    multi-model variant also its model loading metrics (``sandbox.multi_model``).
``/aws/sagemaker/Endpoints`` (same dimensions, Percent)
    CPUUtilization (summed over cores, so up to 100 x vCPUs), MemoryUtilization,
    DiskUtilization, every minute for instance-based variants whether or not there was
    traffic; serverless variants report MemoryUtilization only when they served requests.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from sandbox.endpoints import EndpointStatus, EndpointStore, VariantState
from sandbox.metric_store import MINUTE, MetricDatum, MetricStore
from sandbox.multi_model import ModelLoad, loading_data

SAGEMAKER_NAMESPACE = "AWS/SageMaker"
INSTANCE_NAMESPACE = "/aws/sagemaker/Endpoints"
MICROSECONDS = "Microseconds"
PERCENT = "Percent"
# How much CPU a container spends per request besides the model itself (HTTP, parsing,
# serialising), and the memory a loaded model server holds: the knobs of the load model.
CPU_SECONDS_PER_INVOCATION = 0.02
IDLE_CPU_PER_CORE = 1.5
BASE_MEMORY = 18.0
MEMORY_PER_INVOCATION_PER_MINUTE = 0.01
DISK_UTILIZATION = 11.0
# After a pause (a suspended laptop) do not publish hours of idle utilization at once.
MAX_CATCH_UP_MINUTES = 60
_VCPUS = {
    "medium": 2,
    "large": 2,
    "xlarge": 4,
    "2xlarge": 8,
    "4xlarge": 16,
    "8xlarge": 32,
    "12xlarge": 48,
    "16xlarge": 64,
    "24xlarge": 96,
}

Status = Literal["ok", "4xx", "5xx"]
VariantKey = tuple[str, str, str, str]


def vcpus(instance_type: str | None) -> int:
    """vCPUs of an ML instance type from its size suffix (ml.m5.xlarge -> 4)."""
    size = (instance_type or "").rsplit(".", 1)[-1]
    return _VCPUS.get(size, 2)


def utilization(
    instance_type: str | None,
    instance_count: int,
    invocations: float,
    model_seconds: float,
    *,
    noise: float = 0.0,
) -> tuple[float, float, float]:
    """CPU, memory and disk utilization (Percent) of one instance for one minute of load."""
    cores = vcpus(instance_type)
    instances = max(1, instance_count)
    busy = (invocations * CPU_SECONDS_PER_INVOCATION + model_seconds) / instances
    cpu = cores * IDLE_CPU_PER_CORE + 100.0 * busy / MINUTE + noise
    memory = BASE_MEMORY + MEMORY_PER_INVOCATION_PER_MINUTE * invocations / instances + noise / 4
    return (
        round(min(cores * 100.0, max(0.0, cpu)), 2),
        round(min(100.0, max(0.0, memory)), 2),
        DISK_UTILIZATION,
    )


@dataclass(frozen=True)
class Outcome:
    """How one routed request ended, as the metrics see it."""

    status: Status
    model_error: bool
    model_latency_us: int | None
    overhead_latency_us: int
    # How a multi-model variant found the request's TargetModel; None on a single model.
    model_load: ModelLoad | None = None


@dataclass
class MinuteLoad:
    """One variant's requests in one minute, waiting to be published."""

    instance_type: str | None
    instance_count: int | None
    invocations: int = 0
    errors_4xx: int = 0
    errors_5xx: int = 0
    model_errors: int = 0
    model_latency: dict[int, int] = field(default_factory=dict)
    overhead_latency: dict[int, int] = field(default_factory=dict)
    model_loads: list[ModelLoad] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        if outcome.model_load is not None:
            self.model_loads.append(outcome.model_load)
        self.invocations += 1
        self.errors_4xx += outcome.status == "4xx"
        self.errors_5xx += outcome.status == "5xx"
        self.model_errors += outcome.model_error
        if outcome.model_latency_us is not None:
            latency = outcome.model_latency_us
            self.model_latency[latency] = self.model_latency.get(latency, 0) + 1
        overhead = outcome.overhead_latency_us
        self.overhead_latency[overhead] = self.overhead_latency.get(overhead, 0) + 1

    @property
    def model_seconds(self) -> float:
        return sum(us * n for us, n in self.model_latency.items()) / 1e6


def _rate(
    metric: str, hits: int, total: int, dimensions: tuple[tuple[str, str], ...]
) -> MetricDatum:
    values, counts = [], []
    for value, count in ((0.0, total - hits), (1.0, hits)):
        if count > 0:
            values.append(value)
            counts.append(float(count))
    return MetricDatum(metric, dimensions, values, counts)


def _histogram(
    metric: str, histogram: dict[int, int], dimensions: tuple[tuple[str, str], ...]
) -> MetricDatum:
    values = sorted(histogram)
    return MetricDatum(
        metric,
        dimensions,
        [float(v) for v in values],
        [float(histogram[v]) for v in values],
        MICROSECONDS,
    )


def invocation_data(load: MinuteLoad, dimensions: tuple[tuple[str, str], ...]) -> list[MetricDatum]:
    """The AWS/SageMaker datums for one variant-minute of requests."""
    total = load.invocations
    data = [
        MetricDatum("Invocations", dimensions, [1.0], [float(total)]),
        _rate("Invocation4XXErrors", load.errors_4xx, total, dimensions),
        _rate("Invocation5XXErrors", load.errors_5xx, total, dimensions),
        _rate("InvocationModelErrors", load.model_errors, total, dimensions),
        _histogram("OverheadLatency", load.overhead_latency, dimensions),
    ]
    if load.instance_count:
        data.append(
            MetricDatum(
                "InvocationsPerInstance", dimensions, [1.0 / load.instance_count], [float(total)]
            )
        )
    if load.model_latency:
        data.append(_histogram("ModelLatency", load.model_latency, dimensions))
    data += loading_data(load.model_loads, load.instance_count, dimensions)
    return data


def utilization_data(
    dimensions: tuple[tuple[str, str], ...], cpu: float | None, memory: float, disk: float | None
) -> list[MetricDatum]:
    """The /aws/sagemaker/Endpoints datums for one variant-minute."""
    data = [MetricDatum("MemoryUtilization", dimensions, [memory], None, PERCENT)]
    if cpu is not None:
        data.append(MetricDatum("CPUUtilization", dimensions, [cpu], None, PERCENT))
    if disk is not None:
        data.append(MetricDatum("DiskUtilization", dimensions, [disk], None, PERCENT))
    return data


def variant_dimensions(endpoint: str, variant: str) -> tuple[tuple[str, str], ...]:
    return (("EndpointName", endpoint), ("VariantName", variant))


class EndpointMetrics:
    """Collects request outcomes per variant-minute and publishes them to the metric store."""

    def __init__(
        self,
        store: MetricStore,
        endpoints: EndpointStore,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.endpoints = endpoints
        self.clock = clock
        self.puts = 0
        self._lock = threading.Lock()
        self._pending: dict[tuple[VariantKey, int], MinuteLoad] = {}
        self._utilization_until: dict[VariantKey, int] = {}
        self._utilization_checked = 0
        self._noise = random.Random()

    def record(
        self,
        account_id: str,
        region: str,
        endpoint: str,
        variant: VariantState,
        outcome: Outcome,
        *,
        at: float | None = None,
    ) -> None:
        """Count one request in the minute it happened: now, or ``at`` for a replayed one.

        A replayed burst (``sandbox.replay``) is accounted to a minute of its choosing, so
        a test can rehearse past minutes of an endpoint's life without waiting for them.
        """
        moment = self.clock() if at is None else at
        minute = int(moment // MINUTE) * MINUTE
        key = ((account_id, region, endpoint, variant.name), minute)
        with self._lock:
            load = self._pending.get(key)
            if load is None:
                count = None if variant.is_serverless else variant.current_instance_count
                load = self._pending[key] = MinuteLoad(variant.instance_type, count)
            load.add(outcome)

    def flush(self, *, include_current: bool = False) -> int:
        """Publish every completed minute (and the current one if asked); returns puts made.

        Utilization is published only for completed minutes, once each, so a forced flush of
        the current minute cannot count a minute's utilization twice. For the same reason a
        replayed minute (``record(at=...)``) whose utilization is already out keeps it: replayed
        invocations move utilization only in a minute not yet published.
        """
        now = self.clock()
        current = int(now // MINUTE) * MINUTE
        with self._lock:
            due = [key for key in self._pending if include_current or key[1] < current]
            loads = {key: self._pending.pop(key) for key in due}
        by_endpoint_minute: dict[tuple[str, str, str, int], list[tuple[str, MinuteLoad]]] = {}
        for (variant_key, minute), load in loads.items():
            account, region, endpoint, variant = variant_key
            by_endpoint_minute.setdefault((account, region, endpoint, minute), []).append(
                (variant, load)
            )
        puts = 0
        for (account, region, endpoint, minute), variants in by_endpoint_minute.items():
            data = [
                datum
                for variant, load in variants
                for datum in invocation_data(load, variant_dimensions(endpoint, variant))
            ]
            self.store.put_batch(account, region, SAGEMAKER_NAMESPACE, minute, data)
            puts += 1
        puts += self._publish_utilization(current, loads)
        with self._lock:
            self.puts += puts
        return puts

    def _publish_utilization(
        self, current: int, loads: dict[tuple[VariantKey, int], MinuteLoad]
    ) -> int:
        """Utilization for each completed minute of every live variant, with or without traffic.

        A variant first seen now starts with the next completed minute: the minutes before
        are either history (the seed's backfill) or before it served.
        """
        with self._lock:
            if current <= self._utilization_checked:
                return 0
            self._utilization_checked = current
        by_endpoint_minute: dict[tuple[str, str, str, int], list[MetricDatum]] = {}
        for record in self.endpoints.all_records():
            if (
                record.status != EndpointStatus.IN_SERVICE
                and record.status != EndpointStatus.UPDATING
            ):
                continue
            for variant in record.all_variants:
                key = (record.account_id, record.region, record.name, variant.name)
                with self._lock:
                    start = self._utilization_until.get(key, current)
                    start = max(start, current - MAX_CATCH_UP_MINUTES * MINUTE)
                    self._utilization_until[key] = max(start, current)
                for minute in range(start, current, MINUTE):
                    load = loads.get((key, minute))
                    if variant.is_serverless and load is None:
                        continue
                    invocations = load.invocations if load else 0
                    model_seconds = load.model_seconds if load else 0.0
                    cpu, memory, disk = utilization(
                        variant.instance_type,
                        variant.current_instance_count or 1,
                        invocations,
                        model_seconds,
                        noise=self._noise.gauss(0.0, 0.3),
                    )
                    dimensions = variant_dimensions(record.name, variant.name)
                    if variant.is_serverless:
                        data = utilization_data(dimensions, None, memory, None)
                    else:
                        data = utilization_data(dimensions, cpu, memory, disk)
                    by_endpoint_minute.setdefault(
                        (record.account_id, record.region, record.name, minute), []
                    ).extend(data)
        for (account, region, _endpoint, minute), data in by_endpoint_minute.items():
            self.store.put_batch(account, region, INSTANCE_NAMESPACE, minute, data)
        return len(by_endpoint_minute)

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
            self._utilization_until.clear()
            self._utilization_checked = 0
            self.puts = 0
