"""Replayed traffic: minutes of an endpoint's life rehearsed without waiting for them."""

from __future__ import annotations

import json
import math
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from sandbox.endpoint_metrics import EndpointMetrics, Outcome
from sandbox.endpoints import EndpointStore, VariantState
from sandbox.metric_store import MetricStore, SeriesKey
from sandbox.replay import MAX_REQUESTS, ReplayError, parse_replay
from sandbox.server import SandboxServer
from sandbox.testing import (
    aws_client,
    control,
    create_endpoint,
    live_endpoint,
    replay_traffic,
    unique,
    wait_for_status,
)
from tests.world import upload_tumor_model

# Regions no other test uses, so the endpoints here are the only ones of their names.
REGION = "ap-northeast-3"
OTHER_REGION = "ap-northeast-2"
DAY = 86400


@pytest.fixture(scope="module")
def model(running_sandbox: SandboxServer) -> str:
    return upload_tumor_model(running_sandbox.url, REGION)


@pytest.fixture
def endpoint(running_sandbox: SandboxServer, model: str) -> Iterator[str]:
    """A fresh endpoint with two equally weighted variants; its faults are cleared after."""
    name = live_endpoint(running_sandbox.url, model, weights=(1.0, 1.0), region=REGION)
    yield name
    control(running_sandbox.url, f"faults?endpoint={name}", method="DELETE")


def minutes_ago(minutes: int) -> float:
    return time.time() - 60 * minutes


def minute_stat(
    url: str,
    endpoint: str,
    variant: str,
    metric: str,
    stat: str,
    minute: int,
    *,
    region: str = REGION,
) -> list[float]:
    """One statistic of a variant's metric over exactly one minute (empty if no data)."""
    answer = aws_client(url, "cloudwatch", region).get_metric_data(
        MetricDataQueries=[
            {
                "Id": "m",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/SageMaker",
                        "MetricName": metric,
                        "Dimensions": [
                            {"Name": "EndpointName", "Value": endpoint},
                            {"Name": "VariantName", "Value": variant},
                        ],
                    },
                    "Period": 60,
                    "Stat": stat,
                },
            }
        ],
        StartTime=datetime.fromtimestamp(minute, UTC),
        EndTime=datetime.fromtimestamp(minute + 60, UTC),
    )
    return list(answer["MetricDataResults"][0]["Values"])


def within_binomial(observed: int, trials: int, probability: float) -> bool:
    """Whether ``observed`` successes are within five standard deviations of the mean."""
    spread = math.sqrt(trials * probability * (1 - probability))
    return abs(observed - trials * probability) <= 5 * spread + 1


def set_fault(url: str, **fault: Any) -> None:
    status, answer = control(url, "faults", body=fault)
    assert status == 200, answer


# --- What a replayed minute looks like in CloudWatch -------------------------------------------


def test_a_burst_splits_by_the_live_weights_into_the_chosen_minute(
    running_sandbox: SandboxServer, model: str
) -> None:
    url = running_sandbox.url
    name = live_endpoint(url, model, weights=(9.0, 1.0), region=REGION)
    at = minutes_ago(10)

    answer = replay_traffic(url, endpoint=name, requests=2000, at=at)

    minute = int(at // 60) * 60
    assert answer["endpoint"] == name
    assert answer["region"] == REGION
    assert answer["minute"] == minute
    counts = {v: answer["variants"][v]["invocations"] for v in ("v0", "v1")}
    assert counts["v0"] + counts["v1"] == 2000
    assert within_binomial(counts["v0"], 2000, 0.9)
    for variant, count in counts.items():
        assert minute_stat(url, name, variant, "Invocations", "Sum", minute) == [count]
        assert answer["variants"][variant]["errors_5xx"] == 0
        assert answer["variants"][variant]["errors_4xx"] == 0
    # Only that minute: the next one (and the current one) saw nothing.
    assert minute_stat(url, name, "v0", "Invocations", "Sum", minute + 60) == []


def test_replays_into_the_same_minute_add_up(running_sandbox: SandboxServer, endpoint: str) -> None:
    url = running_sandbox.url
    at = minutes_ago(3)
    first = replay_traffic(url, endpoint=endpoint, requests=300, at=at)
    second = replay_traffic(url, endpoint=endpoint, requests=200, at=at + 0.5, region=REGION)
    total = sum(
        first["variants"][v]["invocations"] + second["variants"][v]["invocations"]
        for v in ("v0", "v1")
    )
    assert total == 500
    sums = [
        sum(minute_stat(url, endpoint, v, "Invocations", "Sum", first["minute"]))
        for v in ("v0", "v1")
    ]
    assert sum(sums) == 500


def test_a_weight_zero_variant_gets_nothing(running_sandbox: SandboxServer, model: str) -> None:
    url = running_sandbox.url
    name = live_endpoint(url, model, weights=(1.0, 0.0), region=REGION)
    answer = replay_traffic(url, endpoint=name, requests=500, at=minutes_ago(1))
    assert answer["variants"]["v0"]["invocations"] == 500
    assert answer["variants"]["v1"] == {"invocations": 0, "errors_5xx": 0, "errors_4xx": 0}


def test_a_5xx_fault_fails_its_share_of_one_variant_only(
    running_sandbox: SandboxServer, endpoint: str
) -> None:
    url = running_sandbox.url
    set_fault(url, endpoint=endpoint, variant="v1", error_rate=0.5)
    answer = replay_traffic(url, endpoint=endpoint, requests=2000, at=minutes_ago(5))

    minute = answer["minute"]
    faulty, healthy = answer["variants"]["v1"], answer["variants"]["v0"]
    assert within_binomial(faulty["errors_5xx"], faulty["invocations"], 0.5)
    assert healthy["errors_5xx"] == 0
    errors = minute_stat(url, endpoint, "v1", "Invocation5XXErrors", "Sum", minute)
    assert errors == [faulty["errors_5xx"]]
    assert minute_stat(url, endpoint, "v0", "Invocation5XXErrors", "Sum", minute) == [0.0]
    # A platform failure is not the model's: no model errors.
    assert minute_stat(url, endpoint, "v1", "InvocationModelErrors", "Sum", minute) == [0.0]


def test_a_model_fault_counts_as_5xx_model_errors(
    running_sandbox: SandboxServer, endpoint: str
) -> None:
    url = running_sandbox.url
    set_fault(url, endpoint=endpoint, variant="v0", error_rate=1.0, error_kind="model")
    answer = replay_traffic(url, endpoint=endpoint, requests=400, at=minutes_ago(2))
    served = answer["variants"]["v0"]["invocations"]
    assert answer["variants"]["v0"]["errors_5xx"] == served > 0
    minute = answer["minute"]
    assert minute_stat(url, endpoint, "v0", "InvocationModelErrors", "Average", minute) == [1.0]
    assert minute_stat(url, endpoint, "v1", "InvocationModelErrors", "Average", minute) == [0.0]


def test_a_throttle_answers_4xx(running_sandbox: SandboxServer, endpoint: str) -> None:
    url = running_sandbox.url
    set_fault(url, endpoint=endpoint, throttle_rate=1.0)
    answer = replay_traffic(url, endpoint=endpoint, requests=200, at=minutes_ago(4))
    for variant in ("v0", "v1"):
        tally = answer["variants"][variant]
        assert tally["errors_4xx"] == tally["invocations"]
        assert tally["errors_5xx"] == 0
    stat = minute_stat(url, endpoint, "v0", "Invocation4XXErrors", "Average", answer["minute"])
    assert stat == [1.0]


def test_a_latency_fault_is_recorded_not_slept(
    running_sandbox: SandboxServer, endpoint: str
) -> None:
    url = running_sandbox.url
    set_fault(url, endpoint=endpoint, variant="v0", latency_ms=300)
    started = time.monotonic()
    answer = replay_traffic(url, endpoint=endpoint, requests=2000, at=minutes_ago(6))
    # A thousand requests sleeping 300 ms each would take five minutes.
    assert time.monotonic() - started < 5.0

    minute = answer["minute"]
    (slow_median,) = minute_stat(url, endpoint, "v0", "ModelLatency", "p50", minute)
    (fast_tail,) = minute_stat(url, endpoint, "v1", "ModelLatency", "p99", minute)
    assert slow_median >= 300_000
    assert fast_tail < 30_000
    (overhead,) = minute_stat(url, endpoint, "v1", "OverheadLatency", "p50", minute)
    assert 100 <= overhead <= 10_000


def test_a_variant_deployed_to_fail_fails_replayed_requests_too(
    running_sandbox: SandboxServer, endpoint: str
) -> None:
    url = running_sandbox.url
    status, deployed = control(
        url,
        "scenario/bad-deploy",
        body={"endpoint": endpoint, "variant": "v1", "error_rate": 1.0, "region": REGION},
    )
    assert status == 200, deployed
    assert deployed["status"] == "InService"
    answer = replay_traffic(url, endpoint=endpoint, requests=300, at=minutes_ago(7))
    broken, healthy = answer["variants"]["v1"], answer["variants"]["v0"]
    assert broken["errors_5xx"] == broken["invocations"] > 0
    assert healthy["errors_5xx"] == 0
    minute = answer["minute"]
    assert minute_stat(url, endpoint, "v1", "InvocationModelErrors", "Average", minute) == [1.0]


# --- Refusals ----------------------------------------------------------------------------------


def test_an_endpoint_still_creating_is_refused_in_aws_words_and_nothing_is_recorded(
    running_sandbox: SandboxServer, model: str, slow_creation: float
) -> None:
    url = running_sandbox.url
    name = create_endpoint(url, REGION, model)
    at = minutes_ago(8)
    status, answer = control(
        url, "replay-traffic", body={"endpoint": name, "requests": 100, "at": at}
    )
    assert status == 400
    assert answer["code"] == "ValidationError"
    assert "is not in service: its status is Creating" in answer["message"]
    control(url, "flush-metrics")
    minute = int(at // 60) * 60
    for variant in ("v0", "v1"):
        assert minute_stat(url, name, variant, "Invocations", "Sum", minute) == []


def test_an_unknown_endpoint_is_refused_in_aws_words(running_sandbox: SandboxServer) -> None:
    name = unique("missing")
    status, answer = control(
        running_sandbox.url,
        "replay-traffic",
        body={"endpoint": name, "requests": 1, "at": time.time()},
    )
    assert status == 400
    assert answer["message"] == f"Endpoint {name} of account 123456789012 not found."
    with pytest.raises(ValueError, match="not found"):
        replay_traffic(running_sandbox.url, endpoint=name, requests=1, at=time.time())


def test_an_endpoint_in_another_region_is_not_found_there(
    running_sandbox: SandboxServer, endpoint: str
) -> None:
    with pytest.raises(ValueError, match=f"Endpoint {endpoint} of account .* not found"):
        replay_traffic(
            running_sandbox.url, endpoint=endpoint, requests=1, at=time.time(), region=OTHER_REGION
        )


def test_a_name_in_two_regions_needs_the_region(running_sandbox: SandboxServer) -> None:
    url = running_sandbox.url
    name = unique("twin")
    for region in (REGION, OTHER_REGION):
        model = upload_tumor_model(url, region)
        sagemaker = aws_client(url, "sagemaker", region)
        sagemaker.create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[
                {
                    "VariantName": "only",
                    "ModelName": model,
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": 1,
                }
            ],
        )
        sagemaker.create_endpoint(EndpointName=name, EndpointConfigName=name)
    with pytest.raises(ValueError, match="name the region"):
        replay_traffic(url, endpoint=name, requests=1, at=time.time())
    wait_for_status(url, OTHER_REGION, name, "InService")
    answer = replay_traffic(url, endpoint=name, requests=10, at=time.time(), region=OTHER_REGION)
    assert answer["region"] == OTHER_REGION
    assert answer["variants"] == {"only": {"invocations": 10, "errors_5xx": 0, "errors_4xx": 0}}


_DROP = object()


def _now_body(**changes: Any) -> dict[str, Any]:
    """A replay of now with some fields changed (or dropped, given ``_DROP``)."""
    body: dict[str, Any] = {"endpoint": "anything", "requests": 10, "at": time.time()}
    body.update(changes)
    return {key: value for key, value in body.items() if value is not _DROP}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"endpoint": _DROP}, "endpoint"),
        ({"endpoint": ""}, "endpoint"),
        ({"endpoint": 7}, "endpoint"),
        ({"requests": _DROP}, "requests"),
        ({"requests": 0}, "requests"),
        ({"requests": MAX_REQUESTS + 1}, "requests"),
        ({"requests": -3}, "requests"),
        ({"requests": 2.5}, "requests"),
        ({"requests": "10"}, "requests"),
        ({"requests": True}, "requests"),
        ({"at": _DROP}, "at"),
        ({"at": "2024-01-01T00:00:00Z"}, "at"),
        ({"at": True}, "at"),
        ({"at": None}, "at"),
        ({"at": [1]}, "at"),
        ({"at": time.time() - 15 * DAY}, "at"),
        ({"at": time.time() + 3600}, "at"),
        ({"region": ""}, "region"),
        ({"region": 5}, "region"),
        ({"account": []}, "account"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_bodies_are_refused_naming_the_field(
    running_sandbox: SandboxServer, changes: dict[str, Any], field: str
) -> None:
    status, answer = control(running_sandbox.url, "replay-traffic", body=_now_body(**changes))
    assert status == 400
    assert field in answer["message"]


@pytest.mark.parametrize("token", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
def test_non_finite_times_are_refused(running_sandbox: SandboxServer, token: bytes) -> None:
    body = b'{"endpoint": "e", "requests": 1, "at": ' + token + b"}"
    status, answer = _post(running_sandbox.url, body)
    assert status == 400
    assert answer["message"].startswith("at is required")


@pytest.mark.parametrize("body", [b"", b"null", b"[]", b"{", b"\xff\xfe", b'"text"'])
def test_bodies_that_are_not_objects_are_refused(
    running_sandbox: SandboxServer, body: bytes
) -> None:
    status, answer = _post(running_sandbox.url, body)
    assert status == 400
    assert answer["message"]


def _post(url: str, body: bytes) -> tuple[int, Any]:
    request = urllib.request.Request(f"{url}/_sandbox/replay-traffic", data=body, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_edges_of_the_window_are_accepted() -> None:
    now = 1_700_000_000.0
    oldest = parse_replay({"endpoint": "e", "requests": 1, "at": now - 14 * DAY}, now=now)
    newest = parse_replay({"endpoint": "e", "requests": MAX_REQUESTS, "at": int(now) + 60}, now=now)
    assert oldest.minute == int((now - 14 * DAY) // 60) * 60
    assert newest.requests == MAX_REQUESTS and newest.at == now + 60
    with pytest.raises(ReplayError, match="14 days"):
        parse_replay({"endpoint": "e", "requests": 1, "at": now - 14 * DAY - 1}, now=now)


# --- No body makes it fail -----------------------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


@st.composite
def _bodies(draw: st.DrawFn, endpoint: str) -> Any:
    """Anything JSON: a valid replay, one with any field wrong, a partial one, or no object."""
    near_now = st.floats(min_value=-20 * DAY, max_value=300).map(lambda d: time.time() + d)
    valid_fields = {
        "endpoint": st.just(endpoint),
        "requests": st.integers(min_value=1, max_value=200),
        "at": st.floats(min_value=-14 * DAY + 60, max_value=30).map(lambda d: time.time() + d),
    }
    valid_options = {"region": st.just(REGION), "account": st.just("123456789012")}
    replay_fields = {
        "endpoint": st.just(endpoint) | _JSON,
        "requests": st.integers(min_value=-5, max_value=200) | _JSON,
        "at": near_now | _JSON,
    }
    other_fields = {
        "region": st.just(REGION) | _JSON,
        "account": st.just("123456789012") | _JSON,
        "extra": _JSON,
    }
    valid = st.fixed_dictionaries(valid_fields, optional=valid_options)
    complete = st.fixed_dictionaries(replay_fields, optional=other_fields)
    partial = st.fixed_dictionaries({}, optional={**replay_fields, **other_fields})
    return draw(valid | complete | partial | _JSON)


@pytest.fixture(scope="module")
def property_endpoint(running_sandbox: SandboxServer, model: str) -> str:
    return live_endpoint(running_sandbox.url, model, weights=(3.0, 1.0), region=REGION)


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_no_body_makes_the_control_fail(
    running_sandbox: SandboxServer, property_endpoint: str, data: st.DataObject
) -> None:
    body = data.draw(_bodies(property_endpoint))
    status, answer = _post(running_sandbox.url, json.dumps(body).encode())
    event(f"status {status}")
    assert status in (200, 400), answer
    if status == 200:
        assert sum(v["invocations"] for v in answer["variants"].values()) == body["requests"]


# --- The minute a request is counted in ----------------------------------------------------------


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_record_counts_a_request_in_the_minute_of_at_or_of_the_clock() -> None:
    clock = FakeClock(1_700_000_030.0)
    store = MetricStore()
    metrics = EndpointMetrics(store, EndpointStore(), clock=clock)
    variant = VariantState("v0", "m", "ml.m5.large", 1.0, 1, None, current_instance_count=1)
    outcome = Outcome("ok", False, 100, 900)
    metrics.record("111122223333", REGION, "ep", variant, outcome, at=clock.now - 3600)
    metrics.record("111122223333", REGION, "ep", variant, outcome)

    # The past minute is complete: an ordinary flush publishes it, not the current one.
    metrics.flush()
    key = SeriesKey(
        "111122223333",
        REGION,
        "AWS/SageMaker",
        "Invocations",
        (("EndpointName", "ep"), ("VariantName", "v0")),
    )
    past = int((clock.now - 3600) // 60) * 60
    current = int(clock.now // 60) * 60
    assert _counts(store, key) == [(past, 1.0)]
    metrics.flush(include_current=True)
    assert _counts(store, key) == [(past, 1.0), (current, 1.0)]


def _counts(store: MetricStore, key: SeriesKey) -> list[tuple[int, float]]:
    return [
        (aggregate.start, aggregate.bucket.count)
        for aggregate in store.aggregate(key, 0, 2_000_000_000, 60)
    ]
