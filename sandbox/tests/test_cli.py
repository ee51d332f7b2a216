"""``python -m sandbox serve`` as an operator runs it, in a process of its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.testing import aws_client, create_endpoint
from tests.world import upload_tumor_model

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], str]]:
    """An empty sandbox served by the CLI on a free port; killed if a test leaves it running."""
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "serve", "--port", "0", "--seed", "none"],
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
        yield process, line.split()[3]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_serve_prints_its_url_answers_and_stops_on_sigterm(
    served: tuple[subprocess.Popen[str], str],
) -> None:
    process, url = served
    assert aws_client(url, "sagemaker", "us-east-1").list_endpoints()["Endpoints"] == []
    process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    assert process.wait(timeout=10) == 0
    assert time.monotonic() - started < 5


def test_moto_reset_also_forgets_the_sandbox_endpoints(
    served: tuple[subprocess.Popen[str], str],
) -> None:
    _process, url = served
    model = upload_tumor_model(url, "us-east-1")
    name = create_endpoint(url, "us-east-1", model)
    sagemaker = aws_client(url, "sagemaker", "us-east-1")
    assert [e["EndpointName"] for e in sagemaker.list_endpoints()["Endpoints"]] == [name]
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"))
    assert sagemaker.list_endpoints()["Endpoints"] == []
    assert sagemaker.list_models()["Models"] == []


def test_serve_takes_the_least_time_a_transform_job_stays_in_progress() -> None:
    from sandbox.__main__ import build_parser

    parsed = build_parser().parse_args(["serve", "--transform-seconds", "0.2"])
    assert parsed.transform_seconds == 0.2
    assert build_parser().parse_args(["serve"]).transform_seconds == 1.0
