"""The bad-deploy drill: a CI deploy of a failing model, its traces, its alarm and its fix.

Every endpoint here is the test's own, in a region nothing else uses, so the drill's deploys,
CloudTrail lookups and alarms never touch the demo world other tests read.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sandbox.__main__ import main
from sandbox.identities import CI_DEPLOYER_KEY
from sandbox.models import holdout_rows, rows_to_csv
from sandbox.scenarios import CI_SOURCE_IP, next_model_name
from sandbox.seed import put_endpoint_alarms
from sandbox.server import SandboxServer
from sandbox.testing import aws_client, control, live_endpoint, wait_for_status
from tests.world import runtime_client, upload_tumor_model, variants_by_name

REGION = "me-central-1"
ROWS = holdout_rows("tumor")
ERROR_RATE = 0.3
BURST = 200


@pytest.fixture(scope="module")
def url(running_sandbox: SandboxServer) -> str:
    return running_sandbox.url


@pytest.fixture(scope="module")
def model(url: str) -> str:
    return upload_tumor_model(url, REGION)


@pytest.fixture(scope="module")
def sagemaker(url: str) -> Any:
    return aws_client(url, "sagemaker", REGION)


@pytest.fixture(scope="module")
def cloudwatch(url: str) -> Any:
    return aws_client(url, "cloudwatch", REGION)


@pytest.fixture(scope="module")
def watched_endpoint(url: str, model: str, cloudwatch: Any) -> Callable[[], str]:
    """Endpoints v0 (weight 3) + v1 (weight 1), alarmed on v1, the variant the drill breaks."""

    def make() -> str:
        name = live_endpoint(url, model, weights=(3.0, 1.0), region=REGION)
        put_endpoint_alarms(cloudwatch, name, "v1")
        control(url, "evaluate-alarms")
        return name

    return make


def _bad_deploy(url: str, **body: Any) -> dict[str, Any]:
    status, answer = control(url, "scenario/bad-deploy", body={"region": REGION, **body})
    assert status == 200, answer
    return answer


@pytest.fixture(scope="module")
def deployed(url: str, watched_endpoint: Callable[[], str]) -> dict[str, Any]:
    """One drill with the defaults (the lowest-weight variant, 30 %) and a burst of traffic."""
    endpoint = watched_endpoint()
    return _bad_deploy(url, endpoint=endpoint, error_rate=ERROR_RATE, invocations=BURST)


def _invoke(url: str, endpoint: str, count: int, variant: str | None = None) -> list[Any]:
    """Each invocation's answered variant, or the ClientError it failed with."""
    runtime = runtime_client(url, REGION)
    target = {"TargetVariant": variant} if variant else {}
    outcomes: list[Any] = []
    for index in range(count):
        try:
            answer = runtime.invoke_endpoint(
                EndpointName=endpoint,
                ContentType="text/csv",
                Body=rows_to_csv([ROWS[index % len(ROWS)]]),
                **target,
            )
            outcomes.append(answer["InvokedProductionVariant"])
        except ClientError as error:
            outcomes.append(error)
    return outcomes


def test_the_variant_serves_a_new_failing_model_on_a_new_config(
    deployed: dict[str, Any], sagemaker: Any, model: str
) -> None:
    endpoint = deployed["endpoint"]
    assert deployed["variant"] == "v1"
    assert deployed["previous_model"] == model
    assert deployed["model"] == f"{model}-v2"
    assert deployed["status"] == "InService"
    assert deployed["alarms"] == [f"{endpoint}-5xx-rate"]
    assert "warning" not in deployed
    assert deployed["undo"]["rollback"].startswith("python -m sandbox scenario rollback")

    described = sagemaker.describe_endpoint(EndpointName=endpoint)
    assert described["EndpointStatus"] == "InService"
    assert described["EndpointConfigName"] == deployed["config"] != deployed["previous_config"]
    assert "PendingDeploymentSummary" not in described
    live = variants_by_name(described)
    assert (live["v0"]["CurrentWeight"], live["v1"]["CurrentWeight"]) == (3.0, 1.0)

    config = sagemaker.describe_endpoint_config(EndpointConfigName=deployed["config"])
    variants = {v["VariantName"]: v for v in config["ProductionVariants"]}
    assert variants["v0"]["ModelName"] == model
    assert variants["v1"]["ModelName"] == deployed["model"]
    assert (variants["v0"]["InitialVariantWeight"], variants["v1"]["InitialVariantWeight"]) == (
        3.0,
        1.0,
    )

    old = sagemaker.describe_model(ModelName=model)["PrimaryContainer"]
    new = sagemaker.describe_model(ModelName=deployed["model"])["PrimaryContainer"]
    assert new["ModelDataUrl"] == old["ModelDataUrl"] and new["Image"] == old["Image"]
    assert new["Environment"] == {"SANDBOX_FAILURE_RATE": "0.3"}


def test_the_new_variant_fails_about_the_rate_with_model_errors_and_the_other_does_not(
    url: str, deployed: dict[str, Any]
) -> None:
    endpoint = deployed["endpoint"]
    assert deployed["invocations"]["sent"] == BURST
    assert 0 < deployed["invocations"]["failed"] < BURST * 0.25

    bad = _invoke(url, endpoint, 300, variant="v1")
    errors = [o for o in bad if isinstance(o, ClientError)]
    assert 0.18 <= len(errors) / len(bad) <= 0.42
    for error in errors:
        assert error.response["Error"]["Code"] == "ModelError"
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 424
        assert error.response["OriginalStatusCode"] == 500
    assert set(o for o in bad if not isinstance(o, ClientError)) == {"v1"}

    good = _invoke(url, endpoint, 60, variant="v0")
    assert good == ["v0"] * 60


def test_cloudtrail_shows_the_deploy_by_the_ci_deployer_role(
    url: str, deployed: dict[str, Any]
) -> None:
    trail = aws_client(url, "cloudtrail", REGION)
    events = trail.lookup_events(
        LookupAttributes=[{"AttributeKey": "AccessKeyId", "AttributeValue": CI_DEPLOYER_KEY}],
        MaxResults=50,
    )["Events"]
    ours = {
        deployed["endpoint"],
        deployed["model"],
        deployed["config"],
    }
    writes = {
        e["EventName"]: json.loads(e["CloudTrailEvent"])
        for e in events
        if e["ReadOnly"] == "false" and {r["ResourceName"] for r in e["Resources"]} & ours
    }
    assert set(writes) == {"CreateModel", "CreateEndpointConfig", "UpdateEndpoint"}
    for record in writes.values():
        identity = record["userIdentity"]
        assert identity["type"] == "AssumedRole"
        assert identity["sessionContext"]["sessionIssuer"]["userName"] == "ci-deployer"
        assert record["sourceIPAddress"] == CI_SOURCE_IP
        assert record["userAgent"].startswith("aws-cli/")
        assert "errorCode" not in record or record["errorCode"] is None
    assert writes["CreateModel"]["requestParameters"]["modelName"] == deployed["model"]
    assert writes["UpdateEndpoint"]["requestParameters"] == {
        "endpointName": deployed["endpoint"],
        "endpointConfigName": deployed["config"],
    }


def test_the_5xx_alarm_fires(url: str, deployed: dict[str, Any], cloudwatch: Any) -> None:
    assert control(url, "flush-metrics")[0] == 200
    assert control(url, "evaluate-alarms")[0] == 200
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[f"{deployed['endpoint']}-5xx-rate"])[
        "MetricAlarms"
    ]
    assert alarm["StateValue"] == "ALARM"
    assert json.loads(alarm["StateReasonData"])["recentDatapoints"][0] > 0.05


def test_shifting_all_weight_off_the_variant_stops_the_errors(
    url: str, watched_endpoint: Callable[[], str], sagemaker: Any
) -> None:
    endpoint = watched_endpoint()
    _bad_deploy(url, endpoint=endpoint, error_rate=0.5)
    sagemaker.update_endpoint_weights_and_capacities(
        EndpointName=endpoint,
        DesiredWeightsAndCapacities=[
            {"VariantName": "v1", "DesiredWeight": 0.0, "DesiredInstanceCount": 1}
        ],
    )
    wait_for_status(url, REGION, endpoint, "InService")
    assert _invoke(url, endpoint, 80) == ["v0"] * 80


def test_rollback_redeploys_the_previous_config_as_the_deployer(
    url: str, watched_endpoint: Callable[[], str], sagemaker: Any, model: str
) -> None:
    endpoint = watched_endpoint()
    original = sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"]
    deployed = _bad_deploy(url, endpoint=endpoint, variant="v0", error_rate=1.0)
    assert deployed["variant"] == "v0"
    assert deployed["warning"].startswith("No Invocation5XXErrors alarm watches variant v0")

    status, answer = control(url, "scenario/rollback", body={"endpoint": endpoint})
    assert status == 200, answer
    assert (answer["config"], answer["replaced_config"], answer["status"]) == (
        original,
        deployed["config"],
        "InService",
    )
    assert sagemaker.describe_endpoint(EndpointName=endpoint)["EndpointConfigName"] == original
    assert _invoke(url, endpoint, 20, variant="v0") == ["v0"] * 20
    assert control(url, "scenario/rollback", body={"endpoint": endpoint})[0] == 404


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"endpoint": "no-such-endpoint"}, 404, "No endpoint named no-such-endpoint"),
        ({"variant": "v9"}, 400, "has no variant v9; its variants are v0, v1"),
        ({"error_rate": 1.5}, 400, "error_rate must be a number between 0 and 1"),
        ({"error_rate": -0.1}, 400, "error_rate must be a number between 0 and 1"),
        ({"error_rate": "high"}, 400, "error_rate must be a number between 0 and 1"),
        ({"invocations": -1}, 400, "invocations must be a whole number"),
        ({"colour": "red"}, 400, "Unknown field(s): colour"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    url: str,
    deployed: dict[str, Any],
    sagemaker: Any,
    body: dict[str, Any],
    status: int,
    message: str,
) -> None:
    endpoint = deployed["endpoint"]
    models = len(sagemaker.list_models(MaxResults=100)["Models"])
    configs = len(sagemaker.list_endpoint_configs(MaxResults=100)["EndpointConfigs"])
    answered, answer = control(
        url, "scenario/bad-deploy", body={"endpoint": endpoint, "region": REGION, **body}
    )
    assert (answered, message in answer["message"]) == (status, True), answer
    assert len(sagemaker.list_models(MaxResults=100)["Models"]) == models
    assert len(sagemaker.list_endpoint_configs(MaxResults=100)["EndpointConfigs"]) == configs
    described = sagemaker.describe_endpoint(EndpointName=endpoint)
    assert described["EndpointConfigName"] == deployed["config"]


def test_the_cli_runs_the_drill_and_says_how_to_undo_it(
    url: str, watched_endpoint: Callable[[], str]
) -> None:
    endpoint = watched_endpoint()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(
            ["scenario", "bad-deploy", "--url", url, "--endpoint", endpoint, "--error-rate", "0.2"]
        )
    assert code == 0
    text = printed.getvalue()
    assert "assumed-role/ci-deployer/" in text
    assert "fails 20% of requests" in text
    assert f"Watch: {endpoint}-5xx-rate" in text
    assert f"python -m sandbox scenario rollback --endpoint {endpoint}" in text
    with pytest.raises(SystemExit, match="has no variant nope"):
        main(["scenario", "bad-deploy", "--url", url, "--endpoint", endpoint, "--variant", "nope"])


@pytest.mark.usefixtures("slow_creation")
def test_update_endpoint_serves_the_old_fleet_until_the_new_one_is_in_service(
    url: str, model: str, sagemaker: Any
) -> None:
    endpoint = live_endpoint(url, model, weights=(1.0, 1.0), region=REGION)
    sagemaker.create_endpoint_config(
        EndpointConfigName=f"{endpoint}-next",
        ProductionVariants=[
            {
                "VariantName": "only",
                "ModelName": model,
                "InstanceType": "ml.m5.large",
                "InitialInstanceCount": 1,
                "InitialVariantWeight": 1.0,
            }
        ],
    )
    sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName=f"{endpoint}-next")
    updating = sagemaker.describe_endpoint(EndpointName=endpoint)
    assert updating["EndpointStatus"] == "Updating"
    assert updating["EndpointConfigName"] == endpoint
    assert updating["PendingDeploymentSummary"]["EndpointConfigName"] == f"{endpoint}-next"
    assert set(_invoke(url, endpoint, 10)) <= {"v0", "v1"}
    with pytest.raises(ClientError, match="Cannot update in-progress endpoint"):
        sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName=endpoint)

    done = wait_for_status(url, REGION, endpoint, "InService")
    assert done["EndpointConfigName"] == f"{endpoint}-next"
    assert [v["VariantName"] for v in done["ProductionVariants"]] == ["only"]
    assert Counter(_invoke(url, endpoint, 10)) == {"only": 10}
    with pytest.raises(ClientError, match="Could not find endpoint configuration"):
        sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName="missing-config")


def test_update_endpoint_can_retain_the_live_weights(url: str, model: str, sagemaker: Any) -> None:
    endpoint = live_endpoint(url, model, weights=(1.0, 1.0), region=REGION)
    sagemaker.update_endpoint_weights_and_capacities(
        EndpointName=endpoint,
        DesiredWeightsAndCapacities=[
            {"VariantName": "v1", "DesiredWeight": 0.0, "DesiredInstanceCount": 1}
        ],
    )
    wait_for_status(url, REGION, endpoint, "InService")
    sagemaker.update_endpoint(
        EndpointName=endpoint, EndpointConfigName=endpoint, RetainAllVariantProperties=True
    )
    kept = variants_by_name(wait_for_status(url, REGION, endpoint, "InService"))
    assert (kept["v0"]["CurrentWeight"], kept["v1"]["CurrentWeight"]) == (1.0, 0.0)
    sagemaker.update_endpoint(EndpointName=endpoint, EndpointConfigName=endpoint)
    reset = variants_by_name(wait_for_status(url, REGION, endpoint, "InService"))
    assert (reset["v0"]["CurrentWeight"], reset["v1"]["CurrentWeight"]) == (1.0, 1.0)


def test_next_model_name_counts_past_taken_versions() -> None:
    assert next_model_name("tumor-model-v2", ["tumor-model-v1", "tumor-model-v2"]) == (
        "tumor-model-v3"
    )
    assert next_model_name("tumor-model-v1", ["tumor-model-v3", "other-v9"]) == "tumor-model-v4"
    assert next_model_name("churn-model", []) == "churn-model-v2"
    assert len(next_model_name("m" * 63, [])) == 63


def test_by_default_the_drill_breaks_a_variant_an_alarm_watches(
    url: str, model: str, cloudwatch: Any
) -> None:
    # The champion (weight 3) is the only variant alarmed, as in the demo world.
    endpoint = live_endpoint(url, model, weights=(3.0, 1.0), region=REGION)
    put_endpoint_alarms(cloudwatch, endpoint, "v0")
    answer = _bad_deploy(url, endpoint=endpoint)
    assert answer["variant"] == "v0"
    assert answer["alarms"] == [f"{endpoint}-5xx-rate"] and "warning" not in answer


def test_with_no_alarmed_variant_the_drill_breaks_the_lightest_and_warns(
    url: str, model: str
) -> None:
    endpoint = live_endpoint(url, model, weights=(3.0, 1.0), region=REGION)
    answer = _bad_deploy(url, endpoint=endpoint)
    assert answer["variant"] == "v1"
    assert "no alarm will fire" in answer["warning"]
