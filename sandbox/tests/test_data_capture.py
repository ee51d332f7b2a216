"""Data capture writes sampled request/response pairs to S3 in SageMaker's format and layout."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest

from sandbox.models import holdout_rows, rows_to_csv
from sandbox.seed import bucket_name, ensure_bucket
from sandbox.server import SandboxServer
from sandbox.testing import aws_client, control, unique, wait_for_status
from tests.world import TRAFFIC_REGION, runtime_client, upload_tumor_model

ROWS = holdout_rows("tumor")[:5]
_KEY = re.compile(
    r"^(?P<prefix>[^/]+)/(?P<endpoint>[^/]+)/(?P<variant>[^/]+)/\d{4}/\d{2}/\d{2}/\d{2}/"
    r"\d{2}-\d{2}-\d{3}-[0-9a-f-]{36}\.jsonl$"
)


@pytest.fixture(scope="module")
def model(running_sandbox: SandboxServer) -> str:
    ensure_bucket(aws_client(running_sandbox.url, "s3", TRAFFIC_REGION), TRAFFIC_REGION)
    return upload_tumor_model(running_sandbox.url, TRAFFIC_REGION)


def capturing_endpoint(url: str, model: str, prefix: str, **capture: Any) -> str:
    """A one-variant endpoint capturing to s3://<regional bucket>/<prefix>/."""
    sagemaker = aws_client(url, "sagemaker", TRAFFIC_REGION)
    capture.setdefault("CaptureOptions", [{"CaptureMode": "InputAndOutput"}])
    name = unique("captured")
    sagemaker.create_endpoint_config(
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
            "DestinationS3Uri": f"s3://{bucket_name(TRAFFIC_REGION)}/{prefix}/",
            **capture,
        },
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    wait_for_status(url, TRAFFIC_REGION, name, "InService")
    return name


def captured_lines(url: str, prefix: str) -> tuple[list[str], list[dict[str, Any]]]:
    """Keys under the prefix and every captured event in them, after a forced write."""
    control(url, "flush-capture")
    s3 = aws_client(url, "s3", TRAFFIC_REGION)
    bucket = bucket_name(TRAFFIC_REGION)
    keys = [
        item["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for item in page.get("Contents", [])
    ]
    events = []
    for key in keys:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        events += [json.loads(line) for line in body.splitlines()]
    return keys, events


def test_every_request_is_captured_in_one_file_per_flush(
    running_sandbox: SandboxServer, model: str
) -> None:
    prefix = unique("capture")
    name = capturing_endpoint(
        running_sandbox.url,
        model,
        prefix,
        InitialSamplingPercentage=100,
        CaptureOptions=[{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
        CaptureContentTypeHeader={"CsvContentTypes": ["text/csv"]},
    )
    runtime = runtime_client(running_sandbox.url)
    bodies = [rows_to_csv([row]) for row in ROWS]
    for number, body in enumerate(bodies):
        runtime.invoke_endpoint(
            EndpointName=name, ContentType="text/csv", Body=body, InferenceId=f"req-{number}"
        )
    keys, events = captured_lines(running_sandbox.url, prefix)
    assert len(keys) <= 2  # one file, or two if the hour turned meanwhile
    match = _KEY.match(keys[0])
    assert match is not None, keys[0]
    assert (match["prefix"], match["endpoint"], match["variant"]) == (prefix, name, "AllTraffic")
    assert len(events) == len(bodies)
    first = events[0]
    assert first["eventVersion"] == "0"
    assert first["captureData"]["endpointInput"] == {
        "observedContentType": "text/csv",
        "mode": "INPUT",
        "data": bodies[0],
        "encoding": "CSV",
    }
    output = first["captureData"]["endpointOutput"]
    assert (output["observedContentType"], output["mode"], output["encoding"]) == (
        "text/csv; charset=utf-8",
        "OUTPUT",
        "CSV",
    )
    assert 0.0 <= float(output["data"]) <= 1.0
    assert re.fullmatch(
        r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", first["eventMetadata"]["inferenceTime"]
    )
    assert sorted(e["eventMetadata"]["inferenceId"] for e in events) == [
        f"req-{n}" for n in range(len(bodies))
    ]
    assert len({e["eventMetadata"]["eventId"] for e in events}) == len(bodies)


def test_sampling_at_zero_percent_captures_nothing(
    running_sandbox: SandboxServer, model: str
) -> None:
    prefix = unique("capture")
    name = capturing_endpoint(running_sandbox.url, model, prefix, InitialSamplingPercentage=0)
    runtime = runtime_client(running_sandbox.url)
    for row in ROWS:
        runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=rows_to_csv([row]))
    assert captured_lines(running_sandbox.url, prefix) == ([], [])


def test_sampling_keeps_about_the_configured_share(
    running_sandbox: SandboxServer, model: str
) -> None:
    prefix = unique("capture")
    name = capturing_endpoint(running_sandbox.url, model, prefix, InitialSamplingPercentage=30)
    runtime = runtime_client(running_sandbox.url)
    body = rows_to_csv(ROWS[:1])
    for _ in range(300):
        runtime.invoke_endpoint(EndpointName=name, ContentType="text/csv", Body=body)
    _keys, events = captured_lines(running_sandbox.url, prefix)
    # Binomial(300, 0.3): mean 90, sd 7.9; this band fails about once in a million runs.
    assert 50 <= len(events) <= 130


def test_input_only_capture_without_content_types_is_base64(
    running_sandbox: SandboxServer, model: str
) -> None:
    prefix = unique("capture")
    name = capturing_endpoint(
        running_sandbox.url,
        model,
        prefix,
        InitialSamplingPercentage=100,
        CaptureOptions=[{"CaptureMode": "Input"}],
    )
    body = rows_to_csv(ROWS[:1])
    runtime_client(running_sandbox.url).invoke_endpoint(
        EndpointName=name, ContentType="text/csv", Body=body
    )
    _keys, (event,) = captured_lines(running_sandbox.url, prefix)
    assert set(event["captureData"]) == {"endpointInput"}
    captured = event["captureData"]["endpointInput"]
    assert captured["encoding"] == "BASE64"
    assert base64.b64decode(captured["data"]).decode() == body
