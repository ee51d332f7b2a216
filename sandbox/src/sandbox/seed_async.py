"""The demo world's asynchronous endpoint: insurance claims scored from a queue.

The claims team scores each submitted claim with the fraud model behind
``claims-scoring-async`` in us-east-1, an endpoint with an AsyncInferenceConfig
(``sandbox.async_inference``): callers put a claim in S3 and call InvokeEndpointAsync; the
score lands under ``s3://<bucket>/async-output/``, a failure under ``async-failures/``. One
ml.m5.large instance serves two claims at a time.

Its day of history (``backfill_async_history``) is a steady trickle of claims plus the
nightly re-scoring batch at 02:00 UTC: BATCH_CLAIMS claims queued at once, which the
instance works through over the next hour or so, so the backlog metrics have a story to show
(backlog and age of the oldest request climb, then drain).
"""

from __future__ import annotations

import zlib

import numpy as np

from sandbox.async_metrics import SECONDS, rate
from sandbox.backfill import measured_latency_us
from sandbox.endpoint_metrics import (
    INSTANCE_NAMESPACE,
    MICROSECONDS,
    PERCENT,
    SAGEMAKER_NAMESPACE,
    utilization,
    variant_dimensions,
)
from sandbox.identities import ACCOUNT_ID
from sandbox.metric_store import MINUTE, MetricDatum, MetricStore
from sandbox.models import holdout_rows, train_model
from sandbox.traffic import DAILY_SWING, PEAK_HOUR_UTC

ASYNC_REGION = "us-east-1"
ASYNC_ENDPOINT = "claims-scoring-async"
ASYNC_MODEL = "claims-scoring-model"
ASYNC_VARIANT = "AllTraffic"
INSTANCE_TYPE = "ml.m5.large"
INVOCATIONS_PER_INSTANCE = 2
HISTORY_MINUTES = 24 * 60
CLAIMS_PER_MINUTE = 8.0
BATCH_CLAIMS = 900
BATCH_HOUR_UTC = 2
# How many queued claims the instance works through a minute (two at a time, with the S3
# round trips of each).
DRAIN_PER_MINUTE = 15.0
SERVER_ERROR_RATE = 0.002


def async_config(bucket: str) -> dict[str, object]:
    return {
        "OutputConfig": {
            "S3OutputPath": f"s3://{bucket}/async-output/",
            "S3FailurePath": f"s3://{bucket}/async-failures/",
        },
        "ClientConfig": {"MaxConcurrentInvocationsPerInstance": INVOCATIONS_PER_INSTANCE},
    }


def seed_async(*, endpoint_url: str) -> list[str]:
    """Create the claims model and the asynchronous endpoint (still Creating when this
    returns); returns its name."""
    # seed.py calls this module, so its helpers are imported when the seed runs.
    from sandbox.seed import ModelSpec, bucket_name, client, create_model, ensure_bucket

    region = ASYNC_REGION
    s3 = client("s3", endpoint_url=endpoint_url, region=region)
    sagemaker = client("sagemaker", endpoint_url=endpoint_url, region=region)
    ensure_bucket(s3, region)
    create_model(sagemaker, s3, ModelSpec(ASYNC_MODEL, region, "sagemaker-xgboost", "fraud"))
    config = f"{ASYNC_ENDPOINT}-config"
    sagemaker.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[
            {
                "VariantName": ASYNC_VARIANT,
                "ModelName": ASYNC_MODEL,
                "InstanceType": INSTANCE_TYPE,
                "InitialInstanceCount": 1,
                "InitialVariantWeight": 1.0,
            }
        ],
        AsyncInferenceConfig=async_config(bucket_name(region)),
    )
    sagemaker.create_endpoint(EndpointName=ASYNC_ENDPOINT, EndpointConfigName=config)
    return [ASYNC_ENDPOINT]


def backfill_async_history(store: MetricStore, *, now: float) -> int:
    """BACKFILL: the endpoint's last day of metrics, as AWS publishes them for an asynchronous
    endpoint (no Invocations or OverheadLatency); returns the minutes written."""
    rng = np.random.default_rng(zlib.crc32(ASYNC_ENDPOINT.encode()))
    last = int(now // MINUTE) * MINUTE - MINUTE
    starts = [last - MINUTE * i for i in range(HISTORY_MINUTES - 1, -1, -1)]
    batch_at = _last_batch(last)
    median_us = measured_latency_us(train_model("fraud"), holdout_rows("fraud")[0])
    variant = variant_dimensions(ASYNC_ENDPOINT, ASYNC_VARIANT)
    endpoint = (("EndpointName", ASYNC_ENDPOINT),)
    backlog = 0.0
    oldest_since: float | None = None
    for minute in starts:
        hour = (minute % 86400) / 3600.0
        shape = 1.0 + DAILY_SWING * np.cos(2 * np.pi * (hour - PEAK_HOUR_UTC) / 24.0)
        arrived = int(rng.poisson(CLAIMS_PER_MINUTE * shape))
        if minute == batch_at:
            arrived += BATCH_CLAIMS
        queued = backlog + arrived
        processed = int(min(queued, DRAIN_PER_MINUTE + rng.normal(0.0, 1.0)))
        processed = max(0, processed)
        backlog = queued - processed
        if backlog >= 1 and oldest_since is None:
            oldest_since = float(minute)
        elif backlog < 1:
            oldest_since = None
        waiting = round(backlog) if backlog >= 1 else int(rng.poisson(0.3))
        if oldest_since is not None:
            age = float(minute + MINUTE - oldest_since)
        else:  # a claim or two in flight, seconds old
            age = round(float(rng.uniform(0.5, 8.0)), 1) if waiting else 0.0
        data = [
            MetricDatum("ApproximateBacklogSize", endpoint, [float(waiting)]),
            MetricDatum("ApproximateBacklogSizePerInstance", endpoint, [float(waiting)]),
            MetricDatum("ApproximateAgeOfOldestRequest", endpoint, [age], None, SECONDS),
            MetricDatum("HasBacklogWithoutCapacity", endpoint, [0.0]),
            MetricDatum("RequestDownloadFailures", variant, [0.0]),
        ]
        if processed:
            failed = int(rng.binomial(processed, SERVER_ERROR_RATE))
            latencies = median_us * np.exp(0.35 * rng.normal(0.0, 1.0, 5))
            data += [
                MetricDatum("InvocationsProcessed", variant, [float(processed)]),
                MetricDatum("Invocation4XXErrors", variant, [0.0], [float(processed)]),
                rate("Invocation5XXErrors", variant, failed, processed),
                MetricDatum(
                    "ModelLatency",
                    variant,
                    [round(float(v), 1) for v in latencies],
                    [processed / 5.0] * 5,
                    MICROSECONDS,
                ),
            ]
        store.put_batch(ACCOUNT_ID, ASYNC_REGION, SAGEMAKER_NAMESPACE, minute, data)
        cpu, memory, disk = utilization(
            INSTANCE_TYPE, 1, processed, processed * median_us / 1e6, noise=rng.normal(0.0, 0.3)
        )
        store.put_batch(
            ACCOUNT_ID,
            ASYNC_REGION,
            INSTANCE_NAMESPACE,
            minute,
            [
                MetricDatum("CPUUtilization", variant, [cpu], None, PERCENT),
                MetricDatum("MemoryUtilization", variant, [memory], None, PERCENT),
                MetricDatum("DiskUtilization", variant, [disk], None, PERCENT),
            ],
        )
    return len(starts)


def _last_batch(last: int) -> int:
    """The minute the most recent nightly batch arrived, at least two hours before ``last``
    so the history shows it drained."""
    day = 86400
    batch = last - last % day + BATCH_HOUR_UTC * 3600
    while batch > last - 2 * 3600:
        batch -= day
    return batch
