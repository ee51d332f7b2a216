"""Fault injection through HTTP and the CLI, and what callers of a faulty endpoint see."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from sandbox.models import holdout_rows, rows_to_csv
from sandbox.server import SandboxServer
from sandbox.testing import control, live_endpoint
from tests.world import TRAFFIC_REGION, runtime_client, upload_tumor_model, variant_metric

REPO = Path(__file__).resolve().parents[2]
ROW = rows_to_csv(holdout_rows("tumor")[:1])


@pytest.fixture(scope="module")
def model(running_sandbox: SandboxServer) -> str:
    return upload_tumor_model(running_sandbox.url, TRAFFIC_REGION)


@pytest.fixture(scope="module")
def quiet_endpoint(running_sandbox: SandboxServer, model: str) -> str:
    """An endpoint that refused faults must leave untouched."""
    return live_endpoint(running_sandbox.url, model, weights=(1.0, 0.0))


@pytest.fixture
def endpoint(running_sandbox: SandboxServer, model: str) -> Iterator[str]:
    """A fresh endpoint (v0 takes all traffic, v1 none); its faults are cleared afterwards."""
    name = live_endpoint(running_sandbox.url, model, weights=(1.0, 0.0))
    yield name
    control(running_sandbox.url, f"faults?endpoint={name}", method="DELETE")


def _codes(url: str, endpoint: str, count: int, **extra: str) -> Counter[str]:
    runtime = runtime_client(url)
    seen: Counter[str] = Counter()
    for _ in range(count):
        try:
            runtime.invoke_endpoint(
                EndpointName=endpoint, ContentType="text/csv", Body=ROW, **extra
            )
            seen["ok"] += 1
        except ClientError as error:
            seen[error.response["Error"]["Code"]] += 1
    return seen


def test_5xx_faults_fail_requests_as_internal_failure(
    running_sandbox: SandboxServer, endpoint: str
) -> None:
    status, answer = control(
        running_sandbox.url, "faults", body={"endpoint": endpoint, "error_rate": 1.0}
    )
    assert status == 200
    assert answer["fault"]["error_kind"] == "5xx"
    assert _codes(running_sandbox.url, endpoint, 5) == Counter({"InternalFailure": 5})
    control(running_sandbox.url, "flush-metrics")
    assert variant_metric(
        running_sandbox.url, endpoint, "v0", "Invocation5XXErrors", "Average"
    ) == [1.0]


def test_model_faults_are_model_errors_from_a_500(
    running_sandbox: SandboxServer, endpoint: str
) -> None:
    control(
        running_sandbox.url,
        "faults",
        body={"endpoint": endpoint, "error_rate": 1.0, "error_kind": "model"},
    )
    runtime = runtime_client(running_sandbox.url)
    with pytest.raises(ClientError) as raised:
        runtime.invoke_endpoint(EndpointName=endpoint, ContentType="text/csv", Body=ROW)
    error = raised.value.response
    assert (error["Error"]["Code"], error["OriginalStatusCode"]) == ("ModelError", 500)
    assert error["Error"]["Message"].startswith("Received server error (500) from primary")


def test_a_variant_fault_spares_the_other_variant(
    running_sandbox: SandboxServer, endpoint: str
) -> None:
    control(
        running_sandbox.url,
        "faults",
        body={"endpoint": endpoint, "variant": "v1", "error_rate": 1.0},
    )
    assert _codes(running_sandbox.url, endpoint, 3) == Counter({"ok": 3})
    assert _codes(running_sandbox.url, endpoint, 3, TargetVariant="v1") == Counter(
        {"InternalFailure": 3}
    )


def test_throttling_answers_throttling_exception(
    running_sandbox: SandboxServer, endpoint: str
) -> None:
    control(running_sandbox.url, "faults", body={"endpoint": endpoint, "throttle_rate": 1.0})
    with pytest.raises(ClientError) as raised:
        runtime_client(running_sandbox.url).invoke_endpoint(
            EndpointName=endpoint, ContentType="text/csv", Body=ROW
        )
    error = raised.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (
        "ThrottlingException",
        400,
    )


def test_added_latency_slows_requests_and_shows_in_model_latency(
    running_sandbox: SandboxServer, endpoint: str
) -> None:
    control(running_sandbox.url, "faults", body={"endpoint": endpoint, "latency_ms": 150})
    started = time.perf_counter()
    assert _codes(running_sandbox.url, endpoint, 2) == Counter({"ok": 2})
    assert time.perf_counter() - started >= 0.3
    control(running_sandbox.url, "flush-metrics")
    (fastest,) = variant_metric(running_sandbox.url, endpoint, "v0", "ModelLatency", "Minimum")
    assert 150_000 <= fastest < 1_000_000


def test_faults_are_listed_and_cleared(running_sandbox: SandboxServer, endpoint: str) -> None:
    control(running_sandbox.url, "faults", body={"endpoint": endpoint, "drift": 2.5})
    status, listed = control(running_sandbox.url, "faults", method="GET")
    assert status == 200
    mine = [f for f in listed["faults"] if f["endpoint"] == endpoint]
    assert mine == [
        {
            "endpoint": endpoint,
            "variant": None,
            "region": None,
            "error_rate": 0.0,
            "error_kind": "5xx",
            "latency_ms": 0.0,
            "throttle_rate": 0.0,
            "drift": 2.5,
        }
    ]
    status, cleared = control(
        running_sandbox.url, "faults", body={"clear": True, "endpoint": endpoint}
    )
    assert status == 200 and len(cleared["cleared"]) == 1
    _, listed = control(running_sandbox.url, "faults", method="GET")
    assert not [f for f in listed["faults"] if f["endpoint"] == endpoint]


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({"error_rate": 0.5}, "endpoint is required"),
        ({"endpoint": "no-such-endpoint", "error_rate": 0.5}, "No endpoint named"),
        ({"endpoint": "{endpoint}", "variant": "v9"}, "has no variant v9"),
        ({"endpoint": "{endpoint}", "error_rate": 1.5}, "error_rate must be between 0 and 1"),
        ({"endpoint": "{endpoint}", "error_kind": "4xx"}, "error_kind must be one of"),
        ({"endpoint": "{endpoint}", "latency_ms": -1}, "latency_ms must be between"),
        ({"endpoint": "{endpoint}", "throttle_rate": "often"}, "throttle_rate must be a number"),
        ({"endpoint": "{endpoint}", "errors": 0.5}, "Unknown field(s): errors"),
    ],
)
def test_bad_faults_are_refused_with_a_clear_message(
    running_sandbox: SandboxServer, quiet_endpoint: str, body: dict, complaint: str
) -> None:
    document = {
        k: v.format(endpoint=quiet_endpoint) if isinstance(v, str) else v for k, v in body.items()
    }
    status, answer = control(running_sandbox.url, "faults", body=document)
    assert status == 400
    assert complaint in answer["message"]
    _, listed = control(running_sandbox.url, "faults", method="GET")
    assert not [f for f in listed["faults"] if f["endpoint"] == quiet_endpoint]


def _cli(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sandbox", "fault", *arguments],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_cli_injects_lists_and_clears_a_fault(
    running_sandbox: SandboxServer, endpoint: str
) -> None:
    url = running_sandbox.url
    done = _cli(
        "--url", url, "--endpoint", endpoint, "--variant", "v0",
        "--error-rate", "1", "--error-kind", "model", "--latency-ms", "5",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["fault"]["error_kind"] == "model"
    assert _codes(url, endpoint, 2) == Counter({"ModelError": 2})

    listed = _cli("--url", url, "--list")
    assert endpoint in listed.stdout

    cleared = _cli("--url", url, "--clear", "--endpoint", endpoint)
    assert cleared.returncode == 0, cleared.stderr
    assert _codes(url, endpoint, 2) == Counter({"ok": 2})


def test_cli_reports_a_refused_fault_and_fails(running_sandbox: SandboxServer) -> None:
    done = _cli(
        "--url", running_sandbox.url, "--endpoint", "no-such-endpoint", "--error-rate", "0.2"
    )
    assert done.returncode != 0
    assert "No endpoint named no-such-endpoint" in done.stderr
