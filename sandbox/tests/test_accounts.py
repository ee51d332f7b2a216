"""Two accounts: production and staging, the second reached through STS AssumeRole.

A caller in production assumes a role in staging as on AWS: the role must exist and trust
the caller's account, the temporary keys act in staging only, and both accounts' trails
record the AssumeRole (with one sharedEventID) while staging's records the calls made with
the keys as the assumed role.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from sandbox.models import holdout_rows
from sandbox.server import SandboxServer

AwsFactory = Callable[..., Any]
PRODUCTION = "123456789012"
STAGING = "210987654321"
STAGING_READ_ROLE = f"arn:aws:iam::{STAGING}:role/OpsPortalRead"


def session_client(url: str, service: str, credentials: dict[str, Any]) -> Any:
    """A client signing with temporary credentials from AssumeRole."""
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        config=Config(retries={"mode": "standard", "total_max_attempts": 5}),
    )


def assume(aws: AwsFactory, role_arn: str = STAGING_READ_ROLE) -> tuple[str, dict[str, Any]]:
    session = f"check-{uuid.uuid4().hex[:12]}"
    answer = aws("sts").assume_role(RoleArn=role_arn, RoleSessionName=session)
    return session, answer["Credentials"]


def trail(cloudtrail: Any, key: str, value: str) -> list[dict[str, Any]]:
    """Every record LookupEvents finds for one attribute (within the 2 a second limit)."""
    records: list[dict[str, Any]] = []
    arguments: dict[str, Any] = {
        "LookupAttributes": [{"AttributeKey": key, "AttributeValue": value}]
    }
    while True:
        time.sleep(0.5)
        page = cloudtrail.lookup_events(**arguments)
        records += [json.loads(e["CloudTrailEvent"]) for e in page["Events"]]
        if "NextToken" not in page:
            return records
        arguments["NextToken"] = page["NextToken"]


def test_assumed_role_keys_act_in_the_staging_account_only(
    running_sandbox: SandboxServer, aws: AwsFactory
) -> None:
    session, credentials = assume(aws)
    assert credentials["AccessKeyId"].startswith("ASIA") and credentials["SessionToken"]
    caller = session_client(running_sandbox.url, "sts", credentials).get_caller_identity()
    assert caller["Account"] == STAGING
    assert caller["Arn"] == f"arn:aws:sts::{STAGING}:assumed-role/OpsPortalRead/{session}"

    staging = session_client(running_sandbox.url, "sagemaker", credentials)
    production = aws("sagemaker")
    staged = {e["EndpointName"] for e in staging.list_endpoints(MaxResults=100)["Endpoints"]}
    assert staged == {"fraud-detection", "tumor-classifier"}
    produced = {e["EndpointName"] for e in production.list_endpoints(MaxResults=100)["Endpoints"]}
    assert "churn-serverless" in produced and "churn-serverless" not in staged

    # The same name, two endpoints: staging tries the next fraud model beside the current one.
    staging_fraud = staging.describe_endpoint(EndpointName="fraud-detection")
    production_fraud = production.describe_endpoint(EndpointName="fraud-detection")
    assert staging_fraud["EndpointArn"].split(":")[4] == STAGING
    assert production_fraud["EndpointArn"].split(":")[4] == PRODUCTION
    assert [v["VariantName"] for v in staging_fraud["ProductionVariants"]] == [
        "xgb-c5",
        "xgb-c5-next",
    ]
    assert "xgb-c5-next" not in [v["VariantName"] for v in production_fraud["ProductionVariants"]]

    # What the session creates lives in staging and nowhere else.
    name = f"staging-only-{uuid.uuid4().hex[:8]}"
    staging.create_model(
        ModelName=name,
        PrimaryContainer={"Image": "683313688378.dkr.ecr.us-east-1.amazonaws.com/x:1"},
        ExecutionRoleArn=f"arn:aws:iam::{STAGING}:role/SageMakerExecutionRole",
    )
    assert staging.describe_model(ModelName=name)["ModelName"] == name
    with pytest.raises(ClientError) as missing:
        production.describe_model(ModelName=name)
    assert missing.value.response["Error"]["Code"] == "ValidationException"


def test_staging_has_its_own_metrics(running_sandbox: SandboxServer, aws: AwsFactory) -> None:
    _, credentials = assume(aws)

    def variants(cloudwatch: Any) -> set[str]:
        metrics = cloudwatch.list_metrics(
            Namespace="AWS/SageMaker",
            MetricName="Invocations",
            Dimensions=[{"Name": "EndpointName", "Value": "fraud-detection"}],
        )["Metrics"]
        return {d["Value"] for m in metrics for d in m["Dimensions"] if d["Name"] == "VariantName"}

    assert variants(session_client(running_sandbox.url, "cloudwatch", credentials)) == {
        "xgb-c5",
        "xgb-c5-next",
    }
    assert "xgb-c5-next" not in variants(aws("cloudwatch"))


def test_assume_role_is_refused_for_unknown_or_untrusting_roles(
    running_sandbox: SandboxServer, aws: AwsFactory
) -> None:
    unknown = f"arn:aws:iam::{STAGING}:role/NoSuchRole"
    with pytest.raises(ClientError) as refused:
        aws("sts").assume_role(RoleArn=unknown, RoleSessionName="probe")
    error = refused.value.response["Error"]
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error["Code"] == "AccessDenied"
    assert error["Message"] == (
        f"User: arn:aws:iam::{PRODUCTION}:user/sandbox-tester is not authorized to perform: "
        f"sts:AssumeRole on resource: {unknown}"
    )
    # Staging's roles trust production; a staging session cannot hop to Terraform's role.
    session, credentials = assume(aws)
    terraform = f"arn:aws:iam::{STAGING}:role/platform-terraform"
    with pytest.raises(ClientError) as hop:
        session_client(running_sandbox.url, "sts", credentials).assume_role(
            RoleArn=terraform, RoleSessionName="hop"
        )
    assert hop.value.response["Error"]["Code"] == "AccessDenied"
    assert (
        f"assumed-role/OpsPortalRead/{session} is not authorized"
        in (hop.value.response["Error"]["Message"])
    )
    refusals = [
        r
        for r in trail(aws("cloudtrail"), "EventName", "AssumeRole")
        if r["requestParameters"]["roleArn"] == unknown
    ]
    assert refusals and refusals[0]["errorCode"] == "AccessDenied"
    assert refusals[0]["responseElements"] is None


def test_both_trails_record_the_assume_role_with_one_shared_event_id(
    running_sandbox: SandboxServer, aws: AwsFactory
) -> None:
    session, credentials = assume(aws)

    def mine(records: list[dict[str, Any]]) -> dict[str, Any]:
        (record,) = [r for r in records if r["requestParameters"]["roleSessionName"] == session]
        return record

    caller = mine(trail(aws("cloudtrail"), "EventName", "AssumeRole"))
    staging_trail = session_client(running_sandbox.url, "cloudtrail", credentials)
    role_side = mine(trail(staging_trail, "EventName", "AssumeRole"))

    assert caller["eventSource"] == role_side["eventSource"] == "sts.amazonaws.com"
    assert caller["recipientAccountId"] == PRODUCTION
    assert caller["userIdentity"]["arn"] == f"arn:aws:iam::{PRODUCTION}:user/sandbox-tester"
    assert caller["responseElements"]["credentials"]["accessKeyId"] == credentials["AccessKeyId"]
    assert caller["responseElements"]["assumedRoleUser"]["arn"] == (
        f"arn:aws:sts::{STAGING}:assumed-role/OpsPortalRead/{session}"
    )
    assert role_side["recipientAccountId"] == STAGING
    assert role_side["userIdentity"] == {
        "type": "AWSAccount",
        "principalId": caller["userIdentity"]["principalId"],
        "accountId": PRODUCTION,
    }
    assert caller["sharedEventID"] == role_side["sharedEventID"]
    assert caller["eventID"] != role_side["eventID"]


def test_calls_with_the_session_are_recorded_in_staging_as_the_assumed_role(
    running_sandbox: SandboxServer, aws: AwsFactory
) -> None:
    session, credentials = assume(aws)
    staging = session_client(running_sandbox.url, "sagemaker", credentials)
    staging.describe_endpoint(EndpointName="tumor-classifier")
    staging_trail = session_client(running_sandbox.url, "cloudtrail", credentials)
    (record,) = trail(staging_trail, "AccessKeyId", credentials["AccessKeyId"])
    assert record["eventName"] == "DescribeEndpoint"
    assert record["recipientAccountId"] == STAGING
    identity = record["userIdentity"]
    assert identity["type"] == "AssumedRole"
    assert identity["arn"] == f"arn:aws:sts::{STAGING}:assumed-role/OpsPortalRead/{session}"
    assert identity["accountId"] == STAGING
    assert identity["sessionContext"]["sessionIssuer"]["arn"] == STAGING_READ_ROLE
    assert record["resources"][0]["ARN"] == (
        f"arn:aws:sagemaker:us-east-1:{STAGING}:endpoint/tumor-classifier"
    )
    assert trail(aws("cloudtrail"), "AccessKeyId", credentials["AccessKeyId"]) == []


def test_staging_endpoints_serve_their_own_models(
    running_sandbox: SandboxServer, aws: AwsFactory
) -> None:
    _, credentials = assume(aws)
    staging = session_client(running_sandbox.url, "sagemaker", credentials)
    deadline = time.monotonic() + 15
    while staging.describe_endpoint(EndpointName="fraud-detection")["EndpointStatus"] != (
        "InService"
    ):
        assert time.monotonic() < deadline, "staging's fraud-detection never came up"
        time.sleep(0.1)
    runtime = session_client(running_sandbox.url, "sagemaker-runtime", credentials)
    row = ",".join(str(value) for value in holdout_rows("fraud")[0])
    served = {
        runtime.invoke_endpoint(EndpointName="fraud-detection", ContentType="text/csv", Body=row)[
            "ResponseMetadata"
        ]["HTTPHeaders"]["x-amzn-invoked-production-variant"]
        for _ in range(12)
    }
    assert served <= {"xgb-c5", "xgb-c5-next"} and served
