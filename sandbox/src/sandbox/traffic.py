"""The traffic generator: steady, daily-shaped invocations so the demo world looks alive.

``python -m sandbox serve --traffic RATE`` sends RATE invocations per second (any positive
float, 0.5 is one every two seconds) to every serving endpoint, scaled by a daily sine (busy
in the afternoon UTC, quiet at night; the seed's metric history uses the same shape, so the
charts join up). Rows come from the held-out part of each model's dataset, one row per
request, so predictions are realistic and never rows the model trained on. Each endpoint
replays the held-out rows in a shuffled order, every row once before any repeats: a window of
its traffic then has the held-out set's distribution rather than a noisy resample of a
hundred-odd rows, so a data-quality monitor flags injected drift and nothing else. An input-drift
fault shifts the features it names (every feature when it names none) by that many standard
deviations, so data capture, and the Model Monitor reading it, see the shifted values.

Requests go through the sandbox's own HTTP front door with boto3, so metrics and data
capture see them exactly as they see a user's. An asynchronous endpoint (one with an
AsyncInferenceConfig) takes InvokeEndpointAsync only: its row is first put in S3 under
``async-inputs/<endpoint>/`` in the bucket of its S3OutputPath, in one of ASYNC_SLOTS objects
used in turn, and the InferenceId names the slot, so the demo's inputs and outputs stay a
bounded set however long it runs. Sending runs on a small thread pool with a
bound on requests in flight: when the sandbox is slower than the rate (an injected latency),
the generator drops sends instead of queueing without end.

An endpoint that hosts inference components has no model of its own: its rate is shared
evenly among its InService components, each request naming its component
(InferenceComponentName) and carrying a row of that component's model's dataset.
"""

from __future__ import annotations

import functools
import logging
import math
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, cast

import boto3
import numpy as np
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from sandbox.endpoints import EndpointRecord, EndpointStatus, EndpointStore
from sandbox.faults import FaultStore, InputDrift
from sandbox.inference_components import ComponentStore, is_component_host
from sandbox.models import MODEL_KINDS, ModelKind, holdout, rows_to_csv

logger = logging.getLogger(__name__)

TICK_SECONDS = 0.1
WORKERS = 4
MAX_IN_FLIGHT = 16
DAILY_SWING = 0.6
PEAK_HOUR_UTC = 14.0
ASYNC_SLOTS = 64
_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
# An endpoint serves on while it is updated or a deployment rolls back.
_SERVING = (EndpointStatus.IN_SERVICE, EndpointStatus.UPDATING, EndpointStatus.ROLLING_BACK)


def daily_shape(timestamp: float) -> float:
    """Traffic relative to the day's mean: 1 + 0.6 at 14:00 UTC, 1 - 0.6 at 02:00 UTC."""
    hour = (timestamp % 86400) / 3600.0
    return 1.0 + DAILY_SWING * math.cos(2 * math.pi * (hour - PEAK_HOUR_UTC) / 24.0)


@dataclass(frozen=True)
class Rows:
    """A model's held-out rows and each feature's spread, for sending and for drifting."""

    features: np.ndarray
    spread: np.ndarray
    names: tuple[str, ...]

    def shift(self, drift: InputDrift) -> np.ndarray:
        """Per column, how far the drift moves it: the drift times its spread, or nothing."""
        mask = np.array([drift.applies_to(name) for name in self.names], dtype=float)
        return drift.amount * self.spread * mask


@functools.cache
def rows_for(kind: ModelKind) -> Rows:
    data = holdout(kind)
    spread = data.features.std(axis=0)
    return Rows(data.features, np.where(spread > 0, spread, 1.0), data.feature_names)


@dataclass
class TrafficStats:
    sent: int = 0
    succeeded: int = 0
    failed: int = 0
    dropped: int = 0


class TrafficGenerator:
    """Invokes every serving endpoint at ``rate`` per second (times the daily shape).

    ``regions`` limits it to some regions (tests keep it off the demo world).
    """

    def __init__(
        self,
        url: str,
        endpoints: EndpointStore,
        faults: FaultStore,
        rate: float,
        *,
        account_id: str = "123456789012",
        regions: frozenset[str] | None = None,
        clock: Callable[[], float] = time.time,
        components: ComponentStore | None = None,
    ) -> None:
        if not rate > 0 or not math.isfinite(rate):
            raise ValueError(f"The traffic rate must be a positive number, got {rate}.")
        self.url = url
        self.endpoints = endpoints
        self.faults = faults
        self.rate = rate
        self.account_id = account_id
        self.regions = regions
        self.clock = clock
        self.components = components
        self.stats = TrafficStats()
        # Per (region, endpoint, component or ""): the fraction of a request still owed.
        self._owed: dict[tuple[str, str, str], float] = {}
        # Per (region, endpoint): held-out row indices still to send in the current pass.
        self._passes: dict[tuple[str, str], list[int]] = {}
        self._clients: dict[tuple[str, str], Any] = {}
        self._slots: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        self._in_flight = 0
        self._random = random.Random()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="sandbox-traffic")
        self._thread = threading.Thread(target=self._run, name="sandbox-traffic", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(10)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._thread = None
        self._pool = None

    def _run(self) -> None:
        last = self.clock()
        while not self._stopping.wait(TICK_SECONDS):
            now = self.clock()
            try:
                self.tick(now, now - last)
            except Exception:
                logger.exception("The traffic generator failed a tick")
            last = now

    def tick(self, now: float, elapsed: float) -> int:
        """Send what each serving endpoint is owed for ``elapsed`` seconds; returns sends."""
        per_endpoint = self.rate * daily_shape(now) * max(0.0, elapsed)
        sent = 0
        for record in self.endpoints.all_records():
            if record.status not in _SERVING or record.account_id != self.account_id:
                continue
            if self.regions is not None and record.region not in self.regions:
                continue
            targets = self._targets(record)
            for component, kind in targets:
                key = (record.region, record.name, component)
                owed = self._owed.get(key, self._random.random()) + per_endpoint / len(targets)
                while owed >= 1.0:
                    owed -= 1.0
                    sent += self._submit(record, kind, component)
                self._owed[key] = owed
        return sent

    def _targets(self, record: EndpointRecord) -> list[tuple[str, ModelKind]]:
        """What to send an endpoint: its own model's rows ("" for no component), or each
        InService component's."""
        if not is_component_host(record):
            kind = _model_kind(record)
            return [] if kind is None else [("", kind)]
        if self.components is None:
            return []
        now = self.clock()
        return [
            (c.name, c.model.kind)
            for c in self.components.all(record.account_id, record.region)
            if c.endpoint_name == record.name
            and c.status(now) == "InService"
            and c.current_copies > 0
            and c.model is not None
            and c.model.kind in MODEL_KINDS
        ]

    def _submit(self, record: EndpointRecord, kind: ModelKind, component: str = "") -> int:
        with self._lock:
            if self._in_flight >= MAX_IN_FLIGHT or self._pool is None:
                self.stats.dropped += 1
                return 0
            self._in_flight += 1
            pool = self._pool
        try:
            pool.submit(
                self._send, record.region, record.name, kind, _async_output(record), component
            )
        except RuntimeError:  # the pool shut down between the check and the submit
            with self._lock:
                self._in_flight -= 1
            return 0
        return 1

    def body_for(self, region: str, endpoint: str, kind: ModelKind, component: str = "") -> str:
        """One held-out row as CSV, shifted by the endpoint's input-drift fault if any; each
        component of an endpoint goes through its own model's rows."""
        rows = rows_for(kind)
        passes = f"{endpoint}/{component}" if component else endpoint
        row = rows.features[self._next_index(region, passes, len(rows.features))]
        drift = self.faults.input_drift(region, endpoint)
        if drift is not None:
            row = row + rows.shift(drift)
        return rows_to_csv([row.tolist()])

    def _next_index(self, region: str, endpoint: str, count: int) -> int:
        with self._lock:
            remaining = self._passes.get((region, endpoint))
            if not remaining:
                remaining = self._passes[(region, endpoint)] = list(range(count))
                self._random.shuffle(remaining)
            return remaining.pop()

    def _send(
        self,
        region: str,
        endpoint: str,
        kind: ModelKind,
        async_output: str | None = None,
        component: str = "",
    ) -> None:
        succeeded = False
        try:
            body = self.body_for(region, endpoint, kind, component).encode()
            if async_output is not None:
                self._send_async(region, endpoint, body, async_output)
            else:
                named = {"InferenceComponentName": component} if component else {}
                self._client(region).invoke_endpoint(
                    EndpointName=endpoint,
                    ContentType="text/csv",
                    Accept="text/csv",
                    Body=body,
                    **named,
                )
            succeeded = True
        except (ClientError, BotoCoreError):
            pass  # Errors are what a fault is for; the endpoint's metrics count them.
        finally:
            with self._lock:
                self._in_flight -= 1
                self.stats.sent += 1
                self.stats.succeeded += succeeded
                self.stats.failed += not succeeded

    def _send_async(self, region: str, endpoint: str, body: bytes, output_path: str) -> None:
        """Put the row in S3, then queue it: what a caller of an async endpoint does."""
        with self._lock:
            slot = self._slots.get((region, endpoint), 0)
            self._slots[(region, endpoint)] = (slot + 1) % ASYNC_SLOTS
        bucket = output_path.removeprefix("s3://").split("/", 1)[0]
        key = f"async-inputs/{endpoint}/{slot:02d}.csv"
        self._client(region, "s3").put_object(Bucket=bucket, Key=key, Body=body)
        self._client(region).invoke_endpoint_async(
            EndpointName=endpoint,
            InputLocation=f"s3://{bucket}/{key}",
            ContentType="text/csv",
            Accept="text/csv",
            InferenceId=f"traffic-{slot:02d}",
        )

    def _client(self, region: str, service: str = "sagemaker-runtime") -> Any:
        with self._lock:
            client = self._clients.get((service, region))
            if client is None:
                client = self._clients[(service, region)] = boto3.client(
                    service,
                    endpoint_url=self.url,
                    region_name=region,
                    config=Config(
                        retries={"mode": "standard", "total_max_attempts": 1},
                        connect_timeout=2,
                        read_timeout=70,
                        max_pool_connections=WORKERS,
                    ),
                    **_CREDENTIALS,
                )
            return client


def _async_output(record: EndpointRecord) -> str | None:
    """An asynchronous endpoint's S3OutputPath; None for a real-time endpoint."""
    if not record.async_config:
        return None
    output = (record.async_config.get("OutputConfig") or {}).get("S3OutputPath")
    return str(output) if output else None


def _model_kind(record: EndpointRecord) -> ModelKind | None:
    """The dataset the endpoint's models were trained on, if it is one the sandbox knows."""
    for variant in record.variants:
        if variant.model is not None and variant.model.kind in MODEL_KINDS:
            return cast(ModelKind, variant.model.kind)
    return None
