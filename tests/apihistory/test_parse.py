"""CloudTrail records -> TrailEvent columns: every userIdentity type (from the sandbox's own
records, one per access key, and hand-written for the types it never writes), the names a
call is about, errors, readOnly in both spellings, search text and column sizes."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from django.utils import timezone

from apihistory.models import IdentityType, TrailEvent
from apihistory.parse import (
    MAX_LENGTHS,
    SEARCH_TEXT_LIMIT,
    BadRecord,
    event_fields,
    parse_event_time,
)
from apihistory.services import trail_ingest
from sandbox.testing import CI_DEPLOYER_KEY, MARIA_KEY, PORTAL_KEY, ROOT_KEY, TEST_KEY, keyed_client
from tests.apihistory import target_for


def record(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDAJ45Q7YFFAREXAMPLE",
            "arn": "arn:aws:iam::123456789012:user/Alice",
            "accountId": "123456789012",
            "accessKeyId": "AKIAIOSFODNN7EXAMPLE",
            "userName": "Alice",
        },
        "eventTime": "2025-03-04T05:06:07Z",
        "eventSource": "sagemaker.amazonaws.com",
        "eventName": "UpdateEndpointWeightsAndCapacities",
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "203.0.113.9",
        "userAgent": "aws-cli/2.22.4 command/sagemaker.update-endpoint-weights-and-capacities",
        "requestParameters": {
            "endpointName": "Fraud-Detection",
            "desiredWeightsAndCapacities": [
                {"variantName": "Blue", "desiredWeight": 80.0},
                {"variantName": "Green", "desiredWeight": 20.0},
            ],
        },
        "responseElements": {"endpointArn": "arn:aws:sagemaker:eu-west-1:123:endpoint/x"},
        "requestID": "5b1e6c3a-1f1e-4c8e-9d51-3f0a6a0c0001",
        "eventID": "0e2c4a3e-7b6b-4d3e-8a52-8f4f7e2c0001",
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": "123456789012",
    }
    base.update(overrides)
    return base


IDENTITIES = [
    (
        {
            "type": "AssumedRole",
            "principalId": "AROAIDPPEZS35WEXAMPLE:deploy-42",
            "arn": "arn:aws:sts::123456789012:assumed-role/ci-deployer/deploy-42",
            "accountId": "123456789012",
            "accessKeyId": "ASIAEXAMPLE",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "arn": "arn:aws:iam::123456789012:role/service/ci-deployer",
                    "userName": "ci-deployer",
                },
                "attributes": {"mfaAuthenticated": "false"},
            },
        },
        ("AssumedRole", "ci-deployer", "deploy-42"),
    ),
    (
        # No sessionContext (some services omit it): both names from the ARN.
        {"type": "AssumedRole", "arn": "arn:aws:sts::123456789012:assumed-role/Ops/jane"},
        ("AssumedRole", "Ops", "jane"),
    ),
    (
        {
            "type": "Root",
            "principalId": "123456789012",
            "arn": "arn:aws:iam::123456789012:root",
            "accountId": "123456789012",
        },
        ("Root", "root", ""),
    ),
    (
        {
            "type": "FederatedUser",
            "principalId": "123456789012:Bob",
            "arn": "arn:aws:sts::123456789012:federated-user/Bob",
            "accountId": "123456789012",
            "sessionContext": {"sessionIssuer": {"type": "IAMUser", "userName": "broker"}},
        },
        ("FederatedUser", "Bob", ""),
    ),
    (
        {"type": "AWSService", "invokedBy": "sagemaker.amazonaws.com"},
        ("AWSService", "sagemaker.amazonaws.com", ""),
    ),
    (
        {
            "type": "AWSAccount",
            "principalId": "AIDAOTHERACCOUNTEXAMPLE",
            "accountId": "444455556666",
        },
        ("AWSAccount", "444455556666", ""),
    ),
    (
        {
            "type": "IdentityCenterUser",
            "accountId": "123456789012",
            "onBehalfOf": {
                "userId": "544894e8-80c1-707f-60e3-3ba6510dfac1",
                "identityStoreArn": (
                    "arn:aws:identitystore::123456789012:identitystore/d-9067642ac7"
                ),
            },
            "credentialId": "EXAMPLEVHULjJdTUdPJfofVa1sufHDoj7aYcOYcxFVllWR_Whr1fEXAMPLE",
        },
        ("IdentityCenterUser", "544894e8-80c1-707f-60e3-3ba6510dfac1", ""),
    ),
    (
        {"type": "SAMLUser", "principalId": "abc:saml-user", "userName": "saml-user"},
        ("Unknown", "saml-user", ""),
    ),
    ({}, ("Unknown", "", "")),
    (None, ("Unknown", "", "")),
]


@pytest.mark.parametrize(("identity", "expected"), IDENTITIES)
def test_every_identity_type(identity, expected):
    fields = event_fields(record(userIdentity=identity))
    assert (fields["identity_type"], fields["principal_name"], fields["session_name"]) == expected
    assert fields["identity_type"] in IdentityType.values


def test_identity_details_are_searchable():
    fields = event_fields(record(userIdentity=IDENTITIES[6][0]))
    assert "identitystore/d-9067642ac7" in fields["search_text"]
    role = event_fields(record(userIdentity=IDENTITIES[0][0]))
    assert role["principal_arn"].endswith("assumed-role/ci-deployer/deploy-42")
    assert "arn:aws:iam::123456789012:role/service/ci-deployer" in role["search_text"]


def test_the_columns_of_a_write():
    fields = event_fields(record())
    assert fields["event_id"] == "0e2c4a3e-7b6b-4d3e-8a52-8f4f7e2c0001"
    assert fields["event_time"] == datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert fields["event_name"] == "UpdateEndpointWeightsAndCapacities"
    assert fields["read_only"] is False
    assert (fields["account_id"], fields["region"]) == ("123456789012", "eu-west-1")
    assert fields["principal_arn"] == "arn:aws:iam::123456789012:user/Alice"
    assert (fields["principal_name"], fields["access_key_id"]) == ("Alice", "AKIAIOSFODNN7EXAMPLE")
    assert fields["source_ip"] == "203.0.113.9"
    assert fields["endpoint_name"] == "Fraud-Detection"
    assert fields["request_id"] == "5b1e6c3a-1f1e-4c8e-9d51-3f0a6a0c0001"
    assert (fields["error_code"], fields["error_message"]) == ("", "")
    assert fields["record"]["requestParameters"]["desiredWeightsAndCapacities"][0]["desiredWeight"]


def test_search_text_is_lower_case_words_of_the_record():
    text = event_fields(record())["search_text"]
    assert text == text.lower()
    for word in (
        "updateendpointweightsandcapacities",
        "arn:aws:iam::123456789012:user/alice",
        "alice",
        "akiaiosfodnn7example",
        "203.0.113.9",
        "aws-cli/2.22.4",
        "fraud-detection",
        "blue",
        "green",
        "80.0",
    ):
        assert word in text.split() or word in text, word


@pytest.mark.parametrize(
    ("params", "resources", "expected"),
    [
        ({"endpointConfigName": "cfg-1", "endpointName": "ep-1"}, None, ("ep-1", "cfg-1", "")),
        ({"modelName": "m-1"}, None, ("", "", "m-1")),
        ({"transformJobName": "tj-1"}, None, ("", "", "tj-1")),
        ({"modelName": "m-1", "transformJobName": "tj-1"}, None, ("", "", "tj-1")),
        ({"monitoringScheduleName": "ms-1", "endpointName": "ep"}, None, ("ep", "", "ms-1")),
        (
            {"resourceArn": "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/tagged"},
            None,
            ("tagged", "", ""),
        ),
        (
            None,
            [
                {"ARN": "arn:aws:sagemaker:eu-west-1:123456789012:endpoint-config/c2"},
                {"ARN": "arn:aws:sagemaker:eu-west-1:123456789012:model/m2"},
            ],
            ("", "c2", "m2"),
        ),
        ({"resourceId": "endpoint/scaled/variant/A"}, None, ("scaled", "", "")),
    ],
)
def test_the_names_a_call_is_about(params, resources, expected):
    overrides: dict[str, Any] = {"requestParameters": params}
    if resources is not None:
        overrides["resources"] = resources
    fields = event_fields(record(**overrides))
    names = (fields["endpoint_name"], fields["endpoint_config_name"], fields["resource_name"])
    assert names == expected


def test_a_failed_read_with_readonly_as_lookup_events_spells_it():
    fields = event_fields(
        record(
            eventName="DescribeEndpoint",
            readOnly="true",
            errorCode="AccessDenied",
            errorMessage="User: arn:aws:iam::123456789012:user/Alice is not authorized",
            responseElements=None,
        )
    )
    assert fields["read_only"] is True
    assert fields["error_code"] == "AccessDenied"
    assert "is not authorized" in fields["error_message"]
    assert "accessdenied" in fields["search_text"]
    no_flag = record(eventName="ListEndpoints")
    del no_flag["readOnly"]
    assert event_fields(no_flag)["read_only"] is True


def test_times_in_the_shapes_cloudtrail_writes():
    expected = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert parse_event_time("2025-03-04T05:06:07Z") == expected
    assert parse_event_time("2025-03-04T05:06:07.000Z") == expected
    assert parse_event_time("2025-03-04T06:06:07+01:00") == expected


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"eventID": None}, "no eventID"),
        ({"eventTime": None}, "no eventTime"),
        ({"eventTime": "yesterday"}, "not an ISO 8601 time"),
    ],
)
def test_a_record_without_id_or_time_is_refused(overrides, message):
    with pytest.raises(BadRecord, match=message):
        event_fields(record(**overrides))


def test_values_are_clipped_to_the_columns():
    long = "x" * 2000
    fields = event_fields(
        record(
            eventName=long,
            requestParameters={"endpointName": long, "modelName": long, "environment": long * 9},
            errorCode=long,
            sourceIPAddress=long,
            requestID=long,
        )
    )
    for name, size in MAX_LENGTHS.items():
        if isinstance(fields[name], str):
            assert len(fields[name]) <= size, name
    assert len(fields["search_text"]) <= SEARCH_TEXT_LIMIT


def test_nul_characters_never_reach_the_database():
    fields = event_fields(
        record(userAgent="curl\x00/8", requestParameters={"endpointName": "a\x00b"})
    )
    assert fields["user_agent"] == "curl/8" and fields["endpoint_name"] == "ab"
    assert fields["record"]["requestParameters"] == {"endpointName": "ab"}
    assert "\x00" not in fields["search_text"]


def test_the_column_sizes_match_the_model():
    for name, size in MAX_LENGTHS.items():
        assert TrailEvent._meta.get_field(name).max_length == size, name


KEYS = [
    (MARIA_KEY, ("IAMUser", "maria.data-scientist", "")),
    (CI_DEPLOYER_KEY, ("AssumedRole", "ci-deployer", "github-actions-1234")),
    (PORTAL_KEY, ("AssumedRole", "OpsPortal", "opsportal")),
    (ROOT_KEY, ("Root", "root", "")),
    (TEST_KEY, ("IAMUser", "sandbox-tester", "")),
    ("AKIANOBODYKNOWSTHIS1", ("IAMUser", "unknown", "")),
]


@pytest.mark.django_db
def test_the_sandbox_records_of_each_access_key_parse_to_their_principal(sandbox):
    region = "us-west-1"
    for key, _ in KEYS:
        sagemaker = keyed_client(sandbox.url, "sagemaker", region, key)
        sagemaker.list_endpoints(NameContains=f"who-{key}")
    with pytest.raises(ClientError):
        keyed_client(sandbox.url, "sagemaker", region, ROOT_KEY).describe_endpoint(
            EndpointName="not-there"
        )
    time.sleep(0.05)

    result = trail_ingest(
        target=target_for(region),
        region=region,
        until=timezone.now() + timedelta(seconds=2),  # LookupEvents' EndTime is whole seconds
    )

    assert result.ok and result.stored == len(KEYS) + 1, result.summary()
    for key, expected in KEYS:
        row = TrailEvent.objects.get(region=region, search_text__contains=f"who-{key.lower()}")
        assert (row.identity_type, row.principal_name, row.session_name) == expected, key
        assert row.access_key_id == key
        assert row.source_ip == "127.0.0.1" and row.user_agent.startswith("Boto3/")
        assert row.read_only and row.event_name == "ListEndpoints"
    failed = TrailEvent.objects.get(region=region, event_name="DescribeEndpoint")
    assert failed.principal_name == "root" and failed.endpoint_name == "not-there"
    assert failed.error_code == "ValidationException"
    assert all(f" {word} " in failed.search_text for word in ("could", "not", "find", "endpoint"))
