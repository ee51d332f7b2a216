"""Shadow variants: kept by Describe calls, sent copies of production requests, answers dropped."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox.models import artifact_bytes, holdout_rows, rows_to_csv, train_tumor
from sandbox.seed import ensure_bucket
from sandbox.server import SandboxServer
from sandbox.testing import TRAFFIC_REGION, aws_client, control, unique, wait_for_status
from tests.world import create_model, runtime_client, upload_tumor_model, variant_metric

ROWS = holdout_rows("tumor")[:3]


def _shadow_endpoint(url: str, *, shadow_weight: float, shadow_model: str | None = None) -> str:
    """One production variant ``live`` (weight 1) and one shadow ``shadow``."""
    live_model = upload_tumor_model(url, TRAFFIC_REGION)
    sagemaker = aws_client(url, "sagemaker", TRAFFIC_REGION)
    name = unique("shadow")
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[_variant("live", live_model, 1.0)],
        ShadowProductionVariants=[_variant("shadow", shadow_model or live_model, shadow_weight)],
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    wait_for_status(url, TRAFFIC_REGION, name, "InService")
    return name


def _variant(name: str, model: str, weight: float) -> dict[str, Any]:
    return {
        "VariantName": name,
        "ModelName": model,
        "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1,
        "InitialVariantWeight": weight,
    }


def _invoke(url: str, endpoint: str) -> dict[str, Any]:
    return runtime_client(url).invoke_endpoint(
        EndpointName=endpoint, ContentType="text/csv", Body=rows_to_csv(ROWS)
    )


def _invocations(url: str, endpoint: str, variant: str, *, expected: float) -> float:
    """The variant's published Invocations once they reach ``expected`` (copies run on
    another thread), or what they are after a few seconds."""
    deadline = time.monotonic() + 5.0
    while True:
        control(url, "flush-metrics")
        total = sum(variant_metric(url, endpoint, variant, "Invocations", "Sum"))
        if total >= expected or time.monotonic() > deadline:
            return total
        time.sleep(0.1)


@pytest.fixture(scope="module")
def full_copy(running_sandbox: SandboxServer) -> str:
    return _shadow_endpoint(running_sandbox.url, shadow_weight=1.0)


def test_describe_calls_keep_the_shadow_variant(
    running_sandbox: SandboxServer, full_copy: str
) -> None:
    sagemaker = aws_client(running_sandbox.url, "sagemaker", TRAFFIC_REGION)
    described = sagemaker.describe_endpoint(EndpointName=full_copy)
    assert [v["VariantName"] for v in described["ProductionVariants"]] == ["live"]
    (shadow,) = described["ShadowProductionVariants"]
    assert shadow["VariantName"] == "shadow"
    assert shadow["CurrentWeight"] == 1.0
    assert shadow["CurrentInstanceCount"] == 1
    config = sagemaker.describe_endpoint_config(EndpointConfigName=full_copy)
    assert config["ShadowProductionVariants"][0]["VariantName"] == "shadow"


def test_callers_get_the_production_answer_and_the_shadow_gets_every_copy(
    running_sandbox: SandboxServer, full_copy: str
) -> None:
    url = running_sandbox.url
    answers = [_invoke(url, full_copy) for _ in range(6)]
    assert {a["InvokedProductionVariant"] for a in answers} == {"live"}
    assert _invocations(url, full_copy, "shadow", expected=6) == 6
    assert _invocations(url, full_copy, "live", expected=6) == 6


def test_a_failing_shadow_never_fails_the_caller(running_sandbox: SandboxServer) -> None:
    url = running_sandbox.url
    name = _shadow_endpoint(url, shadow_weight=1.0)
    control(url, "faults", body={"endpoint": name, "variant": "shadow", "error_rate": 1.0})
    try:
        for _ in range(4):
            assert _invoke(url, name)["Body"].read()
        deadline = time.monotonic() + 5.0
        errors: float = 0.0
        while errors < 4 and time.monotonic() < deadline:
            control(url, "flush-metrics")
            errors = sum(variant_metric(url, name, "shadow", "Invocation5XXErrors", "Sum"))
            time.sleep(0.1)
        assert errors == 4
        assert sum(variant_metric(url, name, "live", "Invocation5XXErrors", "Sum")) == 0
    finally:
        control(url, f"faults?endpoint={name}", method="DELETE")


def test_the_shadow_weight_sets_the_share_of_requests_copied(
    running_sandbox: SandboxServer,
) -> None:
    url = running_sandbox.url
    name = _shadow_endpoint(url, shadow_weight=0.25)
    for _ in range(200):
        _invoke(url, name)
    time.sleep(0.5)
    copied = _invocations(url, name, "shadow", expected=200)
    # 200 draws at 25 %: 50 expected, 30-70 holds with probability above 99.8 %.
    assert 30 <= copied <= 70


def test_weights_can_turn_the_shadow_off_and_on(running_sandbox: SandboxServer) -> None:
    url = running_sandbox.url
    name = _shadow_endpoint(url, shadow_weight=1.0)
    sagemaker = aws_client(url, "sagemaker", TRAFFIC_REGION)
    sagemaker.update_endpoint_weights_and_capacities(
        EndpointName=name,
        DesiredWeightsAndCapacities=[{"VariantName": "shadow", "DesiredWeight": 0.0}],
    )
    described = wait_for_status(url, TRAFFIC_REGION, name, "InService")
    assert described["ShadowProductionVariants"][0]["CurrentWeight"] == 0.0
    for _ in range(5):
        _invoke(url, name)
    time.sleep(0.3)
    assert _invocations(url, name, "shadow", expected=1) == 0


def test_a_shadow_with_a_broken_model_fails_the_endpoint(running_sandbox: SandboxServer) -> None:
    url = running_sandbox.url
    s3 = aws_client(url, "s3", TRAFFIC_REGION)
    bucket = ensure_bucket(s3, TRAFFIC_REGION)
    broken = unique("broken")
    s3.put_object(Bucket=bucket, Key=f"models/{broken}.tar.gz", Body=b"not a model")
    create_model(url, TRAFFIC_REGION, broken, f"s3://{bucket}/models/{broken}.tar.gz")
    live = upload_tumor_model(url, TRAFFIC_REGION, artifact=artifact_bytes(train_tumor()))
    sagemaker = aws_client(url, "sagemaker", TRAFFIC_REGION)
    name = unique("shadow")
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[_variant("live", live, 1.0)],
        ShadowProductionVariants=[_variant("shadow", broken, 1.0)],
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    described = wait_for_status(url, TRAFFIC_REGION, name, "Failed")
    assert described["FailureReason"]


@pytest.mark.parametrize(
    ("production", "shadows"),
    [
        (["a", "b"], ["s"]),  # two production variants beside a shadow
        (["a"], ["s", "t"]),  # two shadows
    ],
)
def test_a_config_with_a_shadow_needs_one_production_and_one_shadow_variant(
    running_sandbox: SandboxServer, production: list[str], shadows: list[str]
) -> None:
    model = upload_tumor_model(running_sandbox.url, TRAFFIC_REGION)
    sagemaker = aws_client(running_sandbox.url, "sagemaker", TRAFFIC_REGION)
    name = unique("shadow-bad")
    with pytest.raises(ClientError) as refused:
        sagemaker.create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[_variant(v, model, 1.0) for v in production],
            ShadowProductionVariants=[_variant(v, model, 1.0) for v in shadows],
        )
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "exactly one production variant and one shadow variant" in str(refused.value)
    with pytest.raises(ClientError):
        sagemaker.describe_endpoint_config(EndpointConfigName=name)


def test_the_demo_world_runs_a_shadow_test(running_sandbox: SandboxServer) -> None:
    sagemaker = aws_client(running_sandbox.url, "sagemaker", "us-east-1")
    described = sagemaker.describe_endpoint(EndpointName="tumor-screening")
    assert [v["VariantName"] for v in described["ProductionVariants"]] == ["v1"]
    assert [v["VariantName"] for v in described["ShadowProductionVariants"]] == ["v2-shadow"]
