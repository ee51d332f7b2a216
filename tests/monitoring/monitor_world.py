"""Helpers for the Model Monitor tests: drive the sandbox's demo schedule from a test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sandbox.testing import (
    MONITOR_REGION,
    MONITORED_ENDPOINT,
    MONITORING_SCHEDULE,
    SandboxServer,
    TrafficGenerator,
    control,
    holdout,
)
from tests.aws_actor import runtime

# One pass over the held-out rows: the window then has the held-out distribution.
REQUESTS = len(holdout("tumor").features)
DRIFTED_COLUMN = "mean radius"  # the fault's name for it (the model's column name)
DRIFTED_FEATURE = "mean_radius"  # the baseline's feature name


def send_traffic(server: SandboxServer, endpoint: str = MONITORED_ENDPOINT, count: int = REQUESTS):
    """Invoke with the traffic generator's rows (shifted by any drift fault), then write the
    captured events to S3."""
    generator = TrafficGenerator(server.url, server.state.endpoints, server.state.faults, 1.0)
    client = runtime(server.url, MONITOR_REGION)
    for _ in range(count):
        client.invoke_endpoint(
            EndpointName=endpoint,
            ContentType="text/csv",
            Body=generator.body_for(MONITOR_REGION, endpoint, "tumor").encode(),
        )
    status, answer = control(server.url, "flush-capture")
    assert status == 200, answer


@contextmanager
def drift(server: SandboxServer, *, endpoint: str = MONITORED_ENDPOINT) -> Iterator[None]:
    """A 3-standard-deviation drift of one feature of the endpoint, cleared afterwards."""
    status, answer = control(
        server.url,
        "faults",
        body={
            "endpoint": endpoint,
            "region": MONITOR_REGION,
            "drift": 3.0,
            "features": [DRIFTED_COLUMN],
        },
    )
    assert status == 200, answer
    try:
        yield
    finally:
        control(server.url, "faults", body={"clear": True, "endpoint": endpoint})


def run_monitoring(server: SandboxServer, schedule: str = MONITORING_SCHEDULE) -> dict[str, Any]:
    status, answer = control(
        server.url, "run-monitoring", body={"schedule": schedule, "region": MONITOR_REGION}
    )
    assert status == 200, answer
    (execution,) = answer["executions"]
    return dict(execution)


def capturing_endpoint(url: str) -> str:
    """A new one-variant tumor endpoint in the portal's region, capturing its CSV input,
    with no monitoring schedule."""
    import uuid

    from sandbox.testing import bucket_name
    from tests.aws_actor import sagemaker, wait_for_status

    sm = sagemaker(url, MONITOR_REGION)
    model = sm.list_models(NameContains="tumor", MaxResults=100)["Models"][0]["ModelName"]
    name = f"cap-{uuid.uuid4().hex[:8]}"
    sm.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": model,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
        DataCaptureConfig={
            "EnableCapture": True,
            "InitialSamplingPercentage": 100,
            "DestinationS3Uri": f"s3://{bucket_name(MONITOR_REGION)}/datacapture/",
            "CaptureOptions": [{"CaptureMode": "InputAndOutput"}],
            "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]},
        },
    )
    sm.create_endpoint(EndpointName=name, EndpointConfigName=name)
    wait_for_status(sm, name, "InService")
    return name
