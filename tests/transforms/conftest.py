"""Fixtures for batch transform tests: the classic tumor launch, quota control through the
sandbox's admin route, and stepping the poll chain as a worker would."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, replace

import pytest

from core.aws.types import TransformSpec
from transforms import services
from transforms.models import TransformJob
from transforms.services import TransformLaunch

BUCKET = "sagemaker-us-east-1-123456789012"
TUMOR_INPUT = f"s3://{BUCKET}/batch/tumor/input/tumor-batch.csv"


def _reset_broker_pools() -> None:
    from kombu import pools

    from opsportal.celery import app

    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture(autouse=True)
def _fresh_broker_pools() -> Iterator[None]:
    """`broker_down` closes kombu's shared pool; start and leave every test with fresh ones."""
    _reset_broker_pools()
    yield
    _reset_broker_pools()


@pytest.fixture(autouse=True)
def _short_poll_interval(settings) -> None:
    """Tests step the poll chain every few hundred milliseconds, as a worker would with a
    one-second interval; the duplicate-poll guard is half of it."""
    settings.OPSPORTAL_TRANSFORM_POLL_SECONDS = 0.2


def tumor_launch(**changes: object) -> TransformLaunch:
    """The classic example: drop the id for inference, join the input, keep id + prediction.
    `changes` replace job parameters (TransformSpec fields)."""
    spec = TransformSpec(
        model_name="tumor-model-v1",
        input_uri=TUMOR_INPUT,
        content_type="text/csv",
        split_type="Line",
        batch_strategy="MultiRecord",
        max_payload_mb=6,
        max_concurrent_transforms=4,
        instance_type="ml.m5.xlarge",
        instance_count=1,
        output_path=f"s3://{BUCKET}/batch/tumor/output/test-{uuid.uuid4().hex[:8]}",
        accept="text/csv",
        assemble_with="Line",
        input_filter="$[1:]",
        output_filter="$[0,-1]",
        join_source="Input",
    )
    return TransformLaunch(
        target="sandbox",
        region="us-east-1",
        spec=replace(spec, **changes),  # type: ignore[arg-type]
    )


def form_data(launch: TransformLaunch) -> dict[str, object]:
    data: dict[str, object] = {
        name: value
        for name, value in asdict(launch.spec).items()
        if name not in ("environment", "input_data_type")
    }
    data["target_region"] = f"{launch.target}/{launch.region}"
    data["environment"] = "\n".join(f"{k}={v}" for k, v in launch.spec.environment.items())
    return data


@pytest.fixture
def operator(user_factory) -> object:
    """Someone allowed to launch and stop jobs (the services check it)."""
    return user_factory("batch-operator", "Operator")


def poll_until_terminal(job: TransformJob, timeout: float = 30.0) -> TransformJob:
    """Run the poll task body as a worker would after each countdown."""
    deadline = time.monotonic() + timeout
    while True:
        job.refresh_from_db()
        if job.is_terminal:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"{job.name} still {job.status}")
        services.transform_job_poll(job_id=str(job.pk))
        time.sleep(0.2)


@pytest.fixture
def set_quota(sandbox) -> Iterator[Callable[[str, float], None]]:
    """Set a sagemaker quota's applied value through the sandbox admin route; all quotas
    go back to their defaults afterwards."""

    def call(method: str, body: dict | None = None) -> None:
        request = urllib.request.Request(
            f"{sandbox.url}/_sandbox/quotas",
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200

    yield lambda quota, value: call("POST", {"quota": quota, "value": value})
    call("DELETE")
