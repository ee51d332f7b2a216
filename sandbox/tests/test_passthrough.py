"""What the sandbox leaves to moto still works, and what nobody implements fails cleanly."""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

from sandbox.server import SandboxServer

AwsFactory = Callable[..., Any]


def _raw_post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str, bytes]:
    """A hand-made signed-looking request, to reach operations no SDK would send."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request("POST", "/", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read()
    finally:
        connection.close()


def _authorization(service: str) -> str:
    return (
        f"AWS4-HMAC-SHA256 Credential=testing/20250101/us-east-1/{service}/aws4_request, "
        "SignedHeaders=host, Signature=0"
    )


def test_s3_objects_round_trip_through_the_middleware(aws: AwsFactory) -> None:
    s3 = aws("s3")
    s3.create_bucket(Bucket="passthrough-check")
    s3.put_object(Bucket="passthrough-check", Key="a/b.csv", Body=b"1,2,3\n")
    assert s3.get_object(Bucket="passthrough-check", Key="a/b.csv")["Body"].read() == b"1,2,3\n"
    listed = s3.list_objects_v2(Bucket="passthrough-check", Prefix="a/")["Contents"]
    assert [o["Key"] for o in listed] == ["a/b.csv"]


def test_sts_identity_and_assume_role(aws: AwsFactory) -> None:
    sts = aws("sts")
    assert sts.get_caller_identity()["Account"] == "123456789012"
    assumed = sts.assume_role(
        RoleArn="arn:aws:iam::123456789012:role/OpsPortalRead", RoleSessionName="portal"
    )
    assert assumed["Credentials"]["AccessKeyId"]
    assert assumed["AssumedRoleUser"]["Arn"].endswith(":assumed-role/OpsPortalRead/portal")


def test_scaling_policy_can_be_registered_and_read_back(aws: AwsFactory) -> None:
    # SageMaker variants are the sandbox's own (test_autoscaling.py); other namespaces
    # stay moto's.
    autoscaling = aws("application-autoscaling", "us-west-2")
    resource = "table/scaling-check"
    autoscaling.register_scalable_target(
        ServiceNamespace="dynamodb",
        ResourceId=resource,
        ScalableDimension="dynamodb:table:ReadCapacityUnits",
        MinCapacity=1,
        MaxCapacity=3,
    )
    targets = autoscaling.describe_scalable_targets(
        ServiceNamespace="dynamodb", ResourceIds=[resource]
    )["ScalableTargets"]
    assert [t["MaxCapacity"] for t in targets] == [3]


def test_unknown_json_operation_is_a_400_json_error(running_sandbox: SandboxServer) -> None:
    status, content_type, body = _raw_post(
        running_sandbox.url,
        b"{}",
        {
            "Authorization": _authorization("sagemaker"),
            "X-Amz-Target": "SageMaker.FrobnicateEndpoint",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    assert status == 400
    assert content_type.startswith("application/x-amz-json")
    assert json.loads(body) == {"__type": "com.amazon.coral.service#UnknownOperationException"}


def test_unknown_query_operation_is_a_400_xml_error(running_sandbox: SandboxServer) -> None:
    status, _content_type, body = _raw_post(
        running_sandbox.url,
        b"Action=FrobnicateRole&Version=2011-06-15",
        {
            "Authorization": _authorization("sts"),
            "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        },
    )
    assert status == 400
    assert b"<Code>InvalidAction</Code>" in body


def test_service_moto_lacks_fails_at_once_without_retries(aws: AwsFactory) -> None:
    with pytest.raises(ClientError) as raised:
        aws("pricing").describe_services()
    assert raised.value.response["Error"]["Code"] == "UnknownOperationException"
    assert raised.value.response["ResponseMetadata"]["RetryAttempts"] == 0


def test_sagemaker_operation_moto_lacks_fails_at_once_without_retries(aws: AwsFactory) -> None:
    with pytest.raises(ClientError) as raised:
        aws("sagemaker").list_hub_contents(HubName="nope", HubContentType="Model")
    assert raised.value.response["Error"]["Code"] == "UnknownOperationException"
    assert raised.value.response["ResponseMetadata"]["RetryAttempts"] == 0


def test_only_one_sandbox_per_process(running_sandbox: SandboxServer) -> None:
    with pytest.raises(RuntimeError, match="Another SandboxServer"):
        SandboxServer().start()
    assert running_sandbox.url.startswith("http://127.0.0.1:")


def test_head_of_a_missing_object_or_bucket_is_a_404(running_sandbox):
    """What boto3 scripts test with head_object/head_bucket before reading."""
    import boto3
    from botocore.exceptions import ClientError

    s3 = boto3.client(
        "s3",
        endpoint_url=running_sandbox.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with pytest.raises(ClientError) as missing_key:
        s3.head_object(Bucket="sagemaker-us-east-1-123456789012", Key="no/such/key.csv")
    assert missing_key.value.response["Error"]["Code"] == "404"
    with pytest.raises(ClientError) as missing_bucket:
        s3.head_bucket(Bucket="no-such-bucket-anywhere")
    assert missing_bucket.value.response["Error"]["Code"] == "404"
