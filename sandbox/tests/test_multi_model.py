"""Multi-model endpoints: one endpoint, a prefix of artifacts, TargetModel picks the model."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox.models import artifact_bytes, holdout_rows, rows_to_csv, train_iris, train_tumor
from sandbox.seed import EXECUTION_ROLE_ARN, ensure_bucket, image_uri
from sandbox.seed_multi_model import MULTI_MODEL_ENDPOINT, REGIONAL_MODELS
from sandbox.server import SandboxServer
from sandbox.testing import (
    TRAFFIC_REGION,
    aws_client,
    control,
    multi_model_endpoint,
    unique,
    wait_for_status,
)
from tests.world import runtime_client, variant_metric

TUMOR_ROWS = holdout_rows("tumor")[:5]
IRIS_ROWS = holdout_rows("iris")[:5]


def _multi_model_endpoint(url: str, prefix_objects: dict[str, bytes]) -> tuple[str, str, str]:
    """A multi-model endpoint over a fresh prefix holding ``prefix_objects``:
    (endpoint, bucket, key prefix)."""
    s3 = aws_client(url, "s3", TRAFFIC_REGION)
    bucket = ensure_bucket(s3, TRAFFIC_REGION)
    prefix = f"multi-model/{unique('prefix')}/"
    for key, body in prefix_objects.items():
        s3.put_object(Bucket=bucket, Key=prefix + key, Body=body)
    name = multi_model_endpoint(url, TRAFFIC_REGION, model_data_url=f"s3://{bucket}/{prefix}")
    return name, bucket, prefix


@pytest.fixture(scope="module")
def two_models(running_sandbox: SandboxServer) -> tuple[str, str, str]:
    return _multi_model_endpoint(
        running_sandbox.url,
        {
            "tumor.tar.gz": artifact_bytes(train_tumor()),
            "iris.tar.gz": artifact_bytes(train_iris()),
        },
    )


def _invoke(url: str, endpoint: str, rows: list[list[float]], **extra: Any) -> dict[str, Any]:
    return runtime_client(url).invoke_endpoint(
        EndpointName=endpoint, ContentType="text/csv", Body=rows_to_csv(rows), **extra
    )


def _refusal(url: str, endpoint: str, **extra: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as raised:
        _invoke(url, endpoint, TUMOR_ROWS, **extra)
    return raised.value.response


def test_each_target_model_answers_with_its_own_model(
    running_sandbox: SandboxServer, two_models: tuple[str, str, str]
) -> None:
    endpoint = two_models[0]
    tumor = _invoke(running_sandbox.url, endpoint, TUMOR_ROWS, TargetModel="tumor.tar.gz")
    probabilities = [float(v) for v in tumor["Body"].read().decode().splitlines()]
    assert len(probabilities) == len(TUMOR_ROWS)
    assert all(0.0 <= p <= 1.0 for p in probabilities)
    iris = _invoke(running_sandbox.url, endpoint, IRIS_ROWS, TargetModel="iris.tar.gz")
    species = iris["Body"].read().decode().splitlines()
    assert len(species) == len(IRIS_ROWS)
    assert set(species) <= {"setosa", "versicolor", "virginica"}
    assert iris["InvokedProductionVariant"] == "AllTraffic"


def test_an_artifact_uploaded_after_creation_is_served(running_sandbox: SandboxServer) -> None:
    url = running_sandbox.url
    endpoint, bucket, prefix = _multi_model_endpoint(url, {})  # an empty prefix still serves
    missing = _refusal(url, endpoint, TargetModel="later.tar.gz")
    assert missing["Error"]["Code"] == "ValidationError"
    aws_client(url, "s3", TRAFFIC_REGION).put_object(
        Bucket=bucket, Key=f"{prefix}later.tar.gz", Body=artifact_bytes(train_iris())
    )
    answer = _invoke(url, endpoint, IRIS_ROWS, TargetModel="later.tar.gz")
    assert set(answer["Body"].read().decode().splitlines()) <= {
        "setosa",
        "versicolor",
        "virginica",
    }


def test_a_target_model_not_under_the_prefix_is_a_validation_error(
    running_sandbox: SandboxServer, two_models: tuple[str, str, str]
) -> None:
    endpoint, bucket, prefix = two_models
    error = _refusal(running_sandbox.url, endpoint, TargetModel="nope.tar.gz")
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Code"] == "ValidationError"
    assert error["Error"]["Message"].startswith(
        f"Failed to download model data(bucket: {bucket}, key: {prefix}nope.tar.gz)."
    )


def test_no_target_model_on_a_multi_model_endpoint_is_a_validation_error(
    running_sandbox: SandboxServer, two_models: tuple[str, str, str]
) -> None:
    error = _refusal(running_sandbox.url, two_models[0])
    assert error["Error"]["Code"] == "ValidationError"
    assert "missing a target model header" in error["Error"]["Message"]


def test_a_target_model_breaking_the_header_pattern_is_refused(
    running_sandbox: SandboxServer, two_models: tuple[str, str, str]
) -> None:
    error = _refusal(running_sandbox.url, two_models[0], TargetModel="tumor\t.tar.gz")
    assert error["Error"]["Code"] == "ValidationError"
    assert "regular expression pattern" in error["Error"]["Message"]
    error = _refusal(running_sandbox.url, two_models[0], TargetModel="m" * 1025)
    assert error["Error"]["Code"] == "ValidationError"
    assert "length less than or equal to 1024" in error["Error"]["Message"]


def test_loading_metrics_show_the_first_load_and_the_cache_hits(
    running_sandbox: SandboxServer,
) -> None:
    url = running_sandbox.url
    endpoint, _bucket, _prefix = _multi_model_endpoint(
        url,
        {
            "a.tar.gz": artifact_bytes(train_tumor()),
            "b.tar.gz": artifact_bytes(train_tumor(regularization=0.1)),
        },
    )
    for target in ("a.tar.gz", "a.tar.gz", "a.tar.gz", "b.tar.gz"):
        _invoke(url, endpoint, TUMOR_ROWS, TargetModel=target)
    control(url, "flush-metrics")

    def metric(name: str, stat: str) -> list[float]:
        return variant_metric(url, endpoint, "AllTraffic", name, stat)

    assert metric("ModelCacheHit", "Sum") == [2.0]  # the 2nd and 3rd call to a.tar.gz
    assert metric("ModelCacheHit", "SampleCount") == [4.0]
    assert metric("ModelLoadingWaitTime", "SampleCount") == [2.0]  # a and b loaded once each
    assert metric("ModelLoadingWaitTime", "Minimum")[0] > 0
    assert metric("ModelDownloadingTime", "SampleCount") == [2.0]
    assert metric("ModelLoadingTime", "SampleCount") == [2.0]
    assert metric("LoadedModelCount", "Maximum") == [2.0]
    assert metric("LoadedModelCount", "SampleCount") == [2.0]  # one datum per instance
    assert metric("Invocations", "Sum") == [4.0]


def test_a_prefix_that_is_not_s3_fails_the_endpoint(running_sandbox: SandboxServer) -> None:
    url = running_sandbox.url
    sagemaker = aws_client(url, "sagemaker", TRAFFIC_REGION)
    name = unique("mme-bad")
    sagemaker.create_model(
        ModelName=name,
        PrimaryContainer={
            "Image": image_uri("sagemaker-xgboost", TRAFFIC_REGION),
            "Mode": "MultiModel",
            "ModelDataUrl": "https://example.com/models/",
        },
        ExecutionRoleArn=EXECUTION_ROLE_ARN,
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": name,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
            }
        ],
    )
    sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    described = wait_for_status(url, TRAFFIC_REGION, name, "Failed")
    assert "Failed to download model data" in described["FailureReason"]


def test_the_demo_world_serves_each_regional_churn_model(running_sandbox: SandboxServer) -> None:
    url = running_sandbox.url
    wait_for_status(url, "us-east-1", MULTI_MODEL_ENDPOINT, "InService")
    rows = holdout_rows("churn")[:20]
    answers = {}
    for target in REGIONAL_MODELS:
        answer = runtime_client(url, "us-east-1").invoke_endpoint(
            EndpointName=MULTI_MODEL_ENDPOINT,
            ContentType="text/csv",
            Body=rows_to_csv(rows),
            TargetModel=target,
        )
        answers[target] = answer["Body"].read().decode()
        assert len(answers[target].splitlines()) == len(rows)
    assert len(set(answers.values())) == len(REGIONAL_MODELS)  # three different models
