"""Container logs: the lines an endpoint's containers write to CloudWatch Logs, read back
through the normal Logs API (FilterLogEvents, DescribeLogStreams), and FilterLogEvents as
AWS answers it.

Every endpoint here is the test's own, in a region nothing else in this suite uses.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox.logs_api import FilterPattern, parse_filter_pattern
from sandbox.models import holdout_rows, rows_to_csv
from sandbox.server import SandboxServer
from sandbox.testing import (
    aws_client,
    control,
    create_endpoint,
    live_endpoint,
    replay_traffic,
    wait_for_status,
)
from tests.world import runtime_client, upload_tumor_model

REGION = "eu-central-1"
ROW = rows_to_csv(holdout_rows("tumor")[:1])


@pytest.fixture(scope="module")
def url(running_sandbox: SandboxServer) -> str:
    return running_sandbox.url


@pytest.fixture(scope="module")
def model(url: str) -> str:
    return upload_tumor_model(url, REGION)


@pytest.fixture(scope="module")
def logs(url: str) -> Any:
    return aws_client(url, "logs", REGION)


@pytest.fixture
def endpoint(url: str, model: str) -> Iterator[str]:
    """A fresh endpoint, v0 and v1 at 1/1; its faults are cleared afterwards."""
    name = live_endpoint(url, model, weights=(1.0, 1.0), region=REGION)
    yield name
    control(url, f"faults?endpoint={name}&region={REGION}", method="DELETE")


def group(endpoint: str) -> str:
    return f"/aws/sagemaker/Endpoints/{endpoint}"


def _invoke(url: str, endpoint: str, count: int, variant: str, body: str = ROW) -> list[Any]:
    """Send ``count`` requests to one variant; each one's answer or ClientError."""
    runtime = runtime_client(url, REGION)
    outcomes: list[Any] = []
    for _ in range(count):
        try:
            outcomes.append(
                runtime.invoke_endpoint(
                    EndpointName=endpoint, ContentType="text/csv", Body=body, TargetVariant=variant
                )
            )
        except ClientError as error:
            outcomes.append(error)
    return outcomes


def _events(logs: Any, endpoint: str, **query: Any) -> list[dict[str, Any]]:
    """Every event FilterLogEvents finds, following nextToken."""
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"logGroupName": group(endpoint), **query}
    while True:
        page = logs.filter_log_events(**kwargs)
        events.extend(page["events"])
        if not page.get("nextToken"):
            return events
        kwargs["nextToken"] = page["nextToken"]


def _fault(url: str, endpoint: str, variant: str, **effects: Any) -> None:
    body = {"endpoint": endpoint, "variant": variant, "region": REGION, **effects}
    status, answer = control(url, "faults", body=body)
    assert status == 200, answer


def test_instances_write_start_up_lines_when_they_come_in_service(
    url: str, model: str, logs: Any
) -> None:
    name = create_endpoint(url, REGION, model, counts=(1, 2))
    described = wait_for_status(url, REGION, name, "InService")
    in_service_ms = described["LastModifiedTime"].timestamp() * 1000

    streams = logs.describe_log_streams(logGroupName=group(name))["logStreams"]
    names = sorted(s["logStreamName"] for s in streams)
    assert [n.split("/")[0] for n in names] == ["v0", "v1", "v1"]
    assert all(n.split("/")[1].startswith("i-0") and len(n.split("/")[1]) == 19 for n in names)
    for stream in names:
        lines = _events(logs, name, logStreamNames=[stream])
        messages = [e["message"] for e in lines]
        assert messages[0] == "Starting the inference server with 2 workers."
        assert any(f"Model {model} loaded from /opt/ml/model" in m for m in messages)
        assert '"GET /ping HTTP/1.1" 200' in messages[-1]
        # Written while the instance was starting, ready by the time it served.
        assert all(e["timestamp"] <= in_service_ms + 1 for e in lines)


def test_a_crashing_variant_logs_a_traceback_per_failure_where_the_model_error_points(
    url: str, endpoint: str, logs: Any
) -> None:
    _fault(url, endpoint, "v1", error_rate=1.0, error_kind="model")
    errors = _invoke(url, endpoint, 4, "v1")

    account = aws_client(url, "sts", REGION).get_caller_identity()["Account"]
    for error in errors:
        assert isinstance(error, ClientError)
        assert error.response["Error"]["Code"] == "ModelError"
        message = error.response["Error"]["Message"]
        assert message.startswith('Received server error (500) from primary with message "')
        assert (
            f"See https://{REGION}.console.aws.amazon.com/cloudwatch/home?region={REGION}"
            f"#logEventViewer:group={group(endpoint)} in account {account} for more information."
        ) in message
        assert error.response["LogStreamArn"] == (
            f"arn:aws:logs:{REGION}:{account}:log-group:{group(endpoint)}"
        )

    crashes = _events(logs, endpoint, filterPattern='"Traceback (most recent call last)"')
    assert len(crashes) == 4
    assert {e["logStreamName"].split("/")[0] for e in crashes} == {"v1"}
    assert all(e["message"].startswith("Exception on /invocations [POST]") for e in crashes)
    assert all("RuntimeError: the model worker crashed" in e["message"] for e in crashes)


def test_platform_faults_log_the_internal_failure_and_throttling_logs_nothing(
    url: str, endpoint: str, logs: Any
) -> None:
    _fault(url, endpoint, "v0", error_rate=1.0, error_kind="5xx")
    failed = _invoke(url, endpoint, 3, "v0")
    assert {e.response["Error"]["Code"] for e in failed} == {"InternalFailure"}
    internal = _events(logs, endpoint, filterPattern='"Internal failure"')
    assert len(internal) == 3 and all(e["logStreamName"].startswith("v0/") for e in internal)

    _fault(url, endpoint, "v1", throttle_rate=1.0)
    before = len(_events(logs, endpoint, logStreamNamePrefix="v1/"))
    throttled = _invoke(url, endpoint, 3, "v1")
    assert {e.response["Error"]["Code"] for e in throttled} == {"ThrottlingException"}
    assert len(_events(logs, endpoint, logStreamNamePrefix="v1/")) == before


def test_a_body_the_container_refuses_is_logged_with_its_reason(
    url: str, endpoint: str, logs: Any
) -> None:
    [error] = _invoke(url, endpoint, 1, "v0", body="1,2,3")
    assert error.response["Error"]["Code"] == "ModelError"
    original = error.response["OriginalMessage"]
    [line] = _events(logs, endpoint, filterPattern='"[ERROR] POST /invocations"')
    assert line["message"] == (
        f"[ERROR] POST /invocations answered {error.response['OriginalStatusCode']}: {original}"
    )


def test_successful_invocations_are_sampled_as_access_lines(
    url: str, endpoint: str, logs: Any
) -> None:
    served = _invoke(url, endpoint, 5, "v0")
    assert all(isinstance(answer, dict) for answer in served)
    access = _events(logs, endpoint, filterPattern='"POST /invocations HTTP/1.1"')
    # The fleet's first request, not one line per request.
    assert len(access) == 1 and access[0]["logStreamName"].startswith("v0/")


def test_a_bad_deploy_logs_its_crashes_on_the_new_fleet(url: str, model: str, logs: Any) -> None:
    name = live_endpoint(url, model, weights=(1.0, 1.0), region=REGION)
    old_streams = {s["logStreamName"] for s in _streams(logs, name)}
    status, drill = control(
        url,
        "scenario/bad-deploy",
        body={"endpoint": name, "region": REGION, "variant": "v1", "error_rate": 1.0},
    )
    assert status == 200 and drill["status"] == "InService", drill
    errors = _invoke(url, name, 3, "v1")
    assert all(isinstance(e, ClientError) for e in errors)

    new_streams = {s["logStreamName"] for s in _streams(logs, name)} - old_streams
    assert sorted(s.split("/")[0] for s in new_streams) == ["v0", "v1"]  # a new fleet
    crashes = _events(logs, name, filterPattern=f'RuntimeError "{drill["model"]}"')
    assert len(crashes) == 3
    assert {e["logStreamName"] for e in crashes} <= new_streams
    started = _events(logs, name, logStreamNames=sorted(new_streams))
    assert any(f"Model {drill['model']} loaded" in e["message"] for e in started)


def _streams(logs: Any, endpoint: str) -> list[dict[str, Any]]:
    return logs.describe_log_streams(logGroupName=group(endpoint))["logStreams"]


def test_a_scale_out_starts_new_instances_that_write_their_own_start_up_lines(
    url: str, endpoint: str, logs: Any
) -> None:
    before = {s["logStreamName"] for s in _streams(logs, endpoint)}
    aws_client(url, "sagemaker", REGION).update_endpoint_weights_and_capacities(
        EndpointName=endpoint,
        DesiredWeightsAndCapacities=[
            {"VariantName": "v0", "DesiredWeight": 1.0, "DesiredInstanceCount": 3}
        ],
    )
    wait_for_status(url, REGION, endpoint, "InService")
    after = {s["logStreamName"] for s in _streams(logs, endpoint)}
    added = after - before
    assert len(added) == 2 and all(s.startswith("v0/") for s in added)
    for stream in added:
        messages = [e["message"] for e in _events(logs, endpoint, logStreamNames=[stream])]
        assert messages[0].startswith("Starting the inference server")


def test_replayed_traffic_writes_no_lines(url: str, endpoint: str, logs: Any) -> None:
    _fault(url, endpoint, "v1", error_rate=1.0, error_kind="model")
    answer = replay_traffic(url, endpoint=endpoint, requests=200, at=time.time(), region=REGION)
    assert answer["variants"]["v1"]["errors_5xx"] > 0
    assert _events(logs, endpoint, filterPattern="RuntimeError") == []


def test_filter_log_events_interleaves_streams_oldest_first_and_pages(
    url: str, endpoint: str, logs: Any
) -> None:
    _fault(url, endpoint, "v0", error_rate=1.0, error_kind="model")
    _fault(url, endpoint, "v1", error_rate=1.0, error_kind="model")
    for _ in range(3):
        _invoke(url, endpoint, 1, "v0")
        _invoke(url, endpoint, 1, "v1")
    everything = _events(logs, endpoint)
    stamps = [(e["timestamp"], int(e["eventId"])) for e in everything]
    assert stamps == sorted(stamps)  # one time order across both streams

    paged = _events(logs, endpoint, limit=3)
    assert [e["eventId"] for e in paged] == [e["eventId"] for e in everything]
    crashes = _events(logs, endpoint, filterPattern="RuntimeError", limit=2)
    streams = [e["logStreamName"].split("/")[0] for e in crashes]
    assert streams == ["v0", "v1"] * 3

    start = everything[-1]["timestamp"]
    newest = _events(logs, endpoint, startTime=start, endTime=start)
    assert newest and all(e["timestamp"] == start for e in newest)
    only_v1 = _events(logs, endpoint, logStreamNamePrefix="v1/", filterPattern="-Starting")
    assert only_v1 and all(e["logStreamName"].startswith("v1/") for e in only_v1)
    assert not any(e["message"].startswith("Starting") for e in only_v1)


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"logGroupName": "/aws/sagemaker/Endpoints/nobody-here"}, "ResourceNotFoundException"),
        ({"logStreamNames": ["v0/i-1"], "logStreamNamePrefix": "v0/"}, "InvalidParameterException"),
        ({"filterPattern": "%ERROR|WARN%"}, "InvalidParameterException"),
        ({"filterPattern": '"unclosed'}, "InvalidParameterException"),
        ({"nextToken": "not-a-token"}, "InvalidParameterException"),
        ({"startTime": 2000, "endTime": 1000}, "InvalidParameterException"),
    ],
)
def test_filter_log_events_refuses_what_aws_refuses(
    url: str, endpoint: str, logs: Any, query: dict[str, Any], code: str
) -> None:
    with pytest.raises(ClientError) as raised:
        logs.filter_log_events(**{"logGroupName": group(endpoint), **query})
    assert raised.value.response["Error"]["Code"] == code


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("", FilterPattern()),
        ("ERROR", FilterPattern(required=("ERROR",))),
        ('ERROR "model worker" -ping', FilterPattern(("ERROR", "model worker"), (), ("ping",))),
        ("?WARN ?ERROR", FilterPattern(any_of=("WARN", "ERROR"))),
        ('"a \\ b" "é 🙂"', FilterPattern(required=("a \\ b", "é 🙂"))),
    ],
)
def test_filter_patterns_are_read_as_terms_and_phrases(
    pattern: str, expected: FilterPattern
) -> None:
    assert parse_filter_pattern(pattern) == expected


def matches(pattern: str, message: str) -> bool:
    return parse_filter_pattern(pattern).matches(message)


def test_a_term_pattern_matches_as_cloudwatch_does() -> None:
    assert matches('RuntimeError "worker crashed"', "RuntimeError: the worker crashed")
    assert not matches("runtimeerror", "RuntimeError")  # case-sensitive
    assert matches("?WARN ?ERROR", "[ERROR] x") and not matches("?WARN ?ERROR", "[INFO] x")
    assert not matches("-ping", "GET /ping")
