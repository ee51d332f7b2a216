"""Asynchronous inference: InvokeEndpointAsync queues the request, the model's answer lands
in S3, and the queue shows in the endpoint's backlog metrics."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sandbox.identities import ACCOUNT_ID
from sandbox.models import holdout_rows, rows_to_csv, train_tumor
from sandbox.seed import ensure_bucket
from sandbox.server import SandboxServer
from sandbox.testing import TRAFFIC_REGION, aws_client, unique, wait_for_status
from tests.world import async_endpoint, runtime_client, upload_tumor_model

ROWS = holdout_rows("tumor")[:4]


@pytest.fixture(scope="module")
def endpoint(running_sandbox: SandboxServer) -> str:
    return async_endpoint(running_sandbox.url)


def _put_input(url: str, key: str, body: bytes) -> str:
    s3 = aws_client(url, "s3", TRAFFIC_REGION)
    bucket = ensure_bucket(s3, TRAFFIC_REGION)
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return f"s3://{bucket}/{key}"


def _wait_for_object(url: str, uri: str, timeout: float = 10.0) -> bytes:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    s3 = aws_client(url, "s3", TRAFFIC_REGION)
    deadline = time.monotonic() + timeout
    while True:
        try:
            return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        except ClientError:
            if time.monotonic() > deadline:
                raise AssertionError(f"{uri} never appeared") from None
            time.sleep(0.05)


def _missing(url: str, uri: str) -> bool:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    listed = aws_client(url, "s3", TRAFFIC_REGION).list_objects_v2(Bucket=bucket, Prefix=key)
    return not listed.get("Contents")


def _refusal(url: str, **arguments: Any) -> str:
    """The ValidationError message; botocore's own range checks are off so the sandbox's
    are what is tested."""
    raw = boto3.client(
        "sagemaker-runtime",
        endpoint_url=url,
        region_name=TRAFFIC_REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(parameter_validation=False, retries={"total_max_attempts": 1}),
    )
    with pytest.raises(ClientError) as raised:
        raw.invoke_endpoint_async(**arguments)
    error = raised.value.response["Error"]
    assert error["Code"] == "ValidationError"
    return str(error["Message"])


def test_the_output_holds_the_models_predictions_for_the_input_rows(
    running_sandbox: SandboxServer, endpoint: str
) -> None:
    url = running_sandbox.url
    source = _put_input(url, f"inputs/{unique('rows')}.csv", rows_to_csv(ROWS).encode())
    answer = runtime_client(url).invoke_endpoint_async(
        EndpointName=endpoint, InputLocation=source, ContentType="text/csv", InferenceId="claim-1"
    )
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert answer["InferenceId"] == "claim-1"
    assert answer["OutputLocation"].endswith(f"/{endpoint}/out/claim-1.out")
    assert answer["FailureLocation"].endswith(f"/{endpoint}/failed/claim-1-error.out")
    written = _wait_for_object(url, answer["OutputLocation"]).decode()
    assert written.splitlines() == train_tumor().predict_rows(np.array(ROWS))


def test_a_generated_inference_id_names_the_output(
    running_sandbox: SandboxServer, endpoint: str
) -> None:
    url = running_sandbox.url
    source = _put_input(url, f"inputs/{unique('rows')}.csv", rows_to_csv(ROWS[:1]).encode())
    answer = runtime_client(url).invoke_endpoint_async(EndpointName=endpoint, InputLocation=source)
    assert answer["InferenceId"]
    assert answer["OutputLocation"].endswith(f"/{answer['InferenceId']}.out")
    assert _wait_for_object(url, answer["OutputLocation"])


def test_a_body_the_model_cannot_read_fails_to_the_failure_path(
    running_sandbox: SandboxServer, endpoint: str
) -> None:
    url = running_sandbox.url
    source = _put_input(url, f"inputs/{unique('bad')}.csv", b"not,a,number\n")
    answer = runtime_client(url).invoke_endpoint_async(
        EndpointName=endpoint, InputLocation=source, ContentType="text/csv"
    )
    failure = json.loads(_wait_for_object(url, answer["FailureLocation"]))
    assert failure["ErrorCode"] == "ModelError"
    assert failure["OriginalStatusCode"] == 400
    assert _missing(url, answer["OutputLocation"])


def test_a_missing_input_object_is_accepted_then_fails(
    running_sandbox: SandboxServer, endpoint: str
) -> None:
    url = running_sandbox.url
    bucket = ensure_bucket(aws_client(url, "s3", TRAFFIC_REGION), TRAFFIC_REGION)
    answer = runtime_client(url).invoke_endpoint_async(
        EndpointName=endpoint, InputLocation=f"s3://{bucket}/inputs/{unique('nothing')}.csv"
    )
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 202
    failure = json.loads(_wait_for_object(url, answer["FailureLocation"]))
    assert failure["ErrorCode"] == "RequestDownloadFailure"


def test_without_a_failure_path_errors_go_beside_the_outputs(
    running_sandbox: SandboxServer,
) -> None:
    url = running_sandbox.url
    name = async_endpoint(url, failure_path=False)
    source = _put_input(url, f"inputs/{unique('bad')}.csv", b"oops\n")
    answer = runtime_client(url).invoke_endpoint_async(
        EndpointName=name, InputLocation=source, InferenceId="broken", ContentType="text/csv"
    )
    assert "FailureLocation" not in answer
    error_uri = answer["OutputLocation"].removesuffix("broken.out") + "broken-error.out"
    assert json.loads(_wait_for_object(url, error_uri))["ErrorCode"] == "ModelError"


def test_invalid_requests_are_refused(running_sandbox: SandboxServer, endpoint: str) -> None:
    url = running_sandbox.url
    source = _put_input(url, f"inputs/{unique('rows')}.csv", rows_to_csv(ROWS).encode())
    assert "inputLocation" in _refusal(url, EndpointName=endpoint, InputLocation="")
    assert "inputLocation" in _refusal(url, EndpointName=endpoint, InputLocation="ftp://x/y")
    assert "requestTTLSeconds" in _refusal(
        url, EndpointName=endpoint, InputLocation=source, RequestTTLSeconds=59
    )
    assert "requestTTLSeconds" in _refusal(
        url, EndpointName=endpoint, InputLocation=source, RequestTTLSeconds=21601
    )
    assert "invocationTimeoutSeconds" in _refusal(
        url, EndpointName=endpoint, InputLocation=source, InvocationTimeoutSeconds=3601
    )
    assert "not found" in _refusal(url, EndpointName="no-such-endpoint", InputLocation=source)


def test_real_time_and_async_endpoints_take_only_their_own_invocations(
    running_sandbox: SandboxServer, endpoint: str
) -> None:
    url = running_sandbox.url
    sagemaker = aws_client(url, "sagemaker", TRAFFIC_REGION)
    model = upload_tumor_model(url, TRAFFIC_REGION)
    realtime = unique("rt")
    sagemaker.create_endpoint_config(
        EndpointConfigName=realtime,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": model,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName=realtime, EndpointConfigName=realtime)
    wait_for_status(url, TRAFFIC_REGION, realtime, "InService")
    source = _put_input(url, f"inputs/{unique('rows')}.csv", rows_to_csv(ROWS).encode())
    assert "AsyncInferenceConfig" in _refusal(url, EndpointName=realtime, InputLocation=source)
    runtime = runtime_client(url)
    for call in (runtime.invoke_endpoint, runtime.invoke_endpoint_with_response_stream):
        with pytest.raises(ClientError) as raised:
            call(EndpointName=endpoint, ContentType="text/csv", Body=rows_to_csv(ROWS))
        assert raised.value.response["Error"]["Code"] == "ValidationError"
        assert "InvokeEndpointAsync" in raised.value.response["Error"]["Message"]
    # A real-time endpoint cannot scale to zero instances; an asynchronous one can.
    with pytest.raises(ClientError) as refused:
        sagemaker.update_endpoint_weights_and_capacities(
            EndpointName=realtime,
            DesiredWeightsAndCapacities=[
                {"VariantName": "AllTraffic", "DesiredWeight": 1.0, "DesiredInstanceCount": 0}
            ],
        )
    assert "scale to zero" in refused.value.response["Error"]["Message"]
    autoscaling = aws_client(url, "application-autoscaling", TRAFFIC_REGION)
    with pytest.raises(ClientError):
        autoscaling.register_scalable_target(
            ServiceNamespace="sagemaker",
            ResourceId=f"endpoint/{realtime}/variant/AllTraffic",
            ScalableDimension="sagemaker:variant:DesiredInstanceCount",
            MinCapacity=0,
            MaxCapacity=2,
        )
    autoscaling.register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=f"endpoint/{endpoint}/variant/AllTraffic",
        ScalableDimension="sagemaker:variant:DesiredInstanceCount",
        MinCapacity=0,
        MaxCapacity=2,
    )


def test_describe_endpoint_shows_the_async_config(
    running_sandbox: SandboxServer, endpoint: str
) -> None:
    described = aws_client(running_sandbox.url, "sagemaker", TRAFFIC_REGION).describe_endpoint(
        EndpointName=endpoint
    )
    config = described["AsyncInferenceConfig"]
    assert config["ClientConfig"] == {"MaxConcurrentInvocationsPerInstance": 2}
    assert config["OutputConfig"]["S3OutputPath"].endswith(f"/{endpoint}/out/")


def _backlog(url: str, endpoint: str, metric: str, stat: str) -> list[float]:
    now = datetime.now(UTC)
    answer = aws_client(url, "cloudwatch", TRAFFIC_REGION).get_metric_statistics(
        Namespace="AWS/SageMaker",
        MetricName=metric,
        Dimensions=[{"Name": "EndpointName", "Value": endpoint}],
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=2),
        Period=3600,
        Statistics=[stat],
    )
    return [point[stat] for point in answer["Datapoints"]]


def _scale(url: str, endpoint: str, count: int) -> None:
    aws_client(url, "sagemaker", TRAFFIC_REGION).update_endpoint_weights_and_capacities(
        EndpointName=endpoint,
        DesiredWeightsAndCapacities=[
            {"VariantName": "AllTraffic", "DesiredWeight": 1.0, "DesiredInstanceCount": count}
        ],
    )
    described = wait_for_status(url, TRAFFIC_REGION, endpoint, "InService")
    assert described["ProductionVariants"][0]["CurrentInstanceCount"] == count


def test_requests_wait_without_instances_and_drain_when_they_return(
    running_sandbox: SandboxServer,
) -> None:
    url = running_sandbox.url
    publisher = running_sandbox.state.async_inference
    endpoint = async_endpoint(url)
    _scale(url, endpoint, 0)
    runtime = runtime_client(url)
    source = _put_input(url, f"inputs/{unique('rows')}.csv", rows_to_csv(ROWS).encode())
    answers = [
        runtime.invoke_endpoint_async(EndpointName=endpoint, InputLocation=source) for _ in range(3)
    ]
    publisher.flush(include_current=True)
    assert _backlog(url, endpoint, "ApproximateBacklogSize", "Maximum") == [3.0]
    for _ in range(3):
        answers.append(runtime.invoke_endpoint_async(EndpointName=endpoint, InputLocation=source))
    time.sleep(1.0)  # the requests wait, ageing
    publisher.flush(include_current=True)
    assert _backlog(url, endpoint, "ApproximateBacklogSize", "Maximum") == [6.0]
    assert _backlog(url, endpoint, "HasBacklogWithoutCapacity", "Maximum") == [1.0]
    assert _backlog(url, endpoint, "ApproximateAgeOfOldestRequest", "Maximum")[0] >= 1.0
    assert all(_missing(url, answer["OutputLocation"]) for answer in answers)

    _scale(url, endpoint, 1)
    for answer in answers:
        assert _wait_for_object(url, answer["OutputLocation"])
    deadline = time.monotonic() + 5
    while publisher.backlog(ACCOUNT_ID, TRAFFIC_REGION, endpoint):
        assert time.monotonic() < deadline, "the queue never drained"
        time.sleep(0.05)
    publisher.flush(include_current=True)
    assert _backlog(url, endpoint, "ApproximateBacklogSize", "Minimum") == [0.0]
    assert _backlog(url, endpoint, "ApproximateBacklogSizePerInstance", "Minimum") == [0.0]
    processed = aws_client(url, "cloudwatch", TRAFFIC_REGION).get_metric_statistics(
        Namespace="AWS/SageMaker",
        MetricName="InvocationsProcessed",
        Dimensions=[
            {"Name": "EndpointName", "Value": endpoint},
            {"Name": "VariantName", "Value": "AllTraffic"},
        ],
        StartTime=datetime.now(UTC) - timedelta(minutes=10),
        EndTime=datetime.now(UTC) + timedelta(minutes=2),
        Period=3600,
        Statistics=["Sum"],
    )["Datapoints"]
    assert [point["Sum"] for point in processed] == [6.0]


def test_a_request_still_queued_when_its_ttl_runs_out_fails(
    running_sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = running_sandbox.url
    endpoint = async_endpoint(url)
    _scale(url, endpoint, 0)
    source = _put_input(url, f"inputs/{unique('rows')}.csv", rows_to_csv(ROWS).encode())
    answer = runtime_client(url).invoke_endpoint_async(
        EndpointName=endpoint, InputLocation=source, RequestTTLSeconds=60
    )
    # A minute and a bit later, nothing has served it.
    later = time.time() + 61
    monkeypatch.setattr(running_sandbox.state.async_inference, "clock", lambda: later)
    failure = json.loads(_wait_for_object(url, answer["FailureLocation"]))
    assert failure["ErrorCode"] == "RequestExpired"
    assert _missing(url, answer["OutputLocation"])
    assert running_sandbox.state.async_inference.backlog(ACCOUNT_ID, TRAFFIC_REGION, endpoint) == 0
