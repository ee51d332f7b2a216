"""CloudTrail: calls recorded with who, from where and what, and LookupEvents' AWS limits."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox.identities import CI_DEPLOYER_KEY, MARIA_KEY
from sandbox.server import SandboxServer
from sandbox.testing import control, keyed_client, unique
from tests.world import CLOUDTRAIL_REGION, create_model, ensure_bucket

REGION = CLOUDTRAIL_REGION
MODEL = "cloudtrail-test-model"
Lookup = Callable[..., dict[str, Any]]


@pytest.fixture(scope="module", autouse=True)
def _model(running_sandbox: SandboxServer) -> None:
    """The model every endpoint config here names (SageMaker checks that it exists)."""
    try:
        create_model(running_sandbox.url, REGION, MODEL, "s3://nowhere/model.tar.gz")
    except ClientError as error:
        if "already" not in str(error).lower():
            raise


@pytest.fixture
def fast_lookups(running_sandbox: SandboxServer) -> Iterator[None]:
    """No LookupEvents rate limit while a test pages freely; the previous settings after."""
    _status, before = control(running_sandbox.url, "cloudtrail", "GET")
    control(running_sandbox.url, "cloudtrail", body={"lookup_rate": 0, "lag_seconds": 0})
    yield
    control(
        running_sandbox.url,
        "cloudtrail",
        body={"lookup_rate": before["lookup_rate"], "lag_seconds": before["lag_seconds"]},
    )


@pytest.fixture
def trail(running_sandbox: SandboxServer, fast_lookups: None) -> Any:
    return keyed_client(running_sandbox.url, "cloudtrail", REGION, "testing")


def by(key: str, value: str) -> list[dict[str, str]]:
    return [{"AttributeKey": key, "AttributeValue": value}]


def record_of(event: dict[str, Any]) -> dict[str, Any]:
    return dict(json.loads(event["CloudTrailEvent"]))


def sagemaker_as(url: str, key: str) -> Any:
    return keyed_client(url, "sagemaker", REGION, key)


def create_config(sagemaker: Any, name: str) -> dict[str, Any]:
    return dict(
        sagemaker.create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[
                {
                    "VariantName": "A",
                    "ModelName": MODEL,
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": 1,
                    "InitialVariantWeight": 0.8,
                }
            ],
        )
    )


def test_a_write_is_recorded_with_identity_parameters_and_response(
    running_sandbox: SandboxServer, trail: Any
) -> None:
    name = unique("cfg")
    created = create_config(sagemaker_as(running_sandbox.url, MARIA_KEY), name)
    events = trail.lookup_events(LookupAttributes=by("ResourceName", name))["Events"]
    assert [e["EventName"] for e in events] == ["CreateEndpointConfig"]
    event = events[0]
    assert event["ReadOnly"] == "false"
    assert event["Username"] == "maria.data-scientist"
    assert event["AccessKeyId"] == MARIA_KEY
    assert event["Resources"] == [
        {"ResourceType": "AWS::SageMaker::EndpointConfig", "ResourceName": name}
    ]
    record = record_of(event)
    assert record["eventVersion"] == "1.09"
    assert record["eventSource"] == "sagemaker.amazonaws.com"
    assert record["awsRegion"] == REGION
    assert record["sourceIPAddress"] == "127.0.0.1"
    assert record["userAgent"].startswith("Boto3/")
    assert record["userIdentity"] == {
        "type": "IAMUser",
        "principalId": "AIDA6ON6E4XEGITEXMARIA",
        "arn": "arn:aws:iam::123456789012:user/maria.data-scientist",
        "accountId": "123456789012",
        "accessKeyId": MARIA_KEY,
        "userName": "maria.data-scientist",
    }
    assert record["requestParameters"]["endpointConfigName"] == name
    assert record["requestParameters"]["productionVariants"][0] == {
        "variantName": "A",
        "modelName": MODEL,
        "instanceType": "ml.m5.large",
        "initialInstanceCount": 1,
        "initialVariantWeight": 0.8,
    }
    assert record["responseElements"] == {"endpointConfigArn": created["EndpointConfigArn"]}
    assert record["requestID"] == created["ResponseMetadata"]["RequestId"]
    assert record["eventType"] == "AwsApiCall" and record["managementEvent"] is True
    assert record["recipientAccountId"] == "123456789012"
    assert record["resources"][0]["ARN"] == created["EndpointConfigArn"]


def test_an_assumed_role_and_a_forwarded_address(
    running_sandbox: SandboxServer, trail: Any
) -> None:
    sagemaker = sagemaker_as(running_sandbox.url, CI_DEPLOYER_KEY)
    name = unique("cfg")
    sagemaker.meta.events.register(
        "before-sign.sagemaker.*",
        lambda request, **_: request.headers.__setitem__("X-Forwarded-For", "198.51.100.7"),
    )
    create_config(sagemaker, name)
    (event,) = trail.lookup_events(LookupAttributes=by("ResourceName", name))["Events"]
    record = record_of(event)
    assert event["Username"] == "github-actions-1234"
    assert record["sourceIPAddress"] == "198.51.100.7"
    identity = record["userIdentity"]
    assert identity["type"] == "AssumedRole"
    assert (
        identity["arn"] == "arn:aws:sts::123456789012:assumed-role/ci-deployer/github-actions-1234"
    )
    issuer = identity["sessionContext"]["sessionIssuer"]
    assert issuer["arn"] == "arn:aws:iam::123456789012:role/ci-deployer"
    assert issuer["userName"] == "ci-deployer"


def test_failed_calls_carry_the_error_and_reads_are_read_only(
    running_sandbox: SandboxServer, trail: Any
) -> None:
    name = unique("missing")
    with pytest.raises(ClientError):
        sagemaker_as(running_sandbox.url, "AKIAUNKNOWNCALLER123").describe_endpoint(
            EndpointName=name
        )
    (event,) = trail.lookup_events(LookupAttributes=by("ResourceName", name))["Events"]
    record = record_of(event)
    assert event["ReadOnly"] == "true" and record["readOnly"] is True
    assert record["errorCode"] == "ValidationException"
    assert "Could not find endpoint" in record["errorMessage"]
    assert record["responseElements"] is None
    assert record["userIdentity"]["type"] == "IAMUser"
    assert record["userIdentity"]["userName"] == "unknown"


def test_invocations_are_not_management_events(running_sandbox: SandboxServer, trail: Any) -> None:
    runtime = keyed_client(running_sandbox.url, "sagemaker-runtime", REGION, MARIA_KEY)
    with pytest.raises(ClientError):
        runtime.invoke_endpoint(EndpointName=unique("nowhere"), Body=b"1,2", ContentType="text/csv")
    events = trail.lookup_events(LookupAttributes=by("EventName", "InvokeEndpoint"))["Events"]
    assert events == []


def test_bucket_calls_are_recorded_but_object_calls_are_not(
    running_sandbox: SandboxServer, trail: Any
) -> None:
    s3 = keyed_client(running_sandbox.url, "s3", REGION, MARIA_KEY)
    bucket = ensure_bucket(s3, REGION)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    names = [
        e["EventName"]
        for e in trail.lookup_events(LookupAttributes=by("ResourceName", bucket))["Events"]
    ]
    assert "CreateBucket" in names and "PutObject" not in names


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        (
            {"LookupAttributes": by("EventName", "A") + by("Username", "b")},
            "InvalidLookupAttributes",
        ),
        ({"LookupAttributes": by("Nonsense", "x")}, "InvalidLookup"),
        ({"MaxResults": 51}, "InvalidMaxResults"),
        ({"NextToken": "not-a-token"}, "InvalidNextToken"),
        (
            {"StartTime": datetime.now(UTC), "EndTime": datetime.now(UTC) - timedelta(hours=1)},
            "InvalidTimeRange",
        ),
    ],
)
def test_lookup_limits(trail: Any, arguments: dict[str, Any], code: str) -> None:
    with pytest.raises(ClientError) as raised:
        trail.lookup_events(**arguments)
    expected = {"InvalidLookup": "InvalidLookupAttributes"}.get(code, code)
    assert raised.value.response["Error"]["Code"] == f"{expected}Exception"


def test_pages_of_fifty_newest_first_with_tokens_bound_to_the_query(
    running_sandbox: SandboxServer, trail: Any
) -> None:
    sagemaker = sagemaker_as(running_sandbox.url, "testing")
    prefix = unique("page")
    for number in range(55):
        sagemaker.list_endpoints(NameContains=f"{prefix}-{number:02d}")
    query = {"LookupAttributes": by("EventName", "ListEndpoints")}
    first = trail.lookup_events(**query)
    assert len(first["Events"]) == 50
    with pytest.raises(ClientError) as raised:
        trail.lookup_events(
            LookupAttributes=by("EventName", "ListModels"), NextToken=first["NextToken"]
        )
    assert raised.value.response["Error"]["Code"] == "InvalidNextTokenException"
    events = list(first["Events"])
    token = first.get("NextToken")
    while token:
        page = trail.lookup_events(**query, NextToken=token, MaxResults=7)
        assert len(page["Events"]) <= 7
        events.extend(page["Events"])
        token = page.get("NextToken")
    ours = [
        record_of(e)["requestParameters"]["nameContains"]
        for e in events
        if record_of(e)["requestParameters"]
        and str(record_of(e)["requestParameters"].get("nameContains", "")).startswith(prefix)
    ]
    assert ours == [f"{prefix}-{number:02d}" for number in reversed(range(55))]
    assert len({e["EventId"] for e in events}) == len(events)


def test_more_than_the_rate_is_throttled(running_sandbox: SandboxServer, trail: Any) -> None:
    control(running_sandbox.url, "cloudtrail", body={"lookup_rate": 2})
    codes = []
    for _ in range(6):
        try:
            trail.lookup_events(LookupAttributes=by("EventName", "CreateBucket"), MaxResults=1)
            codes.append("ok")
        except ClientError as error:
            codes.append(error.response["Error"]["Code"])
            assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert codes[:2] == ["ok", "ok"]
    assert "ThrottlingException" in codes


def test_calls_appear_after_the_delivery_lag(running_sandbox: SandboxServer, trail: Any) -> None:
    control(running_sandbox.url, "cloudtrail", body={"lag_seconds": 300})
    name = unique("cfg")
    create_config(sagemaker_as(running_sandbox.url, MARIA_KEY), name)
    assert trail.lookup_events(LookupAttributes=by("ResourceName", name))["Events"] == []
    control(running_sandbox.url, "cloudtrail", body={"lag_seconds": 0})
    assert len(trail.lookup_events(LookupAttributes=by("ResourceName", name))["Events"]) == 1


def every_event(trail: Any, **query: Any) -> list[dict[str, Any]]:
    """All pages of a lookup."""
    page = trail.lookup_events(**query, MaxResults=50)
    events = list(page["Events"])
    while page.get("NextToken"):
        page = trail.lookup_events(**query, MaxResults=50, NextToken=page["NextToken"])
        events.extend(page["Events"])
    return events


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
def test_the_seeded_week_reads_like_a_real_accounts(
    running_sandbox: SandboxServer, fast_lookups: None, region: str
) -> None:
    """Hundreds of SageMaker events a region, more in office hours than at night, from the
    principals a real account has: none from a generic tester or an unknown user."""
    trail = keyed_client(running_sandbox.url, "cloudtrail", region, "testing")
    started = datetime.now(UTC) - timedelta(minutes=30)
    week = [
        record_of(e)
        for e in every_event(
            trail,
            LookupAttributes=by("EventSource", "sagemaker.amazonaws.com"),
            EndTime=started,
        )
    ]
    assert len(week) >= 300
    hours = [datetime.fromisoformat(r["eventTime"].replace("Z", "+00:00")) for r in week]
    office = sum(1 for t in hours if t.weekday() < 5 and 8 <= t.hour < 18)
    night = sum(1 for t in hours if t.hour < 6)
    assert office > 2 * night > 0
    who = {r["userIdentity"].get("userName") or r["userIdentity"]["arn"] for r in week}
    assert not any("sandbox-tester" in w or w.endswith("/unknown") or w == "unknown" for w in who)
    assert {"maria.data-scientist", "dev.contractor"} <= who
    assert any("model-registry-sync" in w for w in who)
    assert any("AWSReservedSSO_MLLead" in w for w in who)
    assert {r.get("errorCode") for r in week} >= {"AccessDenied", "ThrottlingException"}


def test_the_seeded_week_of_history(running_sandbox: SandboxServer, fast_lookups: None) -> None:
    trail = keyed_client(running_sandbox.url, "cloudtrail", "us-east-1", "testing")
    maria = every_event(trail, LookupAttributes=by("Username", "maria.data-scientist"))
    records = [record_of(e) for e in maria]
    errors = {r["errorCode"] for r in records if "errorCode" in r}
    assert {"AccessDenied", "ValidationException"} <= errors
    shift = next(
        r
        for r in records
        if r["eventName"] == "UpdateEndpointWeightsAndCapacities" and "errorCode" not in r
    )
    assert shift["requestParameters"] == {
        "endpointName": "tumor-classifier",
        "desiredWeightsAndCapacities": [
            {"variantName": "A", "desiredWeight": 80.0},
            {"variantName": "B", "desiredWeight": 20.0},
        ],
    }
    assert shift["userAgent"].startswith("aws-cli/2.")
    tumor = every_event(trail, LookupAttributes=by("ResourceName", "tumor-classifier"))
    oldest = min(e["EventTime"] for e in tumor)
    assert datetime.now(UTC) - oldest > timedelta(days=6)
    writes = {e["EventName"] for e in tumor if e["ReadOnly"] == "false"}
    assert {"UpdateEndpoint", "UpdateEndpointWeightsAndCapacities", "RegisterScalableTarget"} <= (
        writes
    )


def test_a_logging_trail_gets_gzip_log_files(running_sandbox: SandboxServer, trail: Any) -> None:
    s3 = keyed_client(running_sandbox.url, "s3", REGION, "testing")
    bucket = unique("trail-logs")
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    name = unique("trail")
    trail.create_trail(Name=name, S3BucketName=bucket, S3KeyPrefix="audit")
    trail.start_logging(Name=name)
    config = unique("cfg")
    create_config(sagemaker_as(running_sandbox.url, MARIA_KEY), config)
    status, answer = control(running_sandbox.url, "flush-cloudtrail")
    assert status == 200 and answer["files"]
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="audit/AWSLogs/123456789012/CloudTrail/")
    keys = [item["Key"] for item in listed["Contents"]]
    day = datetime.now(UTC).strftime("%Y/%m/%d")
    pattern = (
        rf"audit/AWSLogs/123456789012/CloudTrail/{REGION}/{day}/123456789012_CloudTrail_"
        rf"{REGION}_\d{{8}}T\d{{4}}Z_[A-Za-z0-9]{{16}}\.json\.gz"
    )
    assert keys and all(re.fullmatch(pattern, key) for key in keys)
    records = []
    for key in keys:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        records.extend(json.loads(gzip.decompress(body))["Records"])
    configs = [(r["requestParameters"] or {}).get("endpointConfigName") for r in records]
    assert config in configs
    _status, again = control(running_sandbox.url, "flush-cloudtrail")
    assert not any(bucket in uri for uri in again["files"])
