"""The AWS gateway against the sandbox over real HTTP: typed results, mapped errors,
explicit retry and timeout configuration, assume-role."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError
from django.conf import settings

from core.aws import autoscaling, clients, sagemaker
from core.aws.errors import (
    AccessDenied,
    NotFound,
    QuotaExceeded,
    Throttled,
    Unavailable,
    ValidationFailed,
    from_client_error,
)
from core.aws.types import EndpointDescription
from core.targets import Target

TARGET = settings.OPSPORTAL_TARGETS[0]


def test_lists_endpoints_of_each_region(sandbox):
    east = {e.name for e in sagemaker.list_endpoints(target=TARGET, region="us-east-1")}
    west = {e.name for e in sagemaker.list_endpoints(target=TARGET, region="eu-west-1")}
    assert {"fraud-detection", "tumor-classifier", "churn-serverless"} <= east
    assert "iris-classifier" in west and "iris-classifier" not in east


def test_describe_endpoint_returns_typed_variants(sandbox):
    described = sagemaker.describe_endpoint(
        target=TARGET, region="us-east-1", name="tumor-classifier"
    )
    assert isinstance(described, EndpointDescription)
    weights = {v.name: v.desired_weight for v in described.variants}
    assert weights == {"A": 80.0, "B": 20.0}
    assert described.data_capture is not None and described.data_capture.enabled
    assert described.raw["EndpointName"] == "tumor-classifier"
    assert isinstance(described.raw["CreationTime"], str)  # JSON-safe for the raw panel


def test_describe_config_and_scaling(sandbox):
    config = sagemaker.describe_endpoint_config(
        target=TARGET,
        region="us-east-1",
        name=sagemaker.describe_endpoint(
            target=TARGET, region="us-east-1", name="fraud-detection"
        ).config_name,
    )
    assert {v.instance_type for v in config.variants} == {"ml.m5.xlarge", "ml.c5.xlarge"}
    scaling = autoscaling.describe_variant_scaling(
        target=TARGET,
        region="us-east-1",
        endpoint_name="tumor-classifier",
        variant_names=["A", "B"],
    )
    assert [s.variant_name for s in scaling] == ["A"]
    assert scaling[0].policies[0].metric == "SageMakerVariantInvocationsPerInstance"


def test_unknown_endpoint_is_not_found(sandbox):
    with pytest.raises(NotFound) as excinfo:
        sagemaker.describe_endpoint(target=TARGET, region="us-east-1", name="no-such-endpoint")
    assert excinfo.value.code == "ValidationException"
    assert "Could not find endpoint" in excinfo.value.message


def test_unreachable_aws_is_unavailable(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    clients.forget_clients()
    try:
        with pytest.raises(Unavailable):
            list(sagemaker.list_endpoints(target=TARGET, region="us-east-1"))
    finally:
        clients.forget_clients()


def test_clients_use_explicit_retries_and_timeouts(sandbox):
    sm = clients.client(target=TARGET, region="us-east-1", service="sagemaker")
    assert sm.meta.config.retries == {
        "mode": "standard",
        "total_max_attempts": settings.AWS_MAX_ATTEMPTS,
    }
    assert sm.meta.config.connect_timeout == settings.AWS_CONNECT_TIMEOUT
    assert sm.meta.config.read_timeout == settings.AWS_READ_TIMEOUT
    assert sm is clients.client(target=TARGET, region="us-east-1", service="sagemaker")


def test_assumes_the_targets_role(sandbox):
    target = Target(
        name="prod",
        account_id=TARGET.account_id,
        regions=("us-east-1",),
        role_arn=f"arn:aws:iam::{TARGET.account_id}:role/OpsPortalRead",
    )
    clients.reset_call_counts()
    names = {e.name for e in sagemaker.list_endpoints(target=target, region="us-east-1")}
    assert "tumor-classifier" in names
    sm = clients.client(target=target, region="us-east-1", service="sagemaker")
    credentials = sm._request_signer._credentials.get_frozen_credentials()
    assert credentials.access_key != "testing"  # temporary keys from STS AssumeRole


def _client_error(code: str, message: str = "m", status: int = 400) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "Op",
    )


@pytest.mark.parametrize(
    ("code", "message", "status", "expected"),
    [
        ("ThrottlingException", "Rate exceeded", 400, Throttled),
        ("AccessDeniedException", "no", 403, AccessDenied),
        ("ValidationException", 'Could not find endpoint "x".', 400, NotFound),
        ("ValidationException", "Weight must be >= 0", 400, ValidationFailed),
        ("ResourceLimitExceeded", "quota", 400, QuotaExceeded),
        ("InternalFailure", "boom", 500, Unavailable),
    ],
)
def test_client_errors_map_to_portal_errors(code, message, status, expected):
    error = from_client_error(_client_error(code, message, status))
    assert type(error) is expected
    assert error.code == code and error.message == message
