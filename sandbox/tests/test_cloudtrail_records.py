"""CloudTrail's naming and identity rules, checked without a server."""

from __future__ import annotations

import time

import pytest

from sandbox.__main__ import build_parser
from sandbox.cloudtrail import EventStore, RateLimiter
from sandbox.cloudtrail_records import camel_case, camel_key, classify, s3_bucket_operation
from sandbox.identities import PORTAL_KEY, ROOT_KEY, identity_for
from sandbox.seed import backfill_demo_api_history


@pytest.mark.parametrize(
    ("key", "camel"),
    [
        ("EndpointName", "endpointName"),
        ("KMSKeyId", "kmsKeyId"),
        ("ARN", "arn"),
        ("DestinationS3Uri", "destinationS3Uri"),
        ("already", "already"),
    ],
)
def test_camel_keys(key: str, camel: str) -> None:
    assert camel_key(key) == camel


def test_user_maps_keep_their_keys() -> None:
    converted = camel_case({"Environment": {"SAGEMAKER_PROGRAM": "x"}, "Tags": [{"Key": "a"}]})
    assert converted == {"environment": {"SAGEMAKER_PROGRAM": "x"}, "tags": [{"key": "a"}]}


@pytest.mark.parametrize(
    ("service", "operation", "recorded"),
    [
        ("sagemaker", "DescribeEndpoint", True),
        ("sagemaker", "InvokeEndpoint", False),
        ("monitoring", "PutMetricAlarm", True),
        ("monitoring", "PutMetricData", False),
        ("monitoring", "GetMetricData", False),
        ("application-autoscaling", "RegisterScalableTarget", True),
        ("servicequotas", "GetServiceQuota", True),
        ("sts", "AssumeRole", True),
        ("sts", "GetCallerIdentity", False),
        ("cloudtrail", "LookupEvents", False),
        ("ec2", "RunInstances", False),
    ],
)
def test_which_calls_are_management_events(service: str, operation: str, recorded: bool) -> None:
    assert (classify(service, operation, "POST", "/", {}) is not None) is recorded


@pytest.mark.parametrize(
    ("method", "path", "query", "operation"),
    [
        ("PUT", "/b", {}, "CreateBucket"),
        ("DELETE", "/b/", {}, "DeleteBucket"),
        ("PUT", "/b", {"policy": [""]}, "PutBucketPolicy"),
        ("PUT", "/b/key", {}, None),
        ("GET", "/b", {}, None),
    ],
)
def test_s3_bucket_level_calls(
    method: str, path: str, query: dict[str, list[str]], operation: str | None
) -> None:
    assert s3_bucket_operation(method, path, query) == operation


def test_identities_by_key() -> None:
    portal = identity_for(PORTAL_KEY)
    assert portal.kind == "AssumedRole" and portal.name == "OpsPortal"
    block = portal.user_identity(PORTAL_KEY, when="2026-11-27T00:00:00Z")
    assert block["sessionContext"]["sessionIssuer"]["arn"].endswith(":role/OpsPortal")
    root = identity_for(ROOT_KEY).user_identity(ROOT_KEY, when="")
    assert root["type"] == "Root" and root["arn"] == "arn:aws:iam::123456789012:root"
    assert identity_for("AKIAWHOEVERTHISIS000").username == "unknown"


def test_the_rate_limiter_allows_the_rate_and_refills() -> None:
    now = [0.0]
    limiter = RateLimiter(2.0, clock=lambda: now[0])
    key = ("123456789012", "us-east-1")
    assert [limiter.allow(key) for _ in range(3)] == [True, True, False]
    now[0] = 0.5
    assert limiter.allow(key) and not limiter.allow(key)
    assert limiter.allow(("123456789012", "eu-west-1"))


def test_seeding_the_history_is_fast() -> None:
    store = EventStore()
    started = time.perf_counter()
    count = backfill_demo_api_history(store, now=time.time())
    assert time.perf_counter() - started < 0.5
    assert store.count() == count > 20


def test_the_cli_takes_the_cloudtrail_knobs() -> None:
    arguments = build_parser().parse_args(
        ["serve", "--lookup-rate", "5", "--cloudtrail-lag-seconds", "300", "--trail-interval", "9"]
    )
    assert (arguments.lookup_rate, arguments.cloudtrail_lag_seconds) == (5.0, 300.0)
    assert arguments.trail_interval == 9.0
