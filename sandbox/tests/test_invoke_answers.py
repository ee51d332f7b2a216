"""What InvokeEndpoint answers: real predictions, and AWS's error shapes when it cannot."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from sandbox.models import holdout, holdout_rows, rows_to_csv
from sandbox.runtime import MAX_PAYLOAD_BYTES
from sandbox.seed import artifact_url
from sandbox.server import SandboxServer
from sandbox.testing import create_endpoint, live_endpoint, unique
from tests.world import TRAFFIC_REGION, create_model, runtime_client, upload_tumor_model

TUMOR_ROWS = holdout_rows("tumor")[:25]


@pytest.fixture(scope="module")
def tumor_endpoint(running_sandbox: SandboxServer) -> str:
    model = upload_tumor_model(running_sandbox.url, TRAFFIC_REGION)
    return live_endpoint(running_sandbox.url, model)


@pytest.fixture(scope="module")
def iris_endpoint(running_sandbox: SandboxServer) -> str:
    """A user's own model and endpoint, made from the demo's iris artifact."""
    model = create_model(
        running_sandbox.url, TRAFFIC_REGION, unique("iris"), artifact_url("eu-west-1", "iris-model")
    )
    return live_endpoint(running_sandbox.url, model, weights=(1.0,))


def _error(raised: pytest.ExceptionInfo[ClientError]) -> dict:
    return raised.value.response


def test_tumor_csv_answers_one_probability_per_row(
    running_sandbox: SandboxServer, tumor_endpoint: str
) -> None:
    answer = runtime_client(running_sandbox.url).invoke_endpoint(
        EndpointName=tumor_endpoint, ContentType="text/csv", Body=rows_to_csv(TUMOR_ROWS)
    )
    assert answer["ContentType"] == "text/csv; charset=utf-8"
    assert answer["InvokedProductionVariant"] in ("v0", "v1")
    probabilities = [float(line) for line in answer["Body"].read().decode().splitlines()]
    assert len(probabilities) == len(TUMOR_ROWS)
    assert all(0.0 <= p <= 1.0 for p in probabilities)
    truth = holdout("tumor").labels[: len(TUMOR_ROWS)]
    predicted = ["malignant" if p >= 0.5 else "benign" for p in probabilities]
    assert sum(a == b for a, b in zip(predicted, truth, strict=True)) >= 22


def test_json_instances_answer_json_predictions(
    running_sandbox: SandboxServer, tumor_endpoint: str
) -> None:
    answer = runtime_client(running_sandbox.url).invoke_endpoint(
        EndpointName=tumor_endpoint,
        ContentType="application/json",
        Accept="application/json",
        Body=json.dumps({"instances": TUMOR_ROWS[:3]}),
    )
    assert answer["ContentType"] == "application/json"
    predictions = json.loads(answer["Body"].read())["predictions"]
    assert len(predictions) == 3
    for prediction in predictions:
        assert 0.0 <= prediction["score"] <= 1.0
        assert prediction["predicted_label"] in ("benign", "malignant")


def test_iris_from_the_demo_artifact_answers_species(
    running_sandbox: SandboxServer, iris_endpoint: str
) -> None:
    data = holdout("iris")
    answer = runtime_client(running_sandbox.url).invoke_endpoint(
        EndpointName=iris_endpoint, ContentType="text/csv", Body=rows_to_csv(data.features[:30])
    )
    labels = answer["Body"].read().decode().splitlines()
    assert set(labels) <= {"setosa", "versicolor", "virginica"}
    assert sum(a == b for a, b in zip(labels, data.labels[:30], strict=True)) >= 27


def test_unknown_endpoint_is_a_validation_error(running_sandbox: SandboxServer) -> None:
    with pytest.raises(ClientError) as raised:
        runtime_client(running_sandbox.url).invoke_endpoint(
            EndpointName="no-such-endpoint", ContentType="text/csv", Body=b"1\n"
        )
    error = _error(raised)
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Code"] == "ValidationError"
    assert error["Error"]["Message"] == (
        "Endpoint no-such-endpoint of account 123456789012 not found."
    )


def test_unknown_target_variant_is_a_validation_error(
    running_sandbox: SandboxServer, tumor_endpoint: str
) -> None:
    with pytest.raises(ClientError) as raised:
        runtime_client(running_sandbox.url).invoke_endpoint(
            EndpointName=tumor_endpoint,
            ContentType="text/csv",
            Body=rows_to_csv(TUMOR_ROWS[:1]),
            TargetVariant="v9",
        )
    error = _error(raised)
    assert error["Error"]["Code"] == "ValidationError"
    assert "v9" in error["Error"]["Message"]


@pytest.mark.usefixtures("slow_creation")
def test_endpoint_still_creating_cannot_be_invoked(running_sandbox: SandboxServer) -> None:
    model = upload_tumor_model(running_sandbox.url, TRAFFIC_REGION)
    creating = create_endpoint(running_sandbox.url, TRAFFIC_REGION, model)
    with pytest.raises(ClientError) as raised:
        runtime_client(running_sandbox.url).invoke_endpoint(
            EndpointName=creating, ContentType="text/csv", Body=rows_to_csv(TUMOR_ROWS[:1])
        )
    error = _error(raised)
    assert error["Error"]["Code"] == "ValidationError"
    assert "Creating" in error["Error"]["Message"]


def test_body_over_six_megabytes_is_refused(
    running_sandbox: SandboxServer, tumor_endpoint: str
) -> None:
    with pytest.raises(ClientError) as raised:
        runtime_client(running_sandbox.url).invoke_endpoint(
            EndpointName=tumor_endpoint,
            ContentType="text/csv",
            Body=b"0" * (MAX_PAYLOAD_BYTES + 1),
        )
    error = _error(raised)
    assert error["Error"]["Code"] == "ValidationError"
    assert str(MAX_PAYLOAD_BYTES) in error["Error"]["Message"]


def test_a_row_the_model_cannot_read_is_a_model_error(
    running_sandbox: SandboxServer, tumor_endpoint: str
) -> None:
    body = rows_to_csv(TUMOR_ROWS[:2]) + "1.0,abc\n"
    with pytest.raises(ClientError) as raised:
        runtime_client(running_sandbox.url).invoke_endpoint(
            EndpointName=tumor_endpoint, ContentType="text/csv", Body=body
        )
    error = _error(raised)
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 424
    assert error["Error"]["Code"] == "ModelError"
    assert error["OriginalStatusCode"] == 400
    assert "Row 3" in error["OriginalMessage"]
    assert error["LogStreamArn"] == (
        f"arn:aws:logs:{TRAFFIC_REGION}:123456789012:log-group:/aws/sagemaker/Endpoints/"
        f"{tumor_endpoint}"
    )
    assert error["Error"]["Message"].startswith("Received client error (400) from primary")


def test_unsupported_content_type_is_a_model_error_415(
    running_sandbox: SandboxServer, tumor_endpoint: str
) -> None:
    with pytest.raises(ClientError) as raised:
        runtime_client(running_sandbox.url).invoke_endpoint(
            EndpointName=tumor_endpoint, ContentType="image/png", Body=b"\x89PNG"
        )
    error = _error(raised)
    assert (error["Error"]["Code"], error["OriginalStatusCode"]) == ("ModelError", 415)


def test_a_target_model_for_a_single_model_endpoint_is_refused(
    running_sandbox: SandboxServer, tumor_endpoint: str
) -> None:
    with pytest.raises(ClientError) as raised:
        runtime_client(running_sandbox.url).invoke_endpoint(
            EndpointName=tumor_endpoint,
            ContentType="text/csv",
            Body=rows_to_csv(TUMOR_ROWS[:1]),
            TargetModel="model-a.tar.gz",
        )
    error = _error(raised)
    assert error["Error"]["Code"] == "ValidationError"
    assert "not a multi-model endpoint" in error["Error"]["Message"]
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
