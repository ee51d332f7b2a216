"""InvokeEndpointWithResponseStream as boto3 reads it: the same routing and model as
InvokeEndpoint, the answer as AWS's event stream of PayloadParts."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from sandbox.eventstream import message
from sandbox.models import holdout_rows, rows_to_csv
from sandbox.runtime import STREAM_PART_BYTES, stream_parts
from sandbox.server import SandboxServer
from sandbox.testing import live_endpoint
from tests.world import TRAFFIC_REGION, runtime_client, upload_tumor_model

ROWS = holdout_rows("tumor")[:12]


@pytest.fixture(scope="module")
def endpoint(running_sandbox: SandboxServer) -> str:
    return live_endpoint(
        running_sandbox.url, upload_tumor_model(running_sandbox.url, TRAFFIC_REGION)
    )


def _parts(answer: dict) -> list[bytes]:
    return [event["PayloadPart"]["Bytes"] for event in answer["Body"] if "PayloadPart" in event]


def test_a_csv_answer_streams_one_part_per_prediction(
    running_sandbox: SandboxServer, endpoint: str
) -> None:
    runtime = runtime_client(running_sandbox.url)
    answer = runtime.invoke_endpoint_with_response_stream(
        EndpointName=endpoint, ContentType="text/csv", Body=rows_to_csv(ROWS), TargetVariant="v1"
    )
    assert answer["ContentType"] == "text/csv; charset=utf-8"
    assert answer["InvokedProductionVariant"] == "v1"
    parts = _parts(answer)
    assert len(parts) == len(ROWS) and all(p.endswith(b"\n") for p in parts)
    # The same model answers as InvokeEndpoint does.
    whole = runtime.invoke_endpoint(
        EndpointName=endpoint, ContentType="text/csv", Body=rows_to_csv(ROWS), TargetVariant="v1"
    )["Body"].read()
    assert b"".join(parts) == whole


def test_a_json_answer_streams_in_parts_that_join_to_it(
    running_sandbox: SandboxServer, endpoint: str
) -> None:
    body = json.dumps({"instances": [list(map(float, r)) for r in ROWS]})
    answer = runtime_client(running_sandbox.url).invoke_endpoint_with_response_stream(
        EndpointName=endpoint, ContentType="application/json", Body=body
    )
    parts = _parts(answer)
    assert len(json.loads(b"".join(parts))["predictions"]) == len(ROWS)
    assert all(len(p) <= STREAM_PART_BYTES for p in parts)


def test_errors_before_the_stream_are_the_runtimes_http_errors(
    running_sandbox: SandboxServer, endpoint: str
) -> None:
    runtime = runtime_client(running_sandbox.url)
    with pytest.raises(ClientError) as missing:
        runtime.invoke_endpoint_with_response_stream(
            EndpointName="no-such-endpoint", ContentType="text/csv", Body=b"1,2"
        )
    assert missing.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError) as rejected:
        runtime.invoke_endpoint_with_response_stream(
            EndpointName=endpoint, ContentType="text/csv", Body=b"not,numbers"
        )
    assert rejected.value.response["Error"]["Code"] == "ModelError"


def test_parts_and_frames():
    assert stream_parts(b"0.1\n0.2\n") == [b"0.1\n", b"0.2\n"]
    assert [len(p) for p in stream_parts(b"x" * 600)] == [256, 256, 88]
    from botocore.eventstream import EventStreamBuffer

    buffer = EventStreamBuffer()
    buffer.add_data(message({":event-type": "PayloadPart"}, b"hello"))
    (decoded,) = list(buffer)
    assert decoded.payload == b"hello" and decoded.headers[":event-type"] == "PayloadPart"
