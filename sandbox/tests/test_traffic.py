"""The traffic generator keeps endpoints busy through the real front door."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from sandbox.endpoints import EndpointStore
from sandbox.faults import Fault, FaultStore
from sandbox.identities import ACCOUNT_ID
from sandbox.models import holdout
from sandbox.seed import ensure_bucket
from sandbox.server import SandboxServer
from sandbox.testing import aws_client, control, live_endpoint
from sandbox.traffic import ASYNC_SLOTS, TrafficGenerator, daily_shape
from tests.world import async_endpoint, upload_tumor_model, variant_metric

REPO = Path(__file__).resolve().parents[2]
# A region of its own: the generator invokes every serving endpoint in the regions it is given.
REGION = "ca-central-1"


def test_traffic_peaks_in_the_afternoon_and_dips_at_night() -> None:
    def at(hour: int) -> float:
        return daily_shape(datetime(2026, 11, 27, hour, tzinfo=UTC).timestamp())

    assert at(14) == pytest.approx(1.6)
    assert at(2) == pytest.approx(0.4)
    assert at(8) == pytest.approx(1.0)


def test_generator_invocations_reach_the_endpoint_metrics(running_sandbox: SandboxServer) -> None:
    model = upload_tumor_model(running_sandbox.url, REGION)
    name = live_endpoint(running_sandbox.url, model, weights=(1.0,), region=REGION)
    generator = TrafficGenerator(
        running_sandbox.url,
        running_sandbox.state.endpoints,
        running_sandbox.state.faults,
        rate=20.0,
        regions=frozenset({REGION}),
    )
    generator.start()
    time.sleep(1.0)
    generator.stop()
    stats = generator.stats
    assert stats.sent >= 5
    assert stats.succeeded == stats.sent
    control(running_sandbox.url, "flush-metrics")
    invoked = variant_metric(running_sandbox.url, name, "v0", "Invocations", "Sum", region=REGION)
    assert invoked == [float(stats.sent)]


def test_async_endpoints_get_their_traffic_through_s3_and_the_queue(
    running_sandbox: SandboxServer,
) -> None:
    url = running_sandbox.url
    name = async_endpoint(url, region=REGION)
    generator = TrafficGenerator(
        url,
        running_sandbox.state.endpoints,
        running_sandbox.state.faults,
        rate=20.0,
        regions=frozenset({REGION}),
    )
    generator.start()
    time.sleep(1.0)
    generator.stop()
    stats = generator.stats
    # Endpoints other tests left in the region get their share of the sends too.
    assert stats.succeeded == stats.sent
    s3 = aws_client(url, "s3", REGION)
    bucket = ensure_bucket(s3, REGION)
    deadline = time.monotonic() + 10
    while running_sandbox.state.async_inference.backlog(ACCOUNT_ID, REGION, name):
        assert time.monotonic() < deadline, "the queue never drained"
        time.sleep(0.05)
    inputs = s3.list_objects_v2(Bucket=bucket, Prefix=f"async-inputs/{name}/")["Contents"]
    outputs = s3.list_objects_v2(Bucket=bucket, Prefix=f"{name}/out/traffic-")["Contents"]
    # Each send used a slot of its own (fewer than ASYNC_SLOTS in a second) and left its answer.
    assert 3 <= len(outputs) == len(inputs) < ASYNC_SLOTS
    control(url, "flush-metrics")
    processed = variant_metric(
        url, name, "AllTraffic", "InvocationsProcessed", "Sum", region=REGION
    )
    assert processed == [float(len(outputs))]
    # Asynchronous endpoints do not publish Invocations, as on AWS.
    assert variant_metric(url, name, "AllTraffic", "Invocations", "Sum", region=REGION) == []


def test_input_drift_shifts_every_feature_by_its_spread() -> None:
    faults = FaultStore()
    generator = TrafficGenerator("http://127.0.0.1:9", EndpointStore(), faults, rate=1.0)
    features = holdout("tumor").features

    def mean_sent() -> np.ndarray:
        rows = [
            [float(v) for v in generator.body_for("us-east-1", "drifty", "tumor").split(",")]
            for _ in range(400)
        ]
        return np.mean(rows, axis=0)

    baseline = mean_sent()
    faults.put(Fault(endpoint="drifty", drift=3.0))
    shifted = mean_sent()
    spread = features.std(axis=0)
    assert np.allclose((shifted - baseline) / spread, 3.0, atol=0.6)


@pytest.fixture
def served_with_traffic() -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sandbox",
            "serve",
            "--port",
            "0",
            "--seed",
            "none",
            "--creating-seconds",
            "0",
            "--traffic",
            "20",
        ],  # fmt: skip
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("Sandbox ready at http://127.0.0.1:"), line
        assert "traffic: 20/s per endpoint" in line
        yield process, line.split()[3].rstrip(",")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_with_traffic_invokes_new_endpoints_and_stops_cleanly(
    served_with_traffic: tuple[subprocess.Popen[str], str],
) -> None:
    process, url = served_with_traffic
    model = upload_tumor_model(url, REGION)
    name = live_endpoint(url, model, weights=(1.0,), region=REGION)
    # The first send loads the dataset's held-out rows, which takes a moment.
    deadline = time.monotonic() + 20
    invoked = 0.0
    while invoked < 3 and time.monotonic() < deadline:
        time.sleep(0.5)
        control(url, "flush-metrics")
        invoked = sum(variant_metric(url, name, "v0", "Invocations", "Sum", region=REGION))
    assert invoked >= 3
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0
