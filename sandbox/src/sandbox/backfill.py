"""Synthetic metric history: what a variant's last day of CloudWatch data would look like.

A freshly started sandbox would show empty charts for a day. The demo seed therefore writes
24 hours of one-minute history for its serving endpoints straight into the metric store (one
bulk write is fast; 24 h through PutMetricData would not be). The history follows the traffic
generator's daily shape, with Poisson request counts, small error rates and latencies spread
log-normally around the model's measured inference time, so it joins up with live traffic.
An optional incident raises latency and 5XX errors for a while, as real histories have.
"""

from __future__ import annotations

import statistics
import time
import zlib
from dataclasses import dataclass

import numpy as np

from sandbox.endpoint_metrics import (
    INSTANCE_NAMESPACE,
    MICROSECONDS,
    PERCENT,
    SAGEMAKER_NAMESPACE,
    utilization,
    variant_dimensions,
)
from sandbox.inference_io import CSV, decode_rows, encode_predictions
from sandbox.metric_store import MINUTE, Bucket, MetricStore, SeriesKey
from sandbox.models import SandboxModel, rows_to_csv
from sandbox.traffic import DAILY_SWING, PEAK_HOUR_UTC

HISTORY_MINUTES = 24 * 60
CLIENT_ERROR_RATE = 0.003
SERVER_ERROR_RATE = 0.0005
CLEAN_TAIL_MINUTES = 10
MODEL_LATENCY_SPREAD = 0.35
OVERHEAD_MEDIAN_US = 900.0
OVERHEAD_SPREAD = 0.3
# Probability levels standing for a minute's latency distribution and the share each holds;
# the finer tail keeps p99 meaningful.
_LEVELS = [(0.05 + 0.1 * i, 0.1) for i in range(9)] + [(0.925, 0.05), (0.97, 0.04), (0.995, 0.01)]
_Z = [(statistics.NormalDist().inv_cdf(level), share) for level, share in _LEVELS]
_SHARES = [share for _, share in _LEVELS]


@dataclass(frozen=True)
class Incident:
    """A stretch of the history when the variant was slow and failing."""

    start: float
    end: float
    latency_factor: float
    server_error_rate: float


@dataclass(frozen=True)
class VariantHistory:
    """What to synthesise for one variant; ``instance_count`` None means serverless."""

    account_id: str
    region: str
    endpoint: str
    variant: str
    instance_type: str | None
    instance_count: int | None
    requests_per_minute: float
    model_latency_us: float
    incident: Incident | None = None


def measured_latency_us(model: SandboxModel, row: list[float], repeats: int = 25) -> float:
    """Median time the sandbox container takes for a one-row CSV request, in microseconds."""
    body = rows_to_csv([row]).encode()
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        encode_predictions(model, decode_rows(body, CSV, model), CSV)
        timings.append((time.perf_counter() - started) * 1e6)
    return float(statistics.median(timings))


def _latency_levels(medians: np.ndarray, spread: float) -> list[list[float]]:
    """Per minute, the latency standing for each probability level (ascending, distinct)."""
    factors = np.exp(spread * np.array([z for z, _ in _Z]))
    return np.round(np.outer(medians, factors), 1).tolist()


def _histogram(values: list[float], requests: int) -> dict[float, float]:
    return dict(zip(values, [requests * share for share in _SHARES], strict=True))


def _rate(hits: int, total: int) -> Bucket:
    """1/0 per request: Sum is the number of hits, Average the rate."""
    if hits == 0:
        return Bucket.of({0.0: float(total)})
    if hits == total:
        return Bucket.of({1.0: float(total)})
    return Bucket.of({0.0: float(total - hits), 1.0: float(hits)})


def write_history(
    store: MetricStore, history: VariantHistory, *, end: float, minutes: int = HISTORY_MINUTES
) -> int:
    """Write ``minutes`` of one-minute history ending before ``end``; returns buckets written."""
    rng = np.random.default_rng(zlib.crc32(f"{history.endpoint}/{history.variant}".encode()))
    last = int(end // MINUTE) * MINUTE - MINUTE
    starts = last - MINUTE * np.arange(minutes - 1, -1, -1)
    hours = (starts % 86400) / 3600.0
    shape = 1.0 + DAILY_SWING * np.cos(2 * np.pi * (hours - PEAK_HOUR_UTC) / 24.0)
    requests = rng.poisson(history.requests_per_minute * shape)
    client_errors = rng.binomial(requests, CLIENT_ERROR_RATE)
    server_rate = np.full(minutes, SERVER_ERROR_RATE)
    latency_factor = np.ones(minutes)
    if history.incident is not None:
        during = (starts >= history.incident.start) & (starts < history.incident.end)
        server_rate[during] = history.incident.server_error_rate
        latency_factor[during] = history.incident.latency_factor
    server_errors = rng.binomial(requests - client_errors, server_rate)
    # The world starts healthy: a stray error in the last minutes of a quiet variant (one in
    # a dozen requests is over the demo's 5 % alarm threshold) would fire its 5XX alarm at the
    # first evaluation, at some times of day and not others.
    if history.incident is None or history.incident.end < last - CLEAN_TAIL_MINUTES * MINUTE:
        server_errors[-CLEAN_TAIL_MINUTES:] = 0
    medians = history.model_latency_us * latency_factor * np.exp(rng.normal(0.0, 0.08, minutes))
    model_levels = _latency_levels(medians, MODEL_LATENCY_SPREAD)
    overheads = OVERHEAD_MEDIAN_US * np.exp(rng.normal(0.0, 0.05, minutes))
    overhead_levels = _latency_levels(overheads, OVERHEAD_SPREAD)
    utilization_noise = rng.normal(0.0, 0.3, minutes).tolist()
    dimensions = variant_dimensions(history.endpoint, history.variant)
    keys = {
        (namespace, metric): SeriesKey(
            history.account_id, history.region, namespace, metric, dimensions
        )
        for namespace, metric in [
            (SAGEMAKER_NAMESPACE, name)
            for name in (
                "Invocations",
                "Invocation4XXErrors",
                "Invocation5XXErrors",
                "InvocationModelErrors",
                "OverheadLatency",
                "ModelLatency",
                "InvocationsPerInstance",
            )
        ]
        + [
            (INSTANCE_NAMESPACE, name)
            for name in ("MemoryUtilization", "CPUUtilization", "DiskUtilization")
        ]
    }
    items: list[tuple[SeriesKey, int, Bucket, str | None]] = []

    def add(namespace: str, metric: str, minute: int, bucket: Bucket, unit: str | None) -> None:
        items.append((keys[(namespace, metric)], minute, bucket, unit))

    for index, (minute, total, clients, servers) in enumerate(
        zip(
            starts.tolist(),
            requests.tolist(),
            client_errors.tolist(),
            server_errors.tolist(),
            strict=True,
        )
    ):
        if total:
            add(SAGEMAKER_NAMESPACE, "Invocations", minute, _rate(total, total), None)
            add(SAGEMAKER_NAMESPACE, "Invocation4XXErrors", minute, _rate(clients, total), None)
            add(SAGEMAKER_NAMESPACE, "Invocation5XXErrors", minute, _rate(servers, total), None)
            # Client errors here are rows the model rejected: model errors, as on AWS.
            add(SAGEMAKER_NAMESPACE, "InvocationModelErrors", minute, _rate(clients, total), None)
            overhead = Bucket.of(_histogram(overhead_levels[index], total))
            add(SAGEMAKER_NAMESPACE, "OverheadLatency", minute, overhead, MICROSECONDS)
            if total > servers:
                latency = Bucket.of(_histogram(model_levels[index], total - servers))
                add(SAGEMAKER_NAMESPACE, "ModelLatency", minute, latency, MICROSECONDS)
            if history.instance_count:
                share = Bucket.of({1.0 / history.instance_count: float(total)})
                add(SAGEMAKER_NAMESPACE, "InvocationsPerInstance", minute, share, None)
        if history.instance_count is None and not total:
            continue
        cpu, memory, disk = utilization(
            history.instance_type,
            history.instance_count or 1,
            total,
            total * float(medians[index]) / 1e6,
            noise=utilization_noise[index],
        )
        add(INSTANCE_NAMESPACE, "MemoryUtilization", minute, Bucket.of({memory: 1.0}), PERCENT)
        if history.instance_count is not None:
            add(INSTANCE_NAMESPACE, "CPUUtilization", minute, Bucket.of({cpu: 1.0}), PERCENT)
            add(INSTANCE_NAMESPACE, "DiskUtilization", minute, Bucket.of({disk: 1.0}), PERCENT)
    return store.put_buckets(items)
