"""Control-plane faults as plain boto3 callers see them: throttling, 5xx, latency and hangs."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from sandbox.server import SandboxServer
from sandbox.testing import api_fault, clear_api_faults, control

# Regions no other test uses: faults here disturb nobody, even if a test dies midway.
FAULT_REGION = "af-south-1"
OTHER_REGION = "eu-south-1"

Call = Callable[[Any], Any]


@pytest.fixture(autouse=True)
def url(running_sandbox: SandboxServer) -> Iterator[str]:
    """The sandbox's URL; every API fault is cleared (and held calls let go) after each test."""
    yield running_sandbox.url
    clear_api_faults(running_sandbox.url)


def client(
    url: str,
    service: str,
    region: str = FAULT_REGION,
    *,
    attempts: int = 1,
    read_timeout: float = 20,
) -> Any:
    """A plain boto3 client in standard retry mode, by default without retries."""
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(
            retries={"mode": "standard", "total_max_attempts": attempts},
            read_timeout=read_timeout,
            connect_timeout=5,
        ),
    )


def outcome(call: Call, target: Any) -> str:
    """ "ok", or the error code botocore raised."""
    try:
        call(target)
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return "ok"


def list_endpoints(c: Any) -> Any:
    return c.list_endpoints()


def list_models(c: Any) -> Any:
    return c.list_models()


def list_metrics(c: Any) -> Any:
    return c.list_metrics(Namespace="AWS/SageMaker")


def list_buckets(c: Any) -> Any:
    return c.list_buckets()


def caller_identity(c: Any) -> Any:
    return c.get_caller_identity()


def invoke_missing_endpoint(c: Any) -> Any:
    return c.invoke_endpoint(EndpointName="no-such-endpoint", ContentType="text/csv", Body=b"1")


@pytest.mark.parametrize(
    ("api", "service", "call", "code", "status"),
    [
        ("sagemaker:ListEndpoints", "sagemaker", list_endpoints, "ThrottlingException", 400),
        ("cloudwatch:ListMetrics", "cloudwatch", list_metrics, "Throttling", 400),
        ("s3:ListBuckets", "s3", list_buckets, "SlowDown", 503),
        ("sts:GetCallerIdentity", "sts", caller_identity, "Throttling", 400),
    ],
)
def test_throttling_is_each_protocols_own_and_botocore_retries_it(
    url: str, api: str, service: str, call: Call, code: str, status: int
) -> None:
    api_fault(url, api, throttle_rate=1.0)
    with pytest.raises(ClientError) as raised:
        call(client(url, service, attempts=2))
    response = raised.value.response
    assert response["Error"]["Code"] == code
    assert response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert response["ResponseMetadata"]["RetryAttempts"] == 1


@pytest.mark.parametrize(
    ("api", "service", "call", "code"),
    [
        ("sagemaker:ListEndpoints", "sagemaker", list_endpoints, "InternalFailure"),
        ("cloudwatch:ListMetrics", "cloudwatch", list_metrics, "InternalFailure"),
        ("s3:ListBuckets", "s3", list_buckets, "InternalError"),
    ],
)
def test_errors_are_the_services_own_500s(
    url: str, api: str, service: str, call: Call, code: str
) -> None:
    api_fault(url, api, error_rate=1.0)
    with pytest.raises(ClientError) as raised:
        call(client(url, service))
    response = raised.value.response
    assert (response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]) == (
        code,
        500,
    )


def test_a_share_of_calls_fails(url: str) -> None:
    api_fault(url, "sagemaker:ListModels", error_rate=0.5)
    sagemaker = client(url, "sagemaker")
    seen = {outcome(list_models, sagemaker) for _ in range(40)}
    assert seen == {"ok", "InternalFailure"}


def test_latency_delays_the_named_operation_only(url: str) -> None:
    api_fault(url, "sagemaker:ListEndpoints", latency_ms=800)
    sagemaker = client(url, "sagemaker")
    started = time.monotonic()
    sagemaker.list_endpoints()
    slow = time.monotonic() - started
    started = time.monotonic()
    sagemaker.list_models()
    fast = time.monotonic() - started
    assert slow >= 0.8
    assert fast < 0.6


def test_a_hang_lasts_until_the_clients_read_timeout(url: str) -> None:
    api_fault(url, "cloudwatch:GetMetricData", hang=True)
    cloudwatch = client(url, "cloudwatch", read_timeout=1)
    started = time.monotonic()
    with pytest.raises(ReadTimeoutError):
        cloudwatch.get_metric_data(
            MetricDataQueries=[{"Id": "m", "Expression": "TIME_SERIES(1)"}],
            StartTime=time.time() - 600,
            EndTime=time.time(),
        )
    assert 1.0 <= time.monotonic() - started < 5.0
    assert outcome(list_metrics, cloudwatch) == "ok"


def test_clearing_a_hang_lets_held_calls_through_at_once(url: str) -> None:
    api_fault(url, "sagemaker:ListEndpoints", hang=True)
    answers: list[Any] = []
    held = threading.Thread(
        target=lambda: answers.append(client(url, "sagemaker").list_endpoints()), daemon=True
    )
    held.start()
    held.join(0.5)
    assert held.is_alive() and not answers
    started = time.monotonic()
    assert [f["api"] for f in clear_api_faults(url)] == ["sagemaker:ListEndpoints"]
    held.join(5)
    assert not held.is_alive() and time.monotonic() - started < 2.0
    assert answers[0]["Endpoints"] == []


def test_replacing_a_hang_applies_the_new_fault_to_held_calls(url: str) -> None:
    api_fault(url, "sagemaker:ListEndpoints", hang=True)
    codes: list[str] = []
    held = threading.Thread(
        target=lambda: codes.append(outcome(list_endpoints, client(url, "sagemaker"))),
        daemon=True,
    )
    held.start()
    held.join(0.5)
    assert held.is_alive()
    api_fault(url, "sagemaker:ListEndpoints", throttle_rate=1.0)
    held.join(5)
    assert codes == ["ThrottlingException"]


def test_a_wildcard_covers_the_service_but_not_inference(url: str) -> None:
    api_fault(url, "sagemaker:*", throttle_rate=1.0)
    sagemaker = client(url, "sagemaker")
    assert outcome(list_endpoints, sagemaker) == "ThrottlingException"
    assert outcome(list_models, sagemaker) == "ThrottlingException"
    assert outcome(list_metrics, client(url, "cloudwatch")) == "ok"
    # The runtime answers on its own: the endpoint does not exist.
    runtime = client(url, "sagemaker-runtime")
    assert outcome(invoke_missing_endpoint, runtime) == "ValidationError"


def test_inference_faults_name_sagemaker_runtime(url: str) -> None:
    api_fault(url, "sagemaker-runtime:InvokeEndpoint", throttle_rate=1.0)
    runtime = client(url, "sagemaker-runtime")
    assert outcome(invoke_missing_endpoint, runtime) == "ThrottlingException"
    assert outcome(list_endpoints, client(url, "sagemaker")) == "ok"


def test_a_regional_fault_spares_other_regions(url: str) -> None:
    fault = api_fault(url, "sagemaker:ListEndpoints", region=FAULT_REGION, error_rate=1.0)
    assert fault["region"] == FAULT_REGION
    assert outcome(list_endpoints, client(url, "sagemaker", FAULT_REGION)) == "InternalFailure"
    assert outcome(list_endpoints, client(url, "sagemaker", OTHER_REGION)) == "ok"


def test_the_most_specific_fault_wins(url: str) -> None:
    api_fault(url, "sagemaker:*", error_rate=1.0)
    api_fault(url, "sagemaker:*", region=OTHER_REGION, throttle_rate=1.0)
    api_fault(url, "sagemaker:ListModels", latency_ms=1)
    api_fault(url, "sagemaker:ListModels", region=FAULT_REGION, throttle_rate=1.0)
    here, there = client(url, "sagemaker", FAULT_REGION), client(url, "sagemaker", OTHER_REGION)
    # An operation's own fault beats the service's, and a region's beats any region's.
    assert outcome(list_models, here) == "ThrottlingException"
    assert outcome(list_models, there) == "ok"
    assert outcome(list_endpoints, here) == "InternalFailure"
    assert outcome(list_endpoints, there) == "ThrottlingException"


def test_a_fault_replaces_the_one_of_its_scope(url: str) -> None:
    api_fault(url, "sagemaker:ListEndpoints", throttle_rate=1.0)
    api_fault(url, "sagemaker:list_endpoints", latency_ms=5)
    _, listed = control(url, "api-faults", method="GET")
    assert listed["api_faults"] == [
        {
            "api": "sagemaker:ListEndpoints",
            "region": None,
            "throttle_rate": 0.0,
            "error_rate": 0.0,
            "reset_rate": 0.0,
            "latency_ms": 5.0,
            "hang": False,
        }
    ]
    assert outcome(list_endpoints, client(url, "sagemaker")) == "ok"


def test_a_named_s3_operation_spares_the_others(url: str) -> None:
    s3 = client(url, "s3", "us-east-1")
    bucket = f"api-faults-{int(time.time() * 1000)}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="a/b.json", Body=b"{}")
    api_fault(url, "s3:GetObject", throttle_rate=1.0)
    assert outcome(lambda c: c.get_object(Bucket=bucket, Key="a/b.json"), s3) == "SlowDown"
    assert outcome(lambda c: c.put_object(Bucket=bucket, Key="a/c.json", Body=b"{}"), s3) == "ok"
    assert outcome(lambda c: c.list_objects_v2(Bucket=bucket, Prefix="a/"), s3) == "ok"


def test_sdk_names_are_accepted_and_shown_as_the_middleware_sees_them(url: str) -> None:
    assert api_fault(url, "cloudwatch:get_metric_data", hang=True)["api"] == (
        "monitoring:GetMetricData"
    )
    assert api_fault(url, "service-quotas:*", error_rate=0.5)["api"] == "servicequotas:*"
    cleared = clear_api_faults(url, "cloudwatch")
    assert [f["api"] for f in cleared] == ["monitoring:GetMetricData"]
    _, listed = control(url, "api-faults", method="GET")
    assert [f["api"] for f in listed["api_faults"]] == ["servicequotas:*"]


def test_clearing_by_api_or_region_leaves_the_rest(url: str) -> None:
    api_fault(url, "sagemaker:*", throttle_rate=1.0)
    api_fault(url, "sagemaker:ListEndpoints", region=FAULT_REGION, throttle_rate=1.0)
    api_fault(url, "s3:*", region=FAULT_REGION, error_rate=1.0)
    status, cleared = control(url, "api-faults", body={"clear": True, "region": FAULT_REGION})
    assert status == 200
    assert sorted(f["api"] for f in cleared["cleared"]) == ["s3:*", "sagemaker:ListEndpoints"]
    assert [f["api"] for f in clear_api_faults(url, "sagemaker:*")] == ["sagemaker:*"]
    status, refused = control(url, "api-faults?endpoint=x", method="DELETE")
    assert status == 400 and "Unknown field(s) endpoint" in refused["message"]


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({"throttle_rate": 0.5}, "api is required"),
        ({"api": "sagemaker", "throttle_rate": 0.5}, 'api must be "service:Operation"'),
        ({"api": "sagemakr:ListEndpoints", "throttle_rate": 0.5}, "Unknown service 'sagemakr'"),
        (
            {"api": "sagemaker:DescribeEndpoints", "throttle_rate": 0.5},
            "sagemaker has no operation 'DescribeEndpoints'. Did you mean: DescribeEndpoint",
        ),
        (
            {"api": "sagemaker:InvokeEndpoint", "throttle_rate": 0.5},
            "name it sagemaker-runtime:InvokeEndpoint",
        ),
        ({"api": "s3:GetObjectAttributes", "hang": True}, "fault s3:* instead"),
        ({"api": "sagemaker:*", "throttle_rate": 1.5}, "throttle_rate must be between 0 and 1"),
        ({"api": "sagemaker:*", "error_rate": "often"}, "error_rate must be a number"),
        ({"api": "sagemaker:*", "latency_ms": -1}, "latency_ms must be between 0 and 60000"),
        ({"api": "sagemaker:*", "latency_ms": 90_000}, "set hang instead"),
        ({"api": "sagemaker:*", "hang": "yes"}, "hang must be true or false"),
        ({"api": "sagemaker:*", "region": "", "hang": True}, "region must be a non-empty"),
        ({"api": "sagemaker:*"}, "The fault has no effect"),
        ({"api": "sagemaker:*", "throttle": 1.0}, "Unknown field(s): throttle"),
    ],
)
def test_bad_api_faults_are_refused_with_a_clear_message(
    url: str, body: dict[str, Any], complaint: str
) -> None:
    status, answer = control(url, "api-faults", body=body)
    assert status == 400
    assert complaint in answer["message"]
    _, listed = control(url, "api-faults", method="GET")
    assert listed["api_faults"] == []


def test_the_helper_raises_the_sandboxs_reason(url: str) -> None:
    with pytest.raises(ValueError, match="throttle_rate must be between 0 and 1"):
        api_fault(url, "sagemaker:ListEndpoints", throttle_rate=2)


def _signed_get(url: str, path: str) -> tuple[int, float]:
    """GET a path as if signed for SageMaker's control plane; (status, seconds taken)."""
    request = urllib.request.Request(
        f"{url}{path}",
        headers={
            "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/"
            "sagemaker/aws4_request, SignedHeaders=host, Signature=0",
            "X-Amz-Target": "SageMaker.ListEndpoints",
        },
    )
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, time.monotonic() - started


def test_the_sandboxs_controls_and_motos_api_are_never_affected(url: str) -> None:
    api_fault(url, "sagemaker:*", hang=True)
    api_fault(url, "sagemaker:ListEndpoints", hang=True)
    for path in ("/_sandbox/health", "/_sandbox/api-faults", "/moto-api/config"):
        status, seconds = _signed_get(url, path)
        assert status == 200 and seconds < 2.0, path


def test_a_refused_management_call_is_recorded_with_its_error_code(url: str) -> None:
    api_fault(url, "sagemaker:DescribeEndpointConfig", region=FAULT_REGION, throttle_rate=1.0)
    sagemaker = client(url, "sagemaker")
    describe = outcome(lambda c: c.describe_endpoint_config(EndpointConfigName="cfg"), sagemaker)
    assert describe == "ThrottlingException"
    events = client(url, "cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "DescribeEndpointConfig"}]
    )["Events"]
    assert events, "the throttled call was not recorded"
    record = json.loads(events[0]["CloudTrailEvent"])
    assert (record["errorCode"], record["errorMessage"]) == ("ThrottlingException", "Rate exceeded")
    assert record["awsRegion"] == FAULT_REGION


def test_a_reset_connection_is_a_connection_error_the_sdk_retries(url: str) -> None:
    api_fault(url, "sagemaker:ListModels", reset_rate=1.0)
    sagemaker = client(url, "sagemaker")
    started = time.monotonic()
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        list_models(sagemaker)
    assert time.monotonic() - started < 2.0  # reset at once, not left to time out
    # The server is unharmed: the next call of another API is answered, and a share of
    # resets is absorbed by the SDK's retries.
    assert outcome(list_endpoints, sagemaker) == "ok"
    # At 20 % with ten attempts, a call fails only when all ten are reset: 1 in ~10 million.
    api_fault(url, "sagemaker:ListModels", reset_rate=0.2)
    retrying = client(url, "sagemaker", attempts=10)
    assert {outcome(list_models, retrying) for _ in range(20)} == {"ok"}


def test_a_reset_call_never_reached_cloudtrail(url: str) -> None:
    api_fault(url, "sagemaker:DescribeModel", region=FAULT_REGION, reset_rate=1.0)
    with pytest.raises((ConnectionClosedError, EndpointConnectionError)):
        client(url, "sagemaker").describe_model(ModelName="reset-model")
    events = client(url, "cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "DescribeModel"}]
    )["Events"]
    assert not [e for e in events if "reset-model" in e["CloudTrailEvent"]]
