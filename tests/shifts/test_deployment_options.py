"""Deployment options → DeploymentConfig: every SageMaker rule at its bounds, the exact configs,
the all-at-once fallbacks, and properties over generated input (hypothesis). No database.

The ranges below are written out again from SageMaker's API reference rather than imported,
so a wrong constant in the module cannot make its own test pass; and every config is also
checked by botocore's validator against the UpdateEndpoint request shape.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import pytest
from botocore.session import get_session
from botocore.validate import ParamValidator
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import Invalid
from shifts.deployment_notes import describe_plan
from shifts.deployment_options import (
    SIZE_TYPES,
    STRATEGIES,
    DeploymentOptions,
    DeploymentPlan,
    EndpointShape,
    plan_deployment,
)

FLEET_OF_10 = EndpointShape(new_fleet_instances=10, production_variants=1, serverless=False)


def _shape(**changes: Any) -> EndpointShape:
    fields = {"new_fleet_instances": 10, "production_variants": 1, "serverless": False}
    return EndpointShape(**{**fields, **changes})


def _plan(shape: EndpointShape = FLEET_OF_10, **options: Any) -> DeploymentPlan:
    return plan_deployment(options=DeploymentOptions(**options), shape=shape)


def _refused(shape: EndpointShape = FLEET_OF_10, **options: Any) -> Invalid:
    with pytest.raises(Invalid) as raised:
        _plan(shape, **options)
    return raised.value


# SageMaker's own limits, checked on whatever the module builds ---------------------------------


@functools.cache
def _update_endpoint_shape() -> Any:
    model = get_session().get_service_model("sagemaker")
    return model.operation_model("UpdateEndpoint").input_shape


ALARM_NAME_PATTERN = re.compile(r"(?!\s*$).+")  # SageMaker's pattern; "." stops at line breaks


def _within(value: Any, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high


def _size_ok(size: dict[str, Any], percents: tuple[int, int], fleet_share: int, fleet: int) -> bool:
    value = size["Value"]
    if size["Type"] == "CAPACITY_PERCENT":
        return _within(value, *percents)
    return _within(value, 1, fleet // 2) and value * 100 >= fleet * fleet_share


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def assert_sagemaker_accepts(config: dict[str, Any], fleet: int) -> None:
    request = {"EndpointName": "e", "EndpointConfigName": "c", "DeploymentConfig": config}
    report = ParamValidator().validate(request, _update_endpoint_shape())
    assert not report.has_errors(), report.generate_report()
    assert None not in _leaves(config)
    assert len({"BlueGreenUpdatePolicy", "RollingUpdatePolicy"} & set(config)) == 1
    if "BlueGreenUpdatePolicy" in config:
        policy = config["BlueGreenUpdatePolicy"]
        routing = policy["TrafficRoutingConfiguration"]
        assert _within(routing["WaitIntervalInSeconds"], 0, 3600)
        assert _within(policy["TerminationWaitInSeconds"], 0, 3600)
        if routing["Type"] == "CANARY":
            assert _size_ok(routing["CanarySize"], (1, 50), 0, fleet)
        elif routing["Type"] == "LINEAR":
            assert _size_ok(routing["LinearStepSize"], (10, 50), 10, fleet)
        else:
            assert set(routing) == {"Type", "WaitIntervalInSeconds"}
    else:
        policy = config["RollingUpdatePolicy"]
        assert _within(policy["WaitIntervalInSeconds"], 0, 3600)
        assert _size_ok(policy["MaximumBatchSize"], (5, 50), 5, fleet)
        if "RollbackMaximumBatchSize" in policy:
            assert policy["RollbackMaximumBatchSize"]["Type"] == "CAPACITY_PERCENT"
            assert _within(policy["RollbackMaximumBatchSize"]["Value"], 5, 100)
    if "MaximumExecutionTimeoutInSeconds" in policy:
        assert _within(policy["MaximumExecutionTimeoutInSeconds"], 600, 28800)
    if "AutoRollbackConfiguration" in config:
        names = [alarm["AlarmName"] for alarm in config["AutoRollbackConfiguration"]["Alarms"]]
        assert 1 <= len(names) <= 10 and len(set(names)) == len(names)
        for name in names:
            assert 1 <= len(name) <= 255 and ALARM_NAME_PATTERN.fullmatch(name)
            assert not re.search("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]", name)


# The exact configs -------------------------------------------------------------------------


def test_canary_config_is_exactly_what_update_endpoint_takes():
    plan = _plan(
        strategy="CANARY",
        size_value=10,
        wait_seconds=300,
        max_execution_timeout_seconds=1800,
        rollback_alarms=("x",),
    )
    assert plan.config == {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {
                "Type": "CANARY",
                "WaitIntervalInSeconds": 300,
                "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
            },
            "TerminationWaitInSeconds": 0,
            "MaximumExecutionTimeoutInSeconds": 1800,
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "x"}]},
    }
    assert plan.effective_strategy == "CANARY"
    assert describe_plan(plan) == "Canary 10 % for 5 min, then all; roll back on 1 alarm"


def test_linear_config_uses_linear_step_size_and_leaves_out_what_was_not_given():
    plan = _plan(
        strategy="LINEAR",
        size_type="INSTANCE_COUNT",
        size_value=2,
        wait_seconds=120,
        termination_wait_seconds=600,
    )
    assert plan.config == {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {
                "Type": "LINEAR",
                "WaitIntervalInSeconds": 120,
                "LinearStepSize": {"Type": "INSTANCE_COUNT", "Value": 2},
            },
            "TerminationWaitInSeconds": 600,
        }
    }
    # Each move of traffic but the last is baked; the last waits TerminationWaitInSeconds.
    assert plan.notes[0] == "Linear: 5 steps of 2 instances, each but the last baking 2 min."
    assert "Bake time 8 min in all, then 10 min before the old fleet is terminated." in plan.notes
    assert describe_plan(plan) == "Linear steps of 2 instances every 2 min; no rollback alarms"


def test_rolling_config_with_every_option():
    plan = _plan(
        strategy="ROLLING",
        size_value=25,
        wait_seconds=60,
        max_execution_timeout_seconds=3600,
        rollback_alarms=("latency", "errors"),
        rollback_batch_percent=50,
    )
    assert plan.config == {
        "RollingUpdatePolicy": {
            "MaximumBatchSize": {"Type": "CAPACITY_PERCENT", "Value": 25},
            "WaitIntervalInSeconds": 60,
            "MaximumExecutionTimeoutInSeconds": 3600,
            "RollbackMaximumBatchSize": {"Type": "CAPACITY_PERCENT", "Value": 50},
        },
        "AutoRollbackConfiguration": {
            "Alarms": [{"AlarmName": "latency"}, {"AlarmName": "errors"}]
        },
    }
    assert "A rollback brings the old fleet back in batches of 50 %." in plan.notes
    assert (
        describe_plan(plan) == "Rolling in batches of 25 %, 1 min bake each; roll back on 2 alarms"
    )


def test_rolling_config_without_the_optional_keys():
    plan = _plan(strategy="ROLLING", size_type="INSTANCE_COUNT", size_value=2)
    assert plan.config == {
        "RollingUpdatePolicy": {
            "MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 2},
            "WaitIntervalInSeconds": 0,
        }
    }
    assert "A rollback brings the old fleet back all at once." in plan.notes


def test_all_at_once_with_nothing_else_sends_no_config():
    plan = _plan(strategy="ALL_AT_ONCE", size_value=99)  # the size is ignored
    assert plan.config is None
    assert plan.effective_strategy == "ALL_AT_ONCE"
    assert "SageMaker's default" in plan.notes[0]
    assert describe_plan(plan) == "All at once, no guardrails"


def test_all_at_once_with_a_bake_and_an_alarm_sends_a_blue_green_policy():
    plan = _plan(strategy="ALL_AT_ONCE", wait_seconds=600, rollback_alarms=("errors",))
    assert plan.config == {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 600},
            "TerminationWaitInSeconds": 0,
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "errors"}]},
    }
    assert "Rolls back if the alarm errors goes off." in plan.notes
    assert describe_plan(plan) == "All at once, 10 min bake; roll back on 1 alarm"


@pytest.mark.parametrize(
    "options",
    [
        {"strategy": "CANARY", "size_value": 10, "wait_seconds": 300},
        {"strategy": "LINEAR", "size_value": 20, "rollback_alarms": ("a", "b")},
        {"strategy": "ROLLING", "size_type": "INSTANCE_COUNT", "size_value": 1},
        {"strategy": "ALL_AT_ONCE", "termination_wait_seconds": 60},
    ],
)
def test_every_strategy_builds_a_request_botocore_accepts(options):
    assert_sagemaker_accepts(_plan(**options).config or {}, fleet=10)


# Each rule at its bounds ---------------------------------------------------------------------

CANARY = {"strategy": "CANARY", "size_value": 10}
ROLLING = {"strategy": "ROLLING", "size_value": 10}
BOUNDS = [
    # (options, field, API name in the message, allowed text, accepted, refused)
    (CANARY, "wait_seconds", "WaitIntervalInSeconds", "0–3600", (0, 3600), (-1, 3601)),
    (ROLLING, "wait_seconds", "WaitIntervalInSeconds", "0–3600", (0, 3600), (-1, 3601)),
    (
        CANARY,
        "termination_wait_seconds",
        "TerminationWaitInSeconds",
        "0–3600",
        (0, 3600),
        (-1, 3601),
    ),
    (
        CANARY,
        "max_execution_timeout_seconds",
        "MaximumExecutionTimeoutInSeconds",
        "600–28800",
        (600, 28800),
        (599, 28801, 0),
    ),
    (
        ROLLING,
        "max_execution_timeout_seconds",
        "MaximumExecutionTimeoutInSeconds",
        "600–28800",
        (600, 28800),
        (599, 28801),
    ),
    (ROLLING, "rollback_batch_percent", "RollbackMaximumBatchSize", "5–100", (5, 100), (4, 101)),
    ({"strategy": "CANARY"}, "size_value", "CanarySize", "1–50 %", (1, 50), (0, 51)),
    ({"strategy": "LINEAR"}, "size_value", "LinearStepSize", "10–50 %", (10, 50), (9, 51)),
    ({"strategy": "ROLLING"}, "size_value", "MaximumBatchSize", "5–50 %", (5, 50), (4, 51)),
]


@pytest.mark.parametrize(("base", "field", "api_name", "allowed", "good", "bad"), BOUNDS)
def test_each_value_is_accepted_at_its_bounds_and_refused_just_outside(
    base, field, api_name, allowed, good, bad
):
    for value in good:
        plan = _plan(**{**base, field: value})
        assert_sagemaker_accepts(plan.config or {}, fleet=10)
    for value in bad:
        refused = _refused(**{**base, field: value})
        assert list(refused.errors) == [field]
        (message,) = refused.errors[field]
        assert api_name in message and allowed in message


INSTANCE_BOUNDS = [
    # (strategy, new fleet, accepted, refused, allowed text)
    ("CANARY", 10, (1, 5), (0, 6), "1–5 instances, at most half of the new fleet's 10"),
    ("CANARY", 3, (1,), (2,), "must be 1 instance, at most half of the new fleet's 3"),
    ("LINEAR", 10, (1, 5), (0, 6), "1–5 instances, 10–50 % of the new fleet's 10"),
    ("LINEAR", 25, (3, 12), (2, 13), "3–12 instances, 10–50 % of the new fleet's 25"),
    ("ROLLING", 40, (2, 20), (1, 21), "2–20 instances, 5–50 % of the new fleet's 40"),
    ("ROLLING", 2, (1,), (2,), "must be 1 instance, 5–50 % of the new fleet's 2"),
]


@pytest.mark.parametrize(("strategy", "fleet", "good", "bad", "allowed"), INSTANCE_BOUNDS)
def test_instance_counts_are_checked_against_the_new_fleet(strategy, fleet, good, bad, allowed):
    shape = _shape(new_fleet_instances=fleet)
    for value in good:
        plan = _plan(shape, strategy=strategy, size_type="INSTANCE_COUNT", size_value=value)
        assert_sagemaker_accepts(plan.config or {}, fleet=fleet)
    for value in bad:
        refused = _refused(shape, strategy=strategy, size_type="INSTANCE_COUNT", size_value=value)
        (message,) = refused.errors["size_value"]
        assert allowed in message


@pytest.mark.parametrize("strategy", ["CANARY", "LINEAR", "ROLLING"])
def test_a_one_instance_fleet_cannot_step_by_instances_and_a_percentage_is_suggested(strategy):
    shape = _shape(new_fleet_instances=1)
    refused = _refused(shape, strategy=strategy, size_type="INSTANCE_COUNT", size_value=1)
    (message,) = refused.errors["size_value"]
    assert "1 instance" in message and "choose a percentage instead" in message
    assert _plan(shape, strategy=strategy, size_value=50).effective_strategy == strategy


def test_a_fleet_with_no_instances_cannot_be_deployed_step_by_step():
    refused = _refused(_shape(new_fleet_instances=0), strategy="LINEAR", size_value=20)
    assert "no instances" in refused.message


@pytest.mark.parametrize("count", [0, 1, 10])
def test_zero_to_ten_rollback_alarms_are_accepted(count):
    alarms = tuple(f"alarm-{n}" for n in range(count))
    plan = _plan(**CANARY, rollback_alarms=alarms)
    assert plan.config is not None
    assert len(plan.config.get("AutoRollbackConfiguration", {}).get("Alarms", [])) == count


def test_eleven_rollback_alarms_are_refused():
    refused = _refused(**CANARY, rollback_alarms=tuple(f"a{n}" for n in range(11)))
    assert refused.errors["rollback_alarms"] == [
        "Rollback alarms (AutoRollbackConfiguration): 0–10; got 11."
    ]


def test_alarm_names_of_1_and_255_characters_are_accepted():
    plan = _plan(**CANARY, rollback_alarms=("a", "b" * 255))
    assert_sagemaker_accepts(plan.config or {}, fleet=10)


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("c" * 256, "256 characters"),
        ("", "empty"),
        ("   ", "empty"),
        ("bad\nname", "line break"),
        ("bad\x00name", "control character"),
        ("bad\x7fname", "control character"),
        ("bad\u2028name", "line break"),
        ("lone \ud800 surrogate", "control character"),
        (42, "must be text"),
        (None, "must be text"),
    ],
)
def test_unusable_alarm_names_are_refused_by_position(name, says):
    refused = _refused(**CANARY, rollback_alarms=("fine", name))
    (message,) = refused.errors["rollback_alarms"]
    assert message.startswith("Rollback alarm 2:") and says in message


def test_repeated_alarm_names_are_refused():
    refused = _refused(**CANARY, rollback_alarms=("errors", "latency", "errors"))
    assert refused.errors["rollback_alarms"] == [
        "Rollback alarms must be distinct; repeated: 'errors'."
    ]


def test_a_single_string_is_not_taken_for_a_list_of_alarms():
    refused = _refused(**CANARY, rollback_alarms="errors")
    assert "must be a list" in refused.message


# Refusals that depend on the strategy and the endpoint ------------------------------------------


def test_an_unknown_strategy_or_size_type_is_named():
    refused = _refused(strategy="BLUE_GREEN", size_type="PERCENT")
    assert "ALL_AT_ONCE, CANARY, LINEAR, ROLLING" in refused.errors["strategy"][0]
    assert "CAPACITY_PERCENT or INSTANCE_COUNT" in refused.errors["size_type"][0]


def test_rolling_is_refused_on_serverless_and_multi_variant_endpoints_with_reasons():
    serverless = _refused(_shape(serverless=True), **ROLLING)
    assert "serverless" in serverless.errors["strategy"][0]
    two_variants = _refused(_shape(production_variants=2), **ROLLING)
    assert "one production variant; this one has 2" in two_variants.errors["strategy"][0]


def test_rolling_has_no_termination_wait_and_the_others_no_rollback_batch():
    rolling = _refused(**ROLLING, termination_wait_seconds=60)
    assert "TerminationWaitInSeconds" in rolling.errors["termination_wait_seconds"][0]
    canary = _refused(**CANARY, rollback_batch_percent=50)
    assert "rolling deployments only" in canary.errors["rollback_batch_percent"][0]


def test_options_need_the_new_config_to_keep_the_variant_names():
    refused = _refused(_shape(same_variant_names=False), **CANARY)
    assert "keep the live variant names" in refused.message
    # With no options there is nothing for the rule to apply to.
    assert _plan(_shape(same_variant_names=False), strategy="ALL_AT_ONCE").config is None


def test_every_problem_is_reported_at_once_by_field():
    refused = _refused(
        strategy="CANARY",
        size_value=80,
        wait_seconds=5000,
        termination_wait_seconds=-1,
        max_execution_timeout_seconds=60,
        rollback_alarms=("", "ok", "ok"),
    )
    assert set(refused.errors) == {
        "size_value",
        "wait_seconds",
        "termination_wait_seconds",
        "max_execution_timeout_seconds",
        "rollback_alarms",
    }
    assert len(refused.messages) == 6


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (True, "whole number; got True"),
        (False, "whole number; got False"),
        (float("nan"), "whole number; got nan"),
        (float("inf"), "whole number; got inf"),
        (12.0, "whole number; got 12.0"),
        ("300", "whole number; got '300'"),
        (None, "whole number; got None"),
        ([300], "whole number; got a value of type list"),
        pytest.param(10**5000, "far outside that range", id="5000-digit"),
        pytest.param(-(10**5000), "far outside that range", id="minus-5000-digit"),
    ],
)
def test_values_from_forms_and_the_api_that_are_not_usable_numbers(value, says):
    refused = _refused(**CANARY, wait_seconds=value)
    (message,) = refused.errors["wait_seconds"]
    assert message.startswith("Bake time per step (WaitIntervalInSeconds) must be")
    assert says in message


def test_a_negative_size_is_refused_even_where_it_is_ignored():
    refused = _refused(strategy="ALL_AT_ONCE", size_value=-1)
    assert refused.errors["size_value"] == ["Size cannot be negative; got -1."]


# Fallbacks to all at once ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "reason"),
    [
        (
            _shape(instance_types=("ml.inf1.xlarge",)),
            "Inf1 (Inferentia) instances (ml.inf1.xlarge)",
        ),
        (_shape(marketplace_containers=True), "AWS Marketplace container"),
        (_shape(serverless=True, new_fleet_instances=0), "serverless"),
    ],
)
@pytest.mark.parametrize(
    "options",
    [
        {"strategy": "CANARY", "size_value": 10, "wait_seconds": 300},
        {"strategy": "LINEAR", "size_value": 20, "rollback_alarms": ("errors",)},
        {"strategy": "ALL_AT_ONCE", "rollback_alarms": ("errors",)},
    ],
)
def test_where_sagemaker_cannot_use_guardrails_nothing_is_sent_and_the_note_says_why(
    shape, reason, options
):
    plan = _plan(shape, **options)
    assert plan.config is None
    assert plan.effective_strategy == "ALL_AT_ONCE"
    (note,) = plan.notes
    assert note.startswith("SageMaker cannot use deployment guardrails on this endpoint")
    assert reason in note and "no rollback on alarms" in note
    assert describe_plan(plan) == "All at once, no guardrails"


def test_rolling_on_inf1_falls_back_like_the_others():
    plan = _plan(_shape(instance_types=("ml.m5.large", "ml.inf1.2xlarge")), **ROLLING)
    assert plan.config is None
    assert "rolling options are not sent" in plan.notes[0]


def test_a_fallback_still_refuses_values_sagemaker_would_never_take():
    inf1 = _shape(instance_types=("ml.inf1.xlarge",), new_fleet_instances=1)
    assert _refused(inf1, strategy="CANARY", size_value=80).errors["size_value"]
    # ...but not an instance count it could only judge against a fleet it will not step through.
    plan = _plan(inf1, strategy="CANARY", size_type="INSTANCE_COUNT", size_value=1)
    assert plan.config is None


def test_plain_all_at_once_on_a_serverless_endpoint_needs_no_fallback_note():
    plan = _plan(_shape(serverless=True, new_fleet_instances=0), strategy="ALL_AT_ONCE")
    assert plan.config is None and "SageMaker's default" in plan.notes[0]


def test_async_and_real_time_endpoints_keep_their_guardrails():
    assert _plan(_shape(instance_types=("ml.inf2.xlarge", "ml.g5.xlarge")), **CANARY).config


# Notes --------------------------------------------------------------------------------------


def test_canary_notes_say_the_canary_in_instances_and_the_total_bake():
    plan = _plan(_shape(new_fleet_instances=8), **CANARY, wait_seconds=300)
    assert plan.notes[0] == (
        "Canary: 10 % of the new fleet (about 1 of 8 instances) takes traffic first, "
        "baking 5 min; then all traffic moves."
    )
    assert plan.notes[1] == "Bake time 5 min in all; then the old fleet is terminated."
    assert plan.notes[-1] == (
        "No rollback alarms: the bakes wait, but nothing rolls the deployment back."
    )


@pytest.mark.parametrize(
    ("options", "timeout", "times_out"),
    [
        # One bake after the canary; four linear steps, three of them baked.
        ({"strategy": "CANARY", "size_value": 10, "wait_seconds": 600}, 600, True),
        ({"strategy": "CANARY", "size_value": 10, "wait_seconds": 600}, 601, False),
        ({"strategy": "LINEAR", "size_value": 25, "wait_seconds": 300}, 900, True),
        ({"strategy": "LINEAR", "size_value": 25, "wait_seconds": 300}, 1200, False),
        (
            {"strategy": "ALL_AT_ONCE", "wait_seconds": 600, "termination_wait_seconds": 600},
            1200,
            True,
        ),
        ({"strategy": "ROLLING", "size_value": 10, "wait_seconds": 120}, 1200, True),
        ({"strategy": "ROLLING", "size_value": 10, "wait_seconds": 120}, 1260, False),
    ],
)
def test_a_time_limit_shorter_than_the_bakes_is_a_warning(options, timeout, times_out):
    plan = _plan(**options, max_execution_timeout_seconds=timeout)
    warned = any("will time out" in note for note in plan.notes)
    assert warned == times_out
    assert plan.config is not None  # SageMaker takes it; the note says what will happen


def test_alarms_with_no_bake_at_all_get_a_warning():
    plan = _plan(**CANARY, rollback_alarms=("errors",))
    assert "hardly any time to go off" in plan.notes[-1]


# Properties ---------------------------------------------------------------------------------

GARBAGE = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
)


def mostly(
    usual: st.SearchStrategy[Any], anything: st.SearchStrategy[Any]
) -> st.SearchStrategy[Any]:
    """Usual values about five times in six, so that plans are accepted often enough to be
    checked (repeating a branch inside st.one_of does not make it any likelier)."""
    return st.integers(min_value=0, max_value=5).flatmap(lambda n: usual if n else anything)


EDGES = st.sampled_from(
    [0, 1, 4, 5, 9, 10, 11, 49, 50, 51, 99, 100, 101, 599, 600, 3600, 3601, 28800, 28801]
)
SECONDS = st.one_of(EDGES, st.integers(min_value=0, max_value=3700))
ANY_NUMBER = st.one_of(st.integers(), GARBAGE)
SHORT_ALARM_NAME = st.text(alphabet="abc-", min_size=1, max_size=4)
ODD_ALARM_NAME = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["", " ", "\ud800", "a\nb", "a\x85b", "x" * 255, "x" * 256]),
    GARBAGE,
)
# Near what a form sends: right types, values around every bound.
USUAL_OPTIONS = st.builds(
    DeploymentOptions,
    strategy=st.sampled_from(STRATEGIES),
    size_type=st.sampled_from(["CAPACITY_PERCENT", "INSTANCE_COUNT"]),
    size_value=st.integers(min_value=0, max_value=60),
    wait_seconds=SECONDS,
    termination_wait_seconds=mostly(st.just(0), SECONDS),
    max_execution_timeout_seconds=mostly(st.none() | st.integers(600, 28800), EDGES),
    rollback_alarms=mostly(
        st.lists(SHORT_ALARM_NAME, max_size=4, unique=True).map(tuple),
        st.lists(SHORT_ALARM_NAME, max_size=11).map(tuple),
    ),
    rollback_batch_percent=mostly(st.none(), EDGES),
)
# Anything at all in any field.
WILD_OPTIONS = st.builds(
    DeploymentOptions,
    strategy=st.one_of(st.sampled_from(STRATEGIES), GARBAGE),
    size_type=st.one_of(st.sampled_from(SIZE_TYPES), GARBAGE),
    size_value=ANY_NUMBER,
    wait_seconds=st.one_of(SECONDS, ANY_NUMBER),
    termination_wait_seconds=st.one_of(SECONDS, ANY_NUMBER),
    max_execution_timeout_seconds=st.one_of(EDGES, ANY_NUMBER),
    rollback_alarms=st.one_of(
        st.lists(st.one_of(SHORT_ALARM_NAME, ODD_ALARM_NAME), max_size=12), GARBAGE
    ),
    rollback_batch_percent=st.one_of(EDGES, ANY_NUMBER),
)
INSTANCE_TYPES = st.lists(
    st.sampled_from(["ml.m5.large", "ml.g5.2xlarge", "ml.inf1.xlarge"]), max_size=2
)
USUAL_SHAPES = st.builds(
    EndpointShape,
    new_fleet_instances=st.integers(min_value=0, max_value=200),
    production_variants=mostly(st.just(1), st.integers(min_value=1, max_value=3)),
    serverless=mostly(st.just(False), st.booleans()),
    instance_types=INSTANCE_TYPES.map(tuple),
    marketplace_containers=mostly(st.just(False), st.booleans()),
    same_variant_names=mostly(st.just(True), st.booleans()),
)
WILD_SHAPES = st.builds(
    EndpointShape,
    new_fleet_instances=ANY_NUMBER,
    production_variants=ANY_NUMBER,
    serverless=st.one_of(st.booleans(), GARBAGE),
    instance_types=st.one_of(INSTANCE_TYPES, GARBAGE),
    marketplace_containers=st.one_of(st.booleans(), GARBAGE),
    same_variant_names=st.one_of(st.booleans(), GARBAGE),
)


@settings(max_examples=1500, deadline=None)
@given(options=mostly(USUAL_OPTIONS, WILD_OPTIONS), shape=mostly(USUAL_SHAPES, WILD_SHAPES))
def test_any_input_gives_a_plan_sagemaker_accepts_or_invalid_never_a_crash(options, shape):
    try:
        plan = plan_deployment(options=options, shape=shape)
    except Invalid as refused:
        assert refused.messages and all(message.strip() for message in refused.messages)
        return
    assert plan.notes and all(note.strip() for note in plan.notes)
    assert describe_plan(plan)
    if plan.config is None:
        assert plan.effective_strategy == "ALL_AT_ONCE"
    else:
        assert plan.effective_strategy == options.strategy
        assert_sagemaker_accepts(plan.config, fleet=shape.new_fleet_instances)


@st.composite
def valid_choices(draw: st.DrawFn) -> tuple[DeploymentOptions, EndpointShape]:
    """Choices inside every rule, on an endpoint where SageMaker can use guardrails."""
    strategy = draw(st.sampled_from(STRATEGIES))
    fleet = draw(st.integers(min_value=2, max_value=200))
    size_type, size_value = "CAPACITY_PERCENT", 0
    if strategy != "ALL_AT_ONCE":
        low_percent, low_share = {"CANARY": (1, 0), "LINEAR": (10, 10), "ROLLING": (5, 5)}[strategy]
        size_type = draw(st.sampled_from(["CAPACITY_PERCENT", "INSTANCE_COUNT"]))
        low = max(1, -(-fleet * low_share // 100))
        if size_type == "INSTANCE_COUNT" and low <= fleet // 2:
            size_value = draw(st.integers(min_value=low, max_value=fleet // 2))
        else:
            size_type = "CAPACITY_PERCENT"
            size_value = draw(st.integers(min_value=low_percent, max_value=50))
    rolling = strategy == "ROLLING"
    names = st.from_regex(r"[A-Za-z0-9_.-][A-Za-z0-9 _.-]{0,39}", fullmatch=True)
    options = DeploymentOptions(
        strategy=strategy,
        size_type=size_type,
        size_value=size_value,
        wait_seconds=draw(st.integers(min_value=0, max_value=3600)),
        termination_wait_seconds=0 if rolling else draw(st.integers(0, 3600)),
        max_execution_timeout_seconds=draw(st.none() | st.integers(600, 28800)),
        rollback_alarms=tuple(draw(st.lists(names, max_size=10, unique=True))),
        rollback_batch_percent=draw(st.none() | st.integers(5, 100)) if rolling else None,
    )
    shape = EndpointShape(new_fleet_instances=fleet, production_variants=1, serverless=False)
    return options, shape


@settings(max_examples=500, deadline=None)
@given(choices=valid_choices())
def test_choices_inside_every_rule_are_never_refused(choices):
    options, shape = choices
    plan = plan_deployment(options=options, shape=shape)
    assert plan.effective_strategy == options.strategy
    if plan.config is not None:
        assert_sagemaker_accepts(plan.config, fleet=shape.new_fleet_instances)
        alarms = plan.config.get("AutoRollbackConfiguration", {}).get("Alarms", [])
        assert tuple(alarm["AlarmName"] for alarm in alarms) == options.rollback_alarms
