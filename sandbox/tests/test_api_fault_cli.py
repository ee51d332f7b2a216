"""``python -m sandbox fault --api ...``: control-plane faults from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.server import SandboxServer
from sandbox.testing import api_fault, clear_api_faults, control

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def url(running_sandbox: SandboxServer) -> Iterator[str]:
    yield running_sandbox.url
    clear_api_faults(running_sandbox.url)


def _cli(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sandbox", "fault", *arguments],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_cli_sets_lists_and_clears_an_api_fault(url: str) -> None:
    done = _cli(
        "--url", url, "--api", "cloudwatch:GetMetricData", "--hang", "--region", "af-south-1"
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["api_fault"] == {
        "api": "monitoring:GetMetricData",
        "region": "af-south-1",
        "throttle_rate": 0.0,
        "error_rate": 0.0,
        "reset_rate": 0.0,
        "latency_ms": 0.0,
        "hang": True,
    }
    done = _cli(
        "--url", url, "--api", "sagemaker:DescribeEndpoint",
        "--throttle-rate", "0.2", "--error-rate", "0.1", "--latency-ms", "50",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr

    listed = json.loads(_cli("--url", url, "--list").stdout)
    assert {"faults", "api_faults"} <= set(listed)
    assert [f["api"] for f in listed["api_faults"]] == [
        "monitoring:GetMetricData",
        "sagemaker:DescribeEndpoint",
    ]

    cleared = _cli("--url", url, "--clear", "--api", "cloudwatch")
    assert cleared.returncode == 0, cleared.stderr
    assert [f["api"] for f in json.loads(cleared.stdout)["cleared"]] == ["monitoring:GetMetricData"]
    _, remaining = control(url, "api-faults", method="GET")
    assert [f["api"] for f in remaining["api_faults"]] == ["sagemaker:DescribeEndpoint"]


def test_cli_clear_without_filters_clears_api_faults_too(url: str) -> None:
    api_fault(url, "s3:*", error_rate=1.0)
    done = _cli("--url", url, "--clear")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert [f["api"] for f in answer["cleared_api_faults"]] == ["s3:*"]
    _, remaining = control(url, "api-faults", method="GET")
    assert remaining["api_faults"] == []


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        (("--api", "sagemaker:*", "--drift", "2"), "--drift: endpoint fault options"),
        (("--api", "sagemaker:*", "--endpoint", "e", "--hang"), "--endpoint: endpoint fault"),
        (("--hang",), "--hang is for API faults"),
        (("--api", "sagemaker:DescribeEndpoints", "--hang"), "Did you mean: DescribeEndpoint"),
        (("--api", "sagemaker:*", "--throttle-rate", "2"), "throttle_rate must be between 0 and 1"),
    ],
)
def test_cli_refuses_what_an_api_fault_cannot_be(
    url: str, arguments: tuple[str, ...], complaint: str
) -> None:
    done = _cli("--url", url, *arguments)
    assert done.returncode != 0
    assert complaint in done.stderr
    _, listed = control(url, "api-faults", method="GET")
    assert listed["api_faults"] == []
