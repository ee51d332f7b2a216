"""Each seeded endpoint's creation story, as CloudTrail and Describe tell it together.

For every endpoint of the demo world, in both accounts, the trail holds the platform team's
CreateModel (each model its config serves), CreateEndpointConfig (the config the endpoint
has) and CreateEndpoint, in that order, before the week of everyday history, at the very
second DescribeEndpoint, DescribeEndpointConfig and DescribeModel report as CreationTime; an
endpoint hosting inference components has its CreateInferenceComponent calls right after.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config

from sandbox.server import SandboxServer

AwsFactory = Callable[..., Any]
STAGING = "210987654321"
WEEK = 7 * 86400
SEEDED = {
    ("production", "us-east-1"): (
        "fraud-detection",
        "tumor-classifier",
        "churn-serverless",
        "claims-scoring-async",
        "shared-scoring",
    ),
    ("production", "eu-west-1"): ("iris-classifier", "sentiment-legacy"),
    ("staging", "us-east-1"): ("fraud-detection", "tumor-classifier"),
}


def _clients(url: str, aws: AwsFactory, account: str, region: str) -> tuple[Any, Any]:
    """(sagemaker, cloudtrail) in the account: staging through its OpsPortalRead role."""
    if account == "production":
        return aws("sagemaker", region), aws("cloudtrail", region)
    issued = aws("sts").assume_role(
        RoleArn=f"arn:aws:iam::{STAGING}:role/OpsPortalRead", RoleSessionName="story-check"
    )["Credentials"]

    def make(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=url,
            region_name=region,
            aws_access_key_id=issued["AccessKeyId"],
            aws_secret_access_key=issued["SecretAccessKey"],
            aws_session_token=issued["SessionToken"],
            config=Config(retries={"mode": "standard", "total_max_attempts": 5}),
        )

    return make("sagemaker"), make("cloudtrail")


def _created(cloudtrail: Any, event_name: str) -> dict[str, dict[str, Any]]:
    """The first successful ``event_name`` per resource name, with its record."""
    found: dict[str, dict[str, Any]] = {}
    arguments: dict[str, Any] = {
        "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": event_name}]
    }
    while True:
        time.sleep(0.5)  # LookupEvents answers two requests a second
        page = cloudtrail.lookup_events(**arguments)
        for event in page["Events"]:
            record = json.loads(event["CloudTrailEvent"])
            if "errorCode" in record:
                continue
            for resource in event["Resources"]:
                earlier = found.get(resource["ResourceName"])
                if earlier is None or record["eventTime"] < earlier["eventTime"]:
                    found[resource["ResourceName"]] = record
        if "NextToken" not in page:
            return found
        arguments["NextToken"] = page["NextToken"]


def _at(record: dict[str, Any]) -> datetime:
    return datetime.strptime(record["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


@pytest.mark.parametrize(("account", "region"), sorted(SEEDED))
def test_every_seeded_endpoint_has_its_creation_story(
    running_sandbox: SandboxServer, aws: AwsFactory, account: str, region: str
) -> None:
    sagemaker, cloudtrail = _clients(running_sandbox.url, aws, account, region)
    models = _created(cloudtrail, "CreateModel")
    configs = _created(cloudtrail, "CreateEndpointConfig")
    endpoints = _created(cloudtrail, "CreateEndpoint")
    week_began = datetime.fromtimestamp(time.time() - WEEK, UTC)
    for name in SEEDED[(account, region)]:
        endpoint = sagemaker.describe_endpoint(EndpointName=name)
        config = sagemaker.describe_endpoint_config(
            EndpointConfigName=endpoint["EndpointConfigName"]
        )
        created = endpoints[name]
        assert created["requestParameters"] == {
            "endpointName": name,
            "endpointConfigName": endpoint["EndpointConfigName"],
        }
        assert _at(created) == endpoint["CreationTime"].replace(microsecond=0) < week_began
        made_config = configs[config["EndpointConfigName"]]
        assert _at(made_config) == config["CreationTime"].replace(microsecond=0)
        assert _at(made_config) < _at(created)
        for variant in config["ProductionVariants"]:
            if "ModelName" not in variant:  # a host of inference components
                continue
            made_model = models[variant["ModelName"]]
            described = sagemaker.describe_model(ModelName=variant["ModelName"])
            assert _at(made_model) == described["CreationTime"].replace(microsecond=0)
            assert _at(made_model) < _at(made_config)
        for record in (created, made_config):
            identity = record["userIdentity"]
            assert identity["type"] == "AssumedRole"
            assert identity["sessionContext"]["sessionIssuer"]["userName"] == "platform-terraform"
            assert identity["accountId"] == record["recipientAccountId"]
            assert identity["arn"].endswith(":assumed-role/platform-terraform/terraform-apply")


def test_the_shared_endpoints_components_were_placed_right_after_it(
    running_sandbox: SandboxServer, aws: AwsFactory
) -> None:
    sagemaker, cloudtrail = aws("sagemaker"), aws("cloudtrail")
    endpoint = _created(cloudtrail, "CreateEndpoint")["shared-scoring"]
    placed = _created(cloudtrail, "CreateInferenceComponent")
    for name in ("fraud-scorer", "churn-scorer"):
        record = placed[name]
        described = sagemaker.describe_inference_component(InferenceComponentName=name)
        assert record["requestParameters"]["endpointName"] == "shared-scoring"
        assert _at(record) == described["CreationTime"].replace(microsecond=0)
        assert _at(endpoint) < _at(record) < _at(endpoint) + timedelta(minutes=1)


def test_staging_was_built_by_production_terraform_assuming_its_role(
    running_sandbox: SandboxServer, aws: AwsFactory
) -> None:
    sagemaker, cloudtrail = _clients(running_sandbox.url, aws, "staging", "us-east-1")
    first = min(_at(r) for r in _created(cloudtrail, "CreateModel").values())
    sessions = [
        record
        for record in _created(aws("cloudtrail"), "AssumeRole").values()
        if record["requestParameters"]["roleSessionName"] == "terraform-apply"
    ]
    (opened,) = sessions
    assert opened["userIdentity"]["arn"].endswith(
        "123456789012:assumed-role/platform-terraform/terraform-apply"
    )
    assert opened["requestParameters"]["roleArn"].startswith(f"arn:aws:iam::{STAGING}:role/")
    assert _at(opened) < first


def _latest(cloudtrail: Any, event_name: str) -> dict[str, dict[str, Any]]:
    """The last successful ``event_name`` per resource name (LookupEvents: newest first)."""
    found: dict[str, dict[str, Any]] = {}
    arguments: dict[str, Any] = {
        "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": event_name}]
    }
    while True:
        time.sleep(0.5)
        page = cloudtrail.lookup_events(**arguments)
        for event in page["Events"]:
            record = json.loads(event["CloudTrailEvent"])
            if "errorCode" not in record:
                for resource in event["Resources"]:
                    found.setdefault(resource["ResourceName"], record)
        if "NextToken" not in page:
            return found
        arguments["NextToken"] = page["NextToken"]


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
def test_the_weeks_last_update_of_each_endpoint_names_the_config_it_has(
    running_sandbox: SandboxServer, aws: AwsFactory, region: str
) -> None:
    """A deploy in the week's history that the endpoint no longer shows was reverted in it."""
    sagemaker, cloudtrail = _clients(running_sandbox.url, aws, "production", region)
    updates = _latest(cloudtrail, "UpdateEndpoint")
    assert updates, "the week holds deploys"
    for name, record in updates.items():
        if name not in SEEDED[("production", region)]:
            continue
        current = sagemaker.describe_endpoint(EndpointName=name)["EndpointConfigName"]
        assert record["requestParameters"]["endpointConfigName"] == current, name
